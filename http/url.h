#ifndef EDDY_HTTP_URL_H_
#define EDDY_HTTP_URL_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace eddy::http {

// An http:// URL split into what a client needs to send a request.
struct Url {
  std::string host;    // a name or an IP address, without brackets
  uint16_t port = 80;  // 80 unless the URL names one
  std::string target;  // the path and query, "/" at least; no fragment
  // The Host header's value: "host", "host:port", "[v6]:port".
  std::string authority;
  // "host:port" or "[v6]:port", as Connect (net/connector.h) takes it.
  std::string host_port;
};

// Parses "http://host[:port][/path][?query][#fragment]". "https://"
// returns absl::UnimplementedError: eddy's client has no TLS yet. User
// info ("user@") is refused. Any thread.
absl::StatusOr<Url> ParseUrl(absl::string_view url);

}  // namespace eddy::http

#endif  // EDDY_HTTP_URL_H_
