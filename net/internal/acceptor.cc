#include "eddy/net/internal/acceptor.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "eddy/core/clock.h"
#include "eddy/core/log.h"
#include "eddy/net/internal/socket.h"
#include "eddy/net/internal/worker_access.h"

namespace eddy {
namespace {

// Accepts per wakeup before yielding to the loop (which then serves the
// ready list again), so Stop is noticed during a connect storm.
constexpr int kMaxAcceptsPerWakeup = 256;
// Workers are woken once per accept burst, not per fd, so that an acceptor
// sharing a CPU with a sleeping worker is not preempted by it after every
// accept; but at least every this many fds, so that the first of a long
// burst does not wait for the last.
constexpr size_t kMaxHandOffsPerWake = 16;

UniqueFd OpenReserveFd() {
  return UniqueFd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
}

}  // namespace

Acceptor::Acceptor(UniqueFd listen_fd, std::vector<Worker*> workers,
                   ProtocolFactory& factory, Options options,
                   std::atomic<int64_t>& open_connections)
    : listen_fd_(std::move(listen_fd)),
      reserve_fd_(OpenReserveFd()),
      workers_(std::move(workers)),
      factory_(factory),
      options_(options),
      open_connections_(open_connections),
      unwoken_(workers_.size(), false),
      backoff_(options.min_backoff) {}

Acceptor::~Acceptor() { Stop(); }

absl::Status Acceptor::Start() {
  absl::StatusOr<std::unique_ptr<EventLoop>> loop = EventLoop::Create();
  if (!loop.ok()) return loop.status();
  loop_ = *std::move(loop);
  if (absl::Status s = loop_->Watch(listen_fd_.get(), EPOLLIN, this); !s.ok()) {
    return s;
  }
  thread_ = std::thread([this] {
    if (options_.batch_scheduling) {
      // Best effort: SCHED_BATCH needs no privilege, and the acceptor works
      // (only with more context switches) where a sandbox refuses it.
      const sched_param param{};
      (void)pthread_setschedparam(pthread_self(), SCHED_BATCH, &param);
    }
    loop_->Run();
  });
  pthread_setname_np(thread_.native_handle(), "eddy-acceptor");
  return absl::OkStatus();
}

void Acceptor::Stop() {
  if (loop_ != nullptr) loop_->Stop();
  if (thread_.joinable()) {
    thread_.join();
    AcceptQueued();
  }
  listen_fd_.reset();
}

void Acceptor::AcceptQueued() {
  // Closing a listener resets the connections in its accept queue: clients
  // that connected before Stop and were told nothing. Take them first; the
  // workers still run and serve them while they stop. Bounded, since under
  // load the queue refills as fast as it is taken.
  const int limit = std::max(SystemMaxBacklog(), kMaxAcceptsPerWakeup);
  for (int i = 0; i < limit; ++i) {
    const int fd = ::accept4(listen_fd_.get(), nullptr, nullptr,
                             SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO) continue;
      break;
    }
    Dispatch(fd);
  }
  WakeWorkersWithNewConnections();
}

AcceptorStats Acceptor::stats() const {
  AcceptorStats stats;
  stats.accepted = accepted_.value();
  stats.rejected_at_cap = rejected_at_cap_.value();
  stats.fd_exhausted = fd_exhausted_.value();
  stats.dropped_no_fd = dropped_no_fd_.value();
  stats.accept_errors = accept_errors_.value();
  return stats;
}

uint32_t Acceptor::accept_queue_length() const {
  tcp_info info{};
  socklen_t size = sizeof(info);
  if (::getsockopt(listen_fd_.get(), IPPROTO_TCP, TCP_INFO, &info, &size) !=
      0) {
    return 0;
  }
  return info.tcpi_unacked;
}

void Acceptor::HandleIo(uint32_t /*events*/) { AcceptAll(); }
void Acceptor::HandleReady() { AcceptAll(); }

void Acceptor::AcceptAll() {
  AcceptBurst();
  WakeWorkersWithNewConnections();
}

void Acceptor::AcceptBurst() {
  // While backing off, the timer retries; edges in between change nothing.
  if (backing_off_) return;
  for (int i = 0; i < kMaxAcceptsPerWakeup; ++i) {
    const int fd = ::accept4(listen_fd_.get(), nullptr, nullptr,
                             SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      backoff_ = options_.min_backoff;
      LogRecoveryIfExhausted();
      Dispatch(fd);
      continue;
    }
    const int error = errno;
    switch (error) {
      case EAGAIN:
        // accept4 reserves a descriptor before it looks at the queue: an
        // empty queue means descriptors are available again.
        LogRecoveryIfExhausted();
        return;
      case EINTR:
      case ECONNABORTED:
      case EPROTO:
        continue;
      case EMFILE:
      case ENFILE:
      case ENOBUFS:
      case ENOMEM:
        OnDescriptorsExhausted(error);
        return;
      default:
        // Not exhaustion (e.g. EPERM from a firewall hook): no descriptor
        // is short, so the reserve stays and no waiting client is dropped;
        // retry after a pause so that a persistent error cannot spin.
        accept_errors_.Add();
        if (LogEnabled(LogSeverity::kError)) {
          LogAcceptError(LogSeverity::kError, "listener.error", error,
                         "accept failed");
        }
        BackOff();
        return;
    }
  }
  // Stopped before EAGAIN: no new edge will come for the waiting peers.
  loop_->MarkReady(this);
}

void Acceptor::Dispatch(int fd) {
  const int64_t open = open_connections_.load(std::memory_order_relaxed);
  if (open >= static_cast<int64_t>(options_.max_connections)) {
    const absl::string_view response = factory_.OverloadResponse();
    if (!response.empty()) {
      [[maybe_unused]] ssize_t n = ::send(fd, response.data(), response.size(),
                                          MSG_NOSIGNAL | MSG_DONTWAIT);
    }
    // Count before closing: whoever sees the close may read the counter.
    rejected_at_cap_.Add();
    ::close(fd);
    if (LogEnabled(LogSeverity::kInfo)) {
      Log(LogSeverity::kInfo, "connection.refused_at_cap",
          absl::StrCat("max_connections (", options_.max_connections,
                       ") reached; a new connection was refused"));
    }
    return;
  }
  open_connections_.fetch_add(1, std::memory_order_relaxed);
  const size_t count = workers_.size();
  const size_t first = next_worker_;
  next_worker_ = (next_worker_ + 1) % count;
  // Count before handing off: once a worker has the fd, its client may be
  // served (and may read the counter) before this thread runs again.
  accepted_.Add();
  for (size_t k = 0; k < count; ++k) {
    const size_t index = (first + k) % count;
    if (WorkerAccess::QueueHandOff(*workers_[index], fd)) {
      unwoken_[index] = true;
      if (++unwoken_fds_ >= kMaxHandOffsPerWake) {
        WakeWorkersWithNewConnections();
      }
      return;
    }
  }
  accepted_.Subtract();
  // Every inbox is full: the workers are far behind, and queueing more
  // would only add latency. Shed this connection.
  open_connections_.fetch_sub(1, std::memory_order_relaxed);
  WorkerAccess::CountShed(*workers_[first]);
  ::close(fd);
  Log(LogSeverity::kWarning, "accept.shed",
      "every worker's inbox is full; a new connection was shed");
}

void Acceptor::WakeWorkersWithNewConnections() {
  if (unwoken_fds_ == 0) return;
  for (size_t i = 0; i < workers_.size(); ++i) {
    if (unwoken_[i]) WorkerAccess::WakeForHandOffs(*workers_[i]);
    unwoken_[i] = false;
  }
  unwoken_fds_ = 0;
}

void Acceptor::OnDescriptorsExhausted(int error) {
  fd_exhausted_.Add();
  if (exhausted_since_ms_ < 0) exhausted_since_ms_ = MonotonicMillis();
  ++failures_while_exhausted_;
  if (LogEnabled(LogSeverity::kWarning)) {
    LogAcceptError(LogSeverity::kWarning, "accept.fd_exhausted", error,
                   "accept failed for want of descriptors; one waiting peer "
                   "is closed on the reserve descriptor");
  }
  // Free the reserve descriptor to accept and close one waiting peer: it
  // gets a prompt close instead of a hang, and the queue moves.
  if (reserve_fd_.valid()) {
    reserve_fd_.reset();
    const int fd = ::accept4(listen_fd_.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (fd >= 0) {
      ::close(fd);
      dropped_no_fd_.Add();
    }
    reserve_fd_ = OpenReserveFd();
  }
  BackOff();
}

void Acceptor::LogRecoveryIfExhausted() {
  if (exhausted_since_ms_ < 0) return;
  Log(LogSeverity::kInfo, "accept.fd_recovered",
      absl::StrCat("accepting again after ", failures_while_exhausted_,
                   " accept attempts failed for want of descriptors over ",
                   MonotonicMillis() - exhausted_since_ms_, " ms"));
  exhausted_since_ms_ = -1;
  failures_while_exhausted_ = 0;
}

void Acceptor::LogAcceptError(LogSeverity severity, absl::string_view kind,
                              int error, absl::string_view what) {
  LogEvent event;
  event.severity = severity;
  event.kind = kind;
  event.error = error;
  const std::string message =
      absl::StrCat(what, "; retrying in ", absl::FormatDuration(backoff_));
  event.message = message;
  Log(event);
}

void Acceptor::BackOff() {
  // Level-triggered pressure without a level-triggered event: retry on a
  // timer, backing off exponentially, so the thread does not spin.
  backing_off_ = true;
  loop_->RunAfter(backoff_, [this] {
    backing_off_ = false;
    if (!reserve_fd_.valid()) reserve_fd_ = OpenReserveFd();
    AcceptAll();
  });
  backoff_ = std::min(backoff_ * 2, options_.max_backoff);
}

}  // namespace eddy
