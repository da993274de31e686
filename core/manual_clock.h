#ifndef EDDY_CORE_MANUAL_CLOCK_H_
#define EDDY_CORE_MANUAL_CLOCK_H_

#include <atomic>
#include <cstdint>
#include <mutex>
#include <vector>

#include "absl/time/time.h"
#include "eddy/core/clock.h"

namespace eddy {

class EventLoop;

// ManualClock is a Clock that moves only when told to, for tests of
// timeouts: a test advances it instead of sleeping, so a 30-second timeout
// is tested in microseconds and a busy machine can make no timer fire early
// or late. An EventLoop created with it sleeps until woken instead of until
// its next timer; Advance wakes every such loop.
//
// A timer due "now" fires at the next Advance: time does not pass between
// two of them.
//
// Threading: every function may be called from any thread, except
// WaitForLoops and AdvanceAndWait, which wait for the loops and so must not
// be called on a loop thread. The clock must outlive the loops created with
// it.
class ManualClock final : public Clock {
 public:
  // Far from zero, so that no time read from it looks like "unset".
  static constexpr int64_t kDefaultStartMillis = int64_t{1} << 32;

  explicit ManualClock(int64_t start_ms = kDefaultStartMillis);
  ~ManualClock() override;
  ManualClock(const ManualClock&) = delete;
  ManualClock& operator=(const ManualClock&) = delete;

  int64_t NowMillis() const override;
  bool MovesByItself() const override { return false; }
  void AddLoop(EventLoop* loop) override;
  void RemoveLoop(EventLoop* loop) override;

  // Moves time forward by `delay`, rounded up to whole milliseconds (a
  // negative delay moves nothing), and wakes every loop on this clock.
  // Returns at once; the timers now due run soon after on their loops.
  void Advance(absl::Duration delay);

  // Returns true once every loop on this clock has completed an iteration
  // begun after the call: what a loop was doing when it was called is
  // finished, and every timer due at the clock's current time has run, as
  // have the functions those timers deferred with RunAfterIteration. Every
  // loop on the clock must be running. Returns false if one did not get
  // there within `timeout` of real time.
  bool WaitForLoops(absl::Duration timeout = absl::Seconds(60));

  // What a timeout test wants: WaitForLoops (so that work under way, such as
  // arming a timer for bytes just read, happens at the old time), then
  // Advance(delay), then WaitForLoops (so that every timer due by the new
  // time has fired). Returns false if a wait ran out of `timeout`.
  bool AdvanceAndWait(absl::Duration delay,
                      absl::Duration timeout = absl::Seconds(60));

 private:
  std::atomic<int64_t> now_ms_;
  // Held while waking or posting to the loops, so that RemoveLoop (from a
  // loop's destructor) cannot return while one of them is being used.
  std::mutex mutex_;
  std::vector<EventLoop*> loops_;
};

}  // namespace eddy

#endif  // EDDY_CORE_MANUAL_CLOCK_H_
