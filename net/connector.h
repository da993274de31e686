#ifndef EDDY_NET_CONNECTOR_H_
#define EDDY_NET_CONNECTOR_H_

#include <memory>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "net/address.h"
#include "net/protocol.h"

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
};

// Opens an outgoing TCP connection to `address` from `worker`'s loop and,
// once connected, makes it one of that worker's connections, served by the
// handler `make_handler` returns (its OnOpen runs when the connection is
// up). A failed attempt (refused, unreachable, timed out) is retried with
// exponential back-off; when the attempts are used up, `on_failure` runs on
// the worker's loop thread with the last error. This is how eddy builds
// clients and proxies: connect from the worker of the incoming connection
// (Connection::worker()) and both sides share one thread, no locks.
//
// Threading: callable from any thread; everything else happens on the
// worker's loop thread.
void Connect(Worker& worker, const SocketAddress& address,
             ConnectOptions options,
             absl::AnyInvocable<std::unique_ptr<Handler>()> make_handler,
             absl::AnyInvocable<void(absl::Status)> on_failure);

}  // namespace eddy

#endif  // EDDY_NET_CONNECTOR_H_
