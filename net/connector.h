#ifndef EDDY_NET_CONNECTOR_H_
#define EDDY_NET_CONNECTOR_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "eddy/net/address.h"
#include "eddy/net/protocol.h"
#include "eddy/net/tls_context.h"

namespace eddy {

class Resolver;
class Worker;

struct ConnectOptions {
  // Each attempt fails after this long without a connection. For a host
  // name, the lookup counts inside it: one attempt is resolve + connect.
  absl::Duration timeout = absl::Seconds(5);
  // Attempts in all (0: keep trying until it works).
  int max_attempts = 1;
  // Wait before the second attempt; doubles each time up to max_backoff.
  absl::Duration initial_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(5);
  // Set on the socket before connecting: a client's small requests must
  // not wait for Nagle's algorithm. (Accepted sockets inherit it from the
  // listener instead.)
  // (Skipped on a Unix socket, which has no Nagle.)
  bool tcp_nodelay = true;
  // For the host:port overload: the lookup alone fails the attempt after
  // this long (absl::DeadlineExceededError), within `timeout`.
  absl::Duration resolve_timeout = absl::InfiniteDuration();
  // Resolves host names for the host:port overload (null: the process-wide
  // Resolver::Default()); must outlive the connect.
  Resolver* resolver = nullptr;
  // Set: the connection starts with a PROXY protocol v2 header naming this
  // source and destination (what a balancer in front of a server sends),
  // written before OnOpen runs, so it precedes every byte the handler sends.
  struct ProxyHeader {
    SocketAddress source;
    SocketAddress destination;
  };
  std::optional<ProxyHeader> proxy_header;
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

// Opens an outgoing connection (TCP, or a Unix socket) to `address` from
// `worker`'s loop and, once connected, makes it one of that worker's
// connections, served by the handler `make_handler` returns (its OnOpen runs
// when the connection is up). The socket is registered with the loop once: the
// registration made for the connect is handed over to the connection.
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

// Connect to "host:port" ("localhost:8080", "[::1]:80", "127.0.0.1:80"):
// as above, but each attempt first resolves the host off the loop
// (net/resolver.h; a numeric address needs no lookup), then tries every
// address it got, IPv6 and IPv4 raced as RFC 8305 says: the next address
// starts 250 ms after the last or as soon as it failed, the first to
// connect wins and the others are closed. A retry resolves again. A name
// that does not resolve fails the attempt with absl::NotFoundError; a
// malformed `host_port` fails with absl::InvalidArgumentError (through
// on_failure, on the loop). "unix:PATH" and "unix:@NAME" connect to that
// Unix socket, with no lookup.
//
// Threading: as above.
void Connect(
    Worker& worker, absl::string_view host_port, ConnectOptions options,
    absl::AnyInvocable<std::unique_ptr<Handler>()> make_handler,
    absl::AnyInvocable<void(absl::Status)> on_failure,
    absl::AnyInvocable<bool(const absl::Status&)> on_attempt_failed = {});

}  // namespace eddy

#endif  // EDDY_NET_CONNECTOR_H_
