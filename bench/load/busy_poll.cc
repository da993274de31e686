#include "bench/load/busy_poll.h"

#include <sched.h>

#include "bench/load/monotonic_nanos.h"

namespace eddy::load {

BusyPoll::BusyPoll(EventLoop& loop, absl::Duration window)
    : loop_(loop),
      window_ns_(window == absl::InfiniteDuration()
                     ? INT64_MAX / 2
                     : absl::ToInt64Nanoseconds(window)) {}

BusyPoll::~BusyPoll() { loop_.UnmarkReady(this); }

void BusyPoll::HandleReady() {
  const int64_t now = MonotonicNanos();
  if (touched_) {
    touched_ = false;
    last_activity_ns_ = now;
  } else {
    // An empty poll: let a thread waiting for this CPU (perhaps the server
    // under test, when they share cores) run first. Returns at once when
    // none waits.
    sched_yield();
  }
  if (now - last_activity_ns_ < window_ns_) {
    loop_.MarkReady(this);
  } else {
    polling_ = false;
  }
}

}  // namespace eddy::load
