#ifndef EDDY_NET_SERVICE_MANAGER_H_
#define EDDY_NET_SERVICE_MANAGER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "eddy/core/unique_fd.h"

namespace eddy {

// The two sides of the systemd service-manager protocols that a server
// needs, without libsystemd: socket activation (sd_listen_fds(3)) and
// readiness notification (sd_notify(3)).

// A socket passed by the service manager, with the name LISTEN_FDNAMES
// gives it (a .socket unit's FileDescriptorName=; empty when not named).
struct InheritedListener {
  UniqueFd fd;
  std::string name;
};

// The listening sockets passed by the parent (systemd, or any supervisor
// speaking the protocol): fds 3 .. 3+LISTEN_FDS-1, when LISTEN_PID is this
// process, named by LISTEN_FDNAMES (colon-separated, one per fd) when it is
// set. The variables LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES are unset so
// that children do not take the sockets again, and the fds are made
// close-on-exec. An empty vector when the variables are absent or name
// another process; an error when they are malformed (LISTEN_FDNAMES with
// another count of names than of fds included).
//
// Threading: call from main before other threads start (it changes the
// environment).
absl::StatusOr<std::vector<InheritedListener>> TakeInheritedListeners();

// The one of `listeners` named `name`, or with an empty `name` the only one;
// an error saying what was passed otherwise. Any thread.
absl::StatusOr<UniqueFd> ChooseInheritedListener(
    std::vector<InheritedListener> listeners, absl::string_view name);

// Sends `state` (e.g. "READY=1", "STOPPING=1") to the service manager as one
// datagram on the Unix socket named by NOTIFY_SOCKET (abstract if it starts
// with '@'). OK and nothing sent when the variable is unset. Any thread
// (it reads the environment, which the program does not change after
// startup).
absl::Status NotifyServiceManager(absl::string_view state);

}  // namespace eddy

#endif  // EDDY_NET_SERVICE_MANAGER_H_
