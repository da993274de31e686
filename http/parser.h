#ifndef EDDY_HTTP_PARSER_H_
#define EDDY_HTTP_PARSER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"
#include "eddy/http/request.h"

namespace eddy::http {

// Limits of one request; exceeding one is answered with the status named.
// max_request_line and max_header_bytes are capped at 1 GiB, which keeps
// the parser's offsets into the head 32-bit.
struct ParserLimits {
  size_t max_request_line = 8 * 1024;   // 414
  size_t max_header_bytes = 16 * 1024;  // 431: request line and fields;
                                        // trailers get the same budget
  size_t max_header_count = 100;        // 431; trailers get the same budget
  size_t max_body_bytes = 1024 * 1024;  // 413: Content-Length or decoded
                                        // chunked total
  size_t max_chunk_line = 4 * 1024;     // 400: one chunk-size line, its
                                        // extensions included
  size_t max_chunk_framing_bytes = 256 * 1024;  // 413: all chunk-size lines
                                                // and CRLFs of one body
};

// RequestParser is an incremental, zero-copy HTTP/1.x request parser (RFC
// 9112, RFC 1945).
//
// The caller passes all bytes received for the current request so far,
// starting at its first byte, each call with the same prefix plus whatever
// arrived since, and consumes nothing until the request is complete. The
// parser remembers how far it got as offsets, not pointers, because the
// caller's buffer may move between calls; feeding a request one byte at a
// time therefore costs linear, not quadratic, time. The input may hold
// more than one request (pipelining): consumed() says where the first one
// ends; Reset() prepares for the next.
//
// A chunked body's framing may dwarf its data, so a caller need not keep a
// chunked request buffered whole: after each kIncomplete, ReleaseParsed()
// says how many bytes at the front of the input the parser is done with;
// the caller drops them and passes the input without them from then on.
// What a request holds is then bounded by the limits (the head, one chunk
// line, the decoded body), not by what the client sent.
//
// A body may also be streamed instead of buffered: with set_hold_at_body,
// Parse stops at the end of a head that announces a body, so the caller can
// pick a route first; BufferBody() then goes on as usual, StreamBody()
// hands each piece of the decoded body (Content-Length or chunked) to the
// callback of Parse as it arrives, keeps none of it, and lifts
// max_body_bytes (the receiver bounds what it keeps). ReleaseParsed() then
// releases what was handed over too.
//
// It rejects what could be used to smuggle requests past a proxy or to
// confuse one: bare CR, control characters, whitespace before a field's
// colon, obs-fold, Content-Length with Transfer-Encoding, differing or
// malformed Content-Length values, a final transfer coding other than
// chunked, chunked framing errors, and a missing or repeated Host on
// HTTP/1.1.
//
// Ownership: request() holds views into the input of the last Parse() call
// (a chunked body is decoded into storage the parser owns); they are
// re-pointed, one pass over the fields, only when the buffer moved. All
// storage keeps its capacity across Reset(), so a reused parser does not
// allocate.
//
// Threading: one parser per connection, owned by it and used only on that
// connection's loop thread; not thread-safe.
class RequestParser {
 public:
  enum class Status { kIncomplete, kComplete, kError };

  explicit RequestParser(ParserLimits limits = {});

  // Parses as far as `input` allows. kIncomplete: more bytes are needed
  // (head_complete() tells whether the head is done already). After
  // kComplete or kError, further calls return the same status until
  // Reset().
  Status Parse(absl::string_view input);
  // The same, for a body being streamed (StreamBody): `on_body` receives the
  // pieces decoded by this call, in order, as views into `input` valid only
  // during the call. The request is complete when it returns kComplete.
  using BodyPiece = absl::FunctionRef<void(absl::string_view)>;
  Status Parse(absl::string_view input, BodyPiece on_body);

  // After kComplete, everything; once head_complete(), all but body(), as
  // views into the input of the last Parse() call.
  const Request& request() const { return request_; }
  // After kComplete: the bytes of input that made up the request, from
  // any leading empty lines to the end of its body or chunked framing.
  size_t consumed() const { return consumed_; }
  // After kError: 400, 413, 414, 431, 501 or 505, and a short reason.
  int error_status() const { return error_status_; }
  absl::string_view error_reason() const { return error_reason_; }
  // The request line and header fields are parsed and valid, so a
  // "100 Continue" can be sent before the body arrives.
  bool head_complete() const { return head_complete_; }

  // Call right after a Parse() that returned kIncomplete, before the input
  // changes. Returns how many bytes at the front of that input the parser
  // no longer needs (chunk framing and chunk data already decoded, once the
  // head is complete), and from then on expects the input without them:
  // the caller must drop exactly that many. The first time, the head is
  // copied into the parser's storage so that request() stays valid.
  // Returns 0 when nothing can be released.
  size_t ReleaseParsed();

  // Whether Parse stops after a head that announces a body until
  // BufferBody() or StreamBody() is called (off by default). Kept across
  // Reset().
  void set_hold_at_body(bool hold) { hold_at_body_ = hold; }
  // The head is complete and Parse waits for BufferBody or StreamBody.
  bool awaiting_body_choice() const { return phase_ == Phase::kBodyChoice; }
  // Call only while awaiting_body_choice(). Buffers the body as without the
  // hold; a Content-Length above max_body_bytes makes the next Parse fail
  // with 413.
  void BufferBody();
  // Call only while awaiting_body_choice(). From now on body pieces go to
  // the callback of Parse, and request().body() stays empty.
  void StreamBody();
  // Heap bytes the parser holds for the request (a decoded chunked body, a
  // copied head), capacity included.
  size_t held_bytes() const {
    return chunked_body_.capacity() + owned_head_.capacity();
  }

  // Ready for the next request; keeps the allocated capacity and limits.
  void Reset();
  // For a parser reused by another connection; call between requests.
  void set_limits(ParserLimits limits);

 private:
  enum class Phase {
    kLeadingLines,
    kRequestLine,
    kHeaders,
    kBodyChoice,  // held at the end of the head (set_hold_at_body)
    kBody,
    kChunkSize,
    kChunkData,
    kChunkDataEnd,
    kTrailers,
    kComplete,
    kError,
  };

  // A range of the head, as offsets because the input may move.
  struct Span {
    uint32_t offset = 0;
    uint32_t length = 0;
  };
  struct FieldSpans {
    Span name;
    Span value;
  };
  // A line's content, without its CR LF or LF.
  struct Line {
    size_t begin = 0;
    size_t end = 0;
    // It holds a control character other than HTAB (a bare CR, NUL, ...).
    bool has_control = false;
    size_t size() const { return end - begin; }
  };
  // What the head's fields say about framing and the connection, gathered
  // as each field is parsed.
  struct HeadFacts {
    int hosts = 0;
    bool have_length = false;
    bool have_transfer_encoding = false;  // the field, even if empty
    bool have_coding = false;
    bool have_unknown_coding = false;
    bool chunked_last = false;
    bool chunked_not_last = false;
    bool close = false;
    bool keep_alive = false;
    bool expect_continue = false;
  };

  Status ParseSome(absl::string_view input);
  Status Fail(int status, absl::string_view reason);
  // Finds the end of the line that starts at pos_, checking its bytes on
  // the way (one pass); false when its LF has not arrived yet. Advances
  // pos_ past the LF.
  bool NextLine(absl::string_view input, Line* line);
  bool EndLine(size_t content_end, size_t next, Line* line);
  Status ParseLeadingLines(absl::string_view input);
  // Fails as soon as the request line's first bytes cannot be a method.
  Status CheckMethodSoFar(absl::string_view input);
  Status ParseRequestLine(absl::string_view input, const Line& line);
  Status ClassifyTarget(absl::string_view input);
  Status ParseFieldLine(absl::string_view input, const Line& line,
                        bool trailer);
  // Updates facts_ from a field that bears on framing or the connection.
  Status NoteField(absl::string_view name, absl::string_view value);
  Status FinishHead(absl::string_view input);
  void EnterBody();
  // Hands a streamed piece on, or keeps a buffered chunk's data.
  void TakeBody(absl::string_view piece);
  Status ParseChunkSize(absl::string_view input, const Line& line);
  Status ParseChunkDataEnd(absl::string_view input);
  Status CountChunkFraming(size_t bytes);
  Status Complete(absl::string_view input);
  static absl::string_view View(absl::string_view input, Span span) {
    return absl::string_view(input.data() + span.offset, span.length);
  }
  // Point the request's views into `input`: those of the request line, and
  // all made so far (after the buffer moved).
  void BindRequestLine(absl::string_view input);
  void BindHead(absl::string_view input);
  void BindBody(absl::string_view input);

  ParserLimits limits_;
  Request request_;
  Phase phase_ = Phase::kLeadingLines;
  bool head_complete_ = false;
  size_t pos_ = 0;   // the next byte to parse
  size_t scan_ = 0;  // [pos_, scan_) holds no LF: where the LF search resumes
  bool line_has_control_ = false;  // within [pos_, scan_)
  bool method_checked_ = false;    // the request line's method is a token
  size_t head_start_ = 0;          // after leading empty lines
  size_t body_start_ = 0;
  size_t trailer_start_ = 0;
  size_t consumed_ = 0;
  Span method_;
  Span target_;
  Span path_;
  Span query_;
  bool path_is_root_ = false;  // absolute-form target without a path
  std::vector<FieldSpans> fields_;
  HeadFacts facts_;
  size_t trailer_count_ = 0;
  uint64_t content_length_ = 0;
  uint64_t chunk_remaining_ = 0;
  uint64_t chunk_framing_bytes_ = 0;
  bool hold_at_body_ = false;
  bool streaming_ = false;
  uint64_t stream_remaining_ = 0;  // of a streamed Content-Length body
  // The callback of the Parse call in progress, while streaming.
  const BodyPiece* on_body_ = nullptr;
  std::string chunked_body_;
  // The head, [0, body_start_) of the input, once ReleaseParsed() let the
  // caller drop it; the request's views and Spans then point here.
  std::string owned_head_;
  bool head_owned_ = false;
  // The input the request's views were made for; read only by
  // ReleaseParsed(), right after the Parse() call that set it.
  const char* bound_to_ = nullptr;
  int error_status_ = 0;
  absl::string_view error_reason_;
};

}  // namespace eddy::http

#endif  // EDDY_HTTP_PARSER_H_
