#include "examples/redis/resp_parser.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_split.h"

namespace eddy::redis {
namespace {

// Longer than any number Redis accepts (and its CRLF).
constexpr size_t kMaxNumberLine = 20;

}  // namespace

RespParser::Status RespParser::Fail(std::string message) {
  error_ = std::move(message);
  phase_ = Phase::kError;
  return Status::kError;
}

void RespParser::StartCommand() {
  phase_ = Phase::kStart;
  pos_ = scan_ = 0;
  arguments_left_ = 0;
  bulk_length_ = 0;
  ranges_.clear();
  arguments_.clear();
  consumed_ = 0;
  error_.clear();
}

RespParser::Status RespParser::Parse(absl::string_view input) {
  if (phase_ == Phase::kComplete || phase_ == Phase::kError) StartCommand();
  return ParseSome(input);
}

RespParser::Status RespParser::ParseSome(absl::string_view input) {
  while (true) {
    switch (phase_) {
      case Phase::kStart:
        if (input.empty()) return Status::kIncomplete;
        ++bytes_examined_;
        if (input[0] != '*') {
          phase_ = Phase::kInline;
          break;
        }
        pos_ = 1;
        phase_ = Phase::kArrayLength;
        break;
      case Phase::kArrayLength: {
        long long count = 0;
        const NumberStatus number = ReadNumber(input, &count);
        if (number == NumberStatus::kIncomplete) return Status::kIncomplete;
        if (number == NumberStatus::kMalformed || count < 0 ||
            static_cast<unsigned long long>(count) > limits_.max_arguments) {
          return Fail("Protocol error: invalid multibulk length");
        }
        arguments_left_ = static_cast<uint64_t>(count);
        phase_ = Phase::kBulkStart;
        break;
      }
      case Phase::kBulkStart:
        if (arguments_left_ == 0) return Complete(input);
        if (pos_ == input.size()) return Status::kIncomplete;
        ++bytes_examined_;
        if (input[pos_] != '$') {
          return Fail(std::string("Protocol error: expected '$', got '") +
                      input[pos_] + "'");
        }
        ++pos_;
        phase_ = Phase::kBulkLength;
        break;
      case Phase::kBulkLength: {
        long long length = 0;
        const NumberStatus number = ReadNumber(input, &length);
        if (number == NumberStatus::kIncomplete) return Status::kIncomplete;
        if (number == NumberStatus::kMalformed || length < 0 ||
            static_cast<unsigned long long>(length) > limits_.max_bulk_bytes) {
          return Fail("Protocol error: invalid bulk length");
        }
        bulk_length_ = static_cast<size_t>(length);
        phase_ = Phase::kBulkData;
        break;
      }
      case Phase::kBulkData:
        // The payload is not scanned: its length says where it ends.
        if (input.size() - pos_ < bulk_length_ + 2) return Status::kIncomplete;
        bytes_examined_ += 2;
        if (input[pos_ + bulk_length_] != '\r' ||
            input[pos_ + bulk_length_ + 1] != '\n') {
          return Fail("Protocol error: bulk string not followed by CRLF");
        }
        ranges_.push_back(Range{pos_, bulk_length_});
        pos_ += bulk_length_ + 2;
        --arguments_left_;
        phase_ = Phase::kBulkStart;
        break;
      case Phase::kInline:
        return ParseInline(input);
      case Phase::kComplete:
        return Status::kComplete;
      case Phase::kError:
        return Status::kError;
    }
  }
}

RespParser::NumberStatus RespParser::ReadNumber(absl::string_view input,
                                                long long* value) {
  const size_t from = std::max(scan_, pos_);
  const size_t cr = input.find("\r\n", from);
  if (cr == absl::string_view::npos) {
    bytes_examined_ += input.size() - from;
    if (input.size() - pos_ > kMaxNumberLine) return NumberStatus::kMalformed;
    // A CR at the end may be the first half of the CRLF: look at it again.
    scan_ = std::max(pos_, input.size() - 1);
    return NumberStatus::kIncomplete;
  }
  bytes_examined_ += cr + 2 - from;
  absl::string_view digits = input.substr(pos_, cr - pos_);
  bool negative = false;
  if (!digits.empty() && digits[0] == '-') {
    negative = true;
    digits.remove_prefix(1);
  }
  if (digits.empty() || digits.size() > 18) return NumberStatus::kMalformed;
  long long result = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return NumberStatus::kMalformed;
    result = result * 10 + (c - '0');
  }
  *value = negative ? -result : result;
  pos_ = scan_ = cr + 2;
  return NumberStatus::kRead;
}

RespParser::Status RespParser::ParseInline(absl::string_view input) {
  const size_t lf = input.find('\n', scan_);
  if (lf == absl::string_view::npos) {
    bytes_examined_ += input.size() - scan_;
    scan_ = input.size();
    if (input.size() > limits_.max_inline_bytes) {
      return Fail("Protocol error: too big inline request");
    }
    return Status::kIncomplete;
  }
  bytes_examined_ += lf + 1 - scan_;
  absl::string_view line = input.substr(0, lf);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  for (absl::string_view word : absl::StrSplit(line, ' ', absl::SkipEmpty())) {
    arguments_.push_back(word);
  }
  consumed_ = lf + 1;
  phase_ = Phase::kComplete;
  return Status::kComplete;
}

RespParser::Status RespParser::Complete(absl::string_view input) {
  arguments_.reserve(ranges_.size());
  for (const Range& range : ranges_) {
    arguments_.push_back(input.substr(range.offset, range.length));
  }
  consumed_ = pos_;
  phase_ = Phase::kComplete;
  return Status::kComplete;
}

}  // namespace eddy::redis
