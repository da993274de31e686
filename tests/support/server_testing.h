#ifndef EDDY_TESTS_SUPPORT_SERVER_TESTING_H_
#define EDDY_TESTS_SUPPORT_SERVER_TESTING_H_

#include <cstddef>

#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "eddy/net/address.h"
#include "eddy/net/internal/socket.h"
#include "eddy/net/server.h"
#include "eddy/net/worker_group.h"

namespace eddy::testing {

// The deadline of every wait in the integration tests: generous, because
// they must hold on a busy 2-core machine and under sanitizers.
inline constexpr absl::Duration kTestDeadline = absl::Seconds(60);

// Server options for a test: loopback, a free port, `workers` workers.
inline ServerOptions LoopbackServerOptions(size_t workers) {
  ServerOptions options;
  options.bind_address = "127.0.0.1";
  options.port = 0;
  options.workers = workers;
  return options;
}

// Options for a client's WorkerGroup (no listener) with `workers` workers.
inline WorkerGroupOptions ClientGroupOptions(size_t workers) {
  WorkerGroupOptions options;
  options.workers = workers;
  return options;
}

// A loopback address nobody listens on: bind a free port, read its number,
// close it. (Another process could take it meanwhile; on loopback in a test
// run that does not happen in practice.)
inline SocketAddress UnusedLoopbackAddress() {
  absl::StatusOr<SocketAddress> any = SocketAddress::Parse("127.0.0.1", 0);
  if (!any.ok()) return SocketAddress();
  absl::StatusOr<UniqueFd> listener = Listen(*any, ListenOptions{});
  if (!listener.ok()) return SocketAddress();
  absl::StatusOr<SocketAddress> address =
      SocketAddress::LocalOf(listener->get());
  return address.ok() ? *address : SocketAddress();
}

// Polls `condition` until it holds or `timeout` passes; returns whether it
// held.
template <typename Condition>
bool Eventually(Condition condition, absl::Duration timeout = kTestDeadline) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!condition()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(2));
  }
  return true;
}

}  // namespace eddy::testing

#endif  // EDDY_TESTS_SUPPORT_SERVER_TESTING_H_
