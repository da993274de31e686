#ifndef EDDY_HTTP_PARSER_H_
#define EDDY_HTTP_PARSER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "http/request.h"

namespace eddy::http {

// Limits of one request; exceeding one is answered with the status named.
struct ParserLimits {
  size_t max_request_line = 8 * 1024;   // 414
  size_t max_header_bytes = 16 * 1024;  // 431: request line and fields
  size_t max_header_count = 100;        // 431
  size_t max_body_bytes = 1024 * 1024;  // 413: Content-Length or decoded chunks
};

// RequestParser is an incremental, zero-copy HTTP/1.x request parser (RFC
// 9112, RFC 1945). The caller passes all bytes received for the current
// request so far, starting at its first byte, each call with the same
// prefix plus whatever arrived since; the parser remembers how far it got
// (as offsets, since the caller's buffer may move), so feeding a request one
// byte at a time costs linear, not quadratic, time. A complete request is
// exposed as views into the last input passed.
//
// It rejects what could be used to smuggle requests or confuse a proxy: bare
// CR, control characters, whitespace before a field's colon, obs-fold,
// Content-Length with Transfer-Encoding, differing or malformed
// Content-Length values, a final transfer coding other than chunked, chunked
// framing errors, and a missing or repeated Host on HTTP/1.1.
//
// Threading: one parser per connection, used on its loop thread only.
class RequestParser {
 public:
  enum class Status { kIncomplete, kComplete, kError };

  explicit RequestParser(ParserLimits limits = {});

  Status Parse(absl::string_view input);

  // After kComplete.
  const Request& request() const { return request_; }
  // After kComplete: the bytes of input that made up the request.
  size_t consumed() const { return consumed_; }
  // After kError: 400, 413, 414, 431, 501 or 505, and a short reason.
  int error_status() const { return error_status_; }
  absl::string_view error_reason() const { return error_reason_; }
  // The head (request line and fields) is parsed; request().
  // expects_continue() is then known, though views are set only at
  // kComplete.
  bool head_complete() const { return phase_ > Phase::kHeaders; }

  // Ready for the next request; keeps the allocated capacity.
  void Reset();
  // For a reused parser; call between requests.
  void set_limits(ParserLimits limits) { limits_ = limits; }

 private:
  enum class Phase {
    kLeadingLines,
    kRequestLine,
    kHeaders,
    kBody,
    kChunkSize,
    kChunkData,
    kChunkDataEnd,
    kTrailers,
    kComplete,
    kError,
  };

  struct Span {
    uint32_t offset = 0;
    uint32_t length = 0;
  };
  struct FieldSpans {
    Span name;
    Span value;
  };

  Status Fail(int status, absl::string_view reason);
  // Finds the next line from pos_; false when no LF arrived yet. Sets the
  // line's content span (without CR LF) and advances pos_ past the LF.
  bool NextLine(absl::string_view input, Span* line);
  Status ParseRequestLine(absl::string_view input, Span line);
  Status ParseFieldLine(absl::string_view input, Span line, bool trailer);
  Status FinishHead(absl::string_view input);
  Status ParseChunkSize(absl::string_view input, Span line);
  Status Complete(absl::string_view input);

  ParserLimits limits_;
  Request request_;
  Phase phase_ = Phase::kLeadingLines;
  size_t pos_ = 0;         // scanning position in the input
  size_t head_start_ = 0;  // after leading empty lines
  size_t body_start_ = 0;
  size_t trailer_start_ = 0;
  size_t consumed_ = 0;
  Span method_;
  Span target_;
  std::vector<FieldSpans> fields_;
  size_t trailer_count_ = 0;
  uint64_t content_length_ = 0;
  uint64_t chunk_remaining_ = 0;
  std::string chunked_body_;
  int error_status_ = 0;
  absl::string_view error_reason_;
};

}  // namespace eddy::http

#endif  // EDDY_HTTP_PARSER_H_
