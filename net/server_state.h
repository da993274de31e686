#ifndef EDDY_NET_SERVER_STATE_H_
#define EDDY_NET_SERVER_STATE_H_

#include "absl/strings/string_view.h"

namespace eddy {

// Where a server is in its life. Only forward moves happen:
// kStarting -> kReady (Start succeeded) -> kDraining (Server::Drain: still
// accepting and serving, but readiness fails and connections are asked to
// end) -> kStopping (Server::Stop: no more accepts, connections finish).
// A server stopped without draining goes from kReady to kStopping.
enum class ServerState : int {
  kStarting,
  kReady,
  kDraining,
  kStopping,
};

// "starting", "ready", "draining", "stopping".
absl::string_view ServerStateName(ServerState state);

}  // namespace eddy

#endif  // EDDY_NET_SERVER_STATE_H_
