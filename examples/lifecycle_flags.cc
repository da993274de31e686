#include "examples/lifecycle_flags.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "eddy/net/service_manager.h"

ABSL_FLAG(absl::Duration, drain_delay, absl::ZeroDuration(),
          "on SIGTERM, keep accepting and serving this long while /readyz "
          "fails, then stop (a second signal stops at once)");
ABSL_FLAG(bool, listen_fds, false,
          "serve on the listening socket passed by systemd socket activation "
          "(LISTEN_FDS, LISTEN_PID) instead of binding");
ABSL_FLAG(std::string, listen_fd_name, "",
          "with --listen_fds: serve on the passed socket of this name "
          "(FileDescriptorName= of the .socket unit, LISTEN_FDNAMES); empty: "
          "exactly one socket must be passed");
ABSL_FLAG(std::string, handoff_socket, "",
          "Unix socket path for restarts that lose nothing: a new process "
          "started with the same path takes over the listener of the one "
          "running, which then drains; empty: off");
ABSL_FLAG(absl::Duration, max_connection_age, absl::InfiniteDuration(),
          "end connections older than this (plus up to 10%) gracefully, so "
          "that clients spread over a fleet that grew (inf: never)");

namespace eddy {

absl::Status ApplyLifecycleFlags(ServerOptions& options) {
  options.drain_delay = absl::GetFlag(FLAGS_drain_delay);
  if (options.drain_delay < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--drain_delay must not be negative");
  }
  options.handoff_socket = absl::GetFlag(FLAGS_handoff_socket);
  const absl::Duration age = absl::GetFlag(FLAGS_max_connection_age);
  if (age <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "--max_connection_age must be positive (inf: never)");
  }
  options.connection.max_age = age;
  if (!absl::GetFlag(FLAGS_listen_fds)) return absl::OkStatus();
  if (!options.handoff_socket.empty()) {
    return absl::InvalidArgumentError(
        "--listen_fds and --handoff_socket both name the listener; pass one");
  }
  absl::StatusOr<std::vector<InheritedListener>> listeners =
      TakeInheritedListeners();
  if (!listeners.ok()) return listeners.status();
  absl::StatusOr<UniqueFd> chosen = ChooseInheritedListener(
      *std::move(listeners), absl::GetFlag(FLAGS_listen_fd_name));
  if (!chosen.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--listen_fds: ", chosen.status().message()));
  }
  options.listen_fd = chosen->release();
  return absl::OkStatus();
}

}  // namespace eddy
