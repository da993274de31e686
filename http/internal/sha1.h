#ifndef EDDY_HTTP_INTERNAL_SHA1_H_
#define EDDY_HTTP_INTERNAL_SHA1_H_

#include <array>
#include <cstdint>

#include "absl/strings/string_view.h"

namespace eddy::http {

// SHA-1 (RFC 3174) of `data`. Only for the WebSocket handshake, which
// prescribes it (RFC 6455 4.2.2); it protects nothing there, so SHA-1's
// weakness does not matter. Thread-safe.
std::array<uint8_t, 20> Sha1(absl::string_view data);

}  // namespace eddy::http

#endif  // EDDY_HTTP_INTERNAL_SHA1_H_
