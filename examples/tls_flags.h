#ifndef EDDY_EXAMPLES_TLS_FLAGS_H_
#define EDDY_EXAMPLES_TLS_FLAGS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "eddy/net/tls_context.h"

namespace eddy {

// The --tls_cert and --tls_key flags the shipped servers share: both set,
// the server speaks TLS with these files (offering `alpn`) and reloads them
// on SIGHUP (ServeUntilSignal); neither set, plaintext; one alone is an
// error that says so.
//
// Threading: call from main after the flags were parsed.
absl::StatusOr<std::optional<TlsServerOptions>> TlsOptionsFromFlags(
    std::vector<std::string> alpn);

}  // namespace eddy

#endif  // EDDY_EXAMPLES_TLS_FLAGS_H_
