#ifndef EDDY_HTTP_WEBSOCKET_FRAME_H_
#define EDDY_HTTP_WEBSOCKET_FRAME_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "eddy/http/utf8_validator.h"

namespace eddy::http {

// Frame opcodes (RFC 6455 5.2).
enum class WebSocketOpcode : uint8_t {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xA,
};

// Close status codes (RFC 6455 7.4.1) that eddy sends or names.
struct WebSocketStatus {
  static constexpr int kNormal = 1000;
  static constexpr int kGoingAway = 1001;
  static constexpr int kProtocolError = 1002;
  static constexpr int kUnsupportedData = 1003;
  // Never sent: what OnClose reports for a close frame without a code...
  static constexpr int kNoStatus = 1005;
  // ...and for a connection that ended without a close frame.
  static constexpr int kAbnormal = 1006;
  static constexpr int kInvalidPayload = 1007;  // e.g. text not UTF-8
  static constexpr int kPolicyViolation = 1008;
  static constexpr int kMessageTooBig = 1009;
  static constexpr int kInternalError = 1011;
};

// Whether a peer may send `code` in a close frame (1000-1003, 1007-1014,
// 3000-4999).
bool IsValidWebSocketCloseCode(int code);

// Appends the header of a frame with `size` bytes of payload, as a server
// sends it (unmasked). `fin` false: more fragments follow.
void AppendWebSocketFrameHeader(WebSocketOpcode opcode, bool fin, uint64_t size,
                                std::string& out);
// A whole frame: header and payload.
std::string WebSocketFrame(WebSocketOpcode opcode, absl::string_view payload);
// A close frame's payload: the code (big-endian) and the reason, cut to
// fit a control frame.
std::string WebSocketClosePayload(int code, absl::string_view reason);

// WebSocketReader turns the bytes a client sends into messages and control
// frames, checking everything RFC 6455 requires of them: masking, reserved
// bits and opcodes (no extension is negotiated), control frames of at most
// 125 bytes and not fragmented, continuation frames only inside a
// fragmented message, a message size limit, UTF-8 in text messages and
// close reasons (checked as the fragments arrive), and valid close codes.
// Input may arrive in any pieces; memory is bounded by the message limit
// (plus one frame's header). Not thread-safe.
class WebSocketReader {
 public:
  struct Options {
    // A message (all its fragments) larger than this fails with 1009.
    size_t max_message_bytes = 1 << 20;
    // Client frames must be masked (a server's reader); false for a client.
    bool expect_masked = true;
  };

  enum class EventType {
    kNeedMore,  // no complete event in the input yet
    kText,      // a whole text message in `payload`
    kBinary,    // a whole binary message in `payload`
    kPing,      // `payload`: the ping's application data
    kPong,
    kClose,  // `code` (kNoStatus if none) and the reason in `payload`
    kError,  // the peer broke the protocol: send a close with `code`
  };
  struct Event {
    EventType type = EventType::kNeedMore;
    std::string payload;
    int code = 0;
    std::string error;  // for kError: what was wrong
  };

  explicit WebSocketReader(Options options) : options_(options) {}

  // Takes frames from the start of `input` until one yields an event, and
  // adds how many bytes it took to `consumed` (fragments of a message are
  // taken even when no event comes of them yet). After kError or kClose,
  // call no more.
  Event Next(absl::string_view input, size_t& consumed);

  // Bytes of a fragmented message received so far.
  size_t pending_message_bytes() const { return message_.size(); }

 private:
  Event Fail(int code, std::string error);
  // A control frame's event; kError if its payload is not acceptable.
  Event ControlEvent(WebSocketOpcode opcode, std::string payload);

  const Options options_;
  // The data message being reassembled from fragments.
  bool in_message_ = false;
  bool message_is_text_ = false;
  std::string message_;
  Utf8Validator utf8_;
};

}  // namespace eddy::http

#endif  // EDDY_HTTP_WEBSOCKET_FRAME_H_
