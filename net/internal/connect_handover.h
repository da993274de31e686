#ifndef EDDY_NET_INTERNAL_CONNECT_HANDOVER_H_
#define EDDY_NET_INTERNAL_CONNECT_HANDOVER_H_

#include <memory>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "eddy/core/unique_fd.h"
#include "eddy/net/connector.h"
#include "eddy/net/protocol.h"

namespace eddy {

class Worker;

// The last steps of every connect (to an address, or to host:port after the
// race), so that both honour all of ConnectOptions alike.
//
// Threading: the worker's loop thread.

// Writes the PROXY v2 header `options` asks for, if any, straight to the
// fresh socket, ahead of any TLS: its send buffer is empty and a header of
// at most 232 bytes fits, so it is all written or nothing. `target` names
// the peer in the error.
absl::Status SendConnectProxyHeader(int fd, const ConnectOptions& options,
                                    absl::string_view target);

// Makes the connected `fd` one of `worker`'s connections, served by
// `handler`; with ConnectOptions::tls it opens once its handshake completed
// and verified `options.tls_server_name`, or `default_server_name` when that
// is empty (the host a name was resolved from). A connection that never
// opens (the worker could not take it, or the handshake failed) reports why
// to `on_failure`.
void AdoptConnected(Worker& worker, UniqueFd fd, bool registered,
                    const ConnectOptions& options,
                    absl::string_view default_server_name,
                    std::unique_ptr<Handler> handler,
                    absl::AnyInvocable<void(absl::Status)> on_failure);

}  // namespace eddy

#endif  // EDDY_NET_INTERNAL_CONNECT_HANDOVER_H_
