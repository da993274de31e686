#ifndef EDDY_HTTP_RESPONSE_H_
#define EDDY_HTTP_RESPONSE_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "eddy/core/unique_fd.h"
#include "eddy/net/protocol.h"

namespace eddy::http {

// The standard reason phrase of `status` ("Not Found"), or "Unknown".
absl::string_view ReasonPhrase(int status);

// Response is what a route handler fills in: a status, header fields and a
// body held in memory or taken from a file (sent with sendfile). The
// protocol adds the framing (Content-Length), Date, Server and Connection
// fields. One Response is reused per connection, so its strings keep their
// capacity from request to request.
//
// Not thread-safe; a Response is filled on one thread at a time (for an
// asynchronous route, move it into Responder::Send).
class Response {
 public:
  Response() = default;
  Response(Response&&) = default;
  Response& operator=(Response&&) = default;

  void set_status(int status) { status_ = status; }
  int status() const { return status_; }

  // Appends a header field. Names and values must not contain CR or LF;
  // fields that would break the framing (Content-Length, Transfer-Encoding,
  // Connection, Date, Server) are ignored: the protocol owns them.
  void AddHeader(absl::string_view name, absl::string_view value);
  void set_content_type(absl::string_view type) {
    AddHeader("Content-Type", type);
  }
  // The serialized extra fields, "Name: value\r\n" each.
  absl::string_view header_block() const { return headers_; }

  void set_body(std::string body) {
    body_ = std::move(body);
    file_.reset();
    file_body_ = false;
    body_taken_ = false;
  }
  void append_body(absl::string_view bytes) {
    body_.append(bytes.data(), bytes.size());
  }
  const std::string& body() const { return body_; }
  // Moves the body out, e.g. into Connection::Send, so that a large body is
  // sent from its own memory instead of being copied; content_length()
  // still states its size, as after TakeFile.
  std::string TakeBody();

  // The body is `length` bytes of `file` from `offset`.
  void SetFileBody(UniqueFd file, off_t offset, uint64_t length);
  bool has_file() const { return file_body_; }
  UniqueFd TakeFile() { return std::move(file_); }
  off_t file_offset() const { return file_offset_; }

  // Bytes of body the response declares (the file length or body size).
  uint64_t content_length() const {
    if (file_body_) return file_length_;
    return body_taken_ ? taken_body_length_ : body_.size();
  }

  // Answers 101 Switching Protocols: once this head is sent, the connection
  // belongs to `handler` (Connection::ReplaceHandler), which gets the bytes
  // that follow the request. The protocol writes "Connection: Upgrade"; add
  // the Upgrade field and what the new protocol needs.
  void SwitchProtocols(std::unique_ptr<eddy::Handler> handler) {
    status_ = 101;
    upgrade_ = std::move(handler);
  }
  bool switching_protocols() const { return upgrade_ != nullptr; }
  std::unique_ptr<eddy::Handler> TakeUpgrade() { return std::move(upgrade_); }

  // Makes the response close the connection after it is sent.
  void set_close_connection() { close_connection_ = true; }
  bool close_connection() const { return close_connection_; }

  // Back to a fresh 200 with no fields or body, keeping capacity.
  void Reset();

 private:
  int status_ = 200;
  std::string headers_;
  std::string body_;
  UniqueFd file_;
  off_t file_offset_ = 0;
  uint64_t file_length_ = 0;
  bool file_body_ = false;   // stays set after TakeFile, for the length
  bool body_taken_ = false;  // TakeBody was called; the length is kept
  uint64_t taken_body_length_ = 0;
  bool close_connection_ = false;
  std::unique_ptr<eddy::Handler> upgrade_;
};

}  // namespace eddy::http

#endif  // EDDY_HTTP_RESPONSE_H_
