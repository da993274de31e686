#include "eddy/net/connector.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "eddy/core/event_loop.h"
#include "eddy/core/unique_fd.h"
#include "eddy/net/internal/connect_handover.h"
#include "eddy/net/internal/socket.h"
#include "eddy/net/internal/worker_access.h"
#include "eddy/net/worker.h"

namespace eddy {
namespace {

// One connect in progress, on the worker's loop. Owns itself: it is freed
// after the iteration in which it succeeded or gave up. The worker knows it
// as a PendingConnection while it runs, to cancel it on shutdown.
class PendingConnect final : public IoHandler, public PendingConnection {
 public:
  PendingConnect(
      Worker& worker, const SocketAddress& address, ConnectOptions options,
      absl::AnyInvocable<std::unique_ptr<Handler>()> make_handler,
      absl::AnyInvocable<void(absl::Status)> on_failure,
      absl::AnyInvocable<bool(const absl::Status&)> on_attempt_failed)
      : worker_(worker),
        loop_(worker.loop()),
        address_(address),
        options_(options),
        make_handler_(std::move(make_handler)),
        on_failure_(std::move(on_failure)),
        on_attempt_failed_(std::move(on_attempt_failed)),
        backoff_(options.initial_backoff) {}

  void Start() {
    if (worker_.shutting_down()) {
      on_failure_(Cancelled());
      Finish();
      return;
    }
    WorkerAccess::AddPending(worker_, this);
    tracked_ = true;
    Attempt();
  }

  void HandleIo(uint32_t events) override {
    if (!watching_ || (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) == 0) return;
    const int error = TakeSocketError(fd_.get());
    if (error == 0) {
      Connected(/*registered=*/true);
    } else if (error != EINPROGRESS) {
      Failed(ConnectError(error));
    }
  }

  void CancelForShutdown() override {
    tracked_ = false;  // the worker forgot it already
    StopAttempt();
    if (retry_.valid()) loop_.Cancel(retry_);
    retry_ = {};
    on_failure_(Cancelled());
    Finish();
  }

 private:
  void Attempt() {
    retry_ = {};
    ++attempts_;
    fd_.reset(::socket(address_.family(),
                       SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd_) {
      Failed(absl::ResourceExhaustedError(
          absl::StrCat("socket() failed: ", std::strerror(errno))));
      return;
    }
    if (options_.tcp_nodelay && !address_.is_unix()) {
      (void)SetNoDelay(fd_.get(), true);
    }
    if (::connect(fd_.get(), address_.sockaddr_ptr(), address_.length()) == 0) {
      Connected(/*registered=*/false);
      return;
    }
    if (errno != EINPROGRESS) {
      Failed(ConnectError(errno));
      return;
    }
    // Registered for everything a connection waits for, so that the
    // registration can be handed over to it (one MOD, not DEL + ADD).
    if (absl::Status s =
            loop_.Watch(fd_.get(), EPOLLIN | EPOLLOUT | EPOLLRDHUP, this);
        !s.ok()) {
      Failed(s);
      return;
    }
    watching_ = true;
    timeout_ = loop_.RunAfter(options_.timeout, [this] {
      timeout_ = {};
      Failed(absl::DeadlineExceededError(
          absl::StrCat("connect to ", address_.ToString(), " timed out")));
    });
  }

  absl::Status ConnectError(int error) const {
    return absl::UnavailableError(absl::StrCat(
        "connect to ", address_.ToString(), " failed: ", std::strerror(error)));
  }

  absl::Status Cancelled() const {
    return absl::CancelledError(
        absl::StrCat("connect to ", address_.ToString(),
                     " cancelled: the worker is shutting down"));
  }

  // Ends the current attempt's timer; its socket stays in fd_.
  void StopWatching() {
    watching_ = false;
    if (timeout_.valid()) loop_.Cancel(timeout_);
    timeout_ = {};
  }

  // Abandons the current attempt. Closing the socket drops its epoll
  // registration (it is never dup'ed), so no Unwatch is needed.
  void StopAttempt() {
    StopWatching();
    fd_.reset();
  }

  void Forget() {
    if (tracked_) WorkerAccess::RemovePending(worker_, this);
    tracked_ = false;
  }

  void Connected(bool registered) {
    StopWatching();
    if (absl::Status sent =
            SendConnectProxyHeader(fd_.get(), options_, address_.ToString());
        !sent.ok()) {
      Failed(std::move(sent));
      return;
    }
    Forget();
    AdoptConnected(worker_, std::move(fd_), registered, options_, {},
                   make_handler_(), std::move(on_failure_));
    Finish();
  }

  void Failed(absl::Status status) {
    StopAttempt();
    const bool attempts_left =
        options_.max_attempts == 0 || attempts_ < options_.max_attempts;
    if (attempts_left && (!on_attempt_failed_ || on_attempt_failed_(status))) {
      const absl::Duration wait = backoff_;
      backoff_ = std::min(backoff_ * 2, options_.max_backoff);
      retry_ = loop_.RunAfter(wait, [this] { Attempt(); });
      return;
    }
    Forget();
    on_failure_(std::move(status));
    Finish();
  }

  void Finish() {
    loop_.RunAfterIteration([this] { delete this; });
  }

  Worker& worker_;
  EventLoop& loop_;
  const SocketAddress address_;
  const ConnectOptions options_;
  absl::AnyInvocable<std::unique_ptr<Handler>()> make_handler_;
  absl::AnyInvocable<void(absl::Status)> on_failure_;
  absl::AnyInvocable<bool(const absl::Status&)> on_attempt_failed_;
  UniqueFd fd_;
  TimerId timeout_;
  TimerId retry_;
  absl::Duration backoff_;
  int attempts_ = 0;
  bool watching_ = false;
  bool tracked_ = false;
};

}  // namespace

void Connect(Worker& worker, const SocketAddress& address,
             ConnectOptions options,
             absl::AnyInvocable<std::unique_ptr<Handler>()> make_handler,
             absl::AnyInvocable<void(absl::Status)> on_failure,
             absl::AnyInvocable<bool(const absl::Status&)> on_attempt_failed) {
  // Owned by the task until it runs, so that a task dropped with a stopped
  // loop frees it.
  auto pending = std::make_unique<PendingConnect>(
      worker, address, options, std::move(make_handler), std::move(on_failure),
      std::move(on_attempt_failed));
  worker.loop().RunInLoop(
      [pending = std::move(pending)]() mutable { pending.release()->Start(); });
}

}  // namespace eddy
