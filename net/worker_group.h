#ifndef EDDY_NET_WORKER_GROUP_H_
#define EDDY_NET_WORKER_GROUP_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "eddy/core/clock.h"
#include "eddy/core/event_loop.h"
#include "eddy/net/connection.h"
#include "eddy/net/protocol.h"
#include "eddy/net/server_state.h"
#include "eddy/net/worker.h"

namespace eddy {

class LoopThreadPool;

// What a WorkerGroup can be told, with safe defaults. ServerOptions extends
// it with the listening side.
struct WorkerGroupOptions {
  size_t workers = 0;  // 0: one per online CPU
  bool pin_workers = false;
  // Accepted fds waiting per worker; when every inbox is full the acceptor
  // sheds the connection instead of blocking.
  size_t inbox_depth = 4096;
  ConnectionOptions connection;
  // Stop() lets connections finish for this long, then aborts the rest
  // (and logs "shutdown.deadline", core/log.h).
  absl::Duration shutdown_timeout = absl::Seconds(10);
  // For tests: the clock of every worker loop, hence of the connections'
  // timeouts (null: the SystemClock). A ManualClock lets a test advance
  // time instead of sleeping; it must outlive the group. The acceptor keeps
  // the SystemClock. shutdown_timeout is always real time.
  Clock* clock = nullptr;
};

// WorkerGroup is the worker side of eddy: N worker threads, each an
// edge-triggered EventLoop with a Worker that owns the connections opened on
// it, the count of open connections over all of them, their counters, and
// the graceful stop. A Server is a WorkerGroup plus an Acceptor; a client
// program (a load generator, a crawler) uses a WorkerGroup alone and opens
// its connections with Connect (net/connector.h) on worker(i).
//
// The ProtocolFactory makes the handlers of connections handed off by a
// Server's acceptor. A group whose connections all come from Connect or
// Worker::Adopt, which name their own handler, passes none.
//
// Threading: Start and Stop are called from the owning thread (never from a
// worker or a handler). worker(i), loop(i), stats(), total_stats(),
// open_connections(), Drain() and Live() are safe from any thread after
// Start returned OK, state() at any time;
// what may be done with a Worker or EventLoop from another thread is said
// in their headers (EventLoop::Post, Connect).
class WorkerGroup {
 public:
  // `factory` (may be null, see above) must outlive the group.
  explicit WorkerGroup(WorkerGroupOptions options,
                       ProtocolFactory* factory = nullptr);
  ~WorkerGroup();  // Stop()s if running.
  WorkerGroup(const WorkerGroup&) = delete;
  WorkerGroup& operator=(const WorkerGroup&) = delete;

  // Checks the options, creates the loops and Workers and starts the
  // threads; returns once every loop runs.
  absl::Status Start();

  // Graceful stop: cancels the connects in progress, asks every handler to
  // finish (Handler::OnServerStopping), waits until the connections closed
  // or shutdown_timeout passed, aborts the rest, and joins every thread.
  // Idempotent; a no-op before Start.
  void Stop();

  // Moves a ready group to ServerState::kDraining and asks every connection
  // to end soon: Handler::OnDrain on each one open now, and on each one
  // opened later right after its OnOpen. Connections keep being served.
  // Returns false (and does nothing) unless the group was ready. Any thread.
  bool Drain();

  // kStarting until Start succeeded, then kReady, kDraining after Drain, and
  // kStopping once Stop began. Any thread.
  ServerState state() const { return state_.load(std::memory_order_acquire); }

  // Whether every worker loop turned within `bound`: each one notes the
  // time on a timer of the loop's clock every kHeartbeatInterval, so a
  // handler that blocks its loop (or a loop that died) shows as a stale
  // note. For a liveness probe. A group run on a test's ManualClock looks
  // dead unless the test advances it. Any thread after Start.
  bool Live(absl::Duration bound) const;
  static constexpr absl::Duration kHeartbeatInterval = absl::Milliseconds(250);

  size_t size() const { return workers_.size(); }
  Worker& worker(size_t i) const { return *workers_[i]; }
  EventLoop& loop(size_t i) const;
  // The Workers in index order.
  std::vector<Worker*> workers() const;
  std::vector<WorkerStats> stats() const;
  WorkerStats total_stats() const;
  const WorkerGroupOptions& options() const { return options_; }
  // Connections open now over all workers, counted from the hand-off (or
  // Adopt) to the close; an Acceptor caps it at max_connections.
  std::atomic<int64_t>& open_connections() { return open_connections_; }

 private:
  const WorkerGroupOptions options_;
  ProtocolFactory* const factory_;
  std::atomic<int64_t> open_connections_{0};
  std::atomic<ServerState> state_{ServerState::kStarting};
  // Orders Drain's posts before Stop's: no drain task is posted to a loop
  // that has begun stopping.
  std::mutex lifecycle_mutex_;
  std::unique_ptr<LoopThreadPool> pool_;
  std::vector<std::unique_ptr<Worker>> workers_;
  bool running_ = false;
};

}  // namespace eddy

#endif  // EDDY_NET_WORKER_GROUP_H_
