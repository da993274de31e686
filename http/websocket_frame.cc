#include "eddy/http/websocket_frame.h"

#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace eddy::http {
namespace {

constexpr size_t kMaxControlPayload = 125;

bool IsControl(WebSocketOpcode opcode) {
  return static_cast<uint8_t>(opcode) >= 0x8;
}

bool IsKnownOpcode(uint8_t opcode) {
  return opcode <= 0x2 || (opcode >= 0x8 && opcode <= 0xA);
}

// Appends `payload` unmasked with `mask` (RFC 6455 5.3).
void AppendUnmasked(absl::string_view payload, const uint8_t mask[4],
                    std::string& out) {
  const size_t start = out.size();
  out.append(payload.data(), payload.size());
  char* bytes = out.data() + start;
  for (size_t i = 0; i < payload.size(); ++i) {
    bytes[i] = static_cast<char>(bytes[i] ^ mask[i & 3]);
  }
}

}  // namespace

bool IsValidWebSocketCloseCode(int code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
         (code >= 3000 && code <= 4999);
}

void AppendWebSocketFrameHeader(WebSocketOpcode opcode, bool fin, uint64_t size,
                                std::string& out) {
  out.push_back(
      static_cast<char>((fin ? 0x80 : 0x00) | static_cast<uint8_t>(opcode)));
  if (size < 126) {
    out.push_back(static_cast<char>(size));
  } else if (size <= 0xFFFF) {
    out.push_back(static_cast<char>(126));
    out.push_back(static_cast<char>(size >> 8));
    out.push_back(static_cast<char>(size));
  } else {
    out.push_back(static_cast<char>(127));
    for (int shift = 56; shift >= 0; shift -= 8) {
      out.push_back(static_cast<char>(size >> shift));
    }
  }
}

std::string WebSocketFrame(WebSocketOpcode opcode, absl::string_view payload) {
  std::string frame;
  frame.reserve(payload.size() + 10);
  AppendWebSocketFrameHeader(opcode, /*fin=*/true, payload.size(), frame);
  frame.append(payload.data(), payload.size());
  return frame;
}

std::string WebSocketClosePayload(int code, absl::string_view reason) {
  std::string payload;
  payload.push_back(static_cast<char>((code >> 8) & 0xFF));
  payload.push_back(static_cast<char>(code & 0xFF));
  // Cut at a character boundary so that the reason stays UTF-8.
  size_t size = std::min(reason.size(), kMaxControlPayload - 2);
  while (size > 0 && size < reason.size() &&
         (static_cast<uint8_t>(reason[size]) & 0xC0) == 0x80) {
    --size;
  }
  payload.append(reason.data(), size);
  return payload;
}

WebSocketReader::Event WebSocketReader::Fail(int code, std::string error) {
  Event event;
  event.type = EventType::kError;
  event.code = code;
  event.error = std::move(error);
  return event;
}

WebSocketReader::Event WebSocketReader::Next(absl::string_view input,
                                             size_t& consumed) {
  while (true) {
    if (input.size() < 2) return {};
    const uint8_t first = static_cast<uint8_t>(input[0]);
    const uint8_t second = static_cast<uint8_t>(input[1]);
    const bool fin = (first & 0x80) != 0;
    const uint8_t raw_opcode = first & 0x0F;
    if ((first & 0x70) != 0) {
      return Fail(WebSocketStatus::kProtocolError,
                  "reserved bits set without an extension");
    }
    if (!IsKnownOpcode(raw_opcode)) {
      return Fail(WebSocketStatus::kProtocolError,
                  absl::StrCat("reserved opcode ", raw_opcode));
    }
    const auto opcode = static_cast<WebSocketOpcode>(raw_opcode);
    const bool masked = (second & 0x80) != 0;
    if (masked != options_.expect_masked) {
      return Fail(WebSocketStatus::kProtocolError,
                  masked ? "a server's frame was masked"
                         : "a client's frame was not masked");
    }
    uint64_t size = second & 0x7F;
    size_t header = 2;
    if (size == 126) {
      if (input.size() < 4) return {};
      size = uint64_t{static_cast<uint8_t>(input[2])} << 8 |
             static_cast<uint8_t>(input[3]);
      header = 4;
    } else if (size == 127) {
      if (input.size() < 10) return {};
      size = 0;
      for (int i = 2; i < 10; ++i) {
        size = size << 8 | static_cast<uint8_t>(input[i]);
      }
      if ((size >> 63) != 0) {
        return Fail(WebSocketStatus::kProtocolError,
                    "frame length has its top bit set");
      }
      header = 10;
    }
    if (IsControl(opcode) && (!fin || size > kMaxControlPayload)) {
      return Fail(WebSocketStatus::kProtocolError,
                  !fin ? "fragmented control frame"
                       : "control frame longer than 125 bytes");
    }
    if (!IsControl(opcode)) {
      if (opcode == WebSocketOpcode::kContinuation && !in_message_) {
        return Fail(WebSocketStatus::kProtocolError,
                    "continuation frame outside a fragmented message");
      }
      if (opcode != WebSocketOpcode::kContinuation && in_message_) {
        return Fail(WebSocketStatus::kProtocolError,
                    "new message inside a fragmented message");
      }
      // Checked on the header, before the payload is waited for: a peer
      // cannot make the input hold more than the limit.
      if (size > options_.max_message_bytes - message_.size()) {
        return Fail(WebSocketStatus::kMessageTooBig,
                    absl::StrCat("message larger than ",
                                 options_.max_message_bytes, " bytes"));
      }
    }
    uint8_t mask[4] = {0, 0, 0, 0};
    if (masked) {
      if (input.size() < header + 4) return {};
      std::memcpy(mask, input.data() + header, 4);
      header += 4;
    }
    if (input.size() - header < size) return {};
    const absl::string_view payload = input.substr(header, size);
    input.remove_prefix(header + size);
    consumed += header + size;

    if (IsControl(opcode)) {
      std::string data;
      AppendUnmasked(payload, mask, data);
      return ControlEvent(opcode, std::move(data));
    }
    if (opcode != WebSocketOpcode::kContinuation) {
      in_message_ = true;
      message_is_text_ = opcode == WebSocketOpcode::kText;
      utf8_.Reset();
    }
    const size_t start = message_.size();
    AppendUnmasked(payload, mask, message_);
    if (message_is_text_ &&
        !utf8_.Feed(absl::string_view(message_).substr(start))) {
      return Fail(WebSocketStatus::kInvalidPayload, "text is not UTF-8");
    }
    if (!fin) continue;
    if (message_is_text_ && !utf8_.complete()) {
      return Fail(WebSocketStatus::kInvalidPayload,
                  "text ends inside a UTF-8 sequence");
    }
    Event event;
    event.type = message_is_text_ ? EventType::kText : EventType::kBinary;
    event.payload = std::exchange(message_, std::string());
    in_message_ = false;
    return event;
  }
}

WebSocketReader::Event WebSocketReader::ControlEvent(WebSocketOpcode opcode,
                                                     std::string payload) {
  Event event;
  if (opcode == WebSocketOpcode::kPing) {
    event.type = EventType::kPing;
  } else if (opcode == WebSocketOpcode::kPong) {
    event.type = EventType::kPong;
  } else {
    event.type = EventType::kClose;
    if (payload.empty()) {
      event.code = WebSocketStatus::kNoStatus;
      return event;
    }
    if (payload.size() == 1) {
      return Fail(WebSocketStatus::kProtocolError,
                  "close frame with a one-byte payload");
    }
    event.code = static_cast<uint8_t>(payload[0]) << 8 |
                 static_cast<uint8_t>(payload[1]);
    if (!IsValidWebSocketCloseCode(event.code)) {
      return Fail(WebSocketStatus::kProtocolError,
                  absl::StrCat("invalid close code ", event.code));
    }
    payload.erase(0, 2);
    Utf8Validator reason;
    if (!reason.Feed(payload) || !reason.complete()) {
      return Fail(WebSocketStatus::kInvalidPayload,
                  "close reason is not UTF-8");
    }
  }
  event.payload = std::move(payload);
  return event;
}

}  // namespace eddy::http
