#ifndef EDDY_HTTP_REQUEST_H_
#define EDDY_HTTP_REQUEST_H_

#include <cstdint>
#include <optional>
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

// Request is one parsed HTTP/1.x request, filled in by RequestParser.
//
// Ownership: the views point into the input last passed to the parser (a
// chunked body into the parser's own storage) and are valid until the
// caller consumes the request's bytes or resets the parser, i.e. for the
// duration of the route handler's call: copy what you keep.
//
// Threading: owned by one connection's parser and used only on that
// connection's loop thread; not thread-safe.
class Request {
 public:
  absl::string_view method() const { return method_; }
  // The request-target as sent: "/a/b?x=1", "http://host/a", "*",
  // "host:443" (CONNECT).
  absl::string_view target() const { return target_; }
  // The target without its query, still percent-encoded. For an
  // absolute-form target its path part ("/" when it has none); "*" for the
  // asterisk form; the authority for CONNECT.
  absl::string_view path() const { return path_; }
  // After '?', without it; empty if none.
  absl::string_view query() const { return query_; }
  Version version() const { return version_; }
  // In arrival order, repeated names kept; trailer fields are not included.
  absl::Span<const Header> headers() const { return headers_; }
  // The first field named `name`, compared ASCII case-insensitively.
  std::optional<absl::string_view> FindHeader(absl::string_view name) const;
  // Content-Length: a view into the input; chunked: the decoded bytes.
  absl::string_view body() const { return body_; }
  // HTTP/1.1: unless Connection lists "close"; HTTP/1.0: only when it lists
  // "keep-alive" (and not "close").
  bool keep_alive() const { return keep_alive_; }
  // "Expect: 100-continue" on HTTP/1.1: the client waits for an interim
  // 100 response before it sends the body.
  bool expects_continue() const { return expects_continue_; }
  bool chunked() const { return chunked_; }
  std::optional<uint64_t> content_length() const { return content_length_; }

 private:
  friend class RequestParser;

  // Back to the state of a default-constructed Request, keeping the
  // capacity of `headers_` so that a reused parser does not allocate.
  void Clear();

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
