#include "net/connector.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/event_loop.h"
#include "core/unique_fd.h"
#include "net/worker.h"

namespace eddy {
namespace {

// One connect in progress, on the worker's loop. Owns itself: it is freed
// after the iteration in which it succeeded or gave up.
class PendingConnect final : public IoHandler {
 public:
  PendingConnect(Worker& worker, const SocketAddress& address,
                 ConnectOptions options,
                 absl::AnyInvocable<std::unique_ptr<Handler>()> make_handler,
                 absl::AnyInvocable<void(absl::Status)> on_failure)
      : worker_(worker),
        loop_(worker.loop()),
        address_(address),
        options_(options),
        make_handler_(std::move(make_handler)),
        on_failure_(std::move(on_failure)),
        backoff_(options.initial_backoff) {}

  void Attempt() {
    ++attempts_;
    fd_.reset(::socket(address_.family(),
                       SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd_) {
      Failed(absl::ResourceExhaustedError(
          absl::StrCat("socket() failed: ", std::strerror(errno))));
      return;
    }
    if (::connect(fd_.get(), address_.sockaddr_ptr(), address_.length()) == 0) {
      Connected();
      return;
    }
    if (errno != EINPROGRESS) {
      Failed(ConnectError(errno));
      return;
    }
    if (absl::Status s = loop_.Watch(fd_.get(), EPOLLOUT, this); !s.ok()) {
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

  void HandleIo(uint32_t /*events*/) override {
    if (!watching_) return;
    int error = 0;
    socklen_t length = sizeof(error);
    ::getsockopt(fd_.get(), SOL_SOCKET, SO_ERROR, &error, &length);
    if (error == 0) {
      Connected();
    } else if (error != EINPROGRESS) {
      Failed(ConnectError(error));
    }
  }

 private:
  absl::Status ConnectError(int error) const {
    return absl::UnavailableError(absl::StrCat(
        "connect to ", address_.ToString(), " failed: ", std::strerror(error)));
  }

  void StopWatching() {
    if (watching_) loop_.Unwatch(fd_.get());
    watching_ = false;
    if (timeout_.valid()) loop_.Cancel(timeout_);
    timeout_ = {};
  }

  void Connected() {
    StopWatching();
    worker_.Adopt(std::move(fd_), make_handler_());
    Finish();
  }

  void Failed(absl::Status status) {
    StopWatching();
    fd_.reset();
    if (options_.max_attempts == 0 || attempts_ < options_.max_attempts) {
      const absl::Duration wait = backoff_;
      backoff_ = std::min(backoff_ * 2, options_.max_backoff);
      loop_.RunAfter(wait, [this] { Attempt(); });
      return;
    }
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
  UniqueFd fd_;
  TimerId timeout_;
  absl::Duration backoff_;
  int attempts_ = 0;
  bool watching_ = false;
};

}  // namespace

void Connect(Worker& worker, const SocketAddress& address,
             ConnectOptions options,
             absl::AnyInvocable<std::unique_ptr<Handler>()> make_handler,
             absl::AnyInvocable<void(absl::Status)> on_failure) {
  auto* pending = new PendingConnect(
      worker, address, options, std::move(make_handler), std::move(on_failure));
  worker.loop().RunInLoop([pending] { pending->Attempt(); });
}

}  // namespace eddy
