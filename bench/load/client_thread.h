#ifndef EDDY_BENCH_LOAD_CLIENT_THREAD_H_
#define EDDY_BENCH_LOAD_CLIENT_THREAD_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "bench/load/busy_poll.h"
#include "bench/load/client_connection.h"
#include "bench/load/load_plan.h"
#include "bench/load/load_stats.h"
#include "bench/load/request_budget.h"
#include "core/event_loop.h"

namespace eddy::load {

// ClientThread is one load thread: an EventLoop of its own, its share of
// the connections, and the stats they record. Nothing is shared with the
// other load threads but the read-only plan and the request budget.
//
// Threading: Create, Start, Stop, Join, completed() and finished() are for
// the owning (main) thread; stats() and finished_ns() only after Join.
class ClientThread {
 public:
  // `plan` and `budget` (null: unlimited) must outlive the thread.
  static absl::StatusOr<std::unique_ptr<ClientThread>> Create(
      const LoadPlan& plan, size_t connections, RequestBudget* budget,
      absl::Duration busy_poll);
  ~ClientThread();  // Stops and joins if still running.
  ClientThread(const ClientThread&) = delete;
  ClientThread& operator=(const ClientThread&) = delete;

  // Starts the thread; its connections open on it.
  void Start();
  // Asks the loop to stop; requests still in flight are not counted.
  void Stop();
  void Join();

  // Responses so far, warm-up included (for the progress line).
  uint64_t completed() const {
    return context_.completed.load(std::memory_order_relaxed);
  }
  // True once the loop has returned: stopped, or every connection retired
  // because the request budget was spent.
  bool finished() const { return finished_.load(std::memory_order_acquire); }

  const LoadStats& stats() const { return context_.stats; }
  // When the last connection retired (MonotonicNanos), or 0 if stopped.
  int64_t finished_ns() const { return context_.finished_ns; }

 private:
  ClientThread() = default;
  void Begin();
  void SweepTimeouts();

  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<BusyPoll> busy_poll_;
  ClientContext context_;
  std::vector<std::unique_ptr<ClientConnection>> connections_;
  std::thread thread_;
  std::atomic<bool> finished_{false};
};

}  // namespace eddy::load

#endif  // EDDY_BENCH_LOAD_CLIENT_THREAD_H_
