#ifndef EDDY_NET_INTERNAL_CONNECT_HANDOVER_H_
#define EDDY_NET_INTERNAL_CONNECT_HANDOVER_H_

#include <memory>
#include <string>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "eddy/core/event_loop.h"
#include "eddy/core/timer_wheel.h"
#include "eddy/core/unique_fd.h"
#include "eddy/net/connector.h"
#include "eddy/net/internal/worker_access.h"
#include "eddy/net/protocol.h"

namespace eddy {

class Worker;

// The life every connect shares (to an address, net/connector.cc, and to
// host:port, net/internal/happy_eyeballs.cc), so that both honour all of
// ConnectOptions alike: the worker tracks it as a PendingConnection, so that
// shutting down cancels it; a failed attempt is retried with exponential
// back-off while attempts are left and on_attempt_failed agrees; a connected
// socket gets the PROXY v2 header ConnectOptions asks for and is handed to
// the worker, with a TLS handshake first when ConnectOptions::tls is set. It
// owns itself and is freed after the loop iteration in which it ended.
//
// A derived class runs one attempt in BeginAttempt, drops one in
// AbandonAttempt, and ends one with AttemptFailed or Connected.
//
// Threading: the worker's loop thread.
class ConnectAttempts : public PendingConnection {
 public:
  // The first attempt, or on_failure (Cancelled) when the worker is
  // shutting down.
  void Start();
  void CancelForShutdown() final;

 protected:
  ConnectAttempts(
      Worker& worker, const ConnectOptions& options,
      absl::AnyInvocable<std::unique_ptr<Handler>()> make_handler,
      absl::AnyInvocable<void(absl::Status)> on_failure,
      absl::AnyInvocable<bool(const absl::Status&)> on_attempt_failed);
  virtual ~ConnectAttempts() = default;

  // Starts attempt number attempts() (already counted).
  virtual void BeginAttempt() = 0;
  // Drops whatever the current attempt holds (sockets, timers, lookups).
  virtual void AbandonAttempt() = 0;
  // Who is connected to, for errors: "host:port".
  virtual std::string Target() const = 0;

  // The attempt failed: retry later, or tell on_failure and end.
  void AttemptFailed(absl::Status status);
  // The attempt connected `fd` (still registered with the loop if
  // `registered`): the PROXY header, then the hand-over to the worker, TLS
  // verifying `server_name` unless ConnectOptions::tls_server_name names
  // another.
  void Connected(UniqueFd fd, bool registered, absl::string_view server_name);

  int attempts() const { return attempts_; }

  Worker& worker_;
  EventLoop& loop_;
  const ConnectOptions options_;

 private:
  void NextAttempt();
  void Forget();
  void Finish();
  absl::Status Cancelled() const;

  absl::AnyInvocable<std::unique_ptr<Handler>()> make_handler_;
  absl::AnyInvocable<void(absl::Status)> on_failure_;
  absl::AnyInvocable<bool(const absl::Status&)> on_attempt_failed_;
  TimerId retry_;
  absl::Duration backoff_;
  int attempts_ = 0;
  bool tracked_ = false;
};

}  // namespace eddy

#endif  // EDDY_NET_INTERNAL_CONNECT_HANDOVER_H_
