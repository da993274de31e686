#ifndef EDDY_HTTP_RESPONSE_PARSER_H_
#define EDDY_HTTP_RESPONSE_PARSER_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "eddy/http/request.h"

namespace eddy::http {

// ResponseParser finds where each HTTP/1.x response of a byte stream ends,
// and its status and keep-alive verdict; it keeps no header or body bytes.
// Bodies are framed as RFC 9112 section 6 says: none for 1xx, 204 and 304
// or for the answer to HEAD (ExpectNoBody); chunked when Transfer-Encoding
// ends in "chunked" (trailers skipped); Content-Length; else delimited by
// the server's close. Interim 1xx responses are skipped.
//
// A caller that wants the fields and the body (http::Client) passes an
// Observer; one that only counts responses (eddy-load) passes none and
// pays nothing for it.
//
// The caller feeds the unconsumed front of its input, drops the bytes Feed
// reports consumed, and feeds again while Feed makes progress. A head is
// consumed only once complete; body bytes are consumed as they arrive, so a
// large body never accumulates in the caller's buffer.
//
// Not thread-safe: one parser per connection.
class ResponseParser {
 public:
  enum class Status {
    kIncomplete,  // feed more bytes (after dropping the consumed ones)
    kComplete,    // a response ended; see status_code() and keep_alive()
    kError,       // the stream is not HTTP/1.x; see error()
  };

  // Told of each final response's head and of its body as it arrives.
  // The views are valid during the call only.
  class Observer {
   public:
    virtual void OnResponseHead(int status_code, absl::string_view reason,
                                absl::Span<const Header> headers) = 0;
    // A piece of the body, de-chunked; called zero or more times between
    // OnResponseHead and Feed's kComplete.
    virtual void OnResponseBody(absl::string_view piece) = 0;

   protected:
    ~Observer() = default;
  };

  // The longest response head accepted.
  static constexpr size_t kMaxHeadBytes = 64 * 1024;

  // `observer` (may be null) must outlive the parser.
  explicit ResponseParser(Observer* observer = nullptr) : observer_(observer) {
    Reset();
  }

  // Starts over, for a new connection.
  void Reset();

  // Parses from `data`, the caller's unconsumed bytes. Sets `*consumed` to
  // the bytes the caller must drop. After kComplete the next call starts the
  // next response.
  Status Feed(absl::string_view data, size_t* consumed);

  // The connection ended (EOF). Completes a close-delimited body and returns
  // kComplete; returns kIncomplete when no response was under way, and
  // kError when the server closed in the middle of one.
  Status Finish();

  // The next response answers a HEAD request: it ends with its head,
  // whatever its Content-Length says. Call before feeding its first byte.
  void ExpectNoBody() { no_body_ = true; }

  // True while a response has been started but not finished.
  bool in_response() const { return state_ != State::kStart; }

  // Of the last completed response.
  int status_code() const { return status_code_; }
  // Whether the server keeps the connection open after the last completed
  // response: HTTP/1.1 unless "Connection: close"; HTTP/1.0 only with
  // "Connection: keep-alive"; never after a close-delimited body.
  bool keep_alive() const { return keep_alive_; }
  // Why Feed or Finish returned kError.
  absl::string_view error() const { return error_; }

 private:
  enum class State {
    kStart,  // nothing of the next response seen yet
    kHead,
    kBody,  // body_remaining_ bytes of a Content-Length body
    kChunkSize,
    kChunkData,     // body_remaining_ bytes of chunk data
    kChunkDataEnd,  // the CRLF after chunk data
    kTrailers,
    kUntilClose,
  };

  Status ParseHead(absl::string_view head);
  Status Fail(absl::string_view why);
  Status Completed();
  void DeliverBody(absl::string_view piece) {
    if (observer_ != nullptr && !piece.empty())
      observer_->OnResponseBody(piece);
  }

  State state_;
  size_t head_scanned_;  // bytes searched for the end of the head already
  uint64_t body_remaining_;
  int status_code_;
  bool keep_alive_;
  absl::string_view error_;
  bool no_body_ = false;
  Observer* const observer_;
  std::vector<Header> headers_;  // only with an observer; reused
};

}  // namespace eddy::http

#endif  // EDDY_HTTP_RESPONSE_PARSER_H_
