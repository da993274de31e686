#ifndef EDDY_NET_SERVE_H_
#define EDDY_NET_SERVE_H_

#include "absl/strings/string_view.h"
#include "eddy/net/server.h"

namespace eddy {

// The life of a server program's main thread: start `server`, print one
// line saying where it listens ("<program> listening on <prefix>ADDR<suffix>
// with N workers<detail>"), wait for SIGINT or SIGTERM (or another caller
// of Server::Drain, e.g. a hand-off), drain for ServerOptions::drain_delay
// (a second signal ends it early), stop gracefully. A TLS server
// (ServerOptions::tls) reloads its certificate and key on SIGHUP
// (Server::ReloadTls) and prints a line saying how that went.
// Returns the process exit status: 0 after a clean stop, 1 when Start failed
// (the reason goes to stderr).
//
// Threading: call from main, before any other thread exists (it blocks the
// termination signals for every thread the server creates).
int ServeUntilSignal(Server& server, absl::string_view program,
                     absl::string_view address_prefix = "",
                     absl::string_view address_suffix = "",
                     absl::string_view detail = "");

}  // namespace eddy

#endif  // EDDY_NET_SERVE_H_
