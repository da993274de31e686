// libFuzzer target for the HTTP request parser. The first byte chooses how
// the rest, a stream that may hold several pipelined requests, is cut into
// arrival pieces:
//   bits 0-5  the piece size, 1 to 64 bytes (the largest, when bit 6 is set);
//   bit 6     piece sizes vary pseudo-randomly up to that size;
//   bit 7     the buffer grows in place instead of moving with every piece.
// The stream's length chooses the limits (see below). Pieces are parsed as
// the HTTP protocol does: the bytes ReleaseParsed() gives up are dropped.
// Checks, besides memory safety (ASan/UBSan):
//  - a complete request consumed at least one byte and no more than it had;
//  - every view of a complete request, and of a complete head, lies within
//    the input until part of it was released (a chunked body within the
//    decoded size limit);
//  - once released, what stays buffered of a chunked request is at most
//    one chunk line or the trailer section;
//  - an error status is one the protocol knows how to send, with a reason;
//  - the first request parses the same whole and piecewise.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "eddy/http/parser.h"

namespace {

using eddy::http::RequestParser;
using Status = RequestParser::Status;

void Check(bool condition) {
  if (!condition) __builtin_trap();
}

bool Within(absl::string_view view, absl::string_view input) {
  return view.empty() ||
         (view.data() >= input.data() &&
          view.data() + view.size() <= input.data() + input.size());
}

void CheckHead(const RequestParser& parser, absl::string_view input) {
  const eddy::http::Request& r = parser.request();
  Check(!r.method().empty() && Within(r.method(), input));
  Check(!r.target().empty() && Within(r.target(), input));
  Check(Within(r.path(), input) || r.path() == "/");
  Check(Within(r.query(), input));
  for (const eddy::http::Header& h : r.headers()) {
    Check(!h.name.empty() && Within(h.name, input) && Within(h.value, input));
  }
}

void CheckComplete(const RequestParser& parser, absl::string_view input,
                   const eddy::http::ParserLimits& limits, bool released) {
  const eddy::http::Request& r = parser.request();
  Check(parser.head_complete());
  Check(parser.consumed() <= input.size());
  Check(parser.consumed() > 0 || released);
  if (!released) CheckHead(parser, input);
  Check(r.body().size() <= limits.max_body_bytes);
  if (r.chunked()) {
    Check(!r.content_length().has_value());
  } else {
    Check(Within(r.body(), input));
    Check(r.body().size() == r.content_length().value_or(0));
  }
}

void CheckError(const RequestParser& parser) {
  const int s = parser.error_status();
  Check(s == 400 || s == 413 || s == 414 || s == 431 || s == 501 || s == 505);
  Check(!parser.error_reason().empty());
}

// Piece sizes chosen by the control byte.
class Pieces {
 public:
  explicit Pieces(uint8_t control)
      : largest_(1 + (control & 63)),
        varying_((control & 64) != 0),
        state_(0x9e3779b9u ^ control) {}

  size_t Next() {
    if (!varying_) return largest_;
    state_ ^= state_ << 13;
    state_ ^= state_ >> 17;
    state_ ^= state_ << 5;
    return 1 + state_ % largest_;
  }

 private:
  size_t largest_;
  bool varying_;
  uint32_t state_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t control = data[0];
  const bool in_place = (control & 128) != 0;
  const std::string stream(reinterpret_cast<const char*>(data + 1), size - 1);
  // Limits small enough for the fuzzer to reach, and to meet exactly: an
  // input of odd length gets tiny ones, so one added byte flips between
  // the two sets.
  eddy::http::ParserLimits limits;
  const bool tiny = stream.size() % 2 == 1;
  limits.max_request_line = tiny ? 48 : 512;
  limits.max_header_bytes = tiny ? 128 : 2048;
  limits.max_header_count = tiny ? 4 : 20;
  limits.max_body_bytes = tiny ? 64 : 4096;
  limits.max_chunk_line = tiny ? 16 : 256;
  limits.max_chunk_framing_bytes = tiny ? 96 : 2048;

  RequestParser whole(limits);
  const Status whole_status = whole.Parse(stream);
  if (whole_status == Status::kComplete) {
    CheckComplete(whole, stream, limits, /*released=*/false);
  }
  if (whole_status == Status::kError) CheckError(whole);

  Pieces pieces(control);
  RequestParser parser(limits);
  // The connection's unconsumed input: stream[start, start + size()). With
  // room for the whole stream reserved, appending never moves it.
  std::string buffer;
  buffer.reserve(stream.size());
  size_t start = 0;
  size_t released = 0;  // of the request being parsed
  bool first = true;
  while (true) {
    const Status status = parser.Parse(buffer);
    if (status == Status::kIncomplete) {
      if (parser.head_complete() && released == 0) CheckHead(parser, buffer);
      const size_t done = parser.ReleaseParsed();
      Check(done <= buffer.size());
      if (done > 0) {
        buffer.erase(0, done);
        start += done;
        released += done;
      }
      if (released > 0) {
        Check(parser.head_complete() && parser.request().chunked());
        Check(buffer.size() <=
              std::max(limits.max_chunk_line, limits.max_header_bytes) + 2);
      }
      const size_t received = start + buffer.size();
      if (received == stream.size()) {
        if (first) Check(whole_status == Status::kIncomplete);
        break;
      }
      const absl::string_view piece = absl::string_view(stream).substr(
          received, std::min(pieces.Next(), stream.size() - received));
      if (in_place) {
        buffer.append(piece.data(), piece.size());
      } else {
        // A fresh copy moves the bytes: views kept from before would dangle.
        std::string moved = buffer;
        moved.append(piece.data(), piece.size());
        buffer.swap(moved);
      }
      continue;
    }
    if (first) {
      Check(status == whole_status);
      if (status == Status::kComplete) {
        Check(released + parser.consumed() == whole.consumed());
        const eddy::http::Request& a = parser.request();
        const eddy::http::Request& b = whole.request();
        Check(a.method() == b.method() && a.target() == b.target() &&
              a.path() == b.path() && a.query() == b.query() &&
              a.body() == b.body() && a.version() == b.version() &&
              a.keep_alive() == b.keep_alive() &&
              a.headers().size() == b.headers().size());
      } else {
        Check(parser.error_status() == whole.error_status());
      }
      first = false;
    }
    if (status == Status::kError) {
      CheckError(parser);
      Check(parser.Parse(buffer) == Status::kError);
      break;
    }
    CheckComplete(parser, buffer, limits, released > 0);
    Check(parser.Parse(buffer) == Status::kComplete);
    // The protocol consumes the request and parses what follows it.
    start += parser.consumed();
    if (in_place) {
      buffer.erase(0, parser.consumed());
    } else {
      std::string rest(buffer, parser.consumed());
      buffer.swap(rest);
    }
    parser.Reset();
    released = 0;
  }
  return 0;
}
