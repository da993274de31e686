#include "eddy/net/server_state.h"

namespace eddy {

absl::string_view ServerStateName(ServerState state) {
  switch (state) {
    case ServerState::kStarting:
      return "starting";
    case ServerState::kReady:
      return "ready";
    case ServerState::kDraining:
      return "draining";
    case ServerState::kStopping:
      return "stopping";
  }
  return "unknown";
}

}  // namespace eddy
