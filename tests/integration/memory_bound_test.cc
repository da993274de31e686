// What the server's memory does under hostile clients, measured as the
// process's RSS (the servers run in this test process): for each protocol a
// scripted mix of attacks runs while RSS is sampled; it must stay under a
// bound derived from the configured limits and return near its start once
// the attackers leave. Also the HTTP per-worker budget for buffered request
// bytes, and streaming routes that take bodies larger than max_body.
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "eddy/core/buffer.h"
#include "eddy/http/http_protocol.h"
#include "eddy/http/router.h"
#include "eddy/net/echo.h"
#include "eddy/net/server.h"
#include "examples/redis/redis_protocol.h"
#include "gtest/gtest.h"
#include "tests/support/http_test_client.h"
#include "tests/support/server_testing.h"
#include "tests/support/test_client.h"

// Sanitizers keep freed memory in quarantine and shadow every byte, so RSS
// is checked in plain builds only; the attacks still run under them.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define EDDY_RSS_IS_MEANINGFUL 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define EDDY_RSS_IS_MEANINGFUL 0
#endif
#endif
#ifndef EDDY_RSS_IS_MEANINGFUL
#define EDDY_RSS_IS_MEANINGFUL 1
#endif

namespace eddy {
namespace {

using ::eddy::testing::Eventually;
using ::eddy::testing::HttpTestReader;
using ::eddy::testing::LoopbackServerOptions;
using ::eddy::testing::TestClient;

constexpr size_t kMiB = 1024 * 1024;
constexpr absl::Duration kDeadline = absl::Seconds(60);
// What RSS may keep once the attackers are gone: malloc's arenas, the
// per-thread block caches (256 KiB each), the test's own clients.
constexpr size_t kSettleMargin = 16 * kMiB;
// What a server uses beyond what the limits account for: stacks, the
// kernel-facing 64 KiB read spill, pools, the test's own strings.
constexpr size_t kFixedAllowance = 16 * kMiB;

size_t RssBytes() {
  std::ifstream statm("/proc/self/statm");
  size_t size = 0;
  size_t resident = 0;
  statm >> size >> resident;
  return resident * static_cast<size_t>(::sysconf(_SC_PAGESIZE));
}

// Samples RSS every few milliseconds from construction to Stop().
class RssSampler {
 public:
  RssSampler() : peak_(RssBytes()) {
    thread_ = std::thread([this] {
      while (running_.load()) {
        peak_.store(std::max(peak_.load(), RssBytes()));
        absl::SleepFor(absl::Milliseconds(2));
      }
    });
  }
  ~RssSampler() { Stop(); }
  size_t Stop() {
    if (thread_.joinable()) {
      running_.store(false);
      thread_.join();
    }
    return peak_.load();
  }

 private:
  std::atomic<bool> running_{true};
  std::atomic<size_t> peak_;
  std::thread thread_;
};

// Waits until RSS falls within `margin` of `start` (bounded in time).
bool RssReturnsNear(size_t start, size_t margin) {
  return Eventually([&] { return RssBytes() < start + margin; },
                    absl::Seconds(10));
}

std::vector<TestClient> ConnectMany(uint16_t port, size_t n) {
  std::vector<TestClient> clients;
  for (size_t i = 0; i < n; ++i) {
    auto client = TestClient::Connect(port);
    EXPECT_TRUE(client.ok()) << client.status();
    if (client.ok()) clients.push_back(*std::move(client));
  }
  return clients;
}

// Sends `data` on every client without blocking and without reading,
// round-robin, until all of it is sent everywhere or the server (and the
// kernel's buffers) stopped taking bytes for a second.
void SendWithoutReading(std::vector<TestClient>& clients,
                        absl::string_view data) {
  std::vector<size_t> sent(clients.size(), 0);
  absl::Time last_progress = absl::Now();
  const absl::Time deadline = absl::Now() + kDeadline;
  while (absl::Now() - last_progress < absl::Seconds(1) &&
         absl::Now() < deadline) {
    bool all_sent = true;
    for (size_t i = 0; i < clients.size(); ++i) {
      if (sent[i] == data.size()) continue;
      all_sent = false;
      const ssize_t n =
          ::send(clients[i].fd(), data.data() + sent[i], data.size() - sent[i],
                 MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n > 0) {
        sent[i] += static_cast<size_t>(n);
        last_progress = absl::Now();
      }
    }
    if (all_sent) return;
    absl::SleepFor(absl::Milliseconds(2));
  }
}

void Report(absl::string_view what, size_t start, size_t peak, size_t bound,
            size_t after) {
  std::cout << what << ": RSS " << start / 1024 << " KiB at the start, peak "
            << peak / 1024 << " KiB (bound " << bound / 1024 << " KiB), "
            << after / 1024 << " KiB after the attackers left\n";
}

namespace http_attacks {

using ::eddy::http::BodySink;
using ::eddy::http::HttpOptions;
using ::eddy::http::HttpProtocol;
using ::eddy::http::Request;
using ::eddy::http::Responder;
using ::eddy::http::Response;
using ::eddy::http::Router;

// FNV-1a, to check a streamed body arrived whole and in order.
uint64_t Fnv1a(uint64_t hash, absl::string_view bytes) {
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return hash;
}
constexpr uint64_t kFnvBasis = 14695981039346656037ull;

// Counts and hashes the body; answers "<bytes> <hash>".
class ChecksumSink final : public BodySink {
 public:
  void OnBodyData(absl::string_view piece) override {
    bytes_ += piece.size();
    hash_ = Fnv1a(hash_, piece);
  }
  void OnBodyEnd(const Request&, Responder responder) override {
    Response response;
    response.set_body(absl::StrCat(bytes_, " ", hash_));
    responder.Send(std::move(response));
  }

 private:
  uint64_t bytes_ = 0;
  uint64_t hash_ = kFnvBasis;
};

std::unique_ptr<Server> StartHttpServer(size_t workers, HttpOptions http) {
  auto router = std::make_shared<Router>();
  router->Handle("GET", "/", [](const Request&, Response& response) {
    response.set_body("Hello, world!");
  });
  router->Handle("POST", "/echo", [](const Request& request, Response& r) {
    r.set_body(std::string(request.body()));
  });
  router->HandleStream("POST", "/upload", [](const Request&) {
    return std::make_unique<ChecksumSink>();
  });
  ServerOptions options = LoopbackServerOptions(workers);
  options.connection.high_water_mark = 256 * 1024;
  options.connection.low_water_mark = 64 * 1024;
  auto server = std::make_unique<Server>(
      options, std::make_unique<HttpProtocol>(router, std::move(http)));
  EXPECT_TRUE(server->Start().ok());
  return server;
}

void ExpectServed(uint16_t port) {
  auto client = TestClient::Connect(port);
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE(client->SendAll("GET / HTTP/1.1\r\nHost: x\r\n\r\n").ok());
  HttpTestReader reader(*client);
  auto response = reader.Next(false, kDeadline);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->body, "Hello, world!");
}

std::string PartialBody(size_t max_body) {
  return absl::StrCat("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: ",
                      max_body, "\r\n\r\n", std::string(max_body - 1, 'b'));
}

// The first read of a connection is taken before the budget can refuse it:
// the head and up to one read spill, in a buffer of twice that.
constexpr size_t kFirstRead = 2 * (Buffer::kSpillSize + 4096);

TEST(HttpMemoryBound, HeldBodiesStayWithinTheWorkersBudgetAndOthersAreServed) {
  constexpr size_t kWorkers = 2;
  constexpr size_t kAttackers = 100;
  HttpOptions http;
  http.limits.max_body_bytes = kMiB;
  http.max_buffered_request_bytes = 8 * kMiB;
  // Connections held back read nothing, so they see their client leave
  // only at the body timeout (the 408): short here, so the test need not
  // wait the default 30 s to see memory return.
  http.request_body_timeout = absl::Seconds(2);
  std::unique_ptr<Server> server = StartHttpServer(kWorkers, http);
  ExpectServed(server->port());  // warm up pools and caches
  const size_t start = RssBytes();
  RssSampler sampler;
  std::vector<TestClient> attackers = ConnectMany(server->port(), kAttackers);
  SendWithoutReading(attackers, PartialBody(http.limits.max_body_bytes));
  ExpectServed(server->port());
  const size_t peak = sampler.Stop();
  attackers.clear();
  const bool settled = RssReturnsNear(start, kSettleMargin);
  // Per worker: the budget, and the runner's body (see RequestMemoryBudget)
  // in a buffer up to twice its size.
  const size_t bound = start +
                       kWorkers * (http.max_buffered_request_bytes +
                                   2 * http.limits.max_body_bytes) +
                       kAttackers * kFirstRead + kFixedAllowance;
  Report("100 held 1 MiB bodies, 8 MiB budget per worker", start, peak, bound,
         RssBytes());
  if (EDDY_RSS_IS_MEANINGFUL) {
    EXPECT_LT(peak, bound);
    EXPECT_TRUE(settled);
  }
  ExpectServed(server->port());
}

TEST(HttpMemoryBound, HeldBodiesOverTheBudgetMeetTheBodyTimeout) {
  HttpOptions http;
  http.limits.max_body_bytes = kMiB;
  http.max_buffered_request_bytes = 2 * kMiB;
  http.request_body_timeout = absl::Seconds(1);
  std::unique_ptr<Server> server = StartHttpServer(1, http);
  std::vector<TestClient> attackers = ConnectMany(server->port(), 8);
  SendWithoutReading(attackers, PartialBody(http.limits.max_body_bytes));
  for (TestClient& attacker : attackers) {
    HttpTestReader reader(attacker);
    auto response = reader.Next(false, kDeadline);
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->status, 408);
  }
  ExpectServed(server->port());
}

TEST(HttpMemoryBound, PausedBodiesResumeAsTheBudgetFrees) {
  HttpOptions http;
  http.limits.max_body_bytes = kMiB;
  http.max_buffered_request_bytes = 2 * kMiB;
  std::unique_ptr<Server> server = StartHttpServer(1, http);
  constexpr size_t kClients = 8;
  std::vector<TestClient> clients = ConnectMany(server->port(), kClients);
  const std::string body(http.limits.max_body_bytes, 'r');
  const std::string request = absl::StrCat(
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: ", body.size(),
      "\r\n\r\n", body);
  // All send at once; each is read in turn as others finish, none starves.
  std::vector<std::thread> senders;
  for (TestClient& client : clients) {
    senders.emplace_back([&client, &request] {
      EXPECT_TRUE(client.SendAll(request, kDeadline).ok());
    });
  }
  for (TestClient& client : clients) {
    HttpTestReader reader(client);
    auto response = reader.Next(false, kDeadline);
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body.size(), body.size());
  }
  for (std::thread& sender : senders) sender.join();
}

TEST(HttpMemoryBound, StreamingRouteTakesABodyLargerThanMaxBodyWhole) {
  HttpOptions http;
  http.limits.max_body_bytes = 64 * 1024;
  std::unique_ptr<Server> server = StartHttpServer(1, http);
  const std::string body = ::eddy::testing::RandomBytes(32 * kMiB, 7);
  const std::string expected =
      absl::StrCat(body.size(), " ", Fnv1a(kFnvBasis, body));
  const size_t start = RssBytes();
  RssSampler sampler;
  auto client = TestClient::Connect(server->port());
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE(client
                  ->SendAll(absl::StrCat(
                      "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: ",
                      body.size(), "\r\n\r\n"))
                  .ok());
  ASSERT_TRUE(client->SendAll(body, kDeadline).ok());
  HttpTestReader reader(*client);
  auto response = reader.Next(false, kDeadline);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, expected);
  // Chunked, in 1 MiB chunks, on the same connection.
  ASSERT_TRUE(client
                  ->SendAll("POST /upload HTTP/1.1\r\nHost: x\r\n"
                            "Transfer-Encoding: chunked\r\n\r\n")
                  .ok());
  for (size_t offset = 0; offset < body.size(); offset += kMiB) {
    const absl::string_view chunk =
        absl::string_view(body).substr(offset, kMiB);
    ASSERT_TRUE(client
                    ->SendAll(absl::StrCat(absl::Hex(chunk.size()), "\r\n",
                                           chunk, "\r\n"),
                              kDeadline)
                    .ok());
  }
  ASSERT_TRUE(client->SendAll("0\r\n\r\n").ok());
  response = reader.Next(false, kDeadline);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, expected);
  const size_t peak = sampler.Stop();
  // The server buffers a read or two, never the body; the test's own
  // strings for the chunks come and go.
  if (EDDY_RSS_IS_MEANINGFUL) {
    EXPECT_LT(peak, start + 8 * kMiB);
  }
  // A buffered route still answers 413 above max_body.
  ASSERT_TRUE(client
                  ->SendAll(absl::StrCat(
                      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: ",
                      http.limits.max_body_bytes + 1, "\r\n\r\n"))
                  .ok());
  response = reader.Next(false, kDeadline);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 413);
}

// The memory property for HTTP: slow heads, partial bodies, pipelined
// floods that never read, chunk-framing floods, all at once.
TEST(MemoryProperty, HttpUnderAMixOfHostileClients) {
  constexpr size_t kWorkers = 2;
  constexpr size_t kEach = 20;
  HttpOptions http;
  http.limits.max_body_bytes = kMiB;
  http.max_buffered_request_bytes = 4 * kMiB;
  std::unique_ptr<Server> server = StartHttpServer(kWorkers, http);
  ExpectServed(server->port());
  const size_t start = RssBytes();
  RssSampler sampler;
  std::vector<TestClient> slow_heads = ConnectMany(server->port(), kEach);
  std::vector<TestClient> partial_bodies = ConnectMany(server->port(), kEach);
  std::vector<TestClient> pipeliners = ConnectMany(server->port(), kEach);
  std::vector<TestClient> framers = ConnectMany(server->port(), kEach);
  SendWithoutReading(slow_heads,
                     absl::StrCat("GET / HTTP/1.1\r\nHost: x\r\nX-Pad: ",
                                  std::string(12 * 1024, 'p')));
  SendWithoutReading(partial_bodies, PartialBody(http.limits.max_body_bytes));
  std::string pipelined;
  for (int i = 0; i < 20000; ++i)
    pipelined += "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  SendWithoutReading(pipeliners, pipelined);
  std::string framing =
      "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 200; ++i) {
    framing += "1;e=" + std::string(3000, 'x') + "\r\nz\r\n";
  }
  SendWithoutReading(framers, framing);
  ExpectServed(server->port());
  const size_t peak = sampler.Stop();
  slow_heads.clear();
  partial_bodies.clear();
  pipeliners.clear();
  framers.clear();
  const bool settled = RssReturnsNear(start, kSettleMargin);
  const ConnectionOptions connection;
  const size_t per_pipeliner = 256 * 1024 + connection.read_budget + kFirstRead;
  const size_t bound =
      start +
      kWorkers *
          (http.max_buffered_request_bytes + 2 * http.limits.max_body_bytes) +
      kEach * (http.limits.max_header_bytes + kFirstRead) +  // slow heads
      kEach * kFirstRead +                                   // partial bodies
      kEach * per_pipeliner +                                // pipeliners
      kEach * (http.limits.max_chunk_line + kFirstRead) +    // framers
      kFixedAllowance;
  Report("HTTP hostile mix", start, peak, bound, RssBytes());
  if (EDDY_RSS_IS_MEANINGFUL) {
    EXPECT_LT(peak, bound);
    EXPECT_TRUE(settled);
  }
  ExpectServed(server->port());
}

}  // namespace http_attacks

// The memory property for echo: clients that send and never read are held
// by the high-water mark.
TEST(MemoryProperty, EchoUnderClientsThatNeverRead) {
  constexpr size_t kClients = 40;
  ServerOptions options = LoopbackServerOptions(2);
  options.connection.high_water_mark = 512 * 1024;
  options.connection.low_water_mark = 128 * 1024;
  Server server(options, MakeEchoFactory());
  ASSERT_TRUE(server.Start().ok());
  const size_t start = RssBytes();
  RssSampler sampler;
  std::vector<TestClient> clients = ConnectMany(server.port(), kClients);
  SendWithoutReading(clients, std::string(8 * kMiB, 'e'));
  auto fresh = TestClient::Connect(server.port());
  ASSERT_TRUE(fresh.ok());
  auto echoed = ::eddy::testing::EchoRoundTrip(*fresh, "still here", kDeadline);
  ASSERT_TRUE(echoed.ok()) << echoed.status();
  EXPECT_EQ(*echoed, "still here");
  const size_t peak = sampler.Stop();
  clients.clear();
  const bool settled = RssReturnsNear(start, kSettleMargin);
  const size_t per_client = options.connection.high_water_mark +
                            options.connection.read_budget +
                            2 * Buffer::kSpillSize;
  const size_t bound = start + kClients * per_client + kFixedAllowance;
  Report("echo, clients that never read", start, peak, bound, RssBytes());
  if (EDDY_RSS_IS_MEANINGFUL) {
    EXPECT_LT(peak, bound);
    EXPECT_TRUE(settled);
  }
}

// The memory property for the Redis example: large partial commands (a bulk
// string announced and never finished) and pipelined commands whose replies
// are never read.
TEST(MemoryProperty, RedisUnderPartialCommandsAndUnreadPipelines) {
  constexpr size_t kEach = 10;
  constexpr size_t kPartialBytes = 4 * kMiB;
  ServerOptions options = LoopbackServerOptions(2);
  options.connection.high_water_mark = 512 * 1024;
  options.connection.low_water_mark = 128 * 1024;
  Server server(options,
                redis::MakeRedisFactory(std::make_shared<redis::Store>()));
  ASSERT_TRUE(server.Start().ok());
  const size_t start = RssBytes();
  RssSampler sampler;
  std::vector<TestClient> partial = ConnectMany(server.port(), kEach);
  std::vector<TestClient> pipeliners = ConnectMany(server.port(), kEach);
  SendWithoutReading(
      partial, absl::StrCat("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$", kPartialBytes,
                            "\r\n", std::string(kPartialBytes - 1, 'v')));
  std::string pipelined;
  for (int i = 0; i < 100000; ++i) pipelined += "*1\r\n$4\r\nPING\r\n";
  SendWithoutReading(pipeliners, pipelined);
  auto fresh = TestClient::Connect(server.port());
  ASSERT_TRUE(fresh.ok());
  ASSERT_TRUE(fresh->SendAll("*1\r\n$4\r\nPING\r\n").ok());
  auto pong = fresh->ReceiveExactly(7, kDeadline);
  ASSERT_TRUE(pong.ok()) << pong.status();
  EXPECT_EQ(*pong, "+PONG\r\n");
  const size_t peak = sampler.Stop();
  partial.clear();
  pipeliners.clear();
  const bool settled = RssReturnsNear(start, kSettleMargin);
  // A partial command is held whole until it completes (the example's
  // limit on one bulk string is 64 MiB); its buffer may be twice its size.
  const size_t bound =
      start + kEach * 2 * (kPartialBytes + Buffer::kSpillSize) +
      kEach * (options.connection.high_water_mark +
               options.connection.read_budget + 2 * Buffer::kSpillSize) +
      kFixedAllowance;
  Report("redis, partial commands and unread pipelines", start, peak, bound,
         RssBytes());
  if (EDDY_RSS_IS_MEANINGFUL) {
    EXPECT_LT(peak, bound);
    EXPECT_TRUE(settled);
  }
}

}  // namespace
}  // namespace eddy
