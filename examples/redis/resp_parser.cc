#include "examples/redis/resp_parser.h"

#include <cstring>

#include "absl/strings/str_split.h"

namespace eddy::redis {
namespace {

// Reads "<digits>\r\n" at `pos` (after the type byte). Returns false on a
// malformed number; sets *complete = false when the CRLF has not arrived.
bool ReadLength(absl::string_view input, size_t* pos, long long* value,
                bool* complete) {
  const size_t start = *pos;
  const size_t cr = input.find("\r\n", start);
  if (cr == absl::string_view::npos) {
    *complete = false;
    return input.size() - start <= 20;  // a number is never this long
  }
  absl::string_view digits = input.substr(start, cr - start);
  bool negative = false;
  if (!digits.empty() && digits[0] == '-') {
    negative = true;
    digits.remove_prefix(1);
  }
  if (digits.empty() || digits.size() > 18) return false;
  long long result = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return false;
    result = result * 10 + (c - '0');
  }
  *value = negative ? -result : result;
  *pos = cr + 2;
  *complete = true;
  return true;
}

}  // namespace

RespParser::Status RespParser::Fail(std::string message) {
  error_ = std::move(message);
  return Status::kError;
}

RespParser::Status RespParser::Parse(absl::string_view input) {
  arguments_.clear();
  consumed_ = 0;
  if (input.empty()) return Status::kIncomplete;
  if (input[0] != '*') return ParseInline(input);
  size_t pos = 1;
  long long count = 0;
  bool complete = true;
  if (!ReadLength(input, &pos, &count, &complete)) {
    return Fail("Protocol error: invalid multibulk length");
  }
  if (!complete) return Status::kIncomplete;
  if (count < 0 ||
      static_cast<unsigned long long>(count) > limits_.max_arguments) {
    return Fail("Protocol error: invalid multibulk length");
  }
  for (long long i = 0; i < count; ++i) {
    if (pos >= input.size()) return Status::kIncomplete;
    if (input[pos] != '$') {
      return Fail(std::string("Protocol error: expected '$', got '") +
                  input[pos] + "'");
    }
    ++pos;
    long long length = 0;
    if (!ReadLength(input, &pos, &length, &complete)) {
      return Fail("Protocol error: invalid bulk length");
    }
    if (!complete) return Status::kIncomplete;
    if (length < 0 ||
        static_cast<unsigned long long>(length) > limits_.max_bulk_bytes) {
      return Fail("Protocol error: invalid bulk length");
    }
    const size_t size = static_cast<size_t>(length);
    if (input.size() - pos < size + 2) return Status::kIncomplete;
    if (input[pos + size] != '\r' || input[pos + size + 1] != '\n') {
      return Fail("Protocol error: bulk string not followed by CRLF");
    }
    arguments_.push_back(input.substr(pos, size));
    pos += size + 2;
  }
  consumed_ = pos;
  return Status::kComplete;
}

RespParser::Status RespParser::ParseInline(absl::string_view input) {
  const size_t lf = input.find('\n');
  if (lf == absl::string_view::npos) {
    if (input.size() > limits_.max_inline_bytes) {
      return Fail("Protocol error: too big inline request");
    }
    return Status::kIncomplete;
  }
  absl::string_view line = input.substr(0, lf);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  for (absl::string_view word : absl::StrSplit(line, ' ', absl::SkipEmpty())) {
    arguments_.push_back(word);
  }
  consumed_ = lf + 1;
  return Status::kComplete;
}

}  // namespace eddy::redis
