// TimerWheel: arming and disarming must stay O(1) however many timers a loop
// holds (one idle timeout per connection), and an idle loop must find its
// next wake-up time without scanning.

#include <cstdint>

#include "benchmark/benchmark.h"
#include "eddy/core/timer_wheel.h"

namespace eddy {
namespace {

// Deadlines spread over most of a wheel revolution, deterministically.
int64_t SpreadDeadline(int64_t i, int64_t base) {
  return base + 1 + (i * 7919) % (TimerWheel::kSlots - 2048);
}

void ScheduleBackground(TimerWheel& wheel, int64_t count, int64_t base) {
  for (int64_t i = 0; i < count; ++i) {
    wheel.Schedule(SpreadDeadline(i, base), [] {});
  }
}

// One Schedule and one Cancel per iteration; the argument is the number of
// other timers in the wheel, which must not change the cost.
void BM_TimerWheelScheduleCancel(benchmark::State& state) {
  TimerWheel wheel(0);
  ScheduleBackground(wheel, state.range(0), 0);
  int64_t i = 0;
  for (auto _ : state) {
    const TimerId id = wheel.Schedule(SpreadDeadline(i++, 0), [] {});
    benchmark::DoNotOptimize(id);
    const bool cancelled = wheel.Cancel(id);
    benchmark::DoNotOptimize(cancelled);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TimerWheelScheduleCancel)->Arg(0)->Arg(1000)->Arg(100000);

// Schedules N timers due within the next 64 ms, then advances the clock past
// all of them: the cost of timers that really fire, per timer.
void BM_TimerWheelScheduleAndExpire(benchmark::State& state) {
  const int64_t count = state.range(0);
  constexpr int64_t kSpanMs = 64;
  TimerWheel wheel(0);
  int64_t now = 0;
  int64_t fired = 0;
  for (auto _ : state) {
    for (int64_t i = 0; i < count; ++i) {
      wheel.Schedule(now + 1 + i % kSpanMs, [&fired] { ++fired; });
    }
    now += kSpanMs;
    const size_t ran = wheel.Advance(now);
    benchmark::DoNotOptimize(ran);
  }
  if (fired != state.iterations() * count) {
    state.SkipWithError("not every timer fired");
  }
  state.SetItemsProcessed(state.iterations() * count);
}
BENCHMARK(BM_TimerWheelScheduleAndExpire)->Arg(1)->Arg(64)->Arg(4096);

// What the loop asks before every epoll_wait. The argument is how many
// timers are scheduled, all at least a second away.
void BM_TimerWheelMillisUntilNextSlot(benchmark::State& state) {
  TimerWheel wheel(0);
  ScheduleBackground(wheel, state.range(0), 1000);
  int64_t now = 0;
  for (auto _ : state) {
    const int64_t wait_ms = wheel.MillisUntilNextSlot(now);
    benchmark::DoNotOptimize(wait_ms);
    now = (now + 1) & 511;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TimerWheelMillisUntilNextSlot)
    ->Arg(1)
    ->Arg(100)
    ->Arg(10000)
    ->Arg(100000);

}  // namespace
}  // namespace eddy
