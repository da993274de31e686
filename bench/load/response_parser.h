#ifndef EDDY_BENCH_LOAD_RESPONSE_PARSER_H_
#define EDDY_BENCH_LOAD_RESPONSE_PARSER_H_

#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"

namespace eddy::load {

// ResponseParser finds where each HTTP/1.x response of a byte stream ends,
// and its status and keep-alive verdict; it keeps no header or body bytes.
// Bodies are framed as RFC 9112 section 6 says: none for 1xx, 204 and 304;
// chunked when Transfer-Encoding ends in "chunked"; Content-Length; else
// delimited by the server's close. Interim 1xx responses are skipped.
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

  // The longest response head accepted.
  static constexpr size_t kMaxHeadBytes = 64 * 1024;

  ResponseParser() { Reset(); }

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

  State state_;
  size_t head_scanned_;  // bytes searched for the end of the head already
  uint64_t body_remaining_;
  int status_code_;
  bool keep_alive_;
  absl::string_view error_;
};

}  // namespace eddy::load

#endif  // EDDY_BENCH_LOAD_RESPONSE_PARSER_H_
