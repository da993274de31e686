// libFuzzer target for the HTTP response parser (http/response_parser.h),
// which eddy-load and http::Client feed with what servers send. The first
// byte chooses how the rest is cut into arrival pieces (bits 0-5: piece
// size 1 to 64 bytes; bit 6: the response answers HEAD; bit 7: observe the
// heads and bodies). Checks, besides memory safety (ASan/UBSan):
//  - Feed never consumes more than it was given;
//  - the buffered, unconsumed input stays below the head limit plus one
//    piece (a body is consumed as it arrives, never accumulated);
//  - every observed header and body view lies within the input fed;
//  - a completed response has a final status code (200 to 999).
#include <cstddef>
#include <cstdint>
#include <string>

#include "eddy/http/response_parser.h"

namespace {

using eddy::http::Header;
using eddy::http::ResponseParser;
using Status = ResponseParser::Status;

void Check(bool condition) {
  if (!condition) __builtin_trap();
}

bool Within(absl::string_view view, absl::string_view input) {
  return view.empty() ||
         (view.data() >= input.data() &&
          view.data() + view.size() <= input.data() + input.size());
}

class CheckingObserver final : public ResponseParser::Observer {
 public:
  void OnResponseHead(int status_code, absl::string_view reason,
                      absl::Span<const Header> headers) override {
    Check(status_code >= 200 && status_code <= 999);
    Check(Within(reason, input));
    for (const Header& header : headers) {
      Check(Within(header.name, input) && Within(header.value, input));
    }
  }
  void OnResponseBody(absl::string_view piece) override {
    Check(!piece.empty() && Within(piece, input));
  }
  absl::string_view input;  // what the current Feed was given
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t control = data[0];
  const absl::string_view stream(reinterpret_cast<const char*>(data) + 1,
                                 size - 1);
  const size_t piece = (control & 0x3f) + 1;
  CheckingObserver observer;
  ResponseParser parser((control & 0x80) != 0 ? &observer : nullptr);
  if ((control & 0x40) != 0) parser.ExpectNoBody();
  std::string pending;
  size_t offset = 0;
  while (offset < stream.size()) {
    const absl::string_view arrived = stream.substr(offset, piece);
    pending.append(arrived.data(), arrived.size());
    offset += piece;
    while (!pending.empty()) {
      observer.input = pending;
      size_t consumed = 0;
      const Status status = parser.Feed(pending, &consumed);
      Check(consumed <= pending.size());
      pending.erase(0, consumed);
      if (status == Status::kError) return 0;
      if (status == Status::kIncomplete) break;
      Check(parser.status_code() >= 200 && parser.status_code() <= 999);
    }
    Check(pending.size() <= ResponseParser::kMaxHeadBytes + piece);
  }
  (void)parser.Finish();
  return 0;
}
