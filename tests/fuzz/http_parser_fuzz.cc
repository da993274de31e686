// libFuzzer target for the HTTP request parser. The first byte chooses how
// the rest is cut into arrival pieces; the stream may hold several
// pipelined requests. Checks, besides memory safety (ASan/UBSan):
//  - consumed() of a complete request is positive and within the input;
//  - every view of a complete request lies within the input (or, for a
//    chunked body, within the parser's own storage);
//  - an error status is one the protocol knows how to send;
//  - the first request parses the same whole and piecewise.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "http/parser.h"

namespace {

using eddy::http::RequestParser;

bool Within(absl::string_view view, absl::string_view input) {
  return view.empty() ||
         (view.data() >= input.data() &&
          view.data() + view.size() <= input.data() + input.size());
}

void Check(bool condition) {
  if (!condition) std::abort();
}

void CheckComplete(const RequestParser& parser, absl::string_view input) {
  const eddy::http::Request& r = parser.request();
  Check(parser.consumed() > 0 && parser.consumed() <= input.size());
  Check(Within(r.method(), input) && !r.method().empty());
  Check(Within(r.target(), input) && !r.target().empty());
  Check(Within(r.path(), input) || r.path() == "/");
  Check(Within(r.query(), input));
  for (const eddy::http::Header& h : r.headers()) {
    Check(Within(h.name, input) && Within(h.value, input));
  }
  if (!r.chunked()) Check(Within(r.body(), input));
}

void CheckError(const RequestParser& parser) {
  const int s = parser.error_status();
  Check(s == 400 || s == 413 || s == 414 || s == 431 || s == 501 || s == 505);
  Check(!parser.error_reason().empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t step = 1 + data[0] % 64;
  const std::string stream(reinterpret_cast<const char*>(data + 1), size - 1);
  eddy::http::ParserLimits limits;
  limits.max_request_line = 512;
  limits.max_header_bytes = 2048;
  limits.max_header_count = 20;
  limits.max_body_bytes = 4096;

  // Whole-input parse of the first request, for comparison.
  RequestParser whole(limits);
  const RequestParser::Status whole_status = whole.Parse(stream);
  if (whole_status == RequestParser::Status::kComplete)
    CheckComplete(whole, stream);
  if (whole_status == RequestParser::Status::kError) CheckError(whole);

  RequestParser parser(limits);
  size_t start = 0;  // first byte of the current request in `stream`
  size_t available = 0;
  bool first = true;
  std::string buffer;
  while (start < stream.size()) {
    available = std::min(stream.size(), available + step);
    buffer.assign(stream, start, available - start);  // the buffer may move
    const RequestParser::Status status = parser.Parse(buffer);
    if (status == RequestParser::Status::kIncomplete) {
      if (available == stream.size()) {
        if (first) Check(whole_status == RequestParser::Status::kIncomplete);
        break;
      }
      continue;
    }
    if (first) {
      Check(status == whole_status);
      if (status == RequestParser::Status::kComplete) {
        Check(parser.consumed() == whole.consumed());
      } else {
        Check(parser.error_status() == whole.error_status());
      }
      first = false;
    }
    if (status == RequestParser::Status::kError) {
      CheckError(parser);
      break;
    }
    CheckComplete(parser, buffer);
    start += parser.consumed();
    available = start;
    parser.Reset();
  }
  return 0;
}
