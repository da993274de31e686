#include "eddy/core/manual_clock.h"

#include <algorithm>
#include <cassert>
#include <condition_variable>
#include <memory>

#include "eddy/core/event_loop.h"

namespace eddy {
namespace {

// Counts the loops that have yet to report. std primitives, not absl's:
// TSan sees through these (Debian's Abseil is not TSan-annotated).
class Countdown {
 public:
  explicit Countdown(size_t count) : remaining_(count) {}
  void CountDown() {
    std::lock_guard lock(mutex_);
    --remaining_;
    if (remaining_ == 0) done_.notify_all();
  }
  bool WaitFor(absl::Duration timeout) {
    std::unique_lock lock(mutex_);
    return done_.wait_for(lock, absl::ToChronoMilliseconds(timeout),
                          [this] { return remaining_ == 0; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable done_;
  size_t remaining_;
};

}  // namespace

ManualClock::ManualClock(int64_t start_ms) : now_ms_(start_ms) {}

ManualClock::~ManualClock() {
  std::lock_guard lock(mutex_);
  assert(loops_.empty() && "a loop outlives the ManualClock it reads");
}

int64_t ManualClock::NowMillis() const {
  // seq_cst: a loop announces that it sleeps, then reads the time; Advance
  // stores the time, then looks whether the loop sleeps (see
  // Clock::MovesByItself).
  return now_ms_.load(std::memory_order_seq_cst);
}

void ManualClock::AddLoop(EventLoop* loop) {
  std::lock_guard lock(mutex_);
  loops_.push_back(loop);
}

void ManualClock::RemoveLoop(EventLoop* loop) {
  std::lock_guard lock(mutex_);
  std::erase(loops_, loop);
}

void ManualClock::Advance(absl::Duration delay) {
  now_ms_.fetch_add(DurationToMillisCeil(delay), std::memory_order_seq_cst);
  std::lock_guard lock(mutex_);
  for (EventLoop* loop : loops_) loop->Wake();
}

bool ManualClock::WaitForLoops(absl::Duration timeout) {
  std::shared_ptr<Countdown> pending;
  {
    std::lock_guard lock(mutex_);
    pending = std::make_shared<Countdown>(loops_.size());
    for (EventLoop* loop : loops_) {
      // A posted task runs at the start of an iteration, before the loop
      // reads the time and runs its timers; the report therefore waits for
      // the end of that iteration.
      loop->Post([loop, pending] {
        loop->RunAfterIteration([pending] { pending->CountDown(); });
      });
    }
  }
  return pending->WaitFor(timeout);
}

bool ManualClock::AdvanceAndWait(absl::Duration delay, absl::Duration timeout) {
  if (!WaitForLoops(timeout)) return false;
  Advance(delay);
  return WaitForLoops(timeout);
}

}  // namespace eddy
