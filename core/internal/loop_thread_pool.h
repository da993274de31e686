#ifndef EDDY_CORE_INTERNAL_LOOP_THREAD_POOL_H_
#define EDDY_CORE_INTERNAL_LOOP_THREAD_POOL_H_

#include <memory>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "eddy/core/clock.h"
#include "eddy/core/event_loop.h"

namespace eddy {

// LoopThreadPool runs N threads, each running one EventLoop for its whole life.
//
// Threading: Create, Start and Stop are called by the owning thread (not from
// a worker). loop(i) may be called from any thread once Create returned; the
// loops are valid until the pool is destroyed. Work sources and watches may
// be added to a loop between Create and Start.
class LoopThreadPool {
 public:
  struct Options {
    // Number of worker threads; 0 means one per online CPU.
    size_t threads = 0;
    // Pins worker i to CPU (i % online CPUs).
    bool pin_threads = false;
    // Thread name prefix shown by top/perf (at most 15 bytes in total).
    std::string name = "eddy-worker";
    // The clock of every loop (null: the SystemClock); must outlive the
    // pool. Tests pass a ManualClock.
    Clock* clock = nullptr;
  };

  static absl::StatusOr<std::unique_ptr<LoopThreadPool>> Create(
      Options options);
  ~LoopThreadPool();  // Stops and joins if still running.
  LoopThreadPool(const LoopThreadPool&) = delete;
  LoopThreadPool& operator=(const LoopThreadPool&) = delete;

  // Starts the threads and returns once every loop is running.
  absl::Status Start();
  // Stops every loop (tasks already posted still run) and joins the threads.
  void Stop();

  size_t size() const { return loops_.size(); }
  EventLoop& loop(size_t i) const { return *loops_[i]; }

 private:
  explicit LoopThreadPool(Options options) : options_(std::move(options)) {}

  Options options_;
  std::vector<std::unique_ptr<EventLoop>> loops_;
  std::vector<std::thread> threads_;
};

}  // namespace eddy

#endif  // EDDY_CORE_INTERNAL_LOOP_THREAD_POOL_H_
