#ifndef EDDY_HTTP_URL_H_
#define EDDY_HTTP_URL_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace eddy::http {

// An http:// or https:// URL split into what a client needs to send a
// request.
struct Url {
  bool https = false;  // the connection speaks TLS
  std::string host;    // a name or an IP address, without brackets
  uint16_t port = 80;  // 80 (443 for https) unless the URL names one
  std::string target;  // the path and query, "/" at least; no fragment
  // The Host header's value: "host", "host:port", "[v6]:port".
  std::string authority;
  // "host:port" or "[v6]:port", as Connect (net/connector.h) takes it.
  std::string host_port;
};

// Parses "http[s]://host[:port][/path][?query][#fragment]"; the scheme is
// case-insensitive. User info ("user@") is refused. Any thread.
absl::StatusOr<Url> ParseUrl(absl::string_view url);

}  // namespace eddy::http

#endif  // EDDY_HTTP_URL_H_
