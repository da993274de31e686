// libFuzzer target for the eddy-redis example's command handling: any
// bytes, arriving in pieces, run through RedisHandler::Process as a
// connection would. The first byte chooses the piece size (1 to 64 bytes).
// Property: the replies parse as exactly one RESP value per command that
// the stream holds (a protocol error's reply being the last), so no client
// bytes can forge a reply; and pieces change nothing.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/string_view.h"
#include "eddy/core/buffer.h"
#include "examples/redis/redis_protocol.h"
#include "examples/redis/resp_parser.h"
#include "examples/redis/store.h"

namespace {

using eddy::redis::RespParser;

void Check(bool condition) {
  if (!condition) __builtin_trap();
}

// The number of replies the handler owes for `stream`: one per complete
// command with arguments, up to and including QUIT or a protocol error.
size_t RepliesOwed(absl::string_view stream) {
  RespParser parser;
  size_t owed = 0;
  while (!stream.empty()) {
    const RespParser::Status status = parser.Parse(stream);
    if (status == RespParser::Status::kIncomplete) break;
    if (status == RespParser::Status::kError) return owed + 1;
    if (!parser.arguments().empty()) {
      ++owed;
      if (absl::EqualsIgnoreCase(parser.arguments()[0], "QUIT")) break;
    }
    stream.remove_prefix(parser.consumed());
  }
  return owed;
}

// Reads one RESP2 reply at *pos; false when there is none, or it is
// malformed. A simple line holds no CR or LF.
bool ReadReply(absl::string_view text, size_t* pos, int depth = 0) {
  if (*pos >= text.size() || depth > 8) return false;
  const char type = text[*pos];
  const size_t line_end = text.find("\r\n", *pos);
  if (line_end == absl::string_view::npos) return false;
  const absl::string_view line = text.substr(*pos + 1, line_end - *pos - 1);
  if (line.find_first_of("\r\n") != absl::string_view::npos) return false;
  *pos = line_end + 2;
  if (type == '+' || type == '-') return true;
  int64_t number = 0;
  if (!absl::SimpleAtoi(line, &number)) return false;
  if (type == ':') return true;
  if (type == '$') {
    if (number == -1) return true;
    if (number < 0 || text.size() - *pos < static_cast<size_t>(number) + 2) {
      return false;
    }
    *pos += static_cast<size_t>(number);
    if (text.substr(*pos, 2) != "\r\n") return false;
    *pos += 2;
    return true;
  }
  if (type == '*') {
    for (int64_t i = 0; i < number; ++i) {
      if (!ReadReply(text, pos, depth + 1)) return false;
    }
    return number >= 0;
  }
  return false;
}

size_t CountReplies(absl::string_view replies) {
  size_t pos = 0;
  size_t count = 0;
  while (pos < replies.size()) {
    Check(ReadReply(replies, &pos));
    ++count;
  }
  return count;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t piece = 1 + (data[0] & 63);
  const absl::string_view stream(reinterpret_cast<const char*>(data + 1),
                                 size - 1);
  eddy::redis::Store store;
  eddy::redis::RedisHandler handler(store);
  eddy::Buffer input;
  std::string replies;
  for (size_t at = 0; at < stream.size(); at += piece) {
    input.Append(stream.substr(at, piece));
    const bool keep_open = handler.Process(input);
    replies += handler.replies();
    if (!keep_open) break;
  }
  Check(CountReplies(replies) == RepliesOwed(stream));
  return 0;
}
