// The echo protocol over real sockets on 127.0.0.1: correctness under
// concurrency, backpressure, half-close and many connections.
#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "eddy/core/manual_clock.h"
#include "eddy/net/echo.h"
#include "eddy/net/server.h"
#include "gtest/gtest.h"
#include "tests/support/notification.h"
#include "tests/support/server_testing.h"
#include "tests/support/test_client.h"

namespace eddy {
namespace {

using ::eddy::testing::EchoRoundTrip;
using ::eddy::testing::Eventually;
using ::eddy::testing::LoopbackServerOptions;
using ::eddy::testing::RandomBytes;
using ::eddy::testing::TestClient;

constexpr absl::Duration kDeadline = absl::Seconds(60);

TEST(EchoServer, EchoesOneMessage) {
  Server server(LoopbackServerOptions(1), MakeEchoFactory());
  ASSERT_TRUE(server.Start().ok());
  auto client = TestClient::Connect(server.port());
  ASSERT_TRUE(client.ok()) << client.status();
  auto echoed = EchoRoundTrip(*client, "hello, eddy", kDeadline);
  ASSERT_TRUE(echoed.ok()) << echoed.status();
  EXPECT_EQ(*echoed, "hello, eddy");
}

TEST(EchoServer, RoundRobinGivesEachWorkerExactlyK) {
  constexpr size_t kWorkers = 3;
  constexpr size_t kPerWorker = 5;
  Server server(LoopbackServerOptions(kWorkers), MakeEchoFactory());
  ASSERT_TRUE(server.Start().ok());
  std::vector<TestClient> clients;
  for (size_t i = 0; i < kWorkers * kPerWorker; ++i) {
    auto client = TestClient::Connect(server.port());
    ASSERT_TRUE(client.ok()) << client.status();
    // An echo proves the connection was accepted and served.
    ASSERT_TRUE(EchoRoundTrip(*client, "x", kDeadline).ok());
    clients.push_back(*std::move(client));
  }
  std::vector<WorkerStats> stats = server.stats();
  ASSERT_EQ(stats.size(), kWorkers);
  for (size_t w = 0; w < kWorkers; ++w) {
    EXPECT_EQ(stats[w].accepted, kPerWorker) << "worker " << w;
    EXPECT_EQ(stats[w].active, kPerWorker) << "worker " << w;
  }
  EXPECT_EQ(server.acceptor_stats().accepted, kWorkers * kPerWorker);
}

TEST(EchoServer, SixtyFourClientsEachEchoOneMebibyteByteForByte) {
  constexpr int kClients = 64;
  constexpr size_t kBytes = 1 << 20;
  Server server(LoopbackServerOptions(2), MakeEchoFactory());
  ASSERT_TRUE(server.Start().ok());
  std::vector<std::thread> threads;
  std::atomic<int> matched{0};
  std::vector<std::string> errors(kClients);
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      const std::string data = RandomBytes(kBytes, static_cast<uint32_t>(i));
      auto client = TestClient::Connect(server.port());
      if (!client.ok()) {
        errors[i] = client.status().ToString();
        return;
      }
      auto echoed = EchoRoundTrip(*client, data, kDeadline);
      if (!echoed.ok()) {
        errors[i] = echoed.status().ToString();
      } else if (*echoed != data) {
        errors[i] = "echoed bytes differ";
      } else {
        ++matched;
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kClients; ++i) EXPECT_EQ(errors[i], "") << "client " << i;
  EXPECT_EQ(matched.load(), kClients);
  EXPECT_EQ(server.total_stats().bytes_in, uint64_t{kClients} * kBytes);
}

// An echo handler that records how far its output queue grew.
class RecordingEcho final : public Handler {
 public:
  RecordingEcho(std::atomic<size_t>& max_output, std::atomic<int>& high_waters,
                std::atomic<int>& drains)
      : max_output_(max_output), high_waters_(high_waters), drains_(drains) {}
  void OnData(Connection& conn, Buffer& input) override {
    conn.Send(std::move(input));
    size_t seen = max_output_.load();
    while (conn.output_bytes() > seen &&
           !max_output_.compare_exchange_weak(seen, conn.output_bytes())) {
    }
  }
  void OnHighWater(Connection& conn) override {
    EXPECT_TRUE(conn.reading_paused());
    ++high_waters_;
  }
  void OnDrained(Connection&) override { ++drains_; }

 private:
  std::atomic<size_t>& max_output_;
  std::atomic<int>& high_waters_;
  std::atomic<int>& drains_;
};

TEST(EchoServer, SlowReaderIsHeldByHighWaterMarkAndLosesNothing) {
  std::atomic<size_t> max_output{0};
  std::atomic<int> high_waters{0};
  std::atomic<int> drains{0};
  ServerOptions options = LoopbackServerOptions(1);
  options.connection.high_water_mark = 256 * 1024;
  options.connection.low_water_mark = 64 * 1024;
  options.connection.read_budget = 64 * 1024;
  Server server(options, MakeProtocolFactory([&](Connection&) {
                  return std::make_unique<RecordingEcho>(max_output,
                                                         high_waters, drains);
                }));
  ASSERT_TRUE(server.Start().ok());
  auto client = TestClient::Connect(server.port());
  ASSERT_TRUE(client.ok());

  // Phase 1: write without reading until the server's output passes the
  // high-water mark (and it stops reading, so our writes eventually stall).
  const std::string data = RandomBytes(16 << 20, 7);
  size_t sent = 0;
  const absl::Time deadline = absl::Now() + kDeadline;
  while (high_waters.load() == 0 && sent < data.size()) {
    ASSERT_LT(absl::Now(), deadline) << "high-water mark never reached";
    const ssize_t n = ::send(client->fd(), data.data() + sent,
                             std::min<size_t>(65536, data.size() - sent),
                             MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      sent += static_cast<size_t>(n);
    } else {
      absl::SleepFor(absl::Milliseconds(1));
    }
  }
  ASSERT_GT(high_waters.load(), 0);
  // Phase 2: read everything back while sending the rest.
  std::string received;
  received.reserve(data.size());
  char chunk[65536];
  while (received.size() < data.size()) {
    ASSERT_LT(absl::Now(), deadline) << "stalled at " << received.size();
    if (sent < data.size()) {
      const ssize_t n = ::send(client->fd(), data.data() + sent,
                               std::min<size_t>(65536, data.size() - sent),
                               MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) sent += static_cast<size_t>(n);
    }
    const ssize_t n = ::recv(client->fd(), chunk, sizeof(chunk), MSG_DONTWAIT);
    if (n > 0) {
      received.append(chunk, static_cast<size_t>(n));
    } else if (n == 0) {
      FAIL() << "server closed early";
    } else {
      absl::SleepFor(absl::Microseconds(200));
    }
  }
  EXPECT_TRUE(received == data) << "echoed bytes differ";
  EXPECT_GT(drains.load(), 0);
  // Reading pauses at the end of the burst that crossed the mark, and one
  // burst reads at most read_budget: that bounds the server's memory.
  EXPECT_LE(max_output.load(), options.connection.high_water_mark +
                                   options.connection.read_budget);
}

TEST(EchoServer, HalfCloseReceivesAllEchoedBytesThenEof) {
  Server server(LoopbackServerOptions(1), MakeEchoFactory());
  ASSERT_TRUE(server.Start().ok());
  auto client = TestClient::Connect(server.port());
  ASSERT_TRUE(client.ok());
  const std::string data = RandomBytes(200000, 3);
  // Send everything while reading (the echo would otherwise fill buffers),
  // then half-close; the remaining echo must still arrive, then EOF.
  size_t first = data.size() / 2;
  auto echoed = EchoRoundTrip(*client, absl::string_view(data).substr(0, first),
                              kDeadline);
  ASSERT_TRUE(echoed.ok()) << echoed.status();
  ASSERT_TRUE(client->SendAll(absl::string_view(data).substr(first)).ok());
  client->ShutdownWrite();
  auto rest = client->ReceiveUntilClose(kDeadline);
  ASSERT_TRUE(rest.ok()) << rest.status();
  EXPECT_TRUE(*echoed + *rest == data);
  EXPECT_TRUE(Eventually([&] { return server.total_stats().active == 0; }));
}

TEST(EchoServer, ServesOneThousandConcurrentConnections) {
  constexpr size_t kConnections = 1000;
  // Client and server sockets live in this process: 2000 fds and some.
  if (eddy::testing::RaiseFdLimit(2 * kConnections + 200) <
      2 * kConnections + 200) {
    GTEST_SKIP() << "RLIMIT_NOFILE hard limit too low for 1000 connections";
  }
  Server server(LoopbackServerOptions(2), MakeEchoFactory());
  ASSERT_TRUE(server.Start().ok());
  std::vector<TestClient> clients;
  clients.reserve(kConnections);
  for (size_t i = 0; i < kConnections; ++i) {
    auto client = TestClient::Connect(server.port());
    ASSERT_TRUE(client.ok()) << i << ": " << client.status();
    ASSERT_TRUE(client->SendAll("ping " + std::to_string(i) + "\n").ok());
    clients.push_back(*std::move(client));
  }
  ASSERT_TRUE(
      Eventually([&] { return server.total_stats().active == kConnections; }));
  for (size_t i = 0; i < kConnections; ++i) {
    const std::string expected = "ping " + std::to_string(i) + "\n";
    auto echoed = clients[i].ReceiveExactly(expected.size(), kDeadline);
    ASSERT_TRUE(echoed.ok()) << i << ": " << echoed.status();
    EXPECT_EQ(*echoed, expected);
  }
  clients.clear();
  EXPECT_TRUE(Eventually([&] { return server.total_stats().active == 0; }));
  EXPECT_EQ(server.total_stats().closed, kConnections);
}

TEST(EchoServer, IdleTimeoutClosesSilentConnectionsAndNoSooner) {
  ManualClock clock;
  ServerOptions options = LoopbackServerOptions(1);
  options.clock = &clock;
  options.connection.idle_timeout = absl::Seconds(30);
  Server server(options, MakeEchoFactory());
  ASSERT_TRUE(server.Start().ok());
  auto client = TestClient::Connect(server.port());
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE(EchoRoundTrip(*client, "still here", kDeadline).ok());
  ASSERT_TRUE(clock.AdvanceAndWait(absl::Seconds(30) - absl::Milliseconds(1),
                                   kDeadline));
  EXPECT_EQ(server.total_stats().active, 1u);
  ASSERT_TRUE(clock.AdvanceAndWait(absl::Milliseconds(1), kDeadline));
  EXPECT_TRUE(client->WaitForClose(kDeadline));
  EXPECT_TRUE(Eventually([&] { return server.total_stats().active == 0; }));
}

}  // namespace
}  // namespace eddy
