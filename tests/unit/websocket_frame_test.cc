#include "eddy/http/websocket_frame.h"

#include <cstdint>
#include <string>

#include "absl/strings/escaping.h"
#include "eddy/http/internal/sha1.h"
#include "eddy/http/utf8_validator.h"
#include "eddy/http/websocket.h"
#include "gtest/gtest.h"

namespace eddy::http {
namespace {

using Type = WebSocketReader::EventType;

// A frame as a client sends it: masked with a fixed key.
std::string ClientFrame(uint8_t opcode, absl::string_view payload,
                        bool fin = true, uint8_t first_bits = 0) {
  std::string frame;
  frame.push_back(static_cast<char>((fin ? 0x80 : 0) | first_bits | opcode));
  const uint8_t mask[4] = {0x12, 0x34, 0x56, 0x78};
  const size_t size = payload.size();
  if (size < 126) {
    frame.push_back(static_cast<char>(0x80 | size));
  } else if (size <= 0xFFFF) {
    frame.push_back(static_cast<char>(0x80 | 126));
    frame.push_back(static_cast<char>(size >> 8));
    frame.push_back(static_cast<char>(size));
  } else {
    frame.push_back(static_cast<char>(0x80 | 127));
    for (int shift = 56; shift >= 0; shift -= 8) {
      frame.push_back(static_cast<char>(uint64_t{size} >> shift));
    }
  }
  frame.append(reinterpret_cast<const char*>(mask), 4);
  for (size_t i = 0; i < size; ++i) {
    frame.push_back(static_cast<char>(payload[i] ^ mask[i % 4]));
  }
  return frame;
}

std::string Close(int code, absl::string_view reason = "") {
  return ClientFrame(0x8, WebSocketClosePayload(code, reason));
}

// Reads every event `input` holds; stops at the first kNeedMore, kClose or
// kError.
std::vector<WebSocketReader::Event> ReadAll(WebSocketReader& reader,
                                            absl::string_view input) {
  std::vector<WebSocketReader::Event> events;
  while (true) {
    size_t consumed = 0;
    WebSocketReader::Event event = reader.Next(input, consumed);
    input.remove_prefix(consumed);
    const Type type = event.type;
    if (type == Type::kNeedMore) break;
    events.push_back(std::move(event));
    if (type == Type::kClose || type == Type::kError) break;
  }
  return events;
}

WebSocketReader::Event Last(absl::string_view input,
                            size_t max_message = 1 << 20) {
  WebSocketReader reader(
      {.max_message_bytes = max_message, .expect_masked = true});
  std::vector<WebSocketReader::Event> events = ReadAll(reader, input);
  return events.empty() ? WebSocketReader::Event() : std::move(events.back());
}

TEST(WebSocketReader, TextMessageIsUnmasked) {
  WebSocketReader::Event event = Last(ClientFrame(0x1, "Hello"));
  EXPECT_EQ(event.type, Type::kText);
  EXPECT_EQ(event.payload, "Hello");
}

TEST(WebSocketReader, SixteenAndSixtyFourBitLengths) {
  const std::string medium(300, 'm');
  const std::string large(70000, 'l');
  EXPECT_EQ(Last(ClientFrame(0x2, medium)).payload, medium);
  EXPECT_EQ(Last(ClientFrame(0x2, large)).payload, large);
}

TEST(WebSocketReader, FragmentsAreReassembledWithControlFramesBetween) {
  WebSocketReader reader({.max_message_bytes = 100, .expect_masked = true});
  const std::string input = ClientFrame(0x1, "Hel", /*fin=*/false) +
                            ClientFrame(0x9, "p") +
                            ClientFrame(0x0, "lo", /*fin=*/false) +
                            ClientFrame(0x0, "!", /*fin=*/true);
  std::vector<WebSocketReader::Event> events = ReadAll(reader, input);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].type, Type::kPing);
  EXPECT_EQ(events[0].payload, "p");
  EXPECT_EQ(events[1].type, Type::kText);
  EXPECT_EQ(events[1].payload, "Hello!");
}

TEST(WebSocketReader, InputArrivingByteByByteGivesTheSameMessage) {
  WebSocketReader reader({.max_message_bytes = 1000, .expect_masked = true});
  const std::string input =
      ClientFrame(0x2, std::string(200, 'b'), false) + ClientFrame(0x0, "end");
  std::string held;
  std::vector<WebSocketReader::Event> events;
  for (char byte : input) {
    held.push_back(byte);
    size_t consumed = 0;
    WebSocketReader::Event event = reader.Next(held, consumed);
    held.erase(0, consumed);
    if (event.type != Type::kNeedMore) events.push_back(std::move(event));
  }
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, Type::kBinary);
  EXPECT_EQ(events[0].payload, std::string(200, 'b') + "end");
  EXPECT_TRUE(held.empty());
}

TEST(WebSocketReader, UnmaskedClientFrameIs1002) {
  std::string frame = ClientFrame(0x1, "");
  frame[1] = 0;  // mask bit off, no key
  EXPECT_EQ(Last(frame).type, Type::kError);
  EXPECT_EQ(Last(frame).code, 1002);
}

TEST(WebSocketReader, ReservedBitsAre1002) {
  for (uint8_t bit : {0x40, 0x20, 0x10}) {
    WebSocketReader::Event event = Last(ClientFrame(0x1, "x", true, bit));
    EXPECT_EQ(event.type, Type::kError);
    EXPECT_EQ(event.code, 1002) << int{bit};
  }
}

TEST(WebSocketReader, ReservedOpcodesAre1002) {
  for (uint8_t opcode : {0x3, 0x7, 0xB, 0xF}) {
    EXPECT_EQ(Last(ClientFrame(opcode, "x")).code, 1002) << int{opcode};
  }
}

TEST(WebSocketReader, LongOrFragmentedControlFramesAre1002) {
  EXPECT_EQ(Last(ClientFrame(0x9, std::string(126, 'p'))).code, 1002);
  EXPECT_EQ(Last(ClientFrame(0x9, std::string(125, 'p'))).type, Type::kPing);
  EXPECT_EQ(Last(ClientFrame(0x9, "p", /*fin=*/false)).code, 1002);
  EXPECT_EQ(Last(ClientFrame(0x8, "", /*fin=*/false)).code, 1002);
}

TEST(WebSocketReader, ContinuationOutOfPlaceIs1002) {
  EXPECT_EQ(Last(ClientFrame(0x0, "x")).code, 1002);
  EXPECT_EQ(
      Last(ClientFrame(0x1, "a", /*fin=*/false) + ClientFrame(0x1, "b")).code,
      1002);
}

TEST(WebSocketReader, MessageOverTheLimitIs1009) {
  EXPECT_EQ(Last(ClientFrame(0x2, std::string(11, 'x')), 10).code, 1009);
  EXPECT_EQ(Last(ClientFrame(0x2, std::string(10, 'x')), 10).type,
            Type::kBinary);
  // Across fragments, each within the limit.
  EXPECT_EQ(Last(ClientFrame(0x2, std::string(6, 'x'), false) +
                     ClientFrame(0x0, std::string(6, 'x')),
                 10)
                .code,
            1009);
}

TEST(WebSocketReader, OversizedFrameIsRefusedFromItsHeaderAlone) {
  std::string header = ClientFrame(0x2, std::string(70000, 'x'));
  header.resize(14);  // the header and mask, none of the payload
  EXPECT_EQ(Last(header, 1000).code, 1009);
}

TEST(WebSocketReader, InvalidUtf8TextIs1007) {
  EXPECT_EQ(Last(ClientFrame(0x1, "\xC0\xAF")).code, 1007);      // overlong
  EXPECT_EQ(Last(ClientFrame(0x1, "\xED\xA0\x80")).code, 1007);  // surrogate
  EXPECT_EQ(Last(ClientFrame(0x1, "\xF4\x90\x80\x80")).code, 1007);
  EXPECT_EQ(Last(ClientFrame(0x1, "ok\xE2\x82")).code, 1007);  // cut short
  // Binary is not checked.
  EXPECT_EQ(Last(ClientFrame(0x2, "\xC0\xAF")).type, Type::kBinary);
}

TEST(WebSocketReader, Utf8IsCheckedAcrossFragments) {
  // U+20AC split over two fragments is fine...
  WebSocketReader::Event good =
      Last(ClientFrame(0x1, "\xE2\x82", false) + ClientFrame(0x0, "\xAC"));
  EXPECT_EQ(good.type, Type::kText);
  EXPECT_EQ(good.payload, "\xE2\x82\xAC");
  // ...a bad byte fails as soon as its fragment arrives, before the end...
  WebSocketReader reader({.max_message_bytes = 100, .expect_masked = true});
  size_t consumed = 0;
  EXPECT_EQ(reader
                .Next(ClientFrame(0x1, "\xE2\x82", false) +
                          ClientFrame(0x0, "\x41", false),
                      consumed)
                .code,
            1007);
  // ...and a message may not end inside a character.
  EXPECT_EQ(Last(ClientFrame(0x1, "a", false) + ClientFrame(0x0, "\xE2")).code,
            1007);
}

TEST(WebSocketReader, CloseFrames) {
  WebSocketReader::Event normal = Last(Close(1000, "bye"));
  EXPECT_EQ(normal.type, Type::kClose);
  EXPECT_EQ(normal.code, 1000);
  EXPECT_EQ(normal.payload, "bye");
  EXPECT_EQ(Last(ClientFrame(0x8, "")).code, WebSocketStatus::kNoStatus);
  EXPECT_EQ(Last(Close(4999)).type, Type::kClose);
  EXPECT_EQ(Last(Close(3000)).type, Type::kClose);
}

TEST(WebSocketReader, BadCloseFramesAre1002Or1007) {
  EXPECT_EQ(Last(ClientFrame(0x8, "\x03")).code, 1002);  // one byte
  for (int code : {0, 999, 1004, 1005, 1006, 1015, 2999, 5000}) {
    WebSocketReader::Event event = Last(Close(code));
    EXPECT_EQ(event.type, Type::kError) << code;
    EXPECT_EQ(event.code, 1002) << code;
  }
  EXPECT_EQ(Last(Close(1000, "\xFF")).code, 1007);
}

TEST(WebSocketReader, ServerFramesReadByAClientReader) {
  WebSocketReader reader({.max_message_bytes = 100, .expect_masked = false});
  size_t consumed = 0;
  WebSocketReader::Event event =
      reader.Next(WebSocketFrame(WebSocketOpcode::kText, "hi"), consumed);
  EXPECT_EQ(event.type, Type::kText);
  EXPECT_EQ(event.payload, "hi");
  consumed = 0;
  EXPECT_EQ(reader.Next(ClientFrame(0x1, "masked"), consumed).code, 1002);
}

TEST(WebSocketClosePayload, ReasonIsCutAtACharacterBoundary) {
  std::string reason;
  for (int i = 0; i < 100; ++i) reason += "\xC3\xA9";  // 200 bytes
  const std::string payload = WebSocketClosePayload(1000, reason);
  EXPECT_LE(payload.size(), 125u);
  Utf8Validator utf8;
  EXPECT_TRUE(utf8.Feed(payload.substr(2)));
  EXPECT_TRUE(utf8.complete());
}

TEST(Sha1, KnownDigests) {
  auto hex = [](absl::string_view data) {
    const auto digest = Sha1(data);
    return absl::BytesToHexString(absl::string_view(
        reinterpret_cast<const char*>(digest.data()), digest.size()));
  };
  EXPECT_EQ(hex(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  EXPECT_EQ(hex(std::string(1000000, 'a')),
            "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

TEST(WebSocketAcceptKey, MatchesTheRfcExample) {
  EXPECT_EQ(WebSocketAcceptKey("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

}  // namespace
}  // namespace eddy::http
