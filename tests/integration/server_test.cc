// Server lifecycle and limits over real sockets on 127.0.0.1.
#include "eddy/net/server.h"

#include <dirent.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/socket.h>

#include <atomic>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "eddy/net/echo.h"
#include "eddy/net/internal/socket.h"
#include "gtest/gtest.h"
#include "tests/support/notification.h"
#include "tests/support/server_testing.h"
#include "tests/support/test_client.h"

namespace eddy {
namespace {

using ::eddy::testing::EchoRoundTrip;
using ::eddy::testing::Eventually;
using ::eddy::testing::LoopbackServerOptions;
using ::eddy::testing::TestClient;

constexpr absl::Duration kDeadline = absl::Seconds(60);

// The scheduling policy of this process's thread named `name`, or -1 if
// there is none.
int PolicyOfThreadNamed(const std::string& name) {
  DIR* tasks = ::opendir("/proc/self/task");
  if (tasks == nullptr) return -1;
  int policy = -1;
  while (dirent* entry = ::readdir(tasks)) {
    if (entry->d_name[0] == '.') continue;
    std::ifstream comm(std::string("/proc/self/task/") + entry->d_name +
                       "/comm");
    std::string thread_name;
    if (std::getline(comm, thread_name) && thread_name == name) {
      policy = ::sched_getscheduler(std::stoi(entry->d_name));
      break;
    }
  }
  ::closedir(tasks);
  return policy;
}

TEST(Server, PortAlreadyInUseGivesClearError) {
  Server first(LoopbackServerOptions(1), MakeEchoFactory());
  ASSERT_TRUE(first.Start().ok());
  ServerOptions options = LoopbackServerOptions(1);
  options.port = first.port();
  Server second(options, MakeEchoFactory());
  const absl::Status status = second.Start();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(status.message(), "in use")) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "--port")) << status;
}

TEST(Server, BadBindAddressGivesClearError) {
  ServerOptions options = LoopbackServerOptions(1);
  options.bind_address = "not-an-address";
  Server server(options, MakeEchoFactory());
  const absl::Status status = server.Start();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(status.message(), "numeric")) << status;
}

TEST(Server, ServesIpv6Loopback) {
  ServerOptions options = LoopbackServerOptions(1);
  options.bind_address = "::1";
  Server server(options, MakeEchoFactory());
  const absl::Status status = server.Start();
  if (!status.ok()) GTEST_SKIP() << "no IPv6 loopback here: " << status;
  auto client = TestClient::Connect(server.port(), kDeadline, "::1");
  ASSERT_TRUE(client.ok()) << client.status();
  auto echoed = EchoRoundTrip(*client, "over v6", kDeadline);
  ASSERT_TRUE(echoed.ok()) << echoed.status();
  EXPECT_EQ(*echoed, "over v6");
}

// A handler whose work never finishes: it ignores the stop request, so only
// the shutdown deadline can end its connections.
class IgnoresStopRequest final : public Handler {
 public:
  void OnData(Connection& conn, Buffer& input) override {
    conn.Send(std::move(input));
  }
  void OnServerStopping(Connection&) override {}
};

TEST(Server, StopWithBusyConnectionsReturnsWithinItsDeadline) {
  ServerOptions options = LoopbackServerOptions(2);
  options.shutdown_timeout = absl::Milliseconds(300);
  Server server(options, MakeProtocolFactory([](Connection&) {
                  return std::make_unique<IgnoresStopRequest>();
                }));
  ASSERT_TRUE(server.Start().ok());
  std::vector<TestClient> clients;
  std::atomic<bool> stop_sending{false};
  for (int i = 0; i < 8; ++i) {
    auto client = TestClient::Connect(server.port());
    ASSERT_TRUE(client.ok());
    clients.push_back(*std::move(client));
  }
  ASSERT_TRUE(Eventually([&] { return server.total_stats().active == 8; }));
  // Keep the connections busy while Stop runs.
  std::thread traffic([&] {
    const std::string chunk(4096, 'z');
    char sink[65536];
    const absl::Time deadline = absl::Now() + kDeadline;
    while (!stop_sending.load() && absl::Now() < deadline) {
      for (auto& client : clients) {
        (void)::send(client.fd(), chunk.data(), chunk.size(),
                     MSG_DONTWAIT | MSG_NOSIGNAL);
        (void)::recv(client.fd(), sink, sizeof(sink), MSG_DONTWAIT);
      }
      absl::SleepFor(absl::Milliseconds(1));
    }
  });
  const absl::Time start = absl::Now();
  server.Stop();
  const absl::Duration took = absl::Now() - start;
  stop_sending = true;
  traffic.join();
  // Generous bound: the deadline plus scheduling noise on a busy machine.
  EXPECT_LT(took, options.shutdown_timeout + absl::Seconds(30));
  EXPECT_EQ(server.total_stats().active, 0u);
  for (auto& client : clients) EXPECT_TRUE(client.WaitForClose(kDeadline));
}

TEST(Server, StopLetsIdleConnectionsCloseGracefully) {
  Server server(LoopbackServerOptions(2), MakeEchoFactory());
  ASSERT_TRUE(server.Start().ok());
  auto client = TestClient::Connect(server.port());
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE(EchoRoundTrip(*client, "hi", kDeadline).ok());
  server.Stop();
  server.Stop();  // idempotent
  EXPECT_TRUE(client->WaitForClose(kDeadline));
  EXPECT_FALSE(TestClient::Connect(server.port(), absl::Seconds(5)).ok());
}

TEST(Server, AcceptedSocketsInheritNoDelayFromTheListener) {
  std::atomic<int> nodelay{-1};
  class Probe final : public Handler {
   public:
    explicit Probe(std::atomic<int>& out) : out_(out) {}
    void OnOpen(Connection& conn) override {
      int value = 0;
      socklen_t length = sizeof(value);
      ::getsockopt(conn.fd(), IPPROTO_TCP, TCP_NODELAY, &value, &length);
      out_ = value != 0 ? 1 : 0;
      conn.Send("ok");
    }
    void OnData(Connection&, Buffer& input) override { input.ConsumeAll(); }

   private:
    std::atomic<int>& out_;
  };
  Server server(LoopbackServerOptions(1), MakeProtocolFactory([&](Connection&) {
                  return std::make_unique<Probe>(nodelay);
                }));
  ASSERT_TRUE(server.Start().ok());
  auto client = TestClient::Connect(server.port());
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE(client->ReceiveExactly(2).ok());
  EXPECT_EQ(nodelay.load(), 1);
}

TEST(Server, AcceptorRunsUnderBatchSchedulingUnlessTurnedOff) {
  {
    Server server(LoopbackServerOptions(1), MakeEchoFactory());
    ASSERT_TRUE(server.Start().ok());
    // The thread sets its own policy as it starts.
    EXPECT_TRUE(Eventually(
        [] { return PolicyOfThreadNamed("eddy-acceptor") == SCHED_BATCH; }));
    auto client = TestClient::Connect(server.port());
    ASSERT_TRUE(client.ok());
    EXPECT_EQ(EchoRoundTrip(*client, "batch", kDeadline).value_or(""), "batch");
  }
  ServerOptions options = LoopbackServerOptions(1);
  options.acceptor_batch_scheduling = false;
  Server server(options, MakeEchoFactory());
  ASSERT_TRUE(server.Start().ok());
  ASSERT_TRUE(
      Eventually([] { return PolicyOfThreadNamed("eddy-acceptor") != -1; }));
  EXPECT_EQ(PolicyOfThreadNamed("eddy-acceptor"), SCHED_OTHER);
  auto client = TestClient::Connect(server.port());
  ASSERT_TRUE(client.ok());
  EXPECT_EQ(EchoRoundTrip(*client, "other", kDeadline).value_or(""), "other");
}

TEST(Server, DeferredAcceptServesEarlyLateAndRepeatedClientBytes) {
  ServerOptions options = LoopbackServerOptions(1);
  options.defer_accept = absl::Seconds(1);
  Server server(options, MakeEchoFactory());
  ASSERT_TRUE(server.Start().ok());
  // Bytes sent with the connect are read before the connection is
  // registered; what comes after must still raise an edge.
  auto early = TestClient::Connect(server.port());
  ASSERT_TRUE(early.ok());
  EXPECT_EQ(EchoRoundTrip(*early, "first", kDeadline).value_or(""), "first");
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_EQ(EchoRoundTrip(*early, "second", kDeadline).value_or(""), "second");
  // A client that waits before its first bytes is accepted when they come.
  auto late = TestClient::Connect(server.port());
  ASSERT_TRUE(late.ok());
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_EQ(EchoRoundTrip(*late, "late", kDeadline).value_or(""), "late");
  // One that says nothing is accepted after the deferral and then closed
  // like any idle connection when the server stops.
  auto silent = TestClient::Connect(server.port());
  ASSERT_TRUE(silent.ok());
  EXPECT_TRUE(Eventually([&] { return server.total_stats().accepted == 3; }));
  server.Stop();
  EXPECT_TRUE(silent->WaitForClose(kDeadline));
}

TEST(Server, ConnectionRefSendsFromAnotherThreadAndIsSafeWhenStale) {
  std::atomic<bool> have_ref{false};
  ConnectionRef ref;
  class Remember final : public Handler {
   public:
    Remember(ConnectionRef& ref, std::atomic<bool>& have)
        : ref_(ref), have_(have) {}
    void OnOpen(Connection& conn) override {
      ref_ = conn.ref();
      have_ = true;
    }
    void OnData(Connection&, Buffer& input) override { input.ConsumeAll(); }

   private:
    ConnectionRef& ref_;
    std::atomic<bool>& have_;
  };
  Server server(LoopbackServerOptions(2), MakeProtocolFactory([&](Connection&) {
                  return std::make_unique<Remember>(ref, have_ref);
                }));
  ASSERT_TRUE(server.Start().ok());
  auto client = TestClient::Connect(server.port());
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE(Eventually([&] { return have_ref.load(); }));
  EXPECT_TRUE(ref.alive());
  EXPECT_TRUE(ref.Send("pushed from a test thread"));
  auto got = client->ReceiveExactly(25);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, "pushed from a test thread");
  client->Close();
  ASSERT_TRUE(Eventually([&] { return !ref.alive(); }));
  EXPECT_FALSE(ref.Send("into the void"));
  EXPECT_FALSE(ref.Close());
  EXPECT_FALSE(ConnectionRef().Send("nothing"));
}

TEST(Server, FullInboxesShedConnectionsWithoutBlockingTheAcceptor) {
  ServerOptions options = LoopbackServerOptions(1);
  options.inbox_depth = 1;
  Server server(options, MakeEchoFactory());
  ASSERT_TRUE(server.Start().ok());
  // Hold the only worker so its inbox cannot drain.
  eddy::testing::Notification release;
  eddy::testing::Notification holding;
  server.worker_loop(0).Post([&] {
    holding.Notify();
    release.WaitForNotificationWithTimeout(kDeadline);
  });
  ASSERT_TRUE(holding.WaitForNotificationWithTimeout(kDeadline));
  std::vector<TestClient> clients;
  for (int i = 0; i < 5; ++i) {
    auto client = TestClient::Connect(server.port());
    ASSERT_TRUE(client.ok());
    clients.push_back(*std::move(client));
  }
  // One fits in the inbox; the other four are shed (closed) at once.
  ASSERT_TRUE(Eventually([&] { return server.total_stats().shed == 4; }));
  for (int i = 1; i < 5; ++i) EXPECT_TRUE(clients[i].WaitForClose(kDeadline));
  release.Notify();
  auto echoed = EchoRoundTrip(clients[0], "queued one", kDeadline);
  ASSERT_TRUE(echoed.ok()) << echoed.status();
  EXPECT_EQ(*echoed, "queued one");
}

TEST(Server, MaxConnectionsRefusesAboveTheCapAndRecovers) {
  ServerOptions options = LoopbackServerOptions(1);
  options.max_connections = 2;
  Server server(options, MakeEchoFactory());
  ASSERT_TRUE(server.Start().ok());
  auto a = TestClient::Connect(server.port());
  auto b = TestClient::Connect(server.port());
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE(EchoRoundTrip(*a, "a", kDeadline).ok());
  ASSERT_TRUE(EchoRoundTrip(*b, "b", kDeadline).ok());
  auto c = TestClient::Connect(server.port());
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->WaitForClose(kDeadline));
  EXPECT_TRUE(
      Eventually([&] { return server.acceptor_stats().rejected_at_cap == 1; }));
  a->Close();
  ASSERT_TRUE(Eventually([&] { return server.total_stats().active == 1; }));
  auto d = TestClient::Connect(server.port());
  ASSERT_TRUE(d.ok());
  auto echoed = EchoRoundTrip(*d, "d", kDeadline);
  ASSERT_TRUE(echoed.ok()) << echoed.status();
}

// Reading paused when the peer's data and FIN arrive: the hang-up edge is
// consumed while paused, yet resuming must still reach EOF.
class LateReader final : public Handler {
 public:
  void OnOpen(Connection& conn) override {
    conn.PauseReading();
    conn.loop().RunAfter(absl::Milliseconds(200),
                         [&conn] { conn.ResumeReading(); });
  }
  void OnData(Connection& conn, Buffer& input) override {
    conn.Send(std::move(input));
  }
};

TEST(Server, EofThatArrivedWhileReadingWasPausedIsNotLost) {
  Server server(LoopbackServerOptions(1), MakeProtocolFactory([](Connection&) {
                  return std::make_unique<LateReader>();
                }));
  ASSERT_TRUE(server.Start().ok());
  auto client = TestClient::Connect(server.port());
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE(client->SendAll("late but whole").ok());
  client->ShutdownWrite();
  auto back = client->ReceiveUntilClose(kDeadline);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, "late but whole");
}

// Reading paused for good, nothing queued to write: only the reset's error
// edge can tell the connection that its peer is gone.
class NeverReader final : public Handler {
 public:
  NeverReader(testing::Notification* opened, testing::Notification* closed,
              std::atomic<CloseReason>* reason)
      : opened_(opened), closed_(closed), reason_(reason) {}
  void OnOpen(Connection& conn) override {
    conn.PauseReading();
    opened_->Notify();
  }
  void OnData(Connection&, Buffer&) override {}
  void OnClose(Connection&, CloseReason reason) override {
    reason_->store(reason);
    closed_->Notify();
  }

 private:
  testing::Notification* const opened_;
  testing::Notification* const closed_;
  std::atomic<CloseReason>* const reason_;
};

TEST(Server, ResetThatArrivesWhileReadingIsPausedClosesTheConnection) {
  testing::Notification opened;
  testing::Notification closed;
  std::atomic<CloseReason> reason{CloseReason::kLocalClose};
  Server server(LoopbackServerOptions(1), MakeProtocolFactory([&](Connection&) {
                  return std::make_unique<NeverReader>(&opened, &closed,
                                                       &reason);
                }));
  ASSERT_TRUE(server.Start().ok());
  auto client = TestClient::Connect(server.port());
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE(client->SendAll("never read").ok());
  ASSERT_TRUE(opened.WaitForNotificationWithTimeout(kDeadline));
  ASSERT_TRUE(SetLingerZero(client->fd()).ok());
  client->Close();
  ASSERT_TRUE(closed.WaitForNotificationWithTimeout(kDeadline));
  EXPECT_EQ(reason.load(), CloseReason::kReset);
}

}  // namespace
}  // namespace eddy
