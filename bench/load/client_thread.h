#ifndef EDDY_BENCH_LOAD_CLIENT_THREAD_H_
#define EDDY_BENCH_LOAD_CLIENT_THREAD_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/time/time.h"
#include "bench/load/busy_poll.h"
#include "bench/load/client_slot.h"
#include "bench/load/load_plan.h"
#include "bench/load/load_stats.h"
#include "bench/load/request_budget.h"
#include "bench/load/tls_session_reuse.h"
#include "eddy/net/tls_context.h"
#include "eddy/net/worker.h"

namespace eddy::load {

// ClientThread is one load thread: a worker of the run's WorkerGroup, its
// share of the connection slots, and the stats they record. Nothing is
// shared with the other load threads but the read-only plan and the
// request budget.
//
// Threading: construct, Start, completed() and finished() on the owning
// (main) thread while the group runs; stats() and finished_ns() only after
// the group stopped, and destroy it after that too (its BusyPoll belongs to
// the worker's loop).
class ClientThread {
 public:
  // `worker` (of a started WorkerGroup), `plan` and `budget` (null:
  // unlimited) must outlive the thread. `tls` (null: plaintext) is this
  // thread's own client context; with `tls_resume` every handshake offers
  // the newest session the server issued to it.
  ClientThread(Worker& worker, const LoadPlan& plan, size_t connections,
               RequestBudget* budget, absl::Duration busy_poll,
               std::shared_ptr<const TlsContext> tls, bool tls_resume);
  ClientThread(const ClientThread&) = delete;
  ClientThread& operator=(const ClientThread&) = delete;

  // Opens the slots' first connections, on the worker's loop.
  void Start();
  // Stops recording errors, on the worker's loop: call before stopping the
  // WorkerGroup, whose shutdown (queued after this) aborts the sockets.
  void EndMeasurement();

  // Responses so far, warm-up included (for the progress line).
  uint64_t completed() const {
    return context_.completed.load(std::memory_order_relaxed);
  }
  // True once every slot retired because the request budget was spent.
  bool finished() const {
    return context_.finished.load(std::memory_order_acquire);
  }

  const LoadStats& stats() const { return context_.stats; }
  // When the last slot retired (MonotonicNanos), or 0 if it never did.
  int64_t finished_ns() const { return context_.finished_ns; }

 private:
  void Begin();
  void SweepTimeouts();

  EventLoop& loop_;
  BusyPoll busy_poll_;
  // Null unless --tls_resume.
  std::unique_ptr<TlsSessionReuse> session_reuse_;
  ClientContext context_;
  std::vector<std::unique_ptr<ClientSlot>> slots_;
};

}  // namespace eddy::load

#endif  // EDDY_BENCH_LOAD_CLIENT_THREAD_H_
