#include "eddy/net/internal/happy_eyeballs.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "eddy/core/event_loop.h"
#include "eddy/core/unique_fd.h"
#include "eddy/net/connector.h"
#include "eddy/net/internal/connect_handover.h"
#include "eddy/net/internal/socket.h"
#include "eddy/net/internal/worker_access.h"
#include "eddy/net/resolver.h"
#include "eddy/net/worker.h"

namespace eddy {

std::vector<SocketAddress> InterleaveFamilies(
    const std::vector<SocketAddress>& addresses) {
  if (addresses.empty()) return {};
  const int first_family = addresses.front().family();
  std::vector<SocketAddress> preferred;
  std::vector<SocketAddress> other;
  for (const SocketAddress& address : addresses) {
    (address.family() == first_family ? preferred : other).push_back(address);
  }
  std::vector<SocketAddress> ordered;
  ordered.reserve(addresses.size());
  for (size_t i = 0; i < preferred.size() || i < other.size(); ++i) {
    if (i < preferred.size()) ordered.push_back(preferred[i]);
    if (i < other.size()) ordered.push_back(other[i]);
  }
  return ordered;
}

namespace {

// A connect to a host name, on the worker's loop: each attempt resolves
// the name, then races the addresses as RFC 8305 says (the next one starts
// after kConnectionAttemptDelay or as soon as one fails; the first to
// connect wins, the others are closed). ConnectOptions::timeout bounds one
// attempt, resolution included. Owns itself like the numeric connect in
// net/connector.cc; the worker knows it as a PendingConnection.
class HostConnect final : public ConnectAttempts {
 public:
  HostConnect(Worker& worker, std::string host, uint16_t port,
              ConnectOptions options,
              absl::AnyInvocable<std::unique_ptr<Handler>()> make_handler,
              absl::AnyInvocable<void(absl::Status)> on_failure,
              absl::AnyInvocable<bool(const absl::Status&)> on_attempt_failed)
      : ConnectAttempts(worker, options, std::move(make_handler),
                        std::move(on_failure), std::move(on_attempt_failed)),
        host_(std::move(host)),
        port_(port),
        resolver_(options.resolver != nullptr ? *options.resolver
                                              : Resolver::Default()) {}

 private:
  // One socket of the race.
  struct Racer final : IoHandler {
    HostConnect* owner;
    SocketAddress address;
    UniqueFd fd;
    void HandleIo(uint32_t events) override {
      if (!fd || (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) == 0) return;
      owner->RacerReady(*this);
    }
  };

  std::string Target() const override {
    return host_.find(':') == std::string::npos
               ? absl::StrCat(host_, ":", port_)
               : absl::StrCat("[", host_, "]:", port_);
  }

  // Runs from Start or the retry timer: never in an iteration whose events
  // may still name the racers of the last attempt, so they may go now.
  void BeginAttempt() override {
    racers_.clear();
    addresses_.clear();
    next_ = 0;
    last_error_ = absl::OkStatus();
    deadline_ = loop_.RunAfter(options_.timeout, [this] {
      deadline_ = {};
      AttemptFailed(absl::DeadlineExceededError(absl::StrCat(
          "connect to ", Target(), " timed out after ",
          absl::FormatDuration(options_.timeout), " (resolve and connect)")));
    });
    if (options_.resolve_timeout < options_.timeout) {
      resolve_deadline_ = loop_.RunAfter(options_.resolve_timeout, [this] {
        resolve_deadline_ = {};
        AttemptFailed(absl::DeadlineExceededError(
            absl::StrCat("resolving ", host_, " timed out after ",
                         absl::FormatDuration(options_.resolve_timeout))));
      });
    }
    resolving_ = resolver_.Resolve(
        loop_, host_, port_,
        [this](absl::StatusOr<Resolver::Addresses> addresses) {
          resolving_ = {};
          CancelResolveDeadline();
          if (!addresses.ok()) {
            AttemptFailed(addresses.status());
            return;
          }
          addresses_ = InterleaveFamilies(*addresses);
          StartNext();
        });
  }

  // Starts the next address, and arms the timer for the one after it.
  void StartNext() {
    if (stagger_.valid()) loop_.Cancel(stagger_);
    stagger_ = {};
    while (next_ < addresses_.size()) {
      auto racer = std::make_unique<Racer>();
      racer->owner = this;
      racer->address = addresses_[next_++];
      racer->fd.reset(::socket(racer->address.family(),
                               SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
      if (!racer->fd) {
        last_error_ = absl::ResourceExhaustedError(
            absl::StrCat("socket() failed: ", std::strerror(errno)));
        continue;
      }
      if (options_.tcp_nodelay) (void)SetNoDelay(racer->fd.get(), true);
      if (::connect(racer->fd.get(), racer->address.sockaddr_ptr(),
                    racer->address.length()) == 0) {
        racers_.push_back(std::move(racer));
        Won(*racers_.back(), /*registered=*/false);
        return;
      }
      if (errno != EINPROGRESS) {
        last_error_ = ConnectError(racer->address, errno);
        continue;
      }
      if (absl::Status s = loop_.Watch(
              racer->fd.get(), EPOLLIN | EPOLLOUT | EPOLLRDHUP, racer.get());
          !s.ok()) {
        last_error_ = s;
        continue;
      }
      racers_.push_back(std::move(racer));
      ++racing_;
      if (next_ < addresses_.size()) {
        stagger_ = loop_.RunAfter(kConnectionAttemptDelay, [this] {
          stagger_ = {};
          StartNext();
        });
      }
      return;
    }
    if (racing_ == 0) NoneConnected();
  }

  void RacerReady(Racer& racer) {
    const int error = TakeSocketError(racer.fd.get());
    if (error == 0) {
      Won(racer, /*registered=*/true);
      return;
    }
    if (error == EINPROGRESS) return;
    last_error_ = ConnectError(racer.address, error);
    racer.fd.reset();
    --racing_;
    StartNext();  // a failure starts the next address at once
  }

  absl::Status ConnectError(const SocketAddress& address, int error) const {
    return absl::UnavailableError(
        absl::StrCat("connect to ", Target(), " (", address.ToString(),
                     ") failed: ", std::strerror(error)));
  }

  // Ends the attempt: the lookup, the timers and every racing socket
  // (closing a socket drops its registration; the Racer objects stay until
  // the next attempt, as this iteration's events may name them).
  void CancelResolveDeadline() {
    if (resolve_deadline_.valid()) loop_.Cancel(resolve_deadline_);
    resolve_deadline_ = {};
  }

  void AbandonAttempt() override {
    resolving_.Cancel();
    resolving_ = {};
    CancelResolveDeadline();
    if (deadline_.valid()) loop_.Cancel(deadline_);
    deadline_ = {};
    if (stagger_.valid()) loop_.Cancel(stagger_);
    stagger_ = {};
    for (auto& racer : racers_) racer->fd.reset();
    racing_ = 0;
  }

  void Won(Racer& winner, bool registered) {
    UniqueFd fd = std::move(winner.fd);
    AbandonAttempt();
    // TLS verifies the host the addresses came from.
    Connected(std::move(fd), registered, host_);
  }

  // Every racer failed (or there was none): the attempt fails with the last
  // racer's error.
  void NoneConnected() {
    AttemptFailed(last_error_.ok()
                      ? absl::UnavailableError(absl::StrCat(
                            "connect to ", Target(), ": no address to try"))
                      : last_error_);
  }

  const std::string host_;
  const uint16_t port_;
  Resolver& resolver_;
  Resolver::Handle resolving_;
  std::vector<SocketAddress> addresses_;
  std::vector<std::unique_ptr<Racer>> racers_;
  size_t next_ = 0;
  int racing_ = 0;  // racers with a connect in flight
  absl::Status last_error_;
  TimerId deadline_;
  TimerId resolve_deadline_;
  TimerId stagger_;
};

}  // namespace

void Connect(Worker& worker, absl::string_view host_port,
             ConnectOptions options,
             absl::AnyInvocable<std::unique_ptr<Handler>()> make_handler,
             absl::AnyInvocable<void(absl::Status)> on_failure,
             absl::AnyInvocable<bool(const absl::Status&)> on_attempt_failed) {
  if (absl::StartsWith(host_port, "unix:")) {
    absl::StatusOr<SocketAddress> address =
        SocketAddress::ParseHostPort(host_port);
    if (address.ok()) {
      Connect(worker, *address, options, std::move(make_handler),
              std::move(on_failure), std::move(on_attempt_failed));
      return;
    }
    worker.loop().Post(
        [on_failure = std::move(on_failure),
         status = address.status()]() mutable { on_failure(status); });
    return;
  }
  std::string host;
  uint16_t port = 0;
  if (absl::Status split = SplitHostPort(host_port, &host, &port);
      !split.ok()) {
    // Reported on the loop like every other failure, never inside the call.
    worker.loop().Post([on_failure = std::move(on_failure), split]() mutable {
      on_failure(split);
    });
    return;
  }
  auto pending = std::make_unique<HostConnect>(
      worker, std::move(host), port, options, std::move(make_handler),
      std::move(on_failure), std::move(on_attempt_failed));
  worker.loop().RunInLoop(
      [pending = std::move(pending)]() mutable { pending.release()->Start(); });
}

}  // namespace eddy
