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

// One connect to an address, on the worker's loop (ConnectAttempts: the
// retries, the shutdown tracking and the hand-over).
class PendingConnect final : public IoHandler, public ConnectAttempts {
 public:
  PendingConnect(
      Worker& worker, const SocketAddress& address, ConnectOptions options,
      absl::AnyInvocable<std::unique_ptr<Handler>()> make_handler,
      absl::AnyInvocable<void(absl::Status)> on_failure,
      absl::AnyInvocable<bool(const absl::Status&)> on_attempt_failed)
      : ConnectAttempts(worker, options, std::move(make_handler),
                        std::move(on_failure), std::move(on_attempt_failed)),
        address_(address) {}

  void HandleIo(uint32_t events) override {
    if (!watching_ || (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) == 0) return;
    const int error = TakeSocketError(fd_.get());
    if (error == 0) {
      StopWatching();
      Connected(std::move(fd_), /*registered=*/true, {});
    } else if (error != EINPROGRESS) {
      AttemptFailed(ConnectError(error));
    }
  }

 private:
  void BeginAttempt() override {
    fd_.reset(::socket(address_.family(),
                       SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd_) {
      AttemptFailed(absl::ResourceExhaustedError(
          absl::StrCat("socket() failed: ", std::strerror(errno))));
      return;
    }
    if (options_.tcp_nodelay && !address_.is_unix()) {
      (void)SetNoDelay(fd_.get(), true);
    }
    if (::connect(fd_.get(), address_.sockaddr_ptr(), address_.length()) == 0) {
      Connected(std::move(fd_), /*registered=*/false, {});
      return;
    }
    if (errno != EINPROGRESS) {
      AttemptFailed(ConnectError(errno));
      return;
    }
    // Registered for everything a connection waits for, so that the
    // registration can be handed over to it (one MOD, not DEL + ADD).
    if (absl::Status s =
            loop_.Watch(fd_.get(), EPOLLIN | EPOLLOUT | EPOLLRDHUP, this);
        !s.ok()) {
      AttemptFailed(s);
      return;
    }
    watching_ = true;
    timeout_ = loop_.RunAfter(options_.timeout, [this] {
      timeout_ = {};
      AttemptFailed(absl::DeadlineExceededError(
          absl::StrCat("connect to ", address_.ToString(), " timed out")));
    });
  }

  // Closing the socket drops its epoll registration (it is never dup'ed),
  // so no Unwatch is needed.
  void AbandonAttempt() override {
    StopWatching();
    fd_.reset();
  }

  std::string Target() const override { return address_.ToString(); }

  absl::Status ConnectError(int error) const {
    return absl::UnavailableError(absl::StrCat(
        "connect to ", address_.ToString(), " failed: ", std::strerror(error)));
  }

  // Ends the current attempt's timer; its socket stays in fd_.
  void StopWatching() {
    watching_ = false;
    if (timeout_.valid()) loop_.Cancel(timeout_);
    timeout_ = {};
  }

  const SocketAddress address_;
  UniqueFd fd_;
  TimerId timeout_;
  bool watching_ = false;
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
