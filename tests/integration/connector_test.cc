// Outgoing connections (net/connector.h): connect from a worker, hand the
// connection to a handler, retry with back-off, and report failure.
#include "net/connector.h"

#include <atomic>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "net/echo.h"
#include "net/server.h"
#include "net/socket.h"
#include "tests/support/notification.h"
#include "tests/support/server_testing.h"

namespace eddy {
namespace {

using ::eddy::testing::kTestDeadline;
using ::eddy::testing::LoopbackServerOptions;

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
  // The client side runs on another server's worker (a server that never
  // needs to accept anything).
  Server client_host(LoopbackServerOptions(1), MakeEchoFactory());
  ASSERT_TRUE(client_host.Start().ok());
  std::string reply;
  eddy::testing::Notification done;
  std::atomic<bool> failed{false};
  Connect(
      client_host.worker(0), echo.local_address(), ConnectOptions{},
      [&] { return std::make_unique<PingClient>(reply, done); },
      [&](absl::Status) { failed = true; });
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(kTestDeadline));
  EXPECT_EQ(reply, "ping");
  EXPECT_FALSE(failed.load());
}

TEST(Connector, RetriesWithBackOffThenReportsFailure) {
  // A port nobody listens on: bind one, read its number, close it.
  absl::StatusOr<SocketAddress> address = SocketAddress::Parse("127.0.0.1", 0);
  ASSERT_TRUE(address.ok());
  absl::StatusOr<UniqueFd> probe = Listen(*address, ListenOptions{});
  ASSERT_TRUE(probe.ok());
  absl::StatusOr<SocketAddress> closed = SocketAddress::LocalOf(probe->get());
  ASSERT_TRUE(closed.ok());
  probe->reset();

  Server client_host(LoopbackServerOptions(1), MakeEchoFactory());
  ASSERT_TRUE(client_host.Start().ok());
  ConnectOptions options;
  options.max_attempts = 3;
  options.initial_backoff = absl::Milliseconds(5);
  std::atomic<int> handlers_made{0};
  absl::Status failure;
  eddy::testing::Notification failed;
  Connect(
      client_host.worker(0), *closed, options,
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

}  // namespace
}  // namespace eddy
