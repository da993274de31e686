// WorkerGroup (net/worker_group.h): worker threads without a listening
// socket, for client programs; also the worker half of every Server.
#include "eddy/net/worker_group.h"

#include <atomic>
#include <memory>
#include <vector>

#include "eddy/net/connector.h"
#include "eddy/net/echo.h"
#include "eddy/net/server.h"
#include "gtest/gtest.h"
#include "tests/support/notification.h"
#include "tests/support/server_testing.h"

namespace eddy {
namespace {

using ::eddy::testing::Eventually;
using ::eddy::testing::kTestDeadline;
using ::eddy::testing::LoopbackServerOptions;

WorkerGroupOptions TwoWorkers() { return eddy::testing::ClientGroupOptions(2); }

TEST(WorkerGroup, StartsItsWorkersAndStopIsIdempotent) {
  WorkerGroup group(TwoWorkers());
  group.Stop();  // before Start: nothing to do
  ASSERT_TRUE(group.Start().ok());
  EXPECT_FALSE(group.Start().ok()) << "a second Start must be refused";
  ASSERT_EQ(group.size(), 2u);
  std::atomic<int> ran{0};
  for (size_t i = 0; i < group.size(); ++i) {
    EXPECT_EQ(group.worker(i).index(), i);
    EXPECT_EQ(&group.worker(i).loop(), &group.loop(i));
    group.loop(i).Post([&ran] { ++ran; });
  }
  ASSERT_TRUE(Eventually([&] { return ran.load() == 2; }));
  group.Stop();
  group.Stop();
}

TEST(WorkerGroup, RefusesWaterMarksTheWrongWayRound) {
  WorkerGroupOptions options = TwoWorkers();
  options.connection.low_water_mark = options.connection.high_water_mark + 1;
  WorkerGroup group(options);
  EXPECT_EQ(group.Start().code(), absl::StatusCode::kInvalidArgument);
}

// Counts its connection's bytes echoed back and how it closed.
class EchoProbe final : public Handler {
 public:
  EchoProbe(std::atomic<int>& echoed, std::atomic<int>& closed,
            std::atomic<int>& last_reason)
      : echoed_(echoed), closed_(closed), last_reason_(last_reason) {}
  void OnOpen(Connection& conn) override { conn.Send("x"); }
  void OnData(Connection&, Buffer& input) override {
    echoed_ += static_cast<int>(input.readable_bytes());
    input.ConsumeAll();
  }
  void OnClose(Connection&, CloseReason reason) override {
    last_reason_ = static_cast<int>(reason);
    ++closed_;
  }

 private:
  std::atomic<int>& echoed_;
  std::atomic<int>& closed_;
  std::atomic<int>& last_reason_;
};

TEST(WorkerGroup, ConnectsOutFromEveryWorkerAndStopClosesGracefully) {
  Server echo(LoopbackServerOptions(1), MakeEchoFactory());
  ASSERT_TRUE(echo.Start().ok());
  // Longer than any test may run: Stop must end the connections by asking
  // them (Handler::OnServerStopping's default: a graceful Close), not by
  // the abort at the deadline.
  WorkerGroupOptions options = TwoWorkers();
  options.shutdown_timeout = absl::Hours(1);
  WorkerGroup group(options);
  ASSERT_TRUE(group.Start().ok());
  constexpr int kPerWorker = 5;
  std::atomic<int> echoed{0};
  std::atomic<int> closed{0};
  std::atomic<int> last_reason{-1};
  for (size_t i = 0; i < group.size(); ++i) {
    for (int j = 0; j < kPerWorker; ++j) {
      Connect(
          group.worker(i), echo.local_address(), ConnectOptions{},
          [&] {
            return std::make_unique<EchoProbe>(echoed, closed, last_reason);
          },
          [](absl::Status status) { ADD_FAILURE() << status; });
    }
  }
  constexpr int kTotal = 2 * kPerWorker;
  ASSERT_TRUE(Eventually([&] { return echoed.load() == kTotal; }));
  EXPECT_EQ(group.open_connections().load(), kTotal);
  for (const WorkerStats& stats : group.stats()) {
    EXPECT_EQ(stats.active, static_cast<uint64_t>(kPerWorker));
  }
  EXPECT_EQ(group.total_stats().bytes_in, static_cast<uint64_t>(kTotal));

  group.Stop();
  EXPECT_EQ(closed.load(), kTotal);
  EXPECT_EQ(last_reason.load(), static_cast<int>(CloseReason::kServerStopping));
  EXPECT_EQ(group.open_connections().load(), 0);
  EXPECT_EQ(group.total_stats().closed, static_cast<uint64_t>(kTotal));
  // The server sees every connection end.
  EXPECT_TRUE(Eventually([&] { return echo.total_stats().active == 0; }));
}

// Ignores the request to stop, so only the deadline can end it.
class IgnoresShutdown final : public Handler {
 public:
  void OnData(Connection&, Buffer& input) override { input.ConsumeAll(); }
  void OnServerStopping(Connection&) override {}
};

TEST(WorkerGroup, StopAbortsWhatIsStillOpenAtTheShutdownTimeout) {
  Server echo(LoopbackServerOptions(1), MakeEchoFactory());
  ASSERT_TRUE(echo.Start().ok());
  WorkerGroupOptions options = TwoWorkers();
  options.shutdown_timeout = absl::Milliseconds(100);
  WorkerGroup group(options);
  ASSERT_TRUE(group.Start().ok());
  eddy::testing::Notification open;
  Connect(
      group.worker(1), echo.local_address(), ConnectOptions{},
      [&] {
        open.Notify();
        return std::make_unique<IgnoresShutdown>();
      },
      [](absl::Status status) { ADD_FAILURE() << status; });
  ASSERT_TRUE(open.WaitForNotificationWithTimeout(kTestDeadline));
  group.Stop();
  EXPECT_EQ(group.open_connections().load(), 0);
  EXPECT_EQ(group.worker(1).stats().closed, 1u);
}

}  // namespace
}  // namespace eddy
