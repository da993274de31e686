#ifndef EDDY_EXAMPLES_LISTENER_FLAGS_H_
#define EDDY_EXAMPLES_LISTENER_FLAGS_H_

#include "absl/status/status.h"
#include "eddy/net/server.h"

namespace eddy {

// The listener flags every shipped server takes besides --bind and --port,
// defined with this function:
//   --proxy_protocol=off|optional|required  whether connections start with
//                        a PROXY protocol header (v1 or v2) naming the
//                        client (ServerOptions::proxy_protocol)
//   --proxy_trusted=CIDR,...  who may send one, e.g. 10.0.0.0/8,::1; empty:
//                        any source (ServerOptions::proxy_trusted)
//   --unix_socket_mode=0660  the mode of a unix:PATH socket file (octal;
//                        empty: the umask's)
//
// Applies them to `options`; the error names the flag and what it takes.
//
// Threading: call from main, after ParseProgramFlags.
absl::Status ApplyListenerFlags(ServerOptions& options);

}  // namespace eddy

#endif  // EDDY_EXAMPLES_LISTENER_FLAGS_H_
