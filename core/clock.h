#ifndef EDDY_CORE_CLOCK_H_
#define EDDY_CORE_CLOCK_H_

#include <time.h>

#include <cstdint>

#include "absl/time/time.h"

namespace eddy {

class EventLoop;

// Milliseconds on CLOCK_MONOTONIC: never jumps with wall-clock changes, so
// timeouts measured with it stay correct across NTP steps. Thread-safe.
inline int64_t MonotonicMillis() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1000000;
}

// Converts a delay to whole milliseconds, rounding up so that a timer never
// fires before the delay it was given, and clamping negatives to zero.
inline int64_t DurationToMillisCeil(absl::Duration d) {
  if (d <= absl::ZeroDuration()) return 0;
  if (d == absl::InfiniteDuration()) return INT64_MAX / 4;
  return absl::ToInt64Milliseconds(absl::Ceil(d, absl::Milliseconds(1)));
}

// Clock is where an EventLoop takes its time from (now_ms() and its timers):
// the SystemClock in production, a ManualClock (core/manual_clock.h) in tests
// that drive timeouts without sleeping.
//
// Threading: every function may be called from any thread. An EventLoop
// calls AddLoop when it is created and RemoveLoop when it is destroyed.
class Clock {
 public:
  virtual ~Clock() = default;

  // Milliseconds since an arbitrary epoch; never decreases.
  virtual int64_t NowMillis() const = 0;

  // False for a clock that moves only when told to. A loop on such a clock
  // must not sleep until its next timer by the wall clock (it would sleep
  // for real, or spin waiting for a time that does not come): it sleeps
  // until woken. The clock, when it moves, stores the new time with
  // memory_order_seq_cst and then wakes (EventLoop::Wake) every loop that
  // AddLoop told it about; a loop, after announcing that it sleeps, reads
  // NowMillis and does not sleep if the time moved. Either side sees the
  // other, as in the WorkSource protocol (core/event_loop.h).
  virtual bool MovesByItself() const { return true; }

  // Registers and unregisters a loop that reads this clock. Only a clock
  // that does not move by itself needs to know them.
  virtual void AddLoop(EventLoop* /*loop*/) {}
  virtual void RemoveLoop(EventLoop* /*loop*/) {}
};

// SystemClock is CLOCK_MONOTONIC (MonotonicMillis), the clock of every
// EventLoop not given another.
class SystemClock final : public Clock {
 public:
  // The process-wide instance; never destroyed, so loops may use it until
  // the process exits.
  static SystemClock* Get() {
    static SystemClock* const clock = new SystemClock;
    return clock;
  }

  int64_t NowMillis() const override { return MonotonicMillis(); }
};

}  // namespace eddy

#endif  // EDDY_CORE_CLOCK_H_
