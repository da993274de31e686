// libFuzzer target for the WebSocket frame reader. The first byte chooses
// how the rest, a stream of frames, is read:
//   bits 0-5  the arrival piece size, 1 to 64 bytes;
//   bit 6     a client's reader (server frames, unmasked) instead of a
//             server's;
//   bit 7     a small message limit (32 bytes) instead of 64 KiB.
// Checks, besides memory safety (ASan/UBSan):
//  - a call consumes no more than it was given;
//  - what stays buffered is at most one frame within the limit plus its
//    header and the piece that just arrived, and a message being
//    reassembled stays within the limit;
//  - text messages and close reasons are UTF-8, control payloads at most
//    125 bytes, close codes valid, errors carry a 1002, 1007 or 1009;
//  - reading piecewise gives the same events as reading the stream whole.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "eddy/http/utf8_validator.h"
#include "eddy/http/websocket_frame.h"

namespace {

using eddy::http::WebSocketReader;
using Type = WebSocketReader::EventType;

void Check(bool condition) {
  if (!condition) __builtin_trap();
}

bool IsUtf8(const std::string& text) {
  eddy::http::Utf8Validator validator;
  return validator.Feed(text) && validator.complete();
}

void CheckEvent(const WebSocketReader::Event& event, size_t limit) {
  switch (event.type) {
    case Type::kText:
      Check(IsUtf8(event.payload));
      [[fallthrough]];
    case Type::kBinary:
      Check(event.payload.size() <= limit);
      break;
    case Type::kPing:
    case Type::kPong:
      Check(event.payload.size() <= 125);
      break;
    case Type::kClose:
      Check(event.payload.size() <= 123 && IsUtf8(event.payload));
      Check(event.code == eddy::http::WebSocketStatus::kNoStatus ||
            eddy::http::IsValidWebSocketCloseCode(event.code));
      break;
    case Type::kError:
      Check(event.code == 1002 || event.code == 1007 || event.code == 1009);
      Check(!event.error.empty());
      break;
    case Type::kNeedMore:
      break;
  }
}

// Reads `stream` in pieces of `piece` bytes (all at once if 0); returns
// the events up to the first close or error.
std::vector<WebSocketReader::Event> Read(absl::string_view stream, size_t piece,
                                         WebSocketReader::Options options) {
  WebSocketReader reader(options);
  std::vector<WebSocketReader::Event> events;
  std::string held;
  size_t offset = 0;
  while (offset < stream.size()) {
    const size_t take = piece == 0 ? stream.size() : piece;
    const size_t arrived = std::min(take, stream.size() - offset);
    held.append(stream.data() + offset, arrived);
    offset += arrived;
    while (true) {
      size_t consumed = 0;
      WebSocketReader::Event event = reader.Next(held, consumed);
      Check(consumed <= held.size());
      held.erase(0, consumed);
      Check(reader.pending_message_bytes() <= options.max_message_bytes);
      if (event.type == Type::kNeedMore) break;
      CheckEvent(event, options.max_message_bytes);
      const bool last =
          event.type == Type::kClose || event.type == Type::kError;
      events.push_back(std::move(event));
      if (last) return events;
    }
    // A control frame may exceed a small message limit.
    Check(held.size() <=
          std::max<size_t>(options.max_message_bytes, 125) + 14 + arrived);
  }
  return events;
}

bool SameEvents(const std::vector<WebSocketReader::Event>& a,
                const std::vector<WebSocketReader::Event>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].type != b[i].type || a[i].payload != b[i].payload ||
        a[i].code != b[i].code) {
      return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t control = data[0];
  const absl::string_view stream(reinterpret_cast<const char*>(data + 1),
                                 size - 1);
  WebSocketReader::Options options;
  options.expect_masked = (control & 0x40) == 0;
  options.max_message_bytes = (control & 0x80) != 0 ? 32 : 64 * 1024;
  const size_t piece = (control & 0x3F) + 1;
  Check(SameEvents(Read(stream, piece, options), Read(stream, 0, options)));
  return 0;
}
