#ifndef EDDY_BENCH_MICRO_LOOP_THREAD_H_
#define EDDY_BENCH_MICRO_LOOP_THREAD_H_

#include <atomic>
#include <memory>
#include <thread>

#include "eddy/core/event_loop.h"

namespace eddy {

// LoopThread runs one EventLoop on a thread of its own for the length of a
// benchmark run, so that the benchmark's thread can play the producer. The
// constructor returns once the loop runs: starting a thread is not part of
// what any benchmark measures.
//
// Threading: construct and destroy on the benchmark thread; loop() may be
// used from any thread as EventLoop allows.
class LoopThread {
 public:
  // Work sources must have been added to `loop` already.
  explicit LoopThread(std::unique_ptr<EventLoop> loop);
  ~LoopThread();  // Stops the loop and joins the thread.
  LoopThread(const LoopThread&) = delete;
  LoopThread& operator=(const LoopThread&) = delete;

  EventLoop& loop() const { return *loop_; }

 private:
  std::unique_ptr<EventLoop> loop_;
  std::thread thread_;
};

// Waits until `counter` reaches `target`. The benchmarks measure hand-offs
// of a few microseconds, which a sleeping waiter would swamp, so this spins;
// after a while it yields on every try, in case the thread it waits for
// shares this CPU (a busy machine), where pure spinning would starve it.
inline void SpinUntil(const std::atomic<int64_t>& counter, int64_t target) {
  for (int spins = 0; counter.load(std::memory_order_acquire) < target;
       ++spins) {
    if (spins > 2000) std::this_thread::yield();
  }
}

}  // namespace eddy

#endif  // EDDY_BENCH_MICRO_LOOP_THREAD_H_
