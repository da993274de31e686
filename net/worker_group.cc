#include "eddy/net/worker_group.h"

#include <condition_variable>
#include <csignal>
#include <mutex>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "eddy/core/internal/loop_thread_pool.h"
#include "eddy/core/log.h"

namespace eddy {
namespace {

constexpr absl::Duration kDrainPollInterval = absl::Milliseconds(5);

// Counts workers whose connections have all closed. std primitives, not
// absl's: TSan sees through these (Debian's Abseil is not TSan-annotated).
class DrainTracker {
 public:
  explicit DrainTracker(size_t workers) : remaining_(workers) {}
  void WorkerDrained() {
    std::lock_guard lock(mutex_);
    --remaining_;
    drained_.notify_all();
  }
  bool WaitUntil(absl::Time deadline) {
    std::unique_lock lock(mutex_);
    return drained_.wait_until(lock, absl::ToChronoTime(deadline),
                               [this] { return remaining_ == 0; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable drained_;
  size_t remaining_;
};

void LogShutdownDeadline(absl::Duration timeout, int64_t open) {
  if (!LogEnabled(LogSeverity::kWarning)) return;
  Log(LogSeverity::kWarning, "shutdown.deadline",
      absl::StrCat("shutdown_timeout (", absl::FormatDuration(timeout),
                   ") passed with ", open, " connections open; aborting them"));
}

}  // namespace

WorkerGroup::WorkerGroup(WorkerGroupOptions options, ProtocolFactory* factory)
    : options_(std::move(options)), factory_(factory) {}

WorkerGroup::~WorkerGroup() { Stop(); }

absl::Status WorkerGroup::Start() {
  if (pool_ != nullptr) {
    return absl::FailedPreconditionError("worker group already started");
  }
  if (options_.connection.low_water_mark >
      options_.connection.high_water_mark) {
    return absl::InvalidArgumentError(
        "connection.low_water_mark must not exceed high_water_mark");
  }
  if (options_.connection.max_queued_files == 0) {
    return absl::InvalidArgumentError(
        "connection.max_queued_files must be at least 1");
  }
  if (options_.inbox_depth == 0) {
    return absl::InvalidArgumentError("inbox_depth must be at least 1");
  }
  // A peer that resets while we sendfile() would otherwise kill the process;
  // send() already passes MSG_NOSIGNAL.
  std::signal(SIGPIPE, SIG_IGN);

  LoopThreadPool::Options pool_options;
  pool_options.threads = options_.workers;
  pool_options.pin_threads = options_.pin_workers;
  pool_options.clock = options_.clock;
  absl::StatusOr<std::unique_ptr<LoopThreadPool>> pool =
      LoopThreadPool::Create(pool_options);
  if (!pool.ok()) return pool.status();
  pool_ = *std::move(pool);
  for (size_t i = 0; i < pool_->size(); ++i) {
    workers_.push_back(std::unique_ptr<Worker>(
        new Worker(i, pool_->loop(i), factory_, options_.connection,
                   options_.inbox_depth, open_connections_, state_)));
    pool_->loop(i).AddWorkSource(workers_.back().get());
  }
  if (absl::Status s = pool_->Start(); !s.ok()) {
    pool_->Stop();
    return s;
  }
  for (auto& worker : workers_) {
    Worker* w = worker.get();
    w->Heartbeat();
    w->loop().Post([w] {
      w->loop().RunEvery(kHeartbeatInterval, [w] { w->Heartbeat(); });
    });
  }
  running_ = true;
  state_.store(ServerState::kReady, std::memory_order_release);
  return absl::OkStatus();
}

bool WorkerGroup::Drain() {
  std::lock_guard lock(lifecycle_mutex_);
  if (state_.load(std::memory_order_relaxed) != ServerState::kReady) {
    return false;
  }
  state_.store(ServerState::kDraining, std::memory_order_release);
  for (auto& worker : workers_) {
    Worker* w = worker.get();
    w->loop().Post([w] {
      // Fds already handed off open first, so that they get OnDrain too.
      w->RunPendingWork();
      w->BeginDrain();
    });
  }
  return true;
}

bool WorkerGroup::Live(absl::Duration bound) const {
  const int64_t now = MonotonicMillis();
  const int64_t bound_ms = absl::ToInt64Milliseconds(bound);
  for (const auto& worker : workers_) {
    if (now - worker->last_heartbeat_ms() > bound_ms) return false;
  }
  return true;
}

void WorkerGroup::Stop() {
  {
    std::lock_guard lock(lifecycle_mutex_);
    if (state_.load(std::memory_order_relaxed) != ServerState::kStarting) {
      state_.store(ServerState::kStopping, std::memory_order_release);
    }
  }
  if (!running_) return;
  running_ = false;

  // Ask each worker to wind its connections down, then wait for them to
  // close by themselves, up to the deadline. This thread polls the count on
  // the real clock, not with loop timers: the loops' clock may be a test's
  // ManualClock, which nobody advances while Stop waits.
  const absl::Time deadline = absl::Now() + options_.shutdown_timeout;
  auto tracker = std::make_shared<DrainTracker>(workers_.size());
  // Element i is touched only on worker i's loop thread.
  auto reported = std::make_shared<std::vector<char>>(workers_.size(), 0);
  auto report_if_drained = [this, tracker, reported](size_t i) {
    Worker* w = workers_[i].get();
    w->loop().Post([w, tracker, reported, i] {
      if ((*reported)[i] || w->open_count() != 0) return;
      (*reported)[i] = 1;
      tracker->WorkerDrained();
    });
  };
  for (size_t i = 0; i < workers_.size(); ++i) {
    Worker* w = workers_[i].get();
    w->loop().Post([w] {
      w->RunPendingWork();
      w->BeginShutdown();
    });
    report_if_drained(i);
  }
  bool aborted = false;
  while (!tracker->WaitUntil(absl::Now() + kDrainPollInterval)) {
    if (!aborted && absl::Now() >= deadline) {
      aborted = true;
      LogShutdownDeadline(options_.shutdown_timeout,
                          open_connections_.load(std::memory_order_relaxed));
      for (auto& worker : workers_) {
        Worker* w = worker.get();
        w->loop().Post([w] { w->AbortAll(CloseReason::kServerStopping); });
      }
    }
    for (size_t i = 0; i < workers_.size(); ++i) report_if_drained(i);
  }
  pool_->Stop();
  for (auto& worker : workers_) worker->CloseQueuedFds();
}

EventLoop& WorkerGroup::loop(size_t i) const { return pool_->loop(i); }

std::vector<Worker*> WorkerGroup::workers() const {
  std::vector<Worker*> result;
  for (const auto& worker : workers_) result.push_back(worker.get());
  return result;
}

std::vector<WorkerStats> WorkerGroup::stats() const {
  std::vector<WorkerStats> result;
  for (const auto& worker : workers_) result.push_back(worker->stats());
  return result;
}

WorkerStats WorkerGroup::total_stats() const {
  WorkerStats total;
  for (const auto& worker : workers_) {
    const WorkerStats s = worker->stats();
    total.accepted += s.accepted;
    total.active += s.active;
    total.closed += s.closed;
    total.shed += s.shed;
    total.bytes_in += s.bytes_in;
    total.bytes_out += s.bytes_out;
    total.writes += s.writes;
    total.proxy_rejected += s.proxy_rejected;
    for (size_t i = 0; i < kTlsFailureCount; ++i) {
      total.tls_failures[i] += s.tls_failures[i];
    }
  }
  return total;
}

}  // namespace eddy
