#include "eddy/net/internal/connect_handover.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "eddy/net/internal/tls_transport.h"
#include "eddy/net/internal/worker_access.h"
#include "eddy/net/proxy_protocol.h"
#include "eddy/net/worker.h"

namespace eddy {

namespace {

// Written straight to the fresh socket, ahead of any TLS: its send buffer is
// empty and a header of at most 232 bytes fits, so it is all written or
// nothing.
absl::Status SendConnectProxyHeader(int fd, const ConnectOptions& options,
                                    absl::string_view target) {
  if (!options.proxy_header.has_value()) return absl::OkStatus();
  const std::string header = EncodeProxyV2Header(
      options.proxy_header->source, options.proxy_header->destination);
  const ssize_t n = ::send(fd, header.data(), header.size(), MSG_NOSIGNAL);
  if (n == static_cast<ssize_t>(header.size())) return absl::OkStatus();
  return absl::UnavailableError(
      absl::StrCat("sending the PROXY header to ", target,
                   " failed: ", n < 0 ? std::strerror(errno) : "short write"));
}

}  // namespace

ConnectAttempts::ConnectAttempts(
    Worker& worker, const ConnectOptions& options,
    absl::AnyInvocable<std::unique_ptr<Handler>()> make_handler,
    absl::AnyInvocable<void(absl::Status)> on_failure,
    absl::AnyInvocable<bool(const absl::Status&)> on_attempt_failed)
    : worker_(worker),
      loop_(worker.loop()),
      options_(options),
      make_handler_(std::move(make_handler)),
      on_failure_(std::move(on_failure)),
      on_attempt_failed_(std::move(on_attempt_failed)),
      backoff_(options.initial_backoff) {}

void ConnectAttempts::Start() {
  if (worker_.shutting_down()) {
    on_failure_(Cancelled());
    Finish();
    return;
  }
  WorkerAccess::AddPending(worker_, this);
  tracked_ = true;
  NextAttempt();
}

void ConnectAttempts::CancelForShutdown() {
  tracked_ = false;  // the worker forgot it already
  AbandonAttempt();
  if (retry_.valid()) loop_.Cancel(retry_);
  retry_ = {};
  on_failure_(Cancelled());
  Finish();
}

void ConnectAttempts::NextAttempt() {
  retry_ = {};
  ++attempts_;
  BeginAttempt();
}

void ConnectAttempts::AttemptFailed(absl::Status status) {
  AbandonAttempt();
  const bool attempts_left =
      options_.max_attempts == 0 || attempts_ < options_.max_attempts;
  if (attempts_left && (!on_attempt_failed_ || on_attempt_failed_(status))) {
    const absl::Duration wait = backoff_;
    backoff_ = std::min(backoff_ * 2, options_.max_backoff);
    retry_ = loop_.RunAfter(wait, [this] { NextAttempt(); });
    return;
  }
  Forget();
  on_failure_(std::move(status));
  Finish();
}

void ConnectAttempts::Connected(UniqueFd fd, bool registered,
                                absl::string_view server_name) {
  if (absl::Status sent = SendConnectProxyHeader(fd.get(), options_, Target());
      !sent.ok()) {
    AttemptFailed(std::move(sent));
    return;
  }
  Forget();
  TlsStart tls;
  TlsStart* start = nullptr;
  if (options_.tls != nullptr) {
    tls.context = options_.tls;
    tls.server_name = options_.tls_server_name.empty()
                          ? std::string(server_name)
                          : options_.tls_server_name;
    // The worker takes it only if the connection opens.
    tls.on_failure = std::move(on_failure_);
    start = &tls;
  }
  absl::Status opened =
      registered
          ? WorkerAccess::AdoptRegistered(worker_, std::move(fd),
                                          make_handler_(), start)
          : WorkerAccess::Adopt(worker_, std::move(fd), make_handler_(), start);
  if (!opened.ok()) {
    // A connection the worker could not take never opened: the caller
    // hears of it as of any other failure.
    absl::AnyInvocable<void(absl::Status)>& report =
        start != nullptr ? tls.on_failure : on_failure_;
    if (report) report(std::move(opened));
  }
  Finish();
}

void ConnectAttempts::Forget() {
  if (tracked_) WorkerAccess::RemovePending(worker_, this);
  tracked_ = false;
}

void ConnectAttempts::Finish() {
  loop_.RunAfterIteration([this] { delete this; });
}

absl::Status ConnectAttempts::Cancelled() const {
  return absl::CancelledError(absl::StrCat(
      "connect to ", Target(), " cancelled: the worker is shutting down"));
}

}  // namespace eddy
