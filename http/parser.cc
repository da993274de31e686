#include "eddy/http/parser.h"

#include <algorithm>
#include <array>
#include <cassert>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace eddy::http {
namespace {

// Character classes of RFC 9110 (tchar 5.6.2, field-vchar 5.5, qdtext
// 5.6.4) and of RFC 3986 (scheme), as tables so that each byte costs one
// load.
constexpr std::array<bool, 256> MakeTokenTable() {
  std::array<bool, 256> table{};
  for (int c = '0'; c <= '9'; ++c) table[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) table[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) table[c] = true;
  for (char c : absl::string_view("!#$%&'*+-.^_`|~")) {
    table[static_cast<unsigned char>(c)] = true;
  }
  return table;
}
// Field values, and the byte after a backslash in a quoted-string.
constexpr std::array<bool, 256> MakeFieldValueTable() {
  std::array<bool, 256> table{};
  table['\t'] = true;
  for (int c = 0x20; c <= 0x7e; ++c) table[c] = true;
  for (int c = 0x80; c <= 0xff; ++c) table[c] = true;
  return table;
}
constexpr std::array<bool, 256> MakeQuotedTextTable() {
  std::array<bool, 256> table = MakeFieldValueTable();
  table['"'] = false;
  table['\\'] = false;
  return table;
}
// Bytes a request-target may hold: visible ASCII. Stricter URI grammar is
// the router's business; what matters here is that the target cannot hide
// whitespace, control characters or bytes another parser reads otherwise.
constexpr std::array<bool, 256> MakeTargetTable() {
  std::array<bool, 256> table{};
  for (int c = 0x21; c <= 0x7e; ++c) table[c] = true;
  return table;
}
// reg-name = *( unreserved / pct-encoded / sub-delims ) (RFC 3986 3.2.2);
// '%' stands for its pct-encoding.
constexpr std::array<bool, 256> MakeRegNameTable() {
  std::array<bool, 256> table{};
  for (int c = '0'; c <= '9'; ++c) table[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) table[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) table[c] = true;
  for (char c : absl::string_view("-._~%!$&'()*+,;=")) {
    table[static_cast<unsigned char>(c)] = true;
  }
  return table;
}
constexpr std::array<bool, 256> MakeSchemeTable() {
  std::array<bool, 256> table{};
  for (int c = '0'; c <= '9'; ++c) table[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) table[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) table[c] = true;
  table['+'] = table['-'] = table['.'] = true;
  return table;
}
// Bytes that end a line or may not appear in one except as HTAB: C0
// controls and DEL.
constexpr std::array<bool, 256> MakeControlTable() {
  std::array<bool, 256> table{};
  for (int c = 0; c < 0x20; ++c) table[c] = true;
  table[0x7f] = true;
  return table;
}
constexpr std::array<int8_t, 256> MakeHexTable() {
  std::array<int8_t, 256> table{};
  for (int8_t& value : table) value = -1;
  for (int c = '0'; c <= '9'; ++c) table[c] = static_cast<int8_t>(c - '0');
  for (int c = 'a'; c <= 'f'; ++c) table[c] = static_cast<int8_t>(c - 'a' + 10);
  for (int c = 'A'; c <= 'F'; ++c) table[c] = static_cast<int8_t>(c - 'A' + 10);
  return table;
}
constexpr std::array<bool, 256> kToken = MakeTokenTable();
constexpr std::array<bool, 256> kFieldValue = MakeFieldValueTable();
constexpr std::array<bool, 256> kQuotedText = MakeQuotedTextTable();
constexpr std::array<bool, 256> kTarget = MakeTargetTable();
constexpr std::array<bool, 256> kRegName = MakeRegNameTable();
constexpr std::array<bool, 256> kScheme = MakeSchemeTable();
constexpr std::array<bool, 256> kControl = MakeControlTable();
constexpr std::array<int8_t, 256> kHex = MakeHexTable();

// Empty lines tolerated before a request line (RFC 9112 2.2 asks for at
// least one; clients that send more than a few are not confused but hostile).
constexpr size_t kMaxLeadingBytes = 64;
// Keeps offsets into the head within 32 bits.
constexpr size_t kMaxHeadLimit = size_t{1} << 30;

inline unsigned char Byte(char c) { return static_cast<unsigned char>(c); }

inline bool IsWhitespace(char c) { return c == ' ' || c == '\t'; }

// The end of the run of `table` bytes in `text` that starts at `from`.
inline size_t SkipClass(const std::array<bool, 256>& table,
                        absl::string_view text, size_t from) {
  while (from < text.size() && table[Byte(text[from])]) ++from;
  return from;
}

inline size_t SkipWhitespace(absl::string_view text, size_t from) {
  while (from < text.size() && IsWhitespace(text[from])) ++from;
  return from;
}

// The index of the first control byte (see kControl) in data[from, size),
// or `size`. Lines are mostly visible ASCII, so where SSE2 allows, sixteen
// bytes are tested at once.
size_t FindControl(const char* data, size_t from, size_t size) {
  size_t i = from;
#if defined(__SSE2__)
  const __m128i max_c0 = _mm_set1_epi8(0x1f);
  const __m128i del = _mm_set1_epi8(0x7f);
  for (; i + 16 <= size; i += 16) {
    const __m128i bytes =
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(data + i));
    // min(b, 0x1f) == b exactly when b <= 0x1f, compared unsigned.
    const __m128i c0 = _mm_cmpeq_epi8(_mm_min_epu8(bytes, max_c0), bytes);
    const int mask =
        _mm_movemask_epi8(_mm_or_si128(c0, _mm_cmpeq_epi8(bytes, del)));
    if (mask != 0) return i + static_cast<size_t>(__builtin_ctz(mask));
  }
#endif
  while (i < size && !kControl[Byte(data[i])]) ++i;
  return i;
}

// ASCII case-insensitive equality of a field name (a token) with a
// lower-case name of letters and '-'. OR-ing 0x20 folds case, and maps no
// other token byte onto a letter or '-' (only CR would become '-').
inline bool IsLowercaseName(absl::string_view name, absl::string_view lower) {
  if (name.size() != lower.size()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    if ((Byte(name[i]) | 0x20) != Byte(lower[i])) return false;
  }
  return true;
}

absl::string_view Trim(absl::string_view s) {
  while (!s.empty() && IsWhitespace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsWhitespace(s.back())) s.remove_suffix(1);
  return s;
}

// Content-Length = 1*DIGIT (RFC 9110 8.6), strictly: unlike SimpleAtoi no
// sign and no surrounding space, since two parsers that disagree on a
// message's length are how requests get smuggled.
bool ParseDecimal(absl::string_view text, uint64_t* value) {
  if (text.empty()) return false;
  uint64_t result = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (result > (UINT64_MAX - digit) / 10) return false;
    result = result * 10 + digit;
  }
  *value = result;
  return true;
}

// chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] ), with
// ext-val = token / quoted-string (RFC 9112 7.1.1). Trailing whitespace is
// tolerated too: it cannot change where the chunk ends. Extensions carry no
// meaning for eddy; they are checked so that a malformed one is not read
// differently by a proxy in front.
bool IsChunkExtensions(absl::string_view text) {
  const size_t n = text.size();
  size_t i = 0;
  while (true) {
    i = SkipWhitespace(text, i);
    if (i == n) return true;
    if (text[i] != ';') return false;
    i = SkipWhitespace(text, i + 1);
    const size_t name_start = i;
    i = SkipClass(kToken, text, i);
    if (i == name_start) return false;
    i = SkipWhitespace(text, i);
    if (i == n || text[i] != '=') continue;
    i = SkipWhitespace(text, i + 1);
    if (i < n && text[i] == '"') {
      ++i;
      while (true) {
        if (i == n) return false;
        const unsigned char c = Byte(text[i]);
        if (c == '"') break;
        if (c == '\\') {
          if (i + 1 == n || !kFieldValue[Byte(text[i + 1])]) return false;
          i += 2;
        } else if (kQuotedText[c]) {
          ++i;
        } else {
          return false;
        }
      }
      ++i;
    } else {
      const size_t value_start = i;
      i = SkipClass(kToken, text, i);
      if (i == value_start) return false;
    }
  }
}

// authority-form = uri-host ":" port (RFC 9112 3.2.3), loosely on the host
// (the router resolves it) but with no room for a path, query or userinfo.
bool IsAuthorityForm(absl::string_view target) {
  const size_t colon = target.rfind(':');
  if (colon == absl::string_view::npos || colon == 0) return false;
  const absl::string_view port = target.substr(colon + 1);
  if (port.empty() || port.size() > 5) return false;
  for (char c : port) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  const absl::string_view host = target.substr(0, colon);
  if (host.find_first_of("/?#@") != absl::string_view::npos) return false;
  if (host.front() == '[') return host.back() == ']' && host.size() > 2;
  return true;
}

// Host = uri-host [ ":" port ] (RFC 9110 7.2), where uri-host is an
// IP-literal in brackets or a reg-name (which also covers IPv4 addresses).
// Empty is allowed: it is what a target without an authority sends.
bool IsValidHost(absl::string_view value) {
  size_t port_start = value.size();
  if (!value.empty() && value.front() == '[') {
    const size_t close = value.find(']');
    if (close == absl::string_view::npos || close == 1) return false;
    for (char c : value.substr(1, close - 1)) {
      const unsigned char byte = static_cast<unsigned char>(c);
      if (!absl::ascii_isxdigit(byte) && c != ':' && c != '.') return false;
    }
    if (close + 1 < value.size()) {
      if (value[close + 1] != ':') return false;
      port_start = close + 2;
    }
  } else {
    const size_t colon = value.rfind(':');
    const absl::string_view host = value.substr(0, colon);
    for (char c : host) {
      const unsigned char byte = static_cast<unsigned char>(c);
      if (!kRegName[byte]) return false;
    }
    if (colon != absl::string_view::npos) port_start = colon + 1;
  }
  for (char c : value.substr(std::min(port_start, value.size()))) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// The least length the line from `begin`, still waiting for its LF, will
// have: all it holds but a final CR, which may turn out to end it.
size_t PendingLineLength(absl::string_view input, size_t begin) {
  size_t length = input.size() - begin;
  if (length > 0 && input.back() == '\r') --length;
  return length;
}

ParserLimits Capped(ParserLimits limits) {
  limits.max_request_line = std::min(limits.max_request_line, kMaxHeadLimit);
  limits.max_header_bytes = std::min(limits.max_header_bytes, kMaxHeadLimit);
  return limits;
}

}  // namespace

RequestParser::RequestParser(ParserLimits limits) : limits_(Capped(limits)) {}

void RequestParser::set_limits(ParserLimits limits) {
  limits_ = Capped(limits);
}

void RequestParser::Reset() {
  phase_ = Phase::kLeadingLines;
  head_complete_ = false;
  pos_ = scan_ = head_start_ = body_start_ = trailer_start_ = consumed_ = 0;
  method_ = target_ = path_ = query_ = Span{};
  path_is_root_ = false;
  line_has_control_ = false;
  fields_.clear();
  facts_ = HeadFacts{};
  trailer_count_ = 0;
  content_length_ = chunk_remaining_ = chunk_framing_bytes_ = 0;
  streaming_ = false;
  stream_remaining_ = 0;
  chunked_body_.clear();
  owned_head_.clear();
  head_owned_ = false;
  bound_to_ = nullptr;
  error_status_ = 0;
  error_reason_ = {};
  request_.Clear();
}

RequestParser::Status RequestParser::Fail(int status,
                                          absl::string_view reason) {
  phase_ = Phase::kError;
  error_status_ = status;
  error_reason_ = reason;
  return Status::kError;
}

RequestParser::Status RequestParser::Parse(absl::string_view input) {
  if (phase_ == Phase::kError) return Status::kError;
  // The caller passes the same prefix again, never less.
  assert(phase_ == Phase::kComplete || input.size() >= pos_);
  // Views made by earlier calls point into the old bytes if the buffer
  // moved. A buffer that grows in place costs nothing here. An owned head
  // does not move.
  if (!head_owned_ && input.data() != bound_to_) {
    if (phase_ > Phase::kRequestLine) BindHead(input);
    bound_to_ = input.data();
  }
  return ParseSome(input);
}

RequestParser::Status RequestParser::Parse(absl::string_view input,
                                           BodyPiece on_body) {
  on_body_ = &on_body;
  const Status status = Parse(input);
  on_body_ = nullptr;
  return status;
}

void RequestParser::BufferBody() {
  assert(phase_ == Phase::kBodyChoice);
  if (content_length_ > limits_.max_body_bytes) {
    Fail(413, "request body too large");
    return;
  }
  EnterBody();
}

void RequestParser::StreamBody() {
  assert(phase_ == Phase::kBodyChoice);
  streaming_ = true;
  stream_remaining_ = content_length_;
  EnterBody();
}

void RequestParser::EnterBody() {
  phase_ = request_.chunked_ ? Phase::kChunkSize : Phase::kBody;
}

void RequestParser::TakeBody(absl::string_view piece) {
  if (!streaming_) {
    chunked_body_.append(piece.data(), piece.size());
  } else if (!piece.empty()) {
    // Streaming needs the callback form of Parse.
    assert(on_body_ != nullptr);
    (*on_body_)(piece);
  }
}

size_t RequestParser::ReleaseParsed() {
  size_t done = 0;
  switch (phase_) {
    case Phase::kChunkSize:
    case Phase::kChunkData:
    case Phase::kChunkDataEnd:
      done = pos_;
      break;
    case Phase::kBody:
      if (!streaming_) return 0;
      done = pos_;
      break;
    case Phase::kTrailers:
      // The trailer section stays: its size is checked from its start, and
      // max_header_bytes bounds it already.
      done = trailer_start_;
      trailer_start_ = 0;
      break;
    default:
      return 0;
  }
  if (done == 0) return 0;
  if (!head_owned_) {
    // Span offsets index the head from its first byte, so they stay valid
    // in the copy.
    owned_head_.assign(bound_to_, body_start_);
    head_owned_ = true;
    BindHead(owned_head_);
  }
  // scan_ lags behind pos_ after chunk data, which is not scanned for LF.
  scan_ = std::max(scan_, pos_) - done;
  pos_ -= done;
  return done;
}

RequestParser::Status RequestParser::ParseSome(absl::string_view input) {
  Line line;
  while (true) {
    switch (phase_) {
      case Phase::kLeadingLines:
        if (ParseLeadingLines(input) == Status::kError) return Status::kError;
        if (phase_ == Phase::kLeadingLines) return Status::kIncomplete;
        break;
      case Phase::kRequestLine:
        if (CheckMethodSoFar(input) == Status::kError) return Status::kError;
        if (!NextLine(input, &line)) {
          // Fails exactly when the complete line will, so that split and
          // whole input fail alike.
          if (PendingLineLength(input, head_start_) >
              limits_.max_request_line) {
            return Fail(414, "request line too long");
          }
          return Status::kIncomplete;
        }
        if (line.size() > limits_.max_request_line) {
          return Fail(414, "request line too long");
        }
        if (line.has_control) {
          return Fail(400, "control character in the request line");
        }
        if (ParseRequestLine(input, line) == Status::kError) {
          return Status::kError;
        }
        phase_ = Phase::kHeaders;
        break;
      case Phase::kHeaders:
        if (!NextLine(input, &line)) {
          // Its LF will add at least one byte.
          if (input.size() - head_start_ >= limits_.max_header_bytes) {
            return Fail(431, "header section too large");
          }
          return Status::kIncomplete;
        }
        if (pos_ - head_start_ > limits_.max_header_bytes) {
          return Fail(431, "header section too large");
        }
        if (line.size() == 0) {
          if (FinishHead(input) == Status::kError) return Status::kError;
          break;
        }
        if (ParseFieldLine(input, line, /*trailer=*/false) == Status::kError) {
          return Status::kError;
        }
        break;
      case Phase::kBodyChoice:
        return Status::kIncomplete;
      case Phase::kBody:
        if (streaming_) {
          const size_t take = static_cast<size_t>(
              std::min<uint64_t>(input.size() - pos_, stream_remaining_));
          TakeBody(input.substr(pos_, take));
          pos_ += take;
          stream_remaining_ -= take;
          if (stream_remaining_ > 0) return Status::kIncomplete;
          return Complete(input);
        }
        if (input.size() - body_start_ < content_length_) {
          return Status::kIncomplete;
        }
        pos_ = body_start_ + content_length_;
        return Complete(input);
      case Phase::kChunkSize:
        if (!NextLine(input, &line)) {
          if (PendingLineLength(input, pos_) > limits_.max_chunk_line) {
            return Fail(400, "chunk size line too long");
          }
          return Status::kIncomplete;
        }
        if (ParseChunkSize(input, line) == Status::kError) {
          return Status::kError;
        }
        break;
      case Phase::kChunkData: {
        const size_t take = static_cast<size_t>(
            std::min<uint64_t>(input.size() - pos_, chunk_remaining_));
        TakeBody(input.substr(pos_, take));
        pos_ += take;
        chunk_remaining_ -= take;
        if (chunk_remaining_ > 0) return Status::kIncomplete;
        phase_ = Phase::kChunkDataEnd;
        break;
      }
      case Phase::kChunkDataEnd:
        if (ParseChunkDataEnd(input) == Status::kError) return Status::kError;
        if (phase_ == Phase::kChunkDataEnd) return Status::kIncomplete;
        break;
      case Phase::kTrailers:
        if (!NextLine(input, &line)) {
          if (input.size() - trailer_start_ >= limits_.max_header_bytes) {
            return Fail(431, "trailer section too large");
          }
          return Status::kIncomplete;
        }
        if (pos_ - trailer_start_ > limits_.max_header_bytes) {
          return Fail(431, "trailer section too large");
        }
        if (line.size() == 0) return Complete(input);
        if (ParseFieldLine(input, line, /*trailer=*/true) == Status::kError) {
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

bool RequestParser::NextLine(absl::string_view input, Line* line) {
  const char* data = input.data();
  const size_t size = input.size();
  size_t i = std::max(pos_, scan_);
  while ((i = FindControl(data, i, size)) < size) {
    const char c = data[i];
    if (c == '\n') return EndLine(i, i + 1, line);
    if (c == '\r') {
      // Wait for the byte after it: LF, or the CR is bare.
      if (i + 1 == size) break;
      if (data[i + 1] == '\n') return EndLine(i, i + 2, line);
      line_has_control_ = true;
    } else if (c != '\t') {
      line_has_control_ = true;
    }
    ++i;
  }
  scan_ = i;
  return false;
}

bool RequestParser::EndLine(size_t content_end, size_t next, Line* line) {
  line->begin = pos_;
  line->end = content_end;
  line->has_control = line_has_control_;
  line_has_control_ = false;
  pos_ = scan_ = next;
  return true;
}

RequestParser::Status RequestParser::ParseLeadingLines(
    absl::string_view input) {
  while (pos_ < input.size()) {
    const char c = input[pos_];
    if (c == '\n') {
      ++pos_;
    } else if (c == '\r') {
      if (pos_ + 1 == input.size()) return Status::kIncomplete;
      if (input[pos_ + 1] != '\n') {
        return Fail(400, "bare CR before the request line");
      }
      pos_ += 2;
    } else {
      head_start_ = scan_ = pos_;
      method_checked_ = false;
      phase_ = Phase::kRequestLine;
      return Status::kIncomplete;
    }
    if (pos_ > kMaxLeadingBytes) {
      return Fail(400, "too many empty lines before the request line");
    }
  }
  return Status::kIncomplete;
}

RequestParser::Status RequestParser::CheckMethodSoFar(absl::string_view input) {
  if (method_checked_) return Status::kIncomplete;
  // A byte that cannot be part of a method (a TLS ClientHello, binary
  // garbage) is refused as soon as it arrives, not at the head timeout. The
  // window is the bytes the line-length check looks at, so that the verdict
  // does not depend on how the input was split: a method longer than the
  // line limit is a 414 either way.
  const size_t window_end =
      std::min(input.size(), head_start_ + limits_.max_request_line + 1);
  const absl::string_view window = input.substr(0, window_end);
  const size_t end = SkipClass(kToken, window, head_start_);
  if (end == window.size()) return Status::kIncomplete;
  if (end == head_start_ || window[end] != ' ') {
    return Fail(400, "malformed method");
  }
  method_checked_ = true;
  return Status::kIncomplete;
}

RequestParser::Status RequestParser::ParseRequestLine(absl::string_view input,
                                                      const Line& line) {
  const absl::string_view text(input.data() + line.begin, line.size());
  // method SP request-target SP HTTP-version, with single spaces: other
  // parsers split lenient request lines differently.
  size_t i = SkipClass(kToken, text, 0);
  if (i == 0 || i == text.size() || text[i] != ' ') {
    return Fail(400, "malformed method");
  }
  method_ = Span{static_cast<uint32_t>(line.begin), static_cast<uint32_t>(i)};
  const size_t target_start = ++i;
  i = SkipClass(kTarget, text, i);
  if (i == target_start || i == text.size() || text[i] != ' ') {
    return Fail(400, "malformed request target");
  }
  target_ = Span{static_cast<uint32_t>(line.begin + target_start),
                 static_cast<uint32_t>(i - target_start)};
  const absl::string_view version = text.substr(i + 1);
  if (version.size() != 8 || !absl::StartsWith(version, "HTTP/") ||
      !absl::ascii_isdigit(Byte(version[5])) || version[6] != '.' ||
      !absl::ascii_isdigit(Byte(version[7]))) {
    return Fail(400, "malformed HTTP version");
  }
  if (version[5] != '1') return Fail(505, "only HTTP/1.x is supported");
  // A higher minor version of the same major is read as the highest one
  // eddy speaks (RFC 9110 6.2).
  request_.version_ = version[7] == '0' ? Version::kHttp10 : Version::kHttp11;
  if (ClassifyTarget(input) == Status::kError) return Status::kError;
  BindRequestLine(input);
  return Status::kIncomplete;
}

RequestParser::Status RequestParser::ClassifyTarget(absl::string_view input) {
  const absl::string_view method(input.data() + method_.offset, method_.length);
  const absl::string_view target(input.data() + target_.offset, target_.length);
  const uint32_t base = target_.offset;
  // The path and query of target[from, end).
  auto split_query = [&](size_t from) {
    const size_t question = target.find('?', from);
    const size_t path_end =
        question == absl::string_view::npos ? target.size() : question;
    path_ = Span{static_cast<uint32_t>(base + from),
                 static_cast<uint32_t>(path_end - from)};
    if (question != absl::string_view::npos) {
      query_ = Span{static_cast<uint32_t>(base + question + 1),
                    static_cast<uint32_t>(target.size() - question - 1)};
    }
  };
  // A fragment is the client's business and never sent (RFC 9110 4.2.4;
  // not in RFC 9112's request-target grammar): routing "/a#b" as a path
  // would serve what the client did not ask for.
  if (target.find('#') != absl::string_view::npos) {
    return Fail(400, "fragment in the request target");
  }
  if (method == "CONNECT") {
    if (!IsAuthorityForm(target)) {
      return Fail(400, "CONNECT needs an authority-form target (host:port)");
    }
    path_ = target_;
    return Status::kIncomplete;
  }
  if (target[0] == '/') {
    split_query(0);
    return Status::kIncomplete;
  }
  if (target == "*") {
    if (method != "OPTIONS") return Fail(400, "'*' target is for OPTIONS only");
    path_ = target_;
    return Status::kIncomplete;
  }
  // absolute-form: scheme "://" authority [path] ["?" query].
  const size_t scheme_end = SkipClass(kScheme, target, 0);
  if (!absl::ascii_isalpha(Byte(target[0])) ||
      target.substr(scheme_end, 3) != "://") {
    return Fail(400, "malformed request target");
  }
  const size_t authority = scheme_end + 3;
  size_t path = target.find_first_of("/?", authority);
  if (path == absl::string_view::npos) path = target.size();
  if (path == authority) return Fail(400, "request target without a host");
  split_query(path);
  path_is_root_ = path_.length == 0;
  return Status::kIncomplete;
}

RequestParser::Status RequestParser::ParseFieldLine(absl::string_view input,
                                                    const Line& line,
                                                    bool trailer) {
  const absl::string_view text(input.data() + line.begin, line.size());
  if (IsWhitespace(text[0])) {
    // obs-fold, or whitespace before the first field (RFC 9112 2.2, 5.2).
    return Fail(400, "obsolete line folding");
  }
  const size_t colon = SkipClass(kToken, text, 0);
  if (colon == 0 || colon == text.size() || text[colon] != ':') {
    return Fail(400, colon < text.size() && IsWhitespace(text[colon])
                         ? "whitespace before a field's colon"
                         : "malformed header field");
  }
  // The name is a token, so a control character is in the value.
  if (line.has_control) return Fail(400, "control character in a field value");
  if (trailer) {
    // Checked like fields, but not merged into them: nothing downstream
    // expects a field to appear after the body.
    if (++trailer_count_ > limits_.max_header_count) {
      return Fail(431, "too many trailer fields");
    }
    return Status::kIncomplete;
  }
  if (fields_.size() >= limits_.max_header_count) {
    return Fail(431, "too many header fields");
  }
  const absl::string_view name = text.substr(0, colon);
  const absl::string_view value = Trim(text.substr(colon + 1));
  const size_t value_offset =
      value.empty() ? line.end
                    : static_cast<size_t>(value.data() - input.data());
  fields_.push_back(FieldSpans{
      Span{static_cast<uint32_t>(line.begin), static_cast<uint32_t>(colon)},
      Span{static_cast<uint32_t>(value_offset),
           static_cast<uint32_t>(value.size())}});
  request_.headers_.push_back(Header{name, value});
  return NoteField(name, value);
}

RequestParser::Status RequestParser::NoteField(absl::string_view name,
                                               absl::string_view value) {
  // Only five names matter here. Their lengths differ, so the length rules
  // out almost every field before a single byte is compared.
  switch (name.size()) {
    case 4:
      if (!IsLowercaseName(name, "host")) break;
      ++facts_.hosts;
      // RFC 9112 3.2: a Host with an invalid value is a 400, like a missing
      // or repeated one.
      if (!IsValidHost(value)) return Fail(400, "invalid Host");
      break;
    case 6:
      if (IsLowercaseName(name, "expect") &&
          absl::EqualsIgnoreCase(value, "100-continue")) {
        facts_.expect_continue = true;
      }
      break;
    case 10:
      if (!IsLowercaseName(name, "connection")) break;
      for (absl::string_view item : absl::StrSplit(value, ',')) {
        const absl::string_view option = Trim(item);
        if (absl::EqualsIgnoreCase(option, "close")) facts_.close = true;
        if (absl::EqualsIgnoreCase(option, "keep-alive")) {
          facts_.keep_alive = true;
        }
      }
      break;
    case 14:
      if (!IsLowercaseName(name, "content-length")) break;
      for (absl::string_view item : absl::StrSplit(value, ',')) {
        uint64_t length = 0;
        if (!ParseDecimal(Trim(item), &length)) {
          return Fail(400, "malformed Content-Length");
        }
        if (facts_.have_length && length != content_length_) {
          return Fail(400, "differing Content-Length values");
        }
        facts_.have_length = true;
        content_length_ = length;
      }
      break;
    case 17:
      if (!IsLowercaseName(name, "transfer-encoding")) break;
      facts_.have_transfer_encoding = true;
      for (absl::string_view item : absl::StrSplit(value, ',')) {
        const absl::string_view coding = Trim(item);
        if (coding.empty()) continue;
        facts_.have_coding = true;
        if (facts_.chunked_last) facts_.chunked_not_last = true;
        facts_.chunked_last = absl::EqualsIgnoreCase(coding, "chunked");
        if (!facts_.chunked_last) facts_.have_unknown_coding = true;
      }
      break;
  }
  return Status::kIncomplete;
}

RequestParser::Status RequestParser::FinishHead(absl::string_view input) {
  const bool http11 = request_.version_ == Version::kHttp11;
  const HeadFacts& f = facts_;
  if (http11 && f.hosts == 0) return Fail(400, "HTTP/1.1 request without Host");
  if (f.hosts > 1) return Fail(400, "more than one Host");
  if (f.have_transfer_encoding) {
    // Framing that an HTTP/1.0 hop or a Content-Length-reading hop would
    // see differently: reject rather than guess (RFC 9112 6.1, 6.3).
    if (!http11) return Fail(400, "Transfer-Encoding on HTTP/1.0");
    if (f.have_length) {
      return Fail(400, "Content-Length and Transfer-Encoding both present");
    }
    if (!f.have_coding) return Fail(400, "empty Transfer-Encoding");
    if (f.chunked_not_last) {
      return Fail(400, "chunked is not the final transfer coding, or repeated");
    }
    // eddy decodes no transfer coding but chunked.
    if (f.have_unknown_coding) {
      return Fail(501, "unsupported transfer coding");
    }
  }
  // Held at the body, the caller may yet stream it past max_body_bytes.
  if (f.have_length && content_length_ > limits_.max_body_bytes &&
      !hold_at_body_) {
    return Fail(413, "request body too large");
  }
  request_.keep_alive_ = !f.close && (http11 || f.keep_alive);
  request_.expects_continue_ = http11 && f.expect_continue;
  request_.chunked_ = f.have_transfer_encoding;
  if (f.have_length) request_.content_length_ = content_length_;
  head_complete_ = true;
  body_start_ = pos_;
  if (!f.have_transfer_encoding && content_length_ == 0) {
    return Complete(input);
  }
  if (hold_at_body_) {
    phase_ = Phase::kBodyChoice;
  } else {
    EnterBody();
  }
  return Status::kIncomplete;
}

RequestParser::Status RequestParser::ParseChunkSize(absl::string_view input,
                                                    const Line& line) {
  const absl::string_view text(input.data() + line.begin, line.size());
  // Before the framing budget, as a line that has not ended yet is checked.
  if (text.size() > limits_.max_chunk_line) {
    return Fail(400, "chunk size line too long");
  }
  if (CountChunkFraming(pos_ - line.begin) == Status::kError) {
    return Status::kError;
  }
  if (line.has_control) return Fail(400, "control character in a chunk line");
  size_t i = 0;
  uint64_t size = 0;
  for (; i < text.size() && kHex[Byte(text[i])] >= 0; ++i) {
    if (size > (UINT64_MAX >> 4)) return Fail(400, "chunk size overflows");
    size = (size << 4) | static_cast<uint64_t>(kHex[Byte(text[i])]);
  }
  if (i == 0) return Fail(400, "malformed chunk size");
  if (!IsChunkExtensions(text.substr(i))) {
    return Fail(400, "malformed chunk extension");
  }
  if (!streaming_ && size > limits_.max_body_bytes - chunked_body_.size()) {
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

RequestParser::Status RequestParser::ParseChunkDataEnd(
    absl::string_view input) {
  if (pos_ == input.size()) return Status::kIncomplete;
  if (input[pos_] == '\r') {
    if (pos_ + 1 == input.size()) return Status::kIncomplete;
    if (input[pos_ + 1] != '\n') {
      return Fail(400, "missing CRLF after chunk data");
    }
    pos_ += 2;
    phase_ = Phase::kChunkSize;
    return CountChunkFraming(2);
  }
  if (input[pos_] != '\n') return Fail(400, "missing CRLF after chunk data");
  ++pos_;
  phase_ = Phase::kChunkSize;
  return CountChunkFraming(1);
}

RequestParser::Status RequestParser::CountChunkFraming(size_t bytes) {
  // Framing costs reading and parsing as data does, and a client can send
  // any amount of it for a few bytes of body: it gets a budget of its own.
  chunk_framing_bytes_ += bytes;
  if (chunk_framing_bytes_ > limits_.max_chunk_framing_bytes) {
    return Fail(413, "too much chunk framing for the body");
  }
  return Status::kIncomplete;
}

RequestParser::Status RequestParser::Complete(absl::string_view input) {
  BindBody(input);
  consumed_ = pos_;
  phase_ = Phase::kComplete;
  return Status::kComplete;
}

void RequestParser::BindRequestLine(absl::string_view input) {
  request_.method_ = View(input, method_);
  request_.target_ = View(input, target_);
  request_.path_ = path_is_root_ ? absl::string_view("/") : View(input, path_);
  request_.query_ = View(input, query_);
}

void RequestParser::BindHead(absl::string_view input) {
  BindRequestLine(input);
  for (size_t i = 0; i < fields_.size(); ++i) {
    request_.headers_[i] =
        Header{View(input, fields_[i].name), View(input, fields_[i].value)};
  }
  if (phase_ == Phase::kComplete) BindBody(input);
}

void RequestParser::BindBody(absl::string_view input) {
  if (streaming_) return;
  if (request_.chunked_) {
    request_.body_ = chunked_body_;
  } else if (content_length_ > 0) {
    request_.body_ = absl::string_view(input.data() + body_start_,
                                       static_cast<size_t>(content_length_));
  }
}

}  // namespace eddy::http
