#include "eddy/core/event_loop.h"

#include <sys/eventfd.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "eddy/core/clock.h"
#include "eddy/core/manual_clock.h"
#include "gtest/gtest.h"
#include "tests/support/notification.h"

namespace eddy {
namespace {

constexpr absl::Duration kDeadline = absl::Seconds(60);

// Runs a loop on its own thread for the duration of a test.
class LoopThread {
 public:
  explicit LoopThread(Clock* clock = nullptr) {
    auto loop = EventLoop::Create(clock);
    EXPECT_TRUE(loop.ok()) << loop.status();
    loop_ = *std::move(loop);
  }
  void Start() {
    thread_ = std::thread([this] { loop_->Run(); });
  }
  ~LoopThread() {
    loop_->Stop();
    if (thread_.joinable()) thread_.join();
  }
  EventLoop& loop() { return *loop_; }

 private:
  std::unique_ptr<EventLoop> loop_;
  std::thread thread_;
};

// Runs `fn` on `loop`'s thread and returns what it returned.
template <typename Fn>
auto RunOnLoop(EventLoop& loop, Fn fn) {
  decltype(fn()) result{};
  eddy::testing::Notification done;
  loop.Post([&] {
    result = fn();
    done.Notify();
  });
  EXPECT_TRUE(done.WaitForNotificationWithTimeout(kDeadline));
  return result;
}

TEST(EventLoop, PostFromFourThreadsRunsEveryTaskExactlyOnceInPerThreadOrder) {
  constexpr int kThreads = 4;
  constexpr int kTasksPerThread = 250000;
  LoopThread runner;
  runner.Start();
  // Loop-thread-only state: no synchronisation needed inside the tasks.
  std::vector<int> next_expected(kThreads, 0);
  int out_of_order = 0;
  int64_t total = 0;
  eddy::testing::Notification all_ran;
  std::vector<std::thread> producers;
  for (int t = 0; t < kThreads; ++t) {
    producers.emplace_back([&, t] {
      for (int i = 0; i < kTasksPerThread; ++i) {
        runner.loop().Post([&, t, i] {
          if (next_expected[t] != i) ++out_of_order;
          next_expected[t] = i + 1;
          if (++total == int64_t{kThreads} * kTasksPerThread) all_ran.Notify();
        });
      }
    });
  }
  for (auto& p : producers) p.join();
  ASSERT_TRUE(all_ran.WaitForNotificationWithTimeout(kDeadline))
      << "tasks lost or loop hung";
  eddy::testing::Notification checked;
  runner.loop().Post([&] {
    EXPECT_EQ(total, int64_t{kThreads} * kTasksPerThread);
    EXPECT_EQ(out_of_order, 0);
    checked.Notify();
  });
  ASSERT_TRUE(checked.WaitForNotificationWithTimeout(kDeadline));
}

TEST(EventLoop, NoLostWakeupWhenPostingToASleepingLoopRepeatedly) {
  LoopThread runner;
  runner.Start();
  // Each round waits for the loop to run the task, so the loop is usually
  // asleep (or just going to sleep) when the next task is posted: the window
  // the lost-wakeup protocol has to close.
  for (int round = 0; round < 20000; ++round) {
    std::atomic<bool> ran{false};
    runner.loop().Post([&ran] { ran.store(true, std::memory_order_release); });
    const absl::Time deadline = absl::Now() + kDeadline;
    while (!ran.load(std::memory_order_acquire)) {
      ASSERT_LT(absl::Now(), deadline) << "lost wakeup in round " << round;
      std::this_thread::yield();
    }
  }
}

TEST(EventLoop, TasksPostedBeforeRunRunInTheFirstIteration) {
  LoopThread runner;
  eddy::testing::Notification ran;
  runner.loop().Post([&] {
    EXPECT_EQ(runner.loop().iterations(), 1u);
    ran.Notify();
  });
  runner.Start();
  EXPECT_TRUE(ran.WaitForNotificationWithTimeout(kDeadline));
}

TEST(EventLoop, RunAfterFiresNoEarlierThanItsDelay) {
  LoopThread runner;
  runner.Start();
  eddy::testing::Notification fired;
  int64_t scheduled_at = 0;
  int64_t fired_at = 0;
  runner.loop().Post([&] {
    scheduled_at = MonotonicMillis();
    runner.loop().RunAfter(absl::Milliseconds(30), [&] {
      fired_at = MonotonicMillis();
      fired.Notify();
    });
  });
  ASSERT_TRUE(fired.WaitForNotificationWithTimeout(kDeadline));
  EXPECT_GE(fired_at - scheduled_at, 30);
}

TEST(EventLoop, RunEveryRepeatsUntilCancelled) {
  LoopThread runner;
  runner.Start();
  eddy::testing::Notification done;
  int runs = 0;
  runner.loop().Post([&] {
    auto id = std::make_shared<TimerId>();
    *id = runner.loop().RunEvery(absl::Milliseconds(2), [&, id] {
      if (++runs == 5) {
        EXPECT_TRUE(runner.loop().Cancel(*id));
        // Make sure no sixth run follows the cancel.
        runner.loop().RunAfter(absl::Milliseconds(20), [&] { done.Notify(); });
      }
    });
  });
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(kDeadline));
  eddy::testing::Notification checked;
  runner.loop().Post([&] {
    EXPECT_EQ(runs, 5);
    checked.Notify();
  });
  ASSERT_TRUE(checked.WaitForNotificationWithTimeout(kDeadline));
}

TEST(EventLoop, CancelledTimerNeverFires) {
  LoopThread runner;
  runner.Start();
  eddy::testing::Notification done;
  bool fired = false;
  runner.loop().Post([&] {
    TimerId id =
        runner.loop().RunAfter(absl::Milliseconds(5), [&] { fired = true; });
    EXPECT_TRUE(runner.loop().Cancel(id));
    runner.loop().RunAfter(absl::Milliseconds(30), [&] { done.Notify(); });
  });
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(kDeadline));
  EXPECT_FALSE(fired);
}

class CountingHandler : public IoHandler {
 public:
  void HandleIo(uint32_t events) override {
    ++io_events;
    last_events = events;
  }
  void HandleReady() override { ++ready_calls; }
  int io_events = 0;
  uint32_t last_events = 0;
  int ready_calls = 0;
};

TEST(EventLoop, WatchReportsEdgesAndReadyListRunsWithoutNewEdge) {
  LoopThread runner;
  UniqueFd fd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  ASSERT_TRUE(fd.valid());
  CountingHandler handler;
  ASSERT_TRUE(runner.loop().Watch(fd.get(), EPOLLIN, &handler).ok());
  runner.Start();
  const uint64_t one = 1;
  ASSERT_EQ(::write(fd.get(), &one, sizeof(one)), 8);
  const absl::Time deadline = absl::Now() + kDeadline;
  std::atomic<int> seen{0};
  while (seen.load() == 0 && absl::Now() < deadline) {
    eddy::testing::Notification probe;
    runner.loop().Post([&] {
      seen.store(handler.io_events);
      probe.Notify();
    });
    probe.WaitForNotification();
  }
  ASSERT_EQ(seen.load(), 1);
  eddy::testing::Notification ready_ran;
  runner.loop().Post([&] {
    EXPECT_TRUE(handler.last_events & EPOLLIN);
    runner.loop().MarkReady(&handler);
    runner.loop().MarkReady(&handler);  // idempotent
    runner.loop().RunAfterIteration([&] {
      EXPECT_EQ(handler.ready_calls, 1);
      ready_ran.Notify();
    });
  });
  ASSERT_TRUE(ready_ran.WaitForNotificationWithTimeout(kDeadline));
  eddy::testing::Notification unmarked;
  runner.loop().Post([&] {
    runner.loop().MarkReady(&handler);
    runner.loop().UnmarkReady(&handler);
    runner.loop().RunAfterIteration([&] {
      EXPECT_EQ(handler.ready_calls, 1);
      runner.loop().Unwatch(fd.get());
      unmarked.Notify();
    });
  });
  ASSERT_TRUE(unmarked.WaitForNotificationWithTimeout(kDeadline));
}

TEST(EventLoop, StopFromAnotherThreadEndsRunAndRunsPostedTasks) {
  auto loop = EventLoop::Create();
  ASSERT_TRUE(loop.ok());
  std::thread thread([&] { (*loop)->Run(); });
  std::atomic<bool> ran{false};
  (*loop)->Post([&] { ran = true; });
  (*loop)->Stop();
  thread.join();
  EXPECT_TRUE(ran.load());
}

TEST(EventLoop, IdleLoopDoesNotSpin) {
  LoopThread runner;
  runner.Start();
  eddy::testing::Notification first;
  uint64_t before = 0;
  runner.loop().Post([&] {
    before = runner.loop().iterations();
    first.Notify();
  });
  ASSERT_TRUE(first.WaitForNotificationWithTimeout(kDeadline));
  absl::SleepFor(absl::Milliseconds(200));
  eddy::testing::Notification second;
  uint64_t after = 0;
  runner.loop().Post([&] {
    after = runner.loop().iterations();
    second.Notify();
  });
  ASSERT_TRUE(second.WaitForNotificationWithTimeout(kDeadline));
  // An idle loop sleeps in epoll_wait: only the probe wakeups count.
  EXPECT_LE(after - before, 3u);
}

TEST(EventLoopOnManualClock, NowMsFollowsTheClock) {
  ManualClock clock;
  LoopThread runner(&clock);
  runner.Start();
  EventLoop& loop = runner.loop();
  EXPECT_EQ(RunOnLoop(loop, [&] { return loop.now_ms(); }),
            ManualClock::kDefaultStartMillis);
  clock.Advance(absl::Hours(2));
  ASSERT_TRUE(clock.WaitForLoops(kDeadline));
  EXPECT_EQ(RunOnLoop(loop, [&] { return loop.now_ms(); }),
            ManualClock::kDefaultStartMillis + 2 * 3600 * 1000);
  EXPECT_EQ(clock.NowMillis(), ManualClock::kDefaultStartMillis + 7200000);
}

TEST(EventLoopOnManualClock, TimersFireOnAdvanceAndNotBefore) {
  ManualClock clock;
  LoopThread runner(&clock);
  runner.Start();
  EventLoop& loop = runner.loop();
  std::atomic<int> once{0};
  std::atomic<int> every{0};
  RunOnLoop(loop, [&] {
    loop.RunAfter(absl::Seconds(30), [&] { ++once; });
    return loop.RunEvery(absl::Seconds(10), [&] { ++every; });
  });
  ASSERT_TRUE(clock.AdvanceAndWait(absl::Seconds(10) - absl::Milliseconds(1),
                                   kDeadline));
  EXPECT_EQ(every.load(), 0);
  ASSERT_TRUE(clock.AdvanceAndWait(absl::Milliseconds(1), kDeadline));
  EXPECT_EQ(every.load(), 1);
  ASSERT_TRUE(clock.AdvanceAndWait(absl::Seconds(10), kDeadline));
  EXPECT_EQ(every.load(), 2);
  ASSERT_TRUE(clock.AdvanceAndWait(absl::Seconds(10) - absl::Milliseconds(1),
                                   kDeadline));
  EXPECT_EQ(once.load(), 0);
  EXPECT_EQ(every.load(), 2);
  ASSERT_TRUE(clock.AdvanceAndWait(absl::Milliseconds(1), kDeadline));
  EXPECT_EQ(once.load(), 1);
  EXPECT_EQ(every.load(), 3);
}

TEST(EventLoopOnManualClock, LoopWithADueTimerSleepsUntilTheClockMoves) {
  ManualClock clock;
  LoopThread runner(&clock);
  runner.Start();
  EventLoop& loop = runner.loop();
  eddy::testing::Notification fired;
  const uint64_t before = RunOnLoop(loop, [&] {
    loop.RunAfter(absl::Milliseconds(1), [&] { fired.Notify(); });
    return loop.iterations();
  });
  // Long enough that a loop sleeping until the timer's wall-clock deadline
  // would wake many times; it must instead sleep until the clock moves.
  absl::SleepFor(absl::Milliseconds(200));
  const uint64_t after = RunOnLoop(loop, [&] { return loop.iterations(); });
  EXPECT_LE(after - before, 3u);
  EXPECT_FALSE(fired.HasBeenNotified());
  // Advance alone, with no task posted, wakes the sleeping loop.
  clock.Advance(absl::Milliseconds(1));
  EXPECT_TRUE(fired.WaitForNotificationWithTimeout(kDeadline));
}

}  // namespace
}  // namespace eddy
