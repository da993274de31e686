#ifndef EDDY_EXAMPLES_LIFECYCLE_FLAGS_H_
#define EDDY_EXAMPLES_LIFECYCLE_FLAGS_H_

#include "absl/status/status.h"
#include "eddy/net/server.h"

namespace eddy {

// The lifecycle flags every shipped server takes, defined with this
// function:
//   --drain_delay=D         on SIGTERM (or a hand-off), keep accepting and
//                           serving for D while readiness fails, then stop
//                           (ServerOptions::drain_delay; default 0)
//   --listen_fds            serve on the one listening socket passed by
//                           systemd socket activation (LISTEN_FDS); without
//                           the flag the variables are ignored
//   --handoff_socket=PATH   restarts that lose nothing: take the listener of
//                           the server answering at PATH, or answer there
//                           (ServerOptions::handoff_socket)
//   --max_connection_age=D  end connections older than D (+ up to 10%),
//                           gracefully (ConnectionOptions::max_age)
//
// Applies them to `options`; the error says which flag is wrong.
//
// Threading: call from main, after ParseProgramFlags and before any other
// thread starts (--listen_fds changes the environment).
absl::Status ApplyLifecycleFlags(ServerOptions& options);

}  // namespace eddy

#endif  // EDDY_EXAMPLES_LIFECYCLE_FLAGS_H_
