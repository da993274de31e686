#include "examples/listener_flags.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "eddy/net/cidr.h"
#include "eddy/net/proxy_protocol.h"

ABSL_FLAG(std::string, proxy_protocol, "off",
          "expect a PROXY protocol header (v1 or v2) naming the client: off, "
          "optional (trusted sources may send one) or required");
ABSL_FLAG(std::string, proxy_trusted, "",
          "comma-separated networks allowed to send PROXY headers, e.g. "
          "10.0.0.0/8,::1 (empty: any source)");
ABSL_FLAG(std::string, unix_socket_mode, "",
          "file mode of a --bind unix:PATH socket, octal, e.g. 0660 (empty: "
          "as the umask gives)");

namespace eddy {

absl::Status ApplyListenerFlags(ServerOptions& options) {
  const std::string mode_text = absl::GetFlag(FLAGS_proxy_protocol);
  const std::optional<ProxyProtocolMode> mode =
      ParseProxyProtocolMode(mode_text);
  if (!mode.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--proxy_protocol=", mode_text,
                     " is not one of off, optional, required"));
  }
  options.proxy_protocol = *mode;
  absl::StatusOr<std::vector<Cidr>> trusted =
      ParseCidrList(absl::GetFlag(FLAGS_proxy_trusted));
  if (!trusted.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--proxy_trusted: ", trusted.status().message()));
  }
  options.proxy_trusted = *std::move(trusted);
  if (const std::string file_mode = absl::GetFlag(FLAGS_unix_socket_mode);
      !file_mode.empty()) {
    uint32_t bits = 0;
    for (const char digit : file_mode) {
      if (digit < '0' || digit > '7') {
        bits = 01000;  // not octal: refused below
        break;
      }
      bits = bits * 8 + static_cast<uint32_t>(digit - '0');
      if (bits > 0777) break;
    }
    if (bits == 0 || bits > 0777) {
      return absl::InvalidArgumentError(
          absl::StrCat("--unix_socket_mode=", file_mode,
                       " is not an octal file mode such as 0660"));
    }
    options.unix_socket_mode = bits;
  }
  return absl::OkStatus();
}

}  // namespace eddy
