// Outgoing connections (net/connector.h): connect from a worker, hand the
// connection to a handler, retry with back-off, and report failure.
#include "eddy/net/connector.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <atomic>
#include <memory>
#include <string>

#include "eddy/net/echo.h"
#include "eddy/net/internal/socket.h"
#include "eddy/net/server.h"
#include "eddy/net/worker_group.h"
#include "gtest/gtest.h"
#include "tests/support/notification.h"
#include "tests/support/server_testing.h"

namespace eddy {
namespace {

using ::eddy::testing::kTestDeadline;
using ::eddy::testing::LoopbackServerOptions;
using ::eddy::testing::UnusedLoopbackAddress;

// The worker threads of a client: a WorkerGroup, no listening socket.
WorkerGroupOptions ClientOptions() {
  return eddy::testing::ClientGroupOptions(1);
}

// Sends "ping" when connected and reports what comes back.
class PingClient final : public Handler {
 public:
  PingClient(std::string& reply, eddy::testing::Notification& done)
      : reply_(reply), done_(done) {}
  void OnOpen(Connection& conn) override { conn.Send("ping"); }
  void OnData(Connection& conn, Buffer& input) override {
    reply_.append(input.view().data(), input.readable_bytes());
    input.ConsumeAll();
    if (reply_.size() >= 4) {
      done_.Notify();
      conn.Close();
    }
  }

 private:
  std::string& reply_;
  eddy::testing::Notification& done_;
};

TEST(Connector, ConnectsFromAWorkerAndServesTheConnectionWithTheHandler) {
  Server echo(LoopbackServerOptions(1), MakeEchoFactory());
  ASSERT_TRUE(echo.Start().ok());
  WorkerGroup client(ClientOptions());
  ASSERT_TRUE(client.Start().ok());
  std::string reply;
  eddy::testing::Notification done;
  std::atomic<bool> failed{false};
  Connect(
      client.worker(0), echo.local_address(), ConnectOptions{},
      [&] { return std::make_unique<PingClient>(reply, done); },
      [&](absl::Status) { failed = true; });
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(kTestDeadline));
  EXPECT_EQ(reply, "ping");
  EXPECT_FALSE(failed.load());
}

TEST(Connector, RetriesWithBackOffThenReportsFailure) {
  const SocketAddress closed = UnusedLoopbackAddress();
  WorkerGroup client(ClientOptions());
  ASSERT_TRUE(client.Start().ok());
  ConnectOptions options;
  options.max_attempts = 3;
  options.initial_backoff = absl::Milliseconds(5);
  std::atomic<int> handlers_made{0};
  absl::Status failure;
  eddy::testing::Notification failed;
  Connect(
      client.worker(0), closed, options,
      [&]() -> std::unique_ptr<Handler> {
        ++handlers_made;
        return std::make_unique<EchoHandler>();
      },
      [&](absl::Status status) {
        failure = status;
        failed.Notify();
      });
  ASSERT_TRUE(failed.WaitForNotificationWithTimeout(kTestDeadline));
  EXPECT_EQ(failure.code(), absl::StatusCode::kUnavailable) << failure;
  EXPECT_EQ(handlers_made.load(), 0);
}

TEST(Connector, TellsOfEachFailedAttemptAndStopsWhenAskedTo) {
  const SocketAddress closed = UnusedLoopbackAddress();
  WorkerGroup client(ClientOptions());
  ASSERT_TRUE(client.Start().ok());
  ConnectOptions options;
  options.max_attempts = 0;  // forever, unless the observer says stop
  options.initial_backoff = absl::Milliseconds(1);
  int failed_attempts = 0;  // the worker's thread only
  absl::Status failure;
  eddy::testing::Notification failed;
  Connect(
      client.worker(0), closed, options,
      [] { return std::make_unique<EchoHandler>(); },
      [&](absl::Status status) {
        failure = status;
        failed.Notify();
      },
      [&](const absl::Status& status) {
        EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
        return ++failed_attempts < 3;
      });
  ASSERT_TRUE(failed.WaitForNotificationWithTimeout(kTestDeadline));
  EXPECT_EQ(failure.code(), absl::StatusCode::kUnavailable) << failure;
  client.Stop();
  EXPECT_EQ(failed_attempts, 3);
}

// Records whether the socket it was given has TCP_NODELAY set.
class NoDelayProbe final : public Handler {
 public:
  NoDelayProbe(std::atomic<int>& nodelay, eddy::testing::Notification& done)
      : nodelay_(nodelay), done_(done) {}
  void OnOpen(Connection& conn) override {
    int on = 0;
    socklen_t length = sizeof(on);
    ::getsockopt(conn.fd(), IPPROTO_TCP, TCP_NODELAY, &on, &length);
    nodelay_ = on;
    conn.Close();
    done_.Notify();
  }
  void OnData(Connection&, Buffer& input) override { input.ConsumeAll(); }

 private:
  std::atomic<int>& nodelay_;
  eddy::testing::Notification& done_;
};

TEST(Connector, SetsNoDelayOnOutgoingSocketsUnlessToldNotTo) {
  Server echo(LoopbackServerOptions(1), MakeEchoFactory());
  ASSERT_TRUE(echo.Start().ok());
  WorkerGroup client(ClientOptions());
  ASSERT_TRUE(client.Start().ok());
  for (const bool nodelay : {true, false}) {
    ConnectOptions options;
    options.tcp_nodelay = nodelay;
    std::atomic<int> seen{-1};
    eddy::testing::Notification done;
    Connect(
        client.worker(0), echo.local_address(), options,
        [&] { return std::make_unique<NoDelayProbe>(seen, done); },
        [](absl::Status status) { ADD_FAILURE() << status; });
    ASSERT_TRUE(done.WaitForNotificationWithTimeout(kTestDeadline));
    EXPECT_EQ(seen.load() != 0, nodelay);
  }
}

// Runs `on_close` when its connection closes, as a client that reconnects
// does.
class CallsOnClose final : public Handler {
 public:
  explicit CallsOnClose(absl::AnyInvocable<void()> on_close)
      : on_close_(std::move(on_close)) {}
  void OnData(Connection&, Buffer& input) override { input.ConsumeAll(); }
  void OnClose(Connection&, CloseReason) override { on_close_(); }

 private:
  absl::AnyInvocable<void()> on_close_;
};

TEST(Connector, ShuttingDownCancelsConnectsInProgressAndRefusesNewOnes) {
  Server echo(LoopbackServerOptions(1), MakeEchoFactory());
  ASSERT_TRUE(echo.Start().ok());
  const SocketAddress closed = UnusedLoopbackAddress();
  WorkerGroup client(ClientOptions());
  ASSERT_TRUE(client.Start().ok());
  ConnectOptions retry_forever;
  retry_forever.max_attempts = 0;
  retry_forever.initial_backoff = absl::Milliseconds(1);
  retry_forever.max_backoff = absl::Milliseconds(1);
  std::atomic<int> attempts{0};
  std::atomic<int> cancelled{0};
  auto connect_to_closed_port = [&] {
    Connect(
        client.worker(0), closed, retry_forever,
        [] { return std::make_unique<EchoHandler>(); },
        [&](absl::Status status) {
          EXPECT_EQ(status.code(), absl::StatusCode::kCancelled) << status;
          ++cancelled;
        },
        [&](const absl::Status&) {
          ++attempts;
          return true;
        });
  };
  connect_to_closed_port();
  connect_to_closed_port();
  // This one reconnects when the shutdown closes it: too late, refused.
  eddy::testing::Notification open;
  Connect(
      client.worker(0), echo.local_address(), ConnectOptions{},
      [&] {
        open.Notify();
        return std::make_unique<CallsOnClose>(connect_to_closed_port);
      },
      [](absl::Status status) { ADD_FAILURE() << status; });
  ASSERT_TRUE(open.WaitForNotificationWithTimeout(kTestDeadline));
  ASSERT_TRUE(eddy::testing::Eventually([&] { return attempts.load() >= 4; }));
  client.Stop();
  EXPECT_EQ(cancelled.load(), 3);
}

}  // namespace
}  // namespace eddy
