#ifndef EDDY_NET_CONNECTOR_H_
#define EDDY_NET_CONNECTOR_H_

#include <memory>
#include <string>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "eddy/net/address.h"
#include "eddy/net/protocol.h"
#include "eddy/net/tls_context.h"

namespace eddy {

class Worker;

struct ConnectOptions {
  // Each attempt fails after this long without a connection.
  absl::Duration timeout = absl::Seconds(5);
  // Attempts in all (0: keep trying until it works).
  int max_attempts = 1;
  // Wait before the second attempt; doubles each time up to max_backoff.
  absl::Duration initial_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(5);
  // Set on the socket before connecting: a client's small requests must
  // not wait for Nagle's algorithm. (Accepted sockets inherit it from the
  // listener instead.)
  bool tcp_nodelay = true;
  // TLS: a client context (TlsContext::ForClient, built once and shared by
  // many connects). The handshake runs once connected; the handler opens
  // when it completed and the server verified. A failed handshake (e.g.
  // "certificate verify failed: hostname mismatch") reaches on_failure,
  // without a retry: the server answered, and would again.
  std::shared_ptr<const TlsContext> tls;
  // SNI and the name verified for this connect; empty: the context's
  // TlsClientOptions::server_name.
  std::string tls_server_name;
};

// Opens an outgoing TCP connection to `address` from `worker`'s loop and,
// once connected, makes it one of that worker's connections, served by the
// handler `make_handler` returns (its OnOpen runs when the connection is
// up). The socket is registered with the loop once: the registration made
// for the connect is handed over to the connection.
//
// A failed attempt (refused, unreachable, timed out) is retried with
// exponential back-off; `on_attempt_failed`, if given, is told of each
// failed attempt that has attempts left and may return false to stop
// there. When no attempt is left, `on_failure` runs with the last error.
// When the worker shuts down (WorkerGroup::Stop) a connect still in
// progress, or one that starts afterwards, ends with on_failure and
// absl::CancelledError; a Connect posted after the worker's loop stopped
// never runs and calls nothing.
//
// This is how eddy builds clients and proxies: connect from the worker of
// the incoming connection (Connection::worker()) and both sides share one
// thread, no locks; a client program connects from the workers of a
// WorkerGroup (net/worker_group.h).
//
// Threading: callable from any thread; the callbacks run on the worker's
// loop thread.
void Connect(
    Worker& worker, const SocketAddress& address, ConnectOptions options,
    absl::AnyInvocable<std::unique_ptr<Handler>()> make_handler,
    absl::AnyInvocable<void(absl::Status)> on_failure,
    absl::AnyInvocable<bool(const absl::Status&)> on_attempt_failed = {});

}  // namespace eddy

#endif  // EDDY_NET_CONNECTOR_H_
