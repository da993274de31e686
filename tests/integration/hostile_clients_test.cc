// Hostile and broken clients against a running HTTP server on loopback.
// After each attack a normal client must still be served, and the server's
// buffers, connections and descriptors must stay bounded.
#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "eddy/core/manual_clock.h"
#include "eddy/core/unique_fd.h"
#include "eddy/http/http_protocol.h"
#include "eddy/http/router.h"
#include "eddy/http/static_files.h"
#include "eddy/net/server.h"
#include "gtest/gtest.h"
#include "tests/support/http_test_client.h"
#include "tests/support/server_testing.h"
#include "tests/support/test_client.h"

namespace eddy::http {
namespace {

using ::eddy::testing::Eventually;
using ::eddy::testing::HttpTestReader;
using ::eddy::testing::HttpTestResponse;
using ::eddy::testing::LoopbackServerOptions;
using ::eddy::testing::TestClient;

constexpr absl::Duration kDeadline = absl::Seconds(60);

size_t OpenFdCount() {
  size_t count = 0;
  if (DIR* dir = ::opendir("/proc/self/fd")) {
    while (::readdir(dir) != nullptr) ++count;
    ::closedir(dir);
  }
  return count;
}

size_t RssKib() {
  std::ifstream status("/proc/self/status");
  std::string key;
  size_t value = 0;
  while (status >> key) {
    if (key == "VmRSS:") {
      status >> value;
      return value;
    }
  }
  return 0;
}

class HostileClientsTest : public ::testing::Test {
 protected:
  static constexpr size_t kHugeBytes = 32 << 20;

  void StartServer(ServerOptions options = {}, HttpOptions http = {}) {
    auto router = std::make_shared<Router>();
    router->Handle("GET", "/", [](const Request&, Response& response) {
      response.set_body("Hello, world!");
    });
    router->Handle("GET", "/n", [](const Request& request, Response& response) {
      response.set_body(std::string(request.query()));
    });
    router->Handle("GET", "/big", [](const Request&, Response& response) {
      response.set_body(std::string(1 << 20, 'b'));
    });
    // More than loopback's socket buffers hold (a few MiB each side).
    router->Handle("GET", "/huge", [](const Request&, Response& response) {
      response.set_body(std::string(kHugeBytes, 'h'));
    });
    router->Handle("POST", "/echo",
                   [](const Request& request, Response& response) {
                     response.set_body(std::string(request.body()));
                   });
    ASSERT_TRUE(static_root_.Create());
    auto files = StaticFiles::Open(static_root_.path());
    ASSERT_TRUE(files.ok()) << files.status();
    ServeStaticFiles(*router, "/static/", *files);
    router->HandleAsync(
        "GET", "/slow", [this](const Request&, Responder responder) {
          std::lock_guard lock(threads_mutex_);
          threads_.emplace_back([responder = std::move(responder)]() mutable {
            absl::SleepFor(absl::Milliseconds(300));
            Response response;
            response.set_body(std::string(200000, 's'));
            responder.Send(std::move(response));
          });
        });
    options.bind_address = "127.0.0.1";
    if (options.workers == 0) options.workers = 2;
    server_ = std::make_unique<Server>(
        options, std::make_unique<HttpProtocol>(router, http));
    ASSERT_TRUE(server_->Start().ok());
  }

  void TearDown() override {
    std::lock_guard lock(threads_mutex_);
    for (std::thread& thread : threads_) thread.join();
  }

  TestClient Connect() {
    auto client = TestClient::Connect(server_->port());
    EXPECT_TRUE(client.ok()) << client.status();
    return *std::move(client);
  }

  // A fresh client gets its answer: the server is not hurt.
  void ExpectStillServing() {
    TestClient client = Connect();
    ASSERT_TRUE(client.SendAll("GET / HTTP/1.1\r\nHost: x\r\n\r\n").ok());
    HttpTestReader reader(client);
    auto r = reader.Next();
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->body, "Hello, world!");
  }

  // `client` gets one response with `status`, then the connection closes.
  static void ExpectAnsweredThenClosed(TestClient& client, int status) {
    HttpTestReader reader(client);
    auto r = reader.Next();
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->status, status);
    EXPECT_TRUE(reader.AtEof(kDeadline));
  }

  // A fresh client asks for the static file small.txt.
  absl::StatusOr<HttpTestResponse> FetchStaticFile() {
    TestClient client = Connect();
    if (absl::Status sent =
            client.SendAll("GET /static/small.txt HTTP/1.1\r\nHost: x\r\n\r\n");
        !sent.ok()) {
      return sent;
    }
    HttpTestReader reader(client);
    return reader.Next();
  }

  // A fresh client gets a static file: descriptors are left to open it.
  void ExpectStaticFileServed() {
    auto r = FetchStaticFile();
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "0123456789");
  }

  // A scratch static root holding small.txt ("0123456789").
  class StaticRoot {
   public:
    bool Create() {
      char pattern[] = "/tmp/eddy-hostile-test-XXXXXX";
      if (::mkdtemp(pattern) == nullptr) return false;
      path_ = pattern;
      std::ofstream(path_ + "/small.txt") << "0123456789";
      return true;
    }
    ~StaticRoot() {
      if (!path_.empty()) std::filesystem::remove_all(path_);
    }
    const std::string& path() const { return path_; }

   private:
    std::string path_;
  };

  StaticRoot static_root_;
  // For tests that drive time (ServerOptions::clock); declared before
  // server_, which must not outlive it.
  ManualClock clock_;
  std::mutex threads_mutex_;
  std::vector<std::thread> threads_;
  std::unique_ptr<Server> server_;
};

// Sends `flood` without reading anything back until the server stops taking
// bytes (no progress for a second) or all of it is sent; returns the bytes
// sent.
size_t SendUntilHeld(TestClient& client, absl::string_view flood) {
  size_t sent = 0;
  absl::Time last_progress = absl::Now();
  while (sent < flood.size() &&
         absl::Now() - last_progress < absl::Seconds(1)) {
    const ssize_t n = ::send(client.fd(), flood.data() + sent,
                             flood.size() - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      last_progress = absl::Now();
    } else {
      absl::SleepFor(absl::Milliseconds(5));
    }
  }
  return sent;
}

// Sets the soft RLIMIT_NOFILE for the life of the object.
class ScopedFdLimit {
 public:
  explicit ScopedFdLimit(rlim_t soft) {
    ::getrlimit(RLIMIT_NOFILE, &saved_);
    rlimit lowered = saved_;
    lowered.rlim_cur = soft;
    ok_ = ::setrlimit(RLIMIT_NOFILE, &lowered) == 0;
  }
  ~ScopedFdLimit() { ::setrlimit(RLIMIT_NOFILE, &saved_); }
  bool ok() const { return ok_; }

 private:
  rlimit saved_{};
  bool ok_ = false;
};

TEST_F(HostileClientsTest,
       PipelineFloodThatDoesNotReadIsHeldThenFullyAnswered) {
  ServerOptions options;
  options.workers = 1;
  options.connection.high_water_mark = 64 * 1024;
  options.connection.low_water_mark = 16 * 1024;
  options.connection.read_budget = 16 * 1024;
  StartServer(options);
  // Far more than loopback socket buffers absorb (several MiB each way).
  constexpr int kRequests = 400000;
  std::string flood;
  for (int i = 0; i < kRequests; ++i) {
    absl::StrAppend(&flood, "GET /n?", i, " HTTP/1.1\r\nHost: x\r\n\r\n");
  }
  TestClient client = Connect();
  const size_t sent = SendUntilHeld(client, flood);
  ASSERT_LT(sent, flood.size()) << "the server read everything: not held";
  // Reading paused: the server took only part of what was offered.
  EXPECT_LT(server_->total_stats().bytes_in, flood.size());
  ExpectStillServing();
  // Now read: every request is answered, in order.
  HttpTestReader reader(client);
  std::thread sender([&] {
    (void)client.SendAll(absl::string_view(flood).substr(sent), kDeadline);
  });
  for (int i = 0; i < kRequests; ++i) {
    auto r = reader.Next();
    ASSERT_TRUE(r.ok()) << i << ": " << r.status();
    ASSERT_EQ(r->body, absl::StrCat(i));
  }
  sender.join();
}

TEST_F(HostileClientsTest, ClientThatStopsReadingIsCutByTheWriteTimeout) {
  ServerOptions options;
  options.clock = &clock_;
  options.connection.write_timeout = absl::Seconds(60);
  StartServer(options);
  TestClient client = Connect();
  // Ask for megabytes and never read them.
  constexpr int kRequests = 20;
  constexpr uint64_t kResponseBytes = uint64_t{kRequests} << 20;
  std::string requests;
  for (int i = 0; i < kRequests; ++i)
    absl::StrAppend(&requests, "GET /big HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(client.SendAll(requests).ok());
  ASSERT_TRUE(Eventually(
      [&] { return server_->total_stats().bytes_in == requests.size(); }));
  // The output moves until the socket buffers are full; each step of the
  // clock that finds no progress since the last one is a stall.
  ASSERT_TRUE(Eventually([&] {
    return clock_.AdvanceAndWait(options.connection.write_timeout, kDeadline) &&
           server_->total_stats().active == 0;
  })) << "the stalled connection was never closed";
  EXPECT_LT(server_->total_stats().bytes_out, kResponseBytes)
      << "the whole output was sent: nothing stalled";
  ExpectStillServing();
}

TEST_F(HostileClientsTest, CloseWhoseOutputIsNeverReadIsCutAfterTheLinger) {
  ServerOptions options;
  options.clock = &clock_;
  options.connection.write_timeout = absl::InfiniteDuration();
  options.connection.close_linger = absl::Seconds(30);
  StartServer(options);
  TestClient client = Connect();
  // The connection's last answer, which the client never reads.
  const std::string request =
      "GET /huge HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  ASSERT_TRUE(client.SendAll(request).ok());
  ASSERT_TRUE(Eventually(
      [&] { return server_->total_stats().bytes_in >= request.size(); }));
  ASSERT_TRUE(clock_.AdvanceAndWait(
      options.connection.close_linger - absl::Milliseconds(1), kDeadline));
  EXPECT_EQ(server_->total_stats().active, 1u)
      << "closed before the linger ran out";
  ASSERT_TRUE(clock_.AdvanceAndWait(absl::Milliseconds(1), kDeadline));
  EXPECT_TRUE(Eventually([&] { return server_->total_stats().active == 0; }))
      << "the lingering connection was never cut";
  EXPECT_LT(server_->total_stats().bytes_out, kHugeBytes)
      << "the whole answer was sent: the close did not linger";
  ExpectStillServing();
}

TEST_F(HostileClientsTest, EndlessChunkedBodyGets413AndClose) {
  HttpOptions http;
  http.limits.max_body_bytes = 64 * 1024;
  StartServer({}, http);
  TestClient client = Connect();
  ASSERT_TRUE(client
                  .SendAll("POST /echo HTTP/1.1\r\nHost: "
                           "x\r\nTransfer-Encoding: chunked\r\n\r\n")
                  .ok());
  const std::string chunk = "1000\r\n" + std::string(0x1000, 'c') + "\r\n";
  for (int i = 0; i < 1000; ++i) {
    if (!client.SendAll(chunk, absl::Seconds(5)).ok()) break;  // server closed
  }
  ExpectAnsweredThenClosed(client, 413);
  ExpectStillServing();
}

// One-byte chunks whose extensions fill the 4 KiB a chunk line may hold:
// 256 of them make about 1 MiB of framing for 256 bytes of body.
std::string HeavyChunkFraming() {
  const std::string chunk = "1;e=" + std::string(4000, 'x') + "\r\nz\r\n";
  std::string framing;
  for (int i = 0; i < 256; ++i) framing += chunk;
  return framing;
}

constexpr absl::string_view kChunkedEchoHead =
    "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";

TEST_F(HostileClientsTest, ChunkFramingIsNotBufferedWhateverItsSize) {
  HttpOptions http;
  // No budget for framing here, so that only what the server buffers is
  // tested: framing must be consumed as it is parsed.
  http.limits.max_chunk_framing_bytes = std::numeric_limits<size_t>::max();
  StartServer({}, http);
  ExpectStillServing();  // warm up pools and caches
  const std::string framing = HeavyChunkFraming();
  constexpr int kBatches = 64;  // 64 MiB of framing for 16 KiB of body
  const size_t rss_before = RssKib();
  std::atomic<bool> sampling{true};
  size_t rss_peak = rss_before;
  std::thread sampler([&] {
    while (sampling.load()) {
      rss_peak = std::max(rss_peak, RssKib());
      absl::SleepFor(absl::Milliseconds(2));
    }
  });
  TestClient client = Connect();
  bool sent = client.SendAll(kChunkedEchoHead).ok();
  for (int i = 0; sent && i < kBatches; ++i) {
    sent = client.SendAll(framing, kDeadline).ok();
  }
  sent = sent && client.SendAll("0\r\n\r\n").ok();
  HttpTestReader reader(client);
  auto r = reader.Next(false, kDeadline);
  sampling.store(false);
  sampler.join();
  ASSERT_TRUE(sent);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, std::string(kBatches * 256, 'z'));
  // Sanitizers keep freed memory in quarantine, so only plain builds check.
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
  EXPECT_LT(rss_peak, rss_before + 4 * 1024)
      << "RSS grew from " << rss_before << " KiB to " << rss_peak << " KiB";
#endif
  ExpectStillServing();
}

TEST_F(HostileClientsTest, EndlessChunkFramingGets413AndClose) {
  StartServer();
  TestClient client = Connect();
  ASSERT_TRUE(client.SendAll(kChunkedEchoHead).ok());
  const std::string framing = HeavyChunkFraming();
  for (int i = 0; i < 64; ++i) {
    if (!client.SendAll(framing, absl::Seconds(5)).ok()) break;  // closed
  }
  ExpectAnsweredThenClosed(client, 413);
  ExpectStillServing();
}

TEST_F(HostileClientsTest, EndlessHeadersGet431AndClose) {
  StartServer();
  TestClient client = Connect();
  ASSERT_TRUE(client.SendAll("GET / HTTP/1.1\r\nHost: x\r\n").ok());
  for (int i = 0; i < 10000; ++i) {
    if (!client
             .SendAll(absl::StrCat("X-Header-", i, ": value\r\n"),
                      absl::Seconds(5))
             .ok()) {
      break;
    }
  }
  HttpTestReader reader(client);
  auto r = reader.Next();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 431);
  ExpectStillServing();
}

TEST_F(HostileClientsTest, HugeRequestLineGets414) {
  StartServer();
  TestClient client = Connect();
  (void)client.SendAll("GET /" + std::string(100000, 'a'), absl::Seconds(10));
  HttpTestReader reader(client);
  auto r = reader.Next();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 414);
  ExpectStillServing();
}

TEST_F(HostileClientsTest,
       SmugglingVectorsAreRefusedAndTheSmuggledRequestIsNotServed) {
  StartServer();
  const std::vector<std::string> attacks = {
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
      "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /n?smuggled "
      "HTTP/1.1\r\nHost: x\r\n\r\n",
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: "
      "44\r\n\r\n"
      "GET /n?smuggled HTTP/1.1\r\nHost: x\r\n\r\n",
      "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, "
      "identity\r\n\r\n"
      "0\r\n\r\nGET /n?smuggled HTTP/1.1\r\nHost: x\r\n\r\n",
  };
  for (const std::string& attack : attacks) {
    TestClient client = Connect();
    ASSERT_TRUE(client.SendAll(attack).ok());
    HttpTestReader reader(client);
    auto r = reader.Next();
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_TRUE(r->status == 400 || r->status == 501) << r->status;
    EXPECT_TRUE(reader.AtEof(kDeadline)) << "a smuggled request was answered";
  }
  ExpectStillServing();
}

// What RFC 9110/9112 call for where eddy once answered otherwise.
TEST_F(HostileClientsTest, NonConformingRequestsAreRefusedAsTheRfcsSay) {
  HttpOptions http;
  // Only an answer at once can reach the client within the test.
  http.request_head_timeout = absl::Hours(1);
  StartServer({}, http);
  struct Case {
    const char* name;
    std::string request;
    int status;
    bool closes = true;
  };
  // The start of a TLS 1.x ClientHello record: sent to a plain port by a
  // client that expected TLS. No line end ever comes.
  const std::string client_hello("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
                                 11);
  const std::vector<Case> cases = {
      {"Host with a space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400},
      {"Host with a slash", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400},
      {"fragment in the target", "GET /#frag HTTP/1.1\r\nHost: x\r\n\r\n", 400},
      {"TLS ClientHello on the plain port", client_hello, 400},
      {"binary garbage", std::string("\x00\xff\x01", 3), 400},
      {"CONNECT without a CONNECT route",
       "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 501,
       /*closes=*/false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    TestClient client = Connect();
    ASSERT_TRUE(client.SendAll(c.request).ok());
    if (c.closes) {
      ExpectAnsweredThenClosed(client, c.status);
      continue;
    }
    // A well-formed request the server does not implement: the connection
    // stays usable.
    HttpTestReader reader(client);
    auto r = reader.Next();
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->status, c.status);
  }
  ExpectStillServing();
}

TEST_F(HostileClientsTest, GarbageAndRandomDisconnectsDoNotHurtOtherClients) {
  StartServer();
  std::mt19937 rng(1234);
  const std::string valid = "GET /n?ok HTTP/1.1\r\nHost: x\r\n\r\n";
  for (int i = 0; i < 300; ++i) {
    TestClient client = Connect();
    std::string bytes;
    switch (i % 3) {
      case 0:  // random garbage
        bytes.resize(1 + rng() % 2000);
        for (char& c : bytes) c = static_cast<char>(rng());
        break;
      case 1:  // a valid request cut anywhere
        bytes = valid.substr(0, rng() % valid.size());
        break;
      default:  // a valid request, then gone before the answer
        bytes = valid;
        break;
    }
    (void)::send(client.fd(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (i % 2 == 0) {
      linger hard{1, 0};  // RST instead of FIN
      ::setsockopt(client.fd(), SOL_SOCKET, SO_LINGER, &hard, sizeof(hard));
    }
    if (i % 25 == 0) ExpectStillServing();
  }
  ExpectStillServing();
  EXPECT_TRUE(Eventually([&] { return server_->total_stats().active == 0; }));
}

TEST_F(HostileClientsTest, ResetInTheMiddleOfAResponse) {
  StartServer();
  for (int i = 0; i < 20; ++i) {
    TestClient client = Connect();
    ASSERT_TRUE(client.SendAll("GET /big HTTP/1.1\r\nHost: x\r\n\r\n").ok());
    ASSERT_TRUE(client.ReceiveSome().ok());  // the response has started
    linger hard{1, 0};
    ::setsockopt(client.fd(), SOL_SOCKET, SO_LINGER, &hard, sizeof(hard));
  }
  ExpectStillServing();
  EXPECT_TRUE(Eventually([&] { return server_->total_stats().active == 0; }));
}

TEST_F(HostileClientsTest, ConnectionCapAnswers503AndRecovers) {
  ServerOptions options;
  options.max_connections = 2;
  StartServer(options);
  TestClient a = Connect();
  TestClient b = Connect();
  ASSERT_TRUE(Eventually([&] { return server_->total_stats().active == 2; }));
  TestClient c = Connect();
  HttpTestReader reader(c);
  auto r = reader.Next();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 503);
  EXPECT_TRUE(reader.AtEof(kDeadline));
  a.Close();
  ASSERT_TRUE(Eventually([&] { return server_->total_stats().active == 1; }));
  ExpectStillServing();
}

TEST_F(HostileClientsTest, GracefulStopFinishesTheResponseInFlight) {
  StartServer();
  TestClient busy = Connect();
  TestClient idle = Connect();
  ASSERT_TRUE(idle.SendAll("GET / HTTP/1.1\r\nHost: x\r\n\r\n").ok());
  HttpTestReader idle_reader(idle);
  ASSERT_TRUE(idle_reader.Next().ok());
  ASSERT_TRUE(busy.SendAll("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n").ok());
  absl::SleepFor(absl::Milliseconds(50));  // let the request reach its route
  std::thread stopper([&] { server_->Stop(); });
  HttpTestReader reader(busy);
  auto r = reader.Next();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body.size(), 200000u);
  EXPECT_EQ(r->Header("connection"), "close");
  EXPECT_TRUE(reader.AtEof(kDeadline));
  EXPECT_TRUE(idle_reader.AtEof(kDeadline))
      << "idle keep-alive connection not closed";
  stopper.join();
}

// Each queued static response holds its file open, and a 1-byte Range
// response is a few hundred bytes: counted in bytes alone, clients that
// pipeline such requests without reading made the server hold thousands of
// files each. The files a connection may queue are capped, so descriptors
// stay bounded and everyone else is still served.
TEST_F(HostileClientsTest,
       PipelinedRangeRequestsThatAreNotReadHoldFewDescriptors) {
  ServerOptions options;
  StartServer(options);
  const size_t cap = options.connection.max_queued_files;
  ExpectStaticFileServed();
  ASSERT_TRUE(Eventually([&] { return server_->total_stats().active == 0; }));
  const size_t fds_before = OpenFdCount();

  // Enough that the responses overflow every socket buffer between the two
  // ends, so the rest must wait inside the server.
  constexpr int kRequests = 300000;
  std::string flood;
  for (int i = 0; i < kRequests; ++i) {
    flood +=
        "GET /static/small.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=0-0\r\n\r\n";
  }
  constexpr int kAttackers = 3;
  std::vector<TestClient> attackers;
  for (int i = 0; i < kAttackers; ++i) {
    attackers.push_back(Connect());
    const int small = 4096;
    ::setsockopt(attackers.back().fd(), SOL_SOCKET, SO_RCVBUF, &small,
                 sizeof(small));
  }
  for (TestClient& attacker : attackers) {
    ASSERT_LT(SendUntilHeld(attacker, flood), flood.size())
        << "the server read everything: not held";
  }
  // Per attacker: its own socket, the server's end, and at most `cap` files
  // (plus one being opened); a few more for the fresh clients below.
  const size_t bound = fds_before + kAttackers * (2 + cap + 1) + 8;
  EXPECT_LE(OpenFdCount(), bound)
      << "descriptors: " << fds_before << " before the attack";
  ExpectStillServing();
  ExpectStaticFileServed();
  EXPECT_LE(OpenFdCount(), bound)
      << "descriptors: " << fds_before << " before the attack";

  for (TestClient& attacker : attackers) attacker.Close();
  ASSERT_TRUE(Eventually([&] { return server_->total_stats().active == 0; }))
      << server_->total_stats().active << " connections left open";
  EXPECT_TRUE(Eventually([&] { return OpenFdCount() <= fds_before; }))
      << "descriptors: " << fds_before << " before, " << OpenFdCount()
      << " after";
  ExpectStaticFileServed();
}

// Near RLIMIT_NOFILE, static files are refused with 503 rather than taking
// the last descriptors, so new connections are still accepted and served;
// once descriptors free up, files are served again.
TEST_F(HostileClientsTest, StaticFilesAre503InsideTheDescriptorReserve) {
  const size_t baseline = OpenFdCount();
  // The limit in force when the static root is opened is the one it uses.
  ScopedFdLimit limit(baseline + 256);
  ASSERT_TRUE(limit.ok());
  StartServer();
  ExpectStaticFileServed();
  ASSERT_TRUE(Eventually([&] { return server_->total_stats().active == 0; }));

  // Take descriptors until only a few dozen are free: inside the reserve.
  UniqueFd null_fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(null_fd.valid());
  std::vector<UniqueFd> hogs;
  while (OpenFdCount() + 24 < baseline + 256) {
    UniqueFd fd(::fcntl(null_fd.get(), F_DUPFD_CLOEXEC, 0));
    ASSERT_TRUE(fd.valid()) << "dup failed at " << OpenFdCount();
    hogs.push_back(std::move(fd));
  }
  {
    auto r = FetchStaticFile();
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->status, 503);
    EXPECT_EQ(r->Header("retry-after"), "1");
  }
  ExpectStillServing();

  hogs.clear();
  ExpectStaticFileServed();
}

// Mixed load with random disconnects for a while; afterwards the server's
// connections, this process's descriptors and its memory are back where
// they started. EDDY_SOAK_SECONDS sets the length (default 20).
TEST_F(HostileClientsTest, SoakWithRandomDisconnectsLeaksNothing) {
  StartServer();
  ExpectStillServing();  // warm up pools and caches
  ASSERT_TRUE(Eventually([&] { return server_->total_stats().active == 0; }));
  const size_t fds_before = OpenFdCount();
  const size_t rss_before = RssKib();
  int seconds = 20;
  if (const char* env = std::getenv("EDDY_SOAK_SECONDS"))
    seconds = std::atoi(env);
  const absl::Time end = absl::Now() + absl::Seconds(seconds);
  std::atomic<uint64_t> completed{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < 4; ++t) {
    workers.emplace_back([&, t] {
      std::mt19937 rng(t);
      while (absl::Now() < end) {
        auto client = TestClient::Connect(server_->port(), absl::Seconds(10));
        if (!client.ok()) continue;
        HttpTestReader reader(*client);
        const int requests = 1 + rng() % 20;
        for (int i = 0; i < requests && absl::Now() < end; ++i) {
          const int kind = rng() % 10;
          std::string request = kind < 6 ? "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
                                : kind < 8
                                    ? "POST /echo HTTP/1.1\r\nHost: "
                                      "x\r\nContent-Length: 5\r\n\r\nhello"
                                    : "GET /n?x HTTP/1.1\r\nHost: x\r\n\r\n";
          if (kind == 9) request.resize(rng() % request.size());  // then vanish
          if (!client->SendAll(request, absl::Seconds(10)).ok() || kind == 9)
            break;
          if (!reader.Next(false, absl::Seconds(10)).ok()) break;
          ++completed;
        }
        if (rng() % 2 == 0) {
          linger hard{1, 0};
          ::setsockopt(client->fd(), SOL_SOCKET, SO_LINGER, &hard,
                       sizeof(hard));
        }
      }
    });
  }
  for (auto& w : workers) w.join();
  EXPECT_GT(completed.load(), 100u);
  ASSERT_TRUE(Eventually([&] { return server_->total_stats().active == 0; }))
      << server_->total_stats().active << " connections left open";
  EXPECT_TRUE(Eventually([&] { return OpenFdCount() <= fds_before; }))
      << "descriptors: " << fds_before << " before, " << OpenFdCount()
      << " after";
  // Memory: back near the baseline (allocator caches may keep a little).
  // Sanitizers keep freed memory in quarantine, so only plain builds check.
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
  EXPECT_LT(RssKib(), rss_before + 32 * 1024) << "RSS grew from " << rss_before;
#else
  (void)rss_before;
#endif
  ExpectStillServing();
}

}  // namespace
}  // namespace eddy::http
