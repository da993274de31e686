#include "eddy/core/timer_wheel.h"

#include <functional>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace eddy {
namespace {

TEST(TimerWheel, FiresInDeadlineOrderThenScheduleOrder) {
  TimerWheel wheel(1000);
  std::vector<int> order;
  wheel.Schedule(1030, [&] { order.push_back(3); });
  wheel.Schedule(1010, [&] { order.push_back(1); });
  wheel.Schedule(1020, [&] { order.push_back(2); });
  wheel.Schedule(1010, [&] { order.push_back(11); });
  EXPECT_EQ(wheel.Advance(1009), 0u);
  EXPECT_EQ(wheel.Advance(1050), 4u);
  EXPECT_EQ(order, (std::vector<int>{1, 11, 2, 3}));
  EXPECT_TRUE(wheel.empty());
}

TEST(TimerWheel, DoesNotFireBeforeDeadline) {
  TimerWheel wheel(0);
  bool fired = false;
  wheel.Schedule(5, [&] { fired = true; });
  for (int t = 1; t < 5; ++t) {
    wheel.Advance(t);
    EXPECT_FALSE(fired) << t;
  }
  wheel.Advance(5);
  EXPECT_TRUE(fired);
}

TEST(TimerWheel, PastDeadlineFiresOnNextAdvance) {
  TimerWheel wheel(100);
  bool fired = false;
  wheel.Schedule(50, [&] { fired = true; });
  wheel.Advance(101);
  EXPECT_TRUE(fired);
}

TEST(TimerWheel, CancelPreventsFiringAndStaleIdsAreNoOps) {
  TimerWheel wheel(0);
  int fired = 0;
  TimerId a = wheel.Schedule(10, [&] { ++fired; });
  TimerId b = wheel.Schedule(10, [&] { ++fired; });
  EXPECT_TRUE(wheel.Cancel(a));
  EXPECT_FALSE(wheel.Cancel(a));
  wheel.Advance(20);
  EXPECT_EQ(fired, 1);
  EXPECT_FALSE(wheel.Cancel(b));  // already fired
  // The node of `a` is reused; the old id must not cancel the new timer.
  TimerId c = wheel.Schedule(30, [&] { ++fired; });
  EXPECT_FALSE(wheel.Cancel(a));
  wheel.Advance(30);
  EXPECT_EQ(fired, 2);
  EXPECT_FALSE(wheel.Cancel(c));
  EXPECT_FALSE(wheel.Cancel(TimerId{}));
}

TEST(TimerWheel, CallbackMayCancelAnotherDueTimer) {
  TimerWheel wheel(0);
  int second_fired = 0;
  TimerId second;
  wheel.Schedule(5, [&] { EXPECT_TRUE(wheel.Cancel(second)); });
  second = wheel.Schedule(6, [&] { ++second_fired; });
  wheel.Advance(10);
  EXPECT_EQ(second_fired, 0);
  EXPECT_TRUE(wheel.empty());
}

TEST(TimerWheel, CallbackMayScheduleMoreTimers) {
  TimerWheel wheel(0);
  std::vector<int64_t> fired_at;
  int64_t now = 0;
  std::function<void()> chain = [&] {
    fired_at.push_back(now);
    if (fired_at.size() < 5) wheel.Schedule(now + 3, chain);
  };
  wheel.Schedule(3, chain);
  for (now = 1; now <= 20; ++now) wheel.Advance(now);
  EXPECT_EQ(fired_at, (std::vector<int64_t>{3, 6, 9, 12, 15}));
}

TEST(TimerWheel, PeriodicTimerRepeatsUntilItCancelsItself) {
  TimerWheel wheel(0);
  int runs = 0;
  TimerId id;
  id = wheel.Schedule(
      10,
      [&] {
        if (++runs == 3) {
          EXPECT_TRUE(wheel.Cancel(id));
        }
      },
      10);
  for (int64_t t = 1; t <= 100; ++t) wheel.Advance(t);
  EXPECT_EQ(runs, 3);
  EXPECT_TRUE(wheel.empty());
}

TEST(TimerWheel, LongDelaysSpanManyRevolutions) {
  TimerWheel wheel(0);
  const int64_t far = TimerWheel::kSlots * 3 + 17;
  bool fired = false;
  wheel.Schedule(far, [&] { fired = true; });
  // Advance one revolution at a time: the slot is visited but not yet due.
  for (int64_t t = TimerWheel::kSlots; t < far; t += TimerWheel::kSlots) {
    wheel.Advance(t);
    EXPECT_FALSE(fired) << t;
  }
  wheel.Advance(far - 1);
  EXPECT_FALSE(fired);
  wheel.Advance(far);
  EXPECT_TRUE(fired);
}

TEST(TimerWheel, BigJumpInTimeRunsEverythingDueInOrder) {
  TimerWheel wheel(0);
  std::vector<int64_t> fired;
  for (int64_t d : {50000, 5, 70000, 33000, 1}) {
    wheel.Schedule(d, [&fired, d] { fired.push_back(d); });
  }
  wheel.Advance(1000000);
  EXPECT_EQ(fired, (std::vector<int64_t>{1, 5, 33000, 50000, 70000}));
}

TEST(TimerWheel, MillisUntilNextSlotFindsEarliestOccupiedSlot) {
  TimerWheel wheel(1000);
  EXPECT_EQ(wheel.MillisUntilNextSlot(1000), -1);
  wheel.Schedule(1250, [] {});
  wheel.Schedule(1100, [] {});
  EXPECT_EQ(wheel.MillisUntilNextSlot(1000), 100);
  EXPECT_EQ(wheel.MillisUntilNextSlot(1040), 60);
  wheel.Advance(1100);
  EXPECT_EQ(wheel.MillisUntilNextSlot(1100), 150);
  wheel.Advance(1300);
  EXPECT_EQ(wheel.MillisUntilNextSlot(1300), -1);
}

TEST(TimerWheel, MillisUntilNextSlotWrapsAroundTheWheel) {
  TimerWheel wheel(TimerWheel::kSlots - 10);
  wheel.Schedule(TimerWheel::kSlots + 5, [] {});
  EXPECT_EQ(wheel.MillisUntilNextSlot(TimerWheel::kSlots - 10), 15);
}

TEST(TimerWheel, ManyRandomTimersAllFireExactlyOnceAtOrAfterDeadline) {
  TimerWheel wheel(0);
  std::mt19937 rng(42);
  std::uniform_int_distribution<int64_t> deadline(1, 100000);
  constexpr int kTimers = 100000;
  std::vector<int64_t> deadlines(kTimers);
  std::vector<int64_t> fired_at(kTimers, -1);
  std::vector<TimerId> ids(kTimers);
  int64_t now = 0;
  for (int i = 0; i < kTimers; ++i) {
    deadlines[i] = deadline(rng);
    ids[i] = wheel.Schedule(deadlines[i], [&, i] { fired_at[i] = now; });
  }
  // Cancel every tenth timer.
  for (int i = 0; i < kTimers; i += 10) EXPECT_TRUE(wheel.Cancel(ids[i]));
  std::uniform_int_distribution<int64_t> step(1, 700);
  while (now < 100000) {
    now = std::min<int64_t>(100000, now + step(rng));
    wheel.Advance(now);
  }
  for (int i = 0; i < kTimers; ++i) {
    if (i % 10 == 0) {
      EXPECT_EQ(fired_at[i], -1) << i;
    } else {
      EXPECT_GE(fired_at[i], deadlines[i]) << i;
      EXPECT_LT(fired_at[i], deadlines[i] + 701) << i;
    }
  }
  EXPECT_TRUE(wheel.empty());
}

}  // namespace
}  // namespace eddy
