#ifndef EDDY_HTTP_REQUEST_H_
#define EDDY_HTTP_REQUEST_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace eddy::http {

enum class Version { kHttp10, kHttp11 };

// One header field; the value has no leading or trailing whitespace.
struct Header {
  absl::string_view name;
  absl::string_view value;
};

// Request is one parsed HTTP/1.x request. Its views point into the
// connection's input buffer (a chunked body into the parser's own storage)
// and are valid until the protocol consumes the request's bytes, i.e. for
// the duration of the route handler's call: copy what you keep.
//
// Threading: owned by one connection's parser, used on its loop thread.
class Request {
 public:
  absl::string_view method() const { return method_; }
  // The request-target as sent: "/a/b?x=1", "http://host/a", "*", ...
  absl::string_view target() const { return target_; }
  // The target's path, without the query; "/" for an absolute-form target
  // without one; "*" for the asterisk form. Still percent-encoded.
  absl::string_view path() const { return path_; }
  // After '?', without it; empty if none.
  absl::string_view query() const { return query_; }
  Version version() const { return version_; }
  absl::Span<const Header> headers() const { return headers_; }
  // The first field named `name`, compared ASCII case-insensitively.
  std::optional<absl::string_view> FindHeader(absl::string_view name) const;
  absl::string_view body() const { return body_; }
  // HTTP/1.1: unless "Connection: close"; HTTP/1.0: only with
  // "Connection: keep-alive".
  bool keep_alive() const { return keep_alive_; }
  // "Expect: 100-continue" on HTTP/1.1.
  bool expects_continue() const { return expects_continue_; }
  bool chunked() const { return chunked_; }
  std::optional<uint64_t> content_length() const { return content_length_; }

 private:
  friend class RequestParser;

  absl::string_view method_;
  absl::string_view target_;
  absl::string_view path_;
  absl::string_view query_;
  Version version_ = Version::kHttp11;
  std::vector<Header> headers_;
  absl::string_view body_;
  std::optional<uint64_t> content_length_;
  bool keep_alive_ = true;
  bool expects_continue_ = false;
  bool chunked_ = false;
};

}  // namespace eddy::http

#endif  // EDDY_HTTP_REQUEST_H_
