#include "eddy/http/response_parser.h"

#include <string.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

namespace eddy::http {
namespace {

// Chunk-size and trailer lines are short; anything longer is not HTTP.
constexpr size_t kMaxLineBytes = 8 * 1024;
// Body lengths beyond this cannot be real and would overflow the arithmetic.
constexpr uint64_t kMaxBodyBytes = uint64_t{1} << 60;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Splits off the first line of `*text` (without its CRLF or LF).
absl::string_view TakeLine(absl::string_view* text) {
  const size_t newline = text->find('\n');
  absl::string_view line = text->substr(0, newline);
  text->remove_prefix(newline == absl::string_view::npos ? text->size()
                                                         : newline + 1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

bool ParseDecimal(absl::string_view digits, uint64_t* value) {
  if (digits.empty()) return false;
  uint64_t result = 0;
  for (char c : digits) {
    if (!IsDigit(c)) return false;
    result = result * 10 + static_cast<uint64_t>(c - '0');
    if (result > kMaxBodyBytes) return false;
  }
  *value = result;
  return true;
}

// The chunk size at the start of a chunk-size line, before any extension.
bool ParseChunkSize(absl::string_view line, uint64_t* size) {
  uint64_t result = 0;
  size_t digits = 0;
  for (char c : line) {
    int nibble;
    if (IsDigit(c)) {
      nibble = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      nibble = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      nibble = c - 'A' + 10;
    } else if (c == ';' || c == ' ' || c == '\t') {
      break;
    } else {
      return false;
    }
    result = (result << 4) | static_cast<uint64_t>(nibble);
    if (result > kMaxBodyBytes) return false;
    ++digits;
  }
  *size = result;
  return digits > 0;
}

// Whether the comma-separated `list` holds `token`, case-insensitively.
bool HasToken(absl::string_view list, absl::string_view token) {
  while (!list.empty()) {
    const size_t comma = list.find(',');
    if (absl::EqualsIgnoreCase(
            absl::StripAsciiWhitespace(list.substr(0, comma)), token)) {
      return true;
    }
    if (comma == absl::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

// Whether the last transfer coding of `list` is chunked.
bool EndsWithChunked(absl::string_view list) {
  const size_t comma = list.rfind(',');
  const absl::string_view last =
      comma == absl::string_view::npos ? list : list.substr(comma + 1);
  return absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(last), "chunked");
}

}  // namespace

void ResponseParser::Reset() {
  state_ = State::kStart;
  head_scanned_ = 0;
  body_remaining_ = 0;
  status_code_ = 0;
  keep_alive_ = false;
  error_ = {};
  no_body_ = false;
}

ResponseParser::Status ResponseParser::Fail(absl::string_view why) {
  error_ = why;
  return Status::kError;
}

ResponseParser::Status ResponseParser::Completed() {
  state_ = State::kStart;
  no_body_ = false;
  return Status::kComplete;
}

ResponseParser::Status ResponseParser::Feed(absl::string_view data,
                                            size_t* consumed) {
  size_t pos = 0;
  *consumed = 0;
  while (true) {
    const absl::string_view rest = data.substr(pos);
    switch (state_) {
      case State::kStart:
        if (rest.empty()) return Status::kIncomplete;
        state_ = State::kHead;
        head_scanned_ = 0;
        break;

      case State::kHead: {
        // Resume the search where the last call stopped, less the three
        // bytes that may hold the start of a split "\r\n\r\n".
        const size_t from = head_scanned_ >= 3 ? head_scanned_ - 3 : 0;
        const void* end = from < rest.size()
                              ? ::memmem(rest.data() + from, rest.size() - from,
                                         "\r\n\r\n", 4)
                              : nullptr;
        if (end == nullptr) {
          if (rest.size() > kMaxHeadBytes)
            return Fail("response head too long");
          head_scanned_ = rest.size();
          return Status::kIncomplete;
        }
        const size_t head_bytes =
            static_cast<size_t>(static_cast<const char*>(end) - rest.data()) +
            4;
        const Status status = ParseHead(rest.substr(0, head_bytes));
        if (status == Status::kError) return status;
        pos += head_bytes;
        *consumed = pos;
        if (status == Status::kComplete) return Completed();
        break;
      }

      case State::kBody:
      case State::kChunkData: {
        const uint64_t take = std::min<uint64_t>(body_remaining_, rest.size());
        DeliverBody(rest.substr(0, static_cast<size_t>(take)));
        pos += static_cast<size_t>(take);
        *consumed = pos;
        body_remaining_ -= take;
        if (body_remaining_ > 0) return Status::kIncomplete;
        if (state_ == State::kBody) return Completed();
        state_ = State::kChunkDataEnd;
        break;
      }

      case State::kChunkDataEnd:
        if (rest.size() < 2) return Status::kIncomplete;
        if (rest[0] != '\r' || rest[1] != '\n') {
          return Fail("chunk data not followed by CRLF");
        }
        pos += 2;
        *consumed = pos;
        state_ = State::kChunkSize;
        break;

      case State::kChunkSize:
      case State::kTrailers: {
        const size_t newline = rest.find('\n');
        if (newline == absl::string_view::npos) {
          if (rest.size() > kMaxLineBytes) return Fail("chunk line too long");
          return Status::kIncomplete;
        }
        absl::string_view line = rest.substr(0, newline);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        pos += newline + 1;
        *consumed = pos;
        if (state_ == State::kTrailers) {
          if (line.empty()) return Completed();
          break;
        }
        uint64_t size;
        if (!ParseChunkSize(line, &size)) return Fail("bad chunk size");
        if (size == 0) {
          state_ = State::kTrailers;
        } else {
          body_remaining_ = size;
          state_ = State::kChunkData;
        }
        break;
      }

      case State::kUntilClose:
        DeliverBody(rest);
        *consumed = data.size();
        return Status::kIncomplete;
    }
  }
}

ResponseParser::Status ResponseParser::Finish() {
  switch (state_) {
    case State::kStart:
      return Status::kIncomplete;
    case State::kUntilClose:
      keep_alive_ = false;
      return Completed();
    default:
      return Fail("connection closed in the middle of a response");
  }
}

ResponseParser::Status ResponseParser::ParseHead(absl::string_view head) {
  const absl::string_view status_line = TakeLine(&head);
  // "HTTP/1.x SSS reason": the reason phrase may be empty, even its space.
  if (status_line.size() < 12 || !absl::StartsWith(status_line, "HTTP/1.") ||
      !IsDigit(status_line[7]) || status_line[8] != ' ' ||
      !IsDigit(status_line[9]) || !IsDigit(status_line[10]) ||
      !IsDigit(status_line[11]) ||
      (status_line.size() > 12 && status_line[12] != ' ')) {
    return Fail("malformed status line");
  }
  const bool http11 = status_line[7] != '0';
  status_code_ = (status_line[9] - '0') * 100 + (status_line[10] - '0') * 10 +
                 (status_line[11] - '0');
  if (status_code_ < 100) return Fail("status code below 100");
  const absl::string_view reason =
      status_line.size() > 13 ? status_line.substr(13) : absl::string_view();
  headers_.clear();

  bool has_transfer_encoding = false;
  bool chunked = false;
  bool has_length = false;
  uint64_t length = 0;
  bool close_token = false;
  bool keep_alive_token = false;
  while (true) {
    const absl::string_view line = TakeLine(&head);
    if (line.empty()) break;
    const size_t colon = line.find(':');
    if (colon == absl::string_view::npos || colon == 0) {
      return Fail("malformed header line");
    }
    const absl::string_view name = line.substr(0, colon);
    const absl::string_view value =
        absl::StripAsciiWhitespace(line.substr(colon + 1));
    if (observer_ != nullptr) headers_.push_back(Header{name, value});
    switch (name.size()) {
      case 10:
        if (absl::EqualsIgnoreCase(name, "connection")) {
          close_token = close_token || HasToken(value, "close");
          keep_alive_token = keep_alive_token || HasToken(value, "keep-alive");
        }
        break;
      case 14:
        if (absl::EqualsIgnoreCase(name, "content-length")) {
          uint64_t parsed;
          if (!ParseDecimal(value, &parsed)) return Fail("bad Content-Length");
          if (has_length && parsed != length) {
            return Fail("conflicting Content-Length headers");
          }
          has_length = true;
          length = parsed;
        }
        break;
      case 17:
        if (absl::EqualsIgnoreCase(name, "transfer-encoding")) {
          has_transfer_encoding = true;
          chunked = EndsWithChunked(value);
        }
        break;
      default:
        break;
    }
  }
  keep_alive_ = http11 ? !close_token : keep_alive_token && !close_token;

  if (status_code_ < 200) {
    // An interim response (100 Continue, 103 Early Hints): the final one
    // follows on the same request.
    state_ = State::kStart;
    return Status::kIncomplete;
  }
  if (observer_ != nullptr) {
    observer_->OnResponseHead(status_code_, reason, headers_);
  }
  if (status_code_ == 204 || status_code_ == 304 || no_body_) {
    return Status::kComplete;
  }
  // A transfer coding overrides Content-Length; one other than chunked
  // leaves only the close to end the body.
  if (chunked) {
    state_ = State::kChunkSize;
    return Status::kIncomplete;
  }
  if (has_length && !has_transfer_encoding) {
    if (length == 0) return Status::kComplete;
    body_remaining_ = length;
    state_ = State::kBody;
    return Status::kIncomplete;
  }
  keep_alive_ = false;
  state_ = State::kUntilClose;
  return Status::kIncomplete;
}

}  // namespace eddy::http
