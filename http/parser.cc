#include "http/parser.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <string_view>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"

namespace eddy::http {
namespace {

// Character classes of RFC 9110 5.6.2 (tchar) and 5.5 (field-vchar), as
// tables so that each byte costs one load.
constexpr std::array<bool, 256> MakeTokenTable() {
  std::array<bool, 256> table{};
  for (int c = '0'; c <= '9'; ++c) table[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) table[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) table[c] = true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) {
    table[static_cast<unsigned char>(c)] = true;
  }
  return table;
}
constexpr std::array<bool, 256> MakeFieldValueTable() {
  std::array<bool, 256> table{};
  table['\t'] = true;
  for (int c = 0x20; c <= 0x7e; ++c) table[c] = true;
  for (int c = 0x80; c <= 0xff; ++c) table[c] = true;
  return table;
}
constexpr std::array<bool, 256> MakeTargetTable() {
  std::array<bool, 256> table{};
  for (int c = 0x21; c <= 0x7e; ++c) table[c] = true;
  return table;
}
constexpr std::array<bool, 256> kToken = MakeTokenTable();
constexpr std::array<bool, 256> kFieldValue = MakeFieldValueTable();
constexpr std::array<bool, 256> kTarget = MakeTargetTable();

bool IsToken(unsigned char c) { return kToken[c]; }

// True when every byte is a valid field-value byte. Eight bytes at a time:
// a word with no byte below 0x20 and none equal to 0x7f (DEL) is valid
// whatever else it holds (obs-text bytes >= 0x80 are allowed); words that
// may hold a control byte (or a legal HTAB) are checked byte by byte.
bool IsFieldValue(absl::string_view text) {
  constexpr uint64_t kOnes = 0x0101010101010101ull;
  constexpr uint64_t kHighs = 0x8080808080808080ull;
  size_t i = 0;
  for (; i + 8 <= text.size(); i += 8) {
    uint64_t word;
    std::memcpy(&word, text.data() + i, 8);
    const uint64_t below_space = (word - kOnes * 0x20) & ~word & kHighs;
    const uint64_t del = word ^ (kOnes * 0x7f);
    const uint64_t is_del = (del - kOnes) & ~del & kHighs;
    if ((below_space | is_del) != 0) {
      for (size_t j = i; j < i + 8; ++j) {
        if (!kFieldValue[static_cast<unsigned char>(text[j])]) return false;
      }
    }
  }
  for (; i < text.size(); ++i) {
    if (!kFieldValue[static_cast<unsigned char>(text[i])]) return false;
  }
  return true;
}

// Longest accepted chunk-size line (digits and extensions).
constexpr size_t kMaxChunkLine = 4096;
// Leading empty lines tolerated before a request line (RFC 9112 2.2).
constexpr size_t kMaxLeadingBytes = 64;

absl::string_view Trim(absl::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

// Strict 1*DIGIT with overflow check: no sign, no spaces, not empty.
bool ParseDecimal(absl::string_view text, uint64_t* value) {
  if (text.empty() || text.size() > 19) return false;
  uint64_t result = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    result = result * 10 + static_cast<uint64_t>(c - '0');
  }
  *value = result;
  return true;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

RequestParser::RequestParser(ParserLimits limits) : limits_(limits) {}

void RequestParser::Reset() {
  const ParserLimits limits = limits_;
  phase_ = Phase::kLeadingLines;
  pos_ = head_start_ = body_start_ = trailer_start_ = consumed_ = 0;
  method_ = target_ = Span{};
  fields_.clear();
  trailer_count_ = 0;
  content_length_ = chunk_remaining_ = 0;
  chunked_body_.clear();
  error_status_ = 0;
  error_reason_ = {};
  request_.headers_.clear();
  request_.method_ = request_.target_ = request_.path_ = request_.query_ = {};
  request_.body_ = {};
  request_.version_ = Version::kHttp11;
  request_.content_length_.reset();
  request_.keep_alive_ = true;
  request_.expects_continue_ = false;
  request_.chunked_ = false;
  limits_ = limits;
}

RequestParser::Status RequestParser::Fail(int status,
                                          absl::string_view reason) {
  phase_ = Phase::kError;
  error_status_ = status;
  error_reason_ = reason;
  return Status::kError;
}

bool RequestParser::NextLine(absl::string_view input, Span* line) {
  if (pos_ >= input.size()) return false;
  const void* lf = std::memchr(input.data() + pos_, '\n', input.size() - pos_);
  if (lf == nullptr) return false;
  const size_t end = static_cast<const char*>(lf) - input.data();
  size_t content_end = end;
  if (content_end > pos_ && input[content_end - 1] == '\r') --content_end;
  line->offset = static_cast<uint32_t>(pos_);
  line->length = static_cast<uint32_t>(content_end - pos_);
  pos_ = end + 1;
  return true;
}

RequestParser::Status RequestParser::Parse(absl::string_view input) {
  if (phase_ == Phase::kError) return Status::kError;
  if (phase_ == Phase::kComplete) return Status::kComplete;
  // Offsets are 32-bit; the limits keep heads far below that, and bodies
  // are bounded by max_body_bytes.
  if (input.size() > UINT32_MAX) return Fail(413, "request too large");
  Span line;
  while (true) {
    switch (phase_) {
      case Phase::kLeadingLines: {
        while (pos_ < input.size() &&
               (input[pos_] == '\r' || input[pos_] == '\n')) {
          if (input[pos_] == '\r') {
            if (pos_ + 1 >= input.size()) return Status::kIncomplete;
            if (input[pos_ + 1] != '\n') {
              return Fail(400, "bare CR before the request line");
            }
          }
          ++pos_;
          if (pos_ > kMaxLeadingBytes) {
            return Fail(400, "too many empty lines before the request line");
          }
        }
        if (pos_ >= input.size()) return Status::kIncomplete;
        head_start_ = pos_;
        phase_ = Phase::kRequestLine;
        break;
      }
      case Phase::kRequestLine:
        if (!NextLine(input, &line)) {
          // Pending bytes are the line plus at most a CR: beyond limit + 1
          // the line is certain to be too long, whatever follows.
          if (input.size() - head_start_ > limits_.max_request_line + 1) {
            return Fail(414, "request line too long");
          }
          return Status::kIncomplete;
        }
        if (line.length > limits_.max_request_line) {
          return Fail(414, "request line too long");
        }
        if (ParseRequestLine(input, line) == Status::kError) {
          return Status::kError;
        }
        phase_ = Phase::kHeaders;
        break;
      case Phase::kHeaders:
        if (!NextLine(input, &line)) {
          if (input.size() - head_start_ > limits_.max_header_bytes) {
            return Fail(431, "header section too large");
          }
          return Status::kIncomplete;
        }
        if (pos_ - head_start_ > limits_.max_header_bytes) {
          return Fail(431, "header section too large");
        }
        if (line.length == 0) {
          if (FinishHead(input) == Status::kError) return Status::kError;
          break;
        }
        if (ParseFieldLine(input, line, false) == Status::kError) {
          return Status::kError;
        }
        break;
      case Phase::kBody:
        if (input.size() - body_start_ < content_length_) {
          return Status::kIncomplete;
        }
        pos_ = body_start_ + content_length_;
        request_.body_ = input.substr(body_start_, content_length_);
        return Complete(input);
      case Phase::kChunkSize:
        if (!NextLine(input, &line)) {
          if (input.size() - pos_ > kMaxChunkLine + 1) {
            return Fail(400, "chunk size line too long");
          }
          return Status::kIncomplete;
        }
        if (ParseChunkSize(input, line) == Status::kError) {
          return Status::kError;
        }
        break;
      case Phase::kChunkData: {
        const size_t available = input.size() - pos_;
        const size_t take = static_cast<size_t>(
            std::min<uint64_t>(available, chunk_remaining_));
        chunked_body_.append(input.data() + pos_, take);
        pos_ += take;
        chunk_remaining_ -= take;
        if (chunk_remaining_ > 0) return Status::kIncomplete;
        phase_ = Phase::kChunkDataEnd;
        break;
      }
      case Phase::kChunkDataEnd:
        if (pos_ >= input.size()) return Status::kIncomplete;
        if (input[pos_] == '\n') {
          ++pos_;
        } else if (input[pos_] == '\r') {
          if (pos_ + 1 >= input.size()) return Status::kIncomplete;
          if (input[pos_ + 1] != '\n')
            return Fail(400, "bad CRLF after chunk data");
          pos_ += 2;
        } else {
          return Fail(400, "chunk data longer than its size");
        }
        phase_ = Phase::kChunkSize;
        break;
      case Phase::kTrailers:
        if (!NextLine(input, &line)) {
          if (input.size() - trailer_start_ > limits_.max_header_bytes) {
            return Fail(431, "trailer section too large");
          }
          return Status::kIncomplete;
        }
        if (pos_ - trailer_start_ > limits_.max_header_bytes) {
          return Fail(431, "trailer section too large");
        }
        if (line.length == 0) {
          request_.body_ = chunked_body_;
          return Complete(input);
        }
        if (ParseFieldLine(input, line, true) == Status::kError) {
          return Status::kError;
        }
        break;
      case Phase::kComplete:
        return Status::kComplete;
      case Phase::kError:
        return Status::kError;
    }
  }
}

RequestParser::Status RequestParser::ParseRequestLine(absl::string_view input,
                                                      Span line) {
  absl::string_view text = input.substr(line.offset, line.length);
  // method SP request-target SP HTTP-version, single spaces.
  size_t i = 0;
  while (i < text.size() && IsToken(static_cast<unsigned char>(text[i]))) ++i;
  if (i == 0 || i >= text.size() || text[i] != ' ') {
    return Fail(400, "malformed method");
  }
  method_ = Span{line.offset, static_cast<uint32_t>(i)};
  const size_t target_start = ++i;
  while (i < text.size() && kTarget[static_cast<unsigned char>(text[i])]) ++i;
  if (i == target_start || i >= text.size() || text[i] != ' ') {
    return Fail(400, "malformed request target");
  }
  target_ = Span{static_cast<uint32_t>(line.offset + target_start),
                 static_cast<uint32_t>(i - target_start)};
  absl::string_view version = text.substr(i + 1);
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" ||
      !absl::ascii_isdigit(version[5]) || version[6] != '.' ||
      !absl::ascii_isdigit(version[7])) {
    return Fail(400, "malformed HTTP version");
  }
  if (version[5] != '1') return Fail(505, "only HTTP/1.x is supported");
  request_.version_ = version[7] == '0' ? Version::kHttp10 : Version::kHttp11;

  absl::string_view method = text.substr(0, method_.length);
  absl::string_view target = input.substr(target_.offset, target_.length);
  if (target == "*") {
    if (method != "OPTIONS") return Fail(400, "'*' target is for OPTIONS only");
  } else if (target[0] != '/') {
    if (method == "CONNECT") {
      if (target.find('/') != absl::string_view::npos ||
          target.find(':') == absl::string_view::npos) {
        return Fail(400, "CONNECT needs an authority-form target");
      }
    } else {
      const size_t scheme_end = target.find("://");
      if (scheme_end == absl::string_view::npos || scheme_end == 0 ||
          !absl::ascii_isalpha(target[0])) {
        return Fail(400, "malformed request target");
      }
    }
  }
  return Status::kIncomplete;
}

RequestParser::Status RequestParser::ParseFieldLine(absl::string_view input,
                                                    Span line, bool trailer) {
  absl::string_view text = input.substr(line.offset, line.length);
  if (text[0] == ' ' || text[0] == '\t') {
    return Fail(400, "obsolete line folding");
  }
  size_t i = 0;
  while (i < text.size() && IsToken(static_cast<unsigned char>(text[i]))) ++i;
  if (i == 0 || i >= text.size() || text[i] != ':') {
    return Fail(400, i < text.size() && (text[i] == ' ' || text[i] == '\t')
                         ? "whitespace before a field's colon"
                         : "malformed header field");
  }
  if (!IsFieldValue(text.substr(i + 1))) {
    return Fail(400, "control character in a field value");
  }
  if (trailer) {
    // Trailers are checked but not merged into the head's fields.
    if (++trailer_count_ > limits_.max_header_count) {
      return Fail(431, "too many trailer fields");
    }
    return Status::kIncomplete;
  }
  if (fields_.size() >= limits_.max_header_count) {
    return Fail(431, "too many header fields");
  }
  absl::string_view raw_value = text.substr(i + 1);
  absl::string_view value = Trim(raw_value);
  const size_t value_offset =
      value.empty() ? line.offset + line.length
                    : static_cast<size_t>(value.data() - input.data());
  fields_.push_back(FieldSpans{Span{line.offset, static_cast<uint32_t>(i)},
                               Span{static_cast<uint32_t>(value_offset),
                                    static_cast<uint32_t>(value.size())}});
  return Status::kIncomplete;
}

RequestParser::Status RequestParser::FinishHead(absl::string_view input) {
  const bool http11 = request_.version_ == Version::kHttp11;
  int hosts = 0;
  bool have_length = false;
  bool have_transfer_encoding = false;
  bool chunked_last = false;
  bool close = false;
  bool keep_alive = false;
  bool expect_continue = false;
  for (const FieldSpans& field : fields_) {
    absl::string_view name = input.substr(field.name.offset, field.name.length);
    // Only five names matter here; their lengths differ, so the length
    // rules out almost every field before any comparison.
    const size_t n = name.size();
    if (n != 4 && n != 6 && n != 10 && n != 14 && n != 17) continue;
    absl::string_view value =
        input.substr(field.value.offset, field.value.length);
    if (absl::EqualsIgnoreCase(name, "host")) {
      ++hosts;
    } else if (absl::EqualsIgnoreCase(name, "content-length")) {
      for (absl::string_view item : absl::StrSplit(value, ',')) {
        uint64_t length = 0;
        if (!ParseDecimal(Trim(item), &length)) {
          return Fail(400, "malformed Content-Length");
        }
        if (have_length && length != content_length_) {
          return Fail(400, "differing Content-Length values");
        }
        have_length = true;
        content_length_ = length;
      }
    } else if (absl::EqualsIgnoreCase(name, "transfer-encoding")) {
      for (absl::string_view item : absl::StrSplit(value, ',')) {
        absl::string_view coding = Trim(item);
        if (coding.empty()) continue;
        if (chunked_last) {
          // Anything after chunked: chunked was not the final coding.
          return Fail(400, "chunked is not the final transfer coding");
        }
        if (absl::EqualsIgnoreCase(coding, "chunked")) {
          chunked_last = true;
        } else {
          have_transfer_encoding = true;
          chunked_last = false;
          // eddy decodes no transfer coding but chunked.
          return Fail(501, "unsupported transfer coding");
        }
        have_transfer_encoding = true;
      }
      if (!have_transfer_encoding) return Fail(400, "empty Transfer-Encoding");
    } else if (absl::EqualsIgnoreCase(name, "connection")) {
      for (absl::string_view item : absl::StrSplit(value, ',')) {
        absl::string_view option = Trim(item);
        if (absl::EqualsIgnoreCase(option, "close")) close = true;
        if (absl::EqualsIgnoreCase(option, "keep-alive")) keep_alive = true;
      }
    } else if (absl::EqualsIgnoreCase(name, "expect")) {
      expect_continue = absl::EqualsIgnoreCase(value, "100-continue");
    }
  }
  if (http11 && hosts == 0) return Fail(400, "HTTP/1.1 request without Host");
  if (hosts > 1) return Fail(400, "more than one Host");
  if (have_transfer_encoding) {
    if (!http11) return Fail(400, "Transfer-Encoding on HTTP/1.0");
    if (have_length) {
      return Fail(400, "Content-Length and Transfer-Encoding both present");
    }
  }
  if (have_length && content_length_ > limits_.max_body_bytes) {
    return Fail(413, "request body too large");
  }
  request_.keep_alive_ = close ? false : (http11 || keep_alive);
  request_.expects_continue_ = http11 && expect_continue;
  request_.chunked_ = have_transfer_encoding;
  if (have_length) request_.content_length_ = content_length_;
  body_start_ = pos_;
  if (have_transfer_encoding) {
    phase_ = Phase::kChunkSize;
  } else if (have_length && content_length_ > 0) {
    phase_ = Phase::kBody;
  } else {
    return Complete(input);
  }
  return Status::kIncomplete;
}

RequestParser::Status RequestParser::ParseChunkSize(absl::string_view input,
                                                    Span line) {
  absl::string_view text = input.substr(line.offset, line.length);
  if (text.size() > kMaxChunkLine) return Fail(400, "chunk size line too long");
  size_t i = 0;
  uint64_t size = 0;
  while (i < text.size() && HexDigit(text[i]) >= 0) {
    if (size > (UINT64_MAX >> 4)) return Fail(400, "chunk size overflows");
    size = (size << 4) | static_cast<uint64_t>(HexDigit(text[i]));
    ++i;
  }
  if (i == 0) return Fail(400, "malformed chunk size");
  // chunk-ext: *( BWS ";" BWS name [ BWS "=" BWS value ] ), checked for
  // characters only: extensions carry no meaning here.
  absl::string_view extensions = text.substr(i);
  size_t j = 0;
  while (j < extensions.size() &&
         (extensions[j] == ' ' || extensions[j] == '\t')) {
    ++j;
  }
  if (j < extensions.size() && extensions[j] != ';') {
    return Fail(400, "malformed chunk extension");
  }
  for (; j < extensions.size(); ++j) {
    if (!kFieldValue[static_cast<unsigned char>(extensions[j])]) {
      return Fail(400, "control character in a chunk extension");
    }
  }
  if (size > limits_.max_body_bytes ||
      chunked_body_.size() + size > limits_.max_body_bytes) {
    return Fail(413, "request body too large");
  }
  if (size == 0) {
    trailer_start_ = pos_;
    phase_ = Phase::kTrailers;
  } else {
    chunk_remaining_ = size;
    phase_ = Phase::kChunkData;
  }
  return Status::kIncomplete;
}

RequestParser::Status RequestParser::Complete(absl::string_view input) {
  request_.method_ = input.substr(method_.offset, method_.length);
  request_.target_ = input.substr(target_.offset, target_.length);
  absl::string_view target = request_.target_;
  if (target[0] != '/' && target != "*" && request_.method_ != "CONNECT") {
    // absolute-form: skip scheme://authority.
    const size_t authority = target.find("://") + 3;
    const size_t path = target.find_first_of("/?", authority);
    target = path == absl::string_view::npos ? absl::string_view()
                                             : target.substr(path);
  }
  const size_t question = target.find('?');
  if (question != absl::string_view::npos) {
    request_.path_ = target.substr(0, question);
    request_.query_ = target.substr(question + 1);
  } else {
    request_.path_ = target;
    request_.query_ = {};
  }
  if (request_.path_.empty()) request_.path_ = "/";
  request_.headers_.clear();
  for (const FieldSpans& field : fields_) {
    request_.headers_.push_back(
        Header{input.substr(field.name.offset, field.name.length),
               input.substr(field.value.offset, field.value.length)});
  }
  consumed_ = pos_;
  phase_ = Phase::kComplete;
  return Status::kComplete;
}

}  // namespace eddy::http
