#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "eddy/http/parser.h"
#include "gtest/gtest.h"

// Counts heap allocations, so that a test can show that a reused parser
// allocates nothing once warmed up. Not inlined: GCC would otherwise see
// free() of memory from `new` and warn of a mismatch that is not one.
namespace {
std::atomic<int64_t> allocations{0};
}  // namespace

[[gnu::noinline]] void* operator new(size_t size) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
[[gnu::noinline]] void operator delete(void* p) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, size_t) noexcept {
  std::free(p);
}

namespace eddy::http {
namespace {

using Status = RequestParser::Status;

// What a test compares: everything a complete request exposes, copied.
struct Parsed {
  Status status = Status::kIncomplete;
  std::string method, target, path, query, body;
  Version version = Version::kHttp11;
  std::vector<std::pair<std::string, std::string>> headers;
  size_t consumed = 0;
  bool keep_alive = false;
  bool chunked = false;
  int error = 0;

  bool operator==(const Parsed& o) const {
    return status == o.status && method == o.method && target == o.target &&
           path == o.path && query == o.query && body == o.body &&
           version == o.version && headers == o.headers &&
           consumed == o.consumed && keep_alive == o.keep_alive &&
           chunked == o.chunked && error == o.error;
  }
};

std::ostream& operator<<(std::ostream& os, const Parsed& p) {
  os << "status=" << static_cast<int>(p.status) << " error=" << p.error
     << " method=" << p.method << " target=" << p.target << " path=" << p.path
     << " query=" << p.query << " consumed=" << p.consumed
     << " body=" << p.body.size() << "B headers=" << p.headers.size();
  return os;
}

Parsed Capture(const RequestParser& parser, Status status) {
  Parsed p;
  p.status = status;
  if (status == Status::kError) {
    p.error = parser.error_status();
    return p;
  }
  if (status != Status::kComplete) return p;
  const Request& r = parser.request();
  p.method = std::string(r.method());
  p.target = std::string(r.target());
  p.path = std::string(r.path());
  p.query = std::string(r.query());
  p.body = std::string(r.body());
  p.version = r.version();
  for (const Header& h : r.headers()) {
    p.headers.emplace_back(std::string(h.name), std::string(h.value));
  }
  p.consumed = parser.consumed();
  p.keep_alive = r.keep_alive();
  p.chunked = r.chunked();
  return p;
}

Parsed ParseWhole(const std::string& input, ParserLimits limits = {}) {
  RequestParser parser(limits);
  return Capture(parser, parser.Parse(input));
}

// Feeds growing prefixes, as a connection's buffer grows; the copy per call
// moves the buffer, which makes stale views visible to ASan.
Parsed ParseInSteps(const std::string& input, const std::vector<size_t>& cuts,
                    ParserLimits limits = {}) {
  RequestParser parser(limits);
  Status status = Status::kIncomplete;
  std::string buffer;
  for (size_t cut : cuts) {
    buffer = input.substr(0, cut);
    status = parser.Parse(buffer);
    if (status != Status::kIncomplete) break;
  }
  return Capture(parser, status);
}

Parsed ParseByteByByte(const std::string& input, ParserLimits limits = {}) {
  std::vector<size_t> cuts;
  for (size_t i = 1; i <= input.size(); ++i) cuts.push_back(i);
  return ParseInSteps(input, cuts, limits);
}

// Feeds the input in pieces ending at `cuts` as HttpConnectionHandler does:
// bytes the parser releases are dropped from the buffer, which moves with
// every call. consumed counts from the first byte, released ones included.
struct Released {
  Parsed parsed;
  size_t most_buffered = 0;
};
Released ParseReleasingInSteps(const std::string& input,
                               const std::vector<size_t>& cuts,
                               ParserLimits limits = {}) {
  RequestParser parser(limits);
  Status status = Status::kIncomplete;
  std::string buffer;
  size_t released = 0;
  size_t most_buffered = 0;
  for (size_t cut : cuts) {
    buffer = input.substr(released, cut - released);
    most_buffered = std::max(most_buffered, buffer.size());
    status = parser.Parse(buffer);
    if (status != Status::kIncomplete) break;
    released += parser.ReleaseParsed();
  }
  Released result{Capture(parser, status), most_buffered};
  if (status == Status::kComplete) result.parsed.consumed += released;
  return result;
}

Released ParseReleasingByteByByte(const std::string& input,
                                  ParserLimits limits = {}) {
  std::vector<size_t> cuts;
  for (size_t i = 1; i <= input.size(); ++i) cuts.push_back(i);
  return ParseReleasingInSteps(input, cuts, limits);
}

const std::string& BrowserGet() {
  static const auto* text = new std::string(
      "GET /page HTTP/1.1\r\nHost: www.example.com\r\n"
      "User-Agent: Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0\r\n"
      "Accept: "
      "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
      "Accept-Language: en-US,en;q=0.9\r\n"
      "Accept-Encoding: gzip, deflate, br\r\n"
      "Connection: keep-alive\r\nCache-Control: max-age=0\r\n"
      "Upgrade-Insecure-Requests: 1\r\nSec-Fetch-Dest: document\r\n"
      "Sec-Fetch-Mode: navigate\r\nSec-Fetch-Site: none\r\n"
      "Cookie: a=b; c=d\r\n\r\n");
  return *text;
}

const std::string& ChunkedPost() {
  static const auto* text = new std::string(
      "POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5;name=value\r\nhello\r\n6 ; quoted = \"a \\\"b\\\"\" ;x\r\n world\r\n"
      "0\r\nX-Trailer: yes\r\nX-Other: 2\r\n\r\n");
  return *text;
}

const std::vector<std::string>& Samples() {
  static const auto* samples = new std::vector<std::string>{
      "GET / HTTP/1.0\r\n\r\n",
      "GET /index.html?x=1&y=2 HTTP/1.1\r\nHost: example.com\r\n\r\n",
      BrowserGet(),
      "POST /submit HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n"
      "hello world",
      ChunkedPost(),
      "GET http://example.com/abs/path?q HTTP/1.1\r\nHost: example.com\r\n\r\n",
      "GET http://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n",
      "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n",
      "\r\n\r\nGET /after-empty-lines HTTP/1.1\r\nHost: h\r\n\r\n",
      "GET /lf-only HTTP/1.1\nHost: h\nX-Empty:\n\n",
      "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: h\r\nX-Spaces:   padded value \t \r\n\r\n",
      "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
      "POST /lf HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n"
      "3\nabc\n0\n\n",
      "GET /obs HTTP/1.1\r\nHost: h\r\nX-Latin1: caf\xe9\r\n\r\n",
  };
  return *samples;
}

TEST(RequestParser, SamplesParseTheSameWholeSplitAnywhereAndByteByByte) {
  for (const std::string& sample : Samples()) {
    const Parsed whole = ParseWhole(sample);
    ASSERT_EQ(whole.status, Status::kComplete) << sample;
    EXPECT_EQ(whole.consumed, sample.size()) << sample;
    for (size_t split = 1; split < sample.size(); ++split) {
      EXPECT_EQ(ParseInSteps(sample, {split, sample.size()}), whole)
          << "split at " << split << " of: " << sample;
    }
    EXPECT_EQ(ParseByteByByte(sample), whole) << "byte by byte: " << sample;
  }
}

TEST(RequestParser, SamplesParseTheSameWhenParsedBytesAreReleased) {
  for (const std::string& sample : Samples()) {
    const Parsed whole = ParseWhole(sample);
    for (size_t split = 1; split < sample.size(); ++split) {
      EXPECT_EQ(ParseReleasingInSteps(sample, {split, sample.size()}).parsed,
                whole)
          << "split at " << split << " of: " << sample;
    }
    EXPECT_EQ(ParseReleasingByteByByte(sample).parsed, whole)
        << "byte by byte: " << sample;
  }
}

// Chunks of one byte, each with an extension as long as a chunk line may
// be: the framing is hundreds of times the body.
std::string ChunkedWithHeavyFraming(size_t chunks, size_t line_limit) {
  std::string text =
      "POST /heavy HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
      "\r\n";
  const std::string extension = ";e=" + std::string(line_limit - 4, 'x');
  for (size_t i = 0; i < chunks; ++i) {
    absl::StrAppend(&text, "1", extension, "\r\n", std::string(1, 'a' + i % 26),
                    "\r\n");
  }
  absl::StrAppend(&text, "0\r\nX-Trailer: t\r\n\r\n");
  return text;
}

TEST(RequestParser, ReleasedFramingKeepsWhatIsBufferedWithinTheLimits) {
  ParserLimits limits;
  limits.max_chunk_line = 64;
  limits.max_chunk_framing_bytes = 1024 * 1024;
  const std::string input =
      ChunkedWithHeavyFraming(2000, limits.max_chunk_line);
  ASSERT_GT(input.size(), 100u * 1000);
  const Parsed whole = ParseWhole(input, limits);
  ASSERT_EQ(whole.status, Status::kComplete);
  ASSERT_EQ(whole.body.size(), 2000u);
  // Pieces of 1, 7 and 300 bytes: across line ends, CRLFs and many lines.
  for (size_t piece : {size_t{1}, size_t{7}, size_t{300}}) {
    std::vector<size_t> cuts;
    for (size_t cut = piece; cut < input.size(); cut += piece) {
      cuts.push_back(cut);
    }
    cuts.push_back(input.size());
    const Released released = ParseReleasingInSteps(input, cuts, limits);
    EXPECT_EQ(released.parsed, whole) << "pieces of " << piece;
    // The head (about 70 bytes) or one chunk line, plus one piece.
    EXPECT_LE(released.most_buffered, 100 + limits.max_chunk_line + piece)
        << "pieces of " << piece;
  }
}

TEST(RequestParser, ChunkFramingCountsTowardItsOwnLimit) {
  ParserLimits limits;
  limits.max_chunk_line = 64;
  limits.max_chunk_framing_bytes = 10 * 1024;
  // 2000 chunks of 66 framing bytes each: far more than 10 KiB, for 2000
  // bytes of body, well within max_body_bytes.
  const std::string input =
      ChunkedWithHeavyFraming(2000, limits.max_chunk_line);
  EXPECT_EQ(ParseWhole(input, limits).error, 413);
  EXPECT_EQ(ParseReleasingByteByByte(input, limits).parsed.error, 413);
  const std::string small = ChunkedWithHeavyFraming(100, limits.max_chunk_line);
  EXPECT_EQ(ParseWhole(small, limits).status, Status::kComplete);
  EXPECT_EQ(ParseReleasingByteByByte(small, limits).parsed.status,
            Status::kComplete);
}

TEST(RequestParser, ChunkLineLimitIsExactWhetherTheLineIsCompleteOrNot) {
  ParserLimits limits;
  limits.max_chunk_line = 16;
  const std::string head =
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
  const std::string fits = "1;ext=" + std::string(10, 'v');
  ASSERT_EQ(fits.size(), 16u);
  const std::string ok = head + fits + "\r\nz\r\n0\r\n\r\n";
  EXPECT_EQ(ParseWhole(ok, limits).status, Status::kComplete);
  EXPECT_EQ(ParseReleasingByteByByte(ok, limits).parsed.status,
            Status::kComplete);
  const std::string too_long = head + fits + "v";
  EXPECT_EQ(ParseWhole(too_long + "\r\nz\r\n0\r\n\r\n", limits).error, 400);
  EXPECT_EQ(ParseWhole(too_long, limits).error, 400);
  EXPECT_EQ(ParseReleasingByteByByte(too_long, limits).parsed.error, 400);
  EXPECT_EQ(ParseWhole(head + fits + "\r", limits).status, Status::kIncomplete);
  // A line too long that would also exceed the framing budget is judged as
  // too long, whether it arrived whole or not (found by the fuzzer).
  limits.max_chunk_framing_bytes = 8;
  EXPECT_EQ(ParseWhole(too_long + "\r\n", limits).error, 400);
  EXPECT_EQ(ParseReleasingByteByByte(too_long + "\r\n", limits).parsed.error,
            400);
}

TEST(RequestParser, ReleasedHeadStaysReadableUntilReset) {
  const std::string head =
      "POST /keep?q=1 HTTP/1.1\r\nHost: h\r\nX-A: one\r\n"
      "Transfer-Encoding: chunked\r\n\r\n";
  RequestParser parser;
  std::string buffer = head + "3\r\nabc\r\n";
  ASSERT_EQ(parser.Parse(buffer), Status::kIncomplete);
  EXPECT_EQ(parser.ReleaseParsed(), buffer.size());
  // Nothing new to release until more is parsed.
  EXPECT_EQ(parser.ReleaseParsed(), 0u);
  // Overwrite what the caller dropped, as a reused buffer would.
  buffer.assign(buffer.size(), '#');
  buffer = "2\r\nde\r\n0\r\n\r\nGET /next";
  ASSERT_EQ(parser.Parse(buffer), Status::kComplete);
  const Request& r = parser.request();
  EXPECT_EQ(r.path(), "/keep");
  EXPECT_EQ(r.query(), "q=1");
  EXPECT_EQ(r.FindHeader("x-a").value_or(""), "one");
  EXPECT_EQ(r.body(), "abcde");
  EXPECT_EQ(parser.consumed(), buffer.size() - 9);
  EXPECT_EQ(parser.ReleaseParsed(), 0u);
  parser.Reset();
  ASSERT_EQ(parser.Parse("GET /next HTTP/1.1\r\nHost: h\r\n\r\n"),
            Status::kComplete);
  EXPECT_EQ(parser.request().path(), "/next");
}

TEST(RequestParser, NothingIsReleasedBeforeTheHeadOrForALengthBody) {
  RequestParser parser;
  ASSERT_EQ(parser.Parse("GET / HTTP/1.1\r\nHost: h\r\n"), Status::kIncomplete);
  EXPECT_EQ(parser.ReleaseParsed(), 0u);
  parser.Reset();
  ASSERT_EQ(parser.Parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: "
                         "9\r\n\r\nabc"),
            Status::kIncomplete);
  EXPECT_EQ(parser.ReleaseParsed(), 0u);
}

TEST(RequestParser, ExposesTheParts) {
  RequestParser parser;
  const std::string input =
      "GET /a/b?c=d HTTP/1.1\r\nHost: example\r\nX-Thing:  v  \r\n\r\n";
  ASSERT_EQ(parser.Parse(input), Status::kComplete);
  const Request& r = parser.request();
  EXPECT_EQ(r.method(), "GET");
  EXPECT_EQ(r.target(), "/a/b?c=d");
  EXPECT_EQ(r.path(), "/a/b");
  EXPECT_EQ(r.query(), "c=d");
  EXPECT_EQ(r.version(), Version::kHttp11);
  EXPECT_EQ(r.FindHeader("x-thing").value_or("missing"), "v");
  EXPECT_EQ(r.FindHeader("HOST").value_or("missing"), "example");
  EXPECT_FALSE(r.FindHeader("absent").has_value());
  EXPECT_EQ(r.body(), "");
  EXPECT_FALSE(r.content_length().has_value());
  EXPECT_FALSE(r.chunked());
}

TEST(RequestParser, BrowserRequestKeepsEveryFieldInOrder) {
  const Parsed p = ParseWhole(BrowserGet());
  ASSERT_EQ(p.headers.size(), 12u);
  EXPECT_EQ(p.headers.front(),
            (std::pair<std::string, std::string>("Host", "www.example.com")));
  EXPECT_EQ(p.headers.back(),
            (std::pair<std::string, std::string>("Cookie", "a=b; c=d")));
}

TEST(RequestParser, TargetFormsGiveTheirPathAndQuery) {
  struct Case {
    std::string request;
    std::string path;
    std::string query;
  };
  const std::vector<Case> cases = {
      {"GET /p?q=1 HTTP/1.1\r\nHost: h\r\n\r\n", "/p", "q=1"},
      {"GET /p? HTTP/1.1\r\nHost: h\r\n\r\n", "/p", ""},
      {"GET http://h.example/abs/path?q HTTP/1.1\r\nHost: h\r\n\r\n",
       "/abs/path", "q"},
      {"GET http://h.example HTTP/1.1\r\nHost: h\r\n\r\n", "/", ""},
      {"GET https://h.example?x=1 HTTP/1.1\r\nHost: h\r\n\r\n", "/", "x=1"},
      {"OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", "*", ""},
      {"CONNECT h.example:443 HTTP/1.1\r\nHost: h\r\n\r\n", "h.example:443",
       ""},
      {"CONNECT [::1]:8080 HTTP/1.1\r\nHost: h\r\n\r\n", "[::1]:8080", ""},
  };
  for (const Case& c : cases) {
    const Parsed p = ParseWhole(c.request);
    ASSERT_EQ(p.status, Status::kComplete) << c.request;
    EXPECT_EQ(p.path, c.path) << c.request;
    EXPECT_EQ(p.query, c.query) << c.request;
  }
}

TEST(RequestParser, ContentLengthBodyIsAViewIntoTheInput) {
  RequestParser parser;
  const std::string input =
      "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabcGET";
  ASSERT_EQ(parser.Parse(input), Status::kComplete);
  EXPECT_EQ(parser.request().body(), "abc");
  EXPECT_EQ(parser.request().body().data(), input.data() + input.size() - 6);
  EXPECT_EQ(parser.request().content_length(), 3u);
  EXPECT_EQ(parser.consumed(), input.size() - 3);
}

TEST(RequestParser, ChunkedBodyIsDecodedAndTrailersAreNotMerged) {
  const Parsed p = ParseWhole(ChunkedPost());
  EXPECT_EQ(p.body, "hello world");
  EXPECT_TRUE(p.chunked);
  EXPECT_EQ(p.headers.size(), 2u);
}

TEST(RequestParser, ContentLengthAcceptsLeadingZerosAndRepeatsOfOneValue) {
  Parsed p = ParseWhole(
      "POST / HTTP/1.1\r\nHost: h\r\n"
      "Content-Length: 00000000000000000000000002\r\n\r\nok");
  EXPECT_EQ(p.status, Status::kComplete);
  EXPECT_EQ(p.body, "ok");
  p = ParseWhole(
      "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n"
      "Content-Length: 2, 2\r\n\r\nok");
  EXPECT_EQ(p.status, Status::kComplete);
  EXPECT_EQ(p.body, "ok");
}

TEST(RequestParser, KeepAliveRules) {
  EXPECT_FALSE(ParseWhole("GET / HTTP/1.0\r\n\r\n").keep_alive);
  EXPECT_TRUE(ParseWhole("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")
                  .keep_alive);
  EXPECT_FALSE(
      ParseWhole("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n")
          .keep_alive);
  EXPECT_TRUE(ParseWhole("GET / HTTP/1.1\r\nHost: h\r\n\r\n").keep_alive);
  EXPECT_FALSE(
      ParseWhole("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
          .keep_alive);
  EXPECT_FALSE(
      ParseWhole("GET / HTTP/1.1\r\nHost: h\r\nConnection: foo, Close\r\n\r\n")
          .keep_alive);
  EXPECT_FALSE(ParseWhole("GET / HTTP/1.1\r\nHost: h\r\nConnection: foo\r\n"
                          "connection: CLOSE \r\n\r\n")
                   .keep_alive);
  EXPECT_TRUE(
      ParseWhole("GET / HTTP/1.1\r\nHost: h\r\nConnection: closed\r\n\r\n")
          .keep_alive);
}

TEST(RequestParser, OtherMinorVersionsOfHttp1AreReadAsHttp11) {
  const Parsed p = ParseWhole("GET / HTTP/1.7\r\nHost: h\r\n\r\n");
  EXPECT_EQ(p.status, Status::kComplete);
  EXPECT_EQ(p.version, Version::kHttp11);
}

TEST(RequestParser, ExpectContinueIsKnownWhenTheHeadIsComplete) {
  RequestParser parser;
  EXPECT_EQ(
      parser.Parse("POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\n"
                   "Content-Length: 3\r\n\r\n"),
      Status::kIncomplete);
  EXPECT_TRUE(parser.head_complete());
  EXPECT_TRUE(parser.request().expects_continue());

  RequestParser http10;
  EXPECT_EQ(http10.Parse("POST / HTTP/1.0\r\nExpect: 100-continue\r\n"
                         "Content-Length: 3\r\n\r\n"),
            Status::kIncomplete);
  EXPECT_TRUE(http10.head_complete());
  EXPECT_FALSE(http10.request().expects_continue());
}

TEST(RequestParser, HeadFieldsAreValidBeforeTheBodyEvenWhenTheBufferMoves) {
  RequestParser parser;
  std::string first =
      "PUT /up?x=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nab";
  ASSERT_EQ(parser.Parse(first), Status::kIncomplete);
  ASSERT_TRUE(parser.head_complete());
  EXPECT_EQ(parser.request().method(), "PUT");
  EXPECT_EQ(parser.request().path(), "/up");
  EXPECT_EQ(parser.request().query(), "x=1");
  EXPECT_EQ(parser.request().FindHeader("host").value_or(""), "h");
  EXPECT_EQ(parser.request().content_length(), 5u);

  std::string moved = first + "c";
  first.assign(first.size(), '#');  // a stale view would now read '#'
  ASSERT_EQ(parser.Parse(moved), Status::kIncomplete);
  EXPECT_EQ(parser.request().method(), "PUT");
  EXPECT_EQ(parser.request().method().data(), moved.data());

  const std::string complete = moved + "de";
  ASSERT_EQ(parser.Parse(complete), Status::kComplete);
  EXPECT_EQ(parser.request().method().data(), complete.data());
  EXPECT_EQ(parser.request().FindHeader("host").value_or(""), "h");
  EXPECT_EQ(parser.request().body(), "abcde");
}

TEST(RequestParser, HeadIsNotCompleteAfterAnErrorInIt) {
  RequestParser parser;
  ASSERT_EQ(parser.Parse("GET / HTTP/1.1\r\nHost : h\r\n\r\n"), Status::kError);
  EXPECT_FALSE(parser.head_complete());
}

struct BadCase {
  const char* name;
  std::string request;
  int status;
};

TEST(RequestParser, MalformedRequestsGetTheirStatus) {
  ParserLimits limits;
  limits.max_request_line = 100;
  limits.max_header_bytes = 300;
  limits.max_header_count = 5;
  limits.max_body_bytes = 50;
  const std::string host = "Host: h\r\n";
  const std::string chunked_head =
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
  const std::vector<BadCase> cases = {
      // Line structure and characters.
      {"bare CR in header", "GET / HTTP/1.1\r\nHost: h\rX\r\n\r\n", 400},
      {"bare CR ending a header", "GET / HTTP/1.1\r\nHost: h\r\r\n\r\n", 400},
      {"bare CR in request line", "GET /\r HTTP/1.1\r\nHost: h\r\n\r\n", 400},
      {"bare CR before request line", "\rGET / HTTP/1.1\r\n" + host + "\r\n",
       400},
      {"too many empty lines first",
       std::string(80, '\n') + "GET / HTTP/1.1\r\n" + host + "\r\n", 400},
      {"NUL in header",
       std::string("GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n", 35), 400},
      {"DEL in value", "GET / HTTP/1.1\r\n" + host + "X: a\x7f\r\n\r\n", 400},
      {"control char in target", "GET /a\x01 HTTP/1.1\r\n" + host + "\r\n",
       400},
      {"space in target", "GET /a b HTTP/1.1\r\n" + host + "\r\n", 400},
      {"non-ASCII in target", "GET /\xc3\xa9 HTTP/1.1\r\n" + host + "\r\n",
       400},
      {"space before colon", "GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400},
      {"tab before colon", "GET / HTTP/1.1\r\nHost\t: h\r\n\r\n", 400},
      {"obs-fold", "GET / HTTP/1.1\r\n" + host + "X: a\r\n  b\r\n\r\n", 400},
      {"whitespace before first field", "GET / HTTP/1.1\r\n " + host + "\r\n",
       400},
      {"no colon", "GET / HTTP/1.1\r\n" + host + "Nonsense\r\n\r\n", 400},
      {"empty field name", "GET / HTTP/1.1\r\n" + host + ": v\r\n\r\n", 400},
      // Request line.
      {"HTTP/2.0", "GET / HTTP/2.0\r\n" + host + "\r\n", 505},
      {"HTTP/3.1", "GET / HTTP/3.1\r\n" + host + "\r\n", 505},
      {"HTTP/0.9", "GET / HTTP/0.9\r\n" + host + "\r\n", 505},
      {"HTTP/1 malformed", "GET / HTTP/1\r\n" + host + "\r\n", 400},
      {"HTTP/1.10 malformed", "GET / HTTP/1.10\r\n" + host + "\r\n", 400},
      {"lower-case version", "GET / http/1.1\r\n" + host + "\r\n", 400},
      {"space after version", "GET / HTTP/1.1 \r\n" + host + "\r\n", 400},
      {"no version", "GET /\r\n" + host + "\r\n", 400},
      {"two spaces", "GET  / HTTP/1.1\r\n" + host + "\r\n", 400},
      {"tab separator", "GET\t/ HTTP/1.1\r\n" + host + "\r\n", 400},
      {"empty method", " / HTTP/1.1\r\n" + host + "\r\n", 400},
      {"bad char in method", "GE(T / HTTP/1.1\r\n" + host + "\r\n", 400},
      {"asterisk with GET", "GET * HTTP/1.1\r\n" + host + "\r\n", 400},
      {"relative target", "GET foo HTTP/1.1\r\n" + host + "\r\n", 400},
      {"authority form with GET", "GET h:80 HTTP/1.1\r\n" + host + "\r\n", 400},
      {"CONNECT origin form", "CONNECT /x HTTP/1.1\r\n" + host + "\r\n", 400},
      {"CONNECT without port", "CONNECT h HTTP/1.1\r\n" + host + "\r\n", 400},
      {"CONNECT with userinfo", "CONNECT u@h:1 HTTP/1.1\r\n" + host + "\r\n",
       400},
      {"absolute form without host",
       "GET http:///x HTTP/1.1\r\n" + host + "\r\n", 400},
      {"absolute form bad scheme",
       "GET 1http://h/ HTTP/1.1\r\n" + host + "\r\n", 400},
      // Host.
      {"missing Host on 1.1", "GET / HTTP/1.1\r\n\r\n", 400},
      {"two Hosts", "GET / HTTP/1.1\r\n" + host + host + "\r\n", 400},
      {"two Hosts on 1.0", "GET / HTTP/1.0\r\n" + host + host + "\r\n", 400},
      // Content-Length and Transfer-Encoding.
      {"CL and TE",
       "POST / HTTP/1.1\r\n" + host +
           "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
       400},
      {"differing CLs",
       "POST / HTTP/1.1\r\n" + host +
           "Content-Length: 3\r\nContent-Length: 4\r\n\r\n",
       400},
      {"CL list differs",
       "POST / HTTP/1.1\r\n" + host + "Content-Length: 3, 4\r\n\r\n", 400},
      {"CL list with empty item",
       "POST / HTTP/1.1\r\n" + host + "Content-Length: 3,\r\n\r\n", 400},
      {"CL with sign",
       "POST / HTTP/1.1\r\n" + host + "Content-Length: +3\r\n\r\n", 400},
      {"CL negative",
       "POST / HTTP/1.1\r\n" + host + "Content-Length: -1\r\n\r\n", 400},
      {"CL with inner space",
       "POST / HTTP/1.1\r\n" + host + "Content-Length: 1 2\r\n\r\n", 400},
      {"CL letters",
       "POST / HTTP/1.1\r\n" + host + "Content-Length: 1a\r\n\r\n", 400},
      {"CL hex", "POST / HTTP/1.1\r\n" + host + "Content-Length: 0x3\r\n\r\n",
       400},
      {"CL empty", "POST / HTTP/1.1\r\n" + host + "Content-Length: \r\n\r\n",
       400},
      {"CL overflow",
       "POST / HTTP/1.1\r\n" + host +
           "Content-Length: 18446744073709551616\r\n\r\n",
       400},
      {"TE on 1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
       400},
      {"TE gzip on 1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: gzip\r\n\r\n",
       400},
      {"TE gzip alone",
       "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: gzip\r\n\r\n", 501},
      {"TE gzip before chunked",
       "POST / HTTP/1.1\r\n" + host +
           "Transfer-Encoding: gzip, chunked\r\n\r\n",
       501},
      {"TE chunked not last",
       "POST / HTTP/1.1\r\n" + host +
           "Transfer-Encoding: chunked, gzip\r\n\r\n",
       400},
      {"TE chunked twice in one field",
       "POST / HTTP/1.1\r\n" + host +
           "Transfer-Encoding: chunked, chunked\r\n\r\n",
       400},
      {"TE chunked in two fields",
       "POST / HTTP/1.1\r\n" + host +
           "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
       400},
      {"TE empty", "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: \r\n\r\n",
       400},
      // Chunked framing.
      {"chunk size not hex", chunked_head + "zz\r\n", 400},
      {"chunk size empty", chunked_head + "\r\n", 400},
      {"chunk size negative", chunked_head + "-1\r\n", 400},
      {"chunk size with 0x", chunked_head + "0x5\r\n", 400},
      {"chunk size overflow", chunked_head + "1ffffffffffffffffff\r\n", 400},
      {"chunk extension without name", chunked_head + "3;\r\n", 400},
      {"chunk extension junk", chunked_head + "3 x\r\n", 400},
      {"chunk extension unterminated quote", chunked_head + "3;a=\"b\r\n", 400},
      {"chunk extension bare CR", chunked_head + "3;a=b\rc\r\n", 400},
      {"chunk size line too long",
       chunked_head + "3;a=" + std::string(5000, 'b') + "\r\n", 400},
      {"missing CRLF after chunk data", chunked_head + "2\r\nabc\r\n0\r\n\r\n",
       400},
      {"bare CR after chunk data", chunked_head + "3\r\nabc\rX0\r\n\r\n", 400},
      {"bare CR in trailer", chunked_head + "0\r\nT: a\rb\r\n\r\n", 400},
      {"space before colon in trailer", chunked_head + "0\r\nT : a\r\n\r\n",
       400},
      // Limits.
      {"header count",
       "GET / HTTP/1.1\r\n" + host +
           "A: 1\r\nB: 1\r\nC: 1\r\nD: 1\r\nE: 1\r\n\r\n",
       431},
      {"header bytes",
       "GET / HTTP/1.1\r\n" + host + "A: " + std::string(400, 'a') + "\r\n\r\n",
       431},
      {"header bytes, unterminated",
       "GET / HTTP/1.1\r\n" + host + std::string(400, 'a'), 431},
      {"request line",
       "GET /" + std::string(200, 'a') + " HTTP/1.1\r\n" + host + "\r\n", 414},
      {"request line, unterminated", "GET /" + std::string(200, 'a'), 414},
      {"trailer count",
       chunked_head +
           "0\r\nA: 1\r\nB: 1\r\nC: 1\r\nD: 1\r\nE: 1\r\nF: 1\r\n\r\n",
       431},
      {"trailer bytes",
       chunked_head + "0\r\nT: " + std::string(400, 't') + "\r\n\r\n", 431},
      {"body via CL",
       "POST / HTTP/1.1\r\n" + host + "Content-Length: 51\r\n\r\n", 413},
      {"body via one chunk", chunked_head + "33\r\n", 413},
      {"body via chunks",
       chunked_head + "20\r\n" + std::string(32, 'x') + "\r\n20\r\n", 413},
  };
  for (const BadCase& c : cases) {
    RequestParser parser(limits);
    const Status status = parser.Parse(c.request);
    EXPECT_EQ(status, Status::kError) << c.name;
    EXPECT_EQ(parser.error_status(), c.status) << c.name;
    EXPECT_FALSE(parser.error_reason().empty()) << c.name;
    EXPECT_EQ(ParseByteByByte(c.request, limits).error, c.status)
        << c.name << " (byte by byte)";
  }
}

TEST(RequestParser, LimitsAreExactWhetherTheLineIsCompleteOrNot) {
  ParserLimits limits;
  limits.max_request_line = 20;
  const std::string fits = "GET /" + std::string(6, 'a') + " HTTP/1.1";
  ASSERT_EQ(fits.size(), 20u);
  const std::string input = fits + "\r\nHost: h\r\n\r\n";
  EXPECT_EQ(ParseWhole(input, limits).status, Status::kComplete);
  EXPECT_EQ(ParseByteByByte(input, limits).status, Status::kComplete);
  const std::string too_long = "GET /" + std::string(7, 'a') + " HTTP/1.1";
  EXPECT_EQ(ParseWhole(too_long + "\r\nHost: h\r\n\r\n", limits).error, 414);
  EXPECT_EQ(ParseWhole(too_long, limits).error, 414);
  EXPECT_EQ(ParseWhole(fits + "\r", limits).status, Status::kIncomplete);
  EXPECT_EQ(ParseWhole(fits + "\r\r", limits).error, 414);

  ParserLimits head;
  head.max_header_bytes = 30;
  const std::string exact = "GET / HTTP/1.1\r\nHost: hhhhhh\r\n\r\n";
  ASSERT_EQ(exact.size(), 32u);  // the final empty line is the 31st, 32nd
  EXPECT_EQ(ParseWhole(exact, head).error, 431);
  head.max_header_bytes = 32;
  EXPECT_EQ(ParseWhole(exact, head).status, Status::kComplete);
  EXPECT_EQ(ParseByteByByte(exact, head).status, Status::kComplete);
}

TEST(RequestParser, HostValuesAreChecked) {
  for (const char* host :
       {"example.com", "example.com:8080", "127.0.0.1:80", "[::1]", "[::1]:443",
        "xn--bcher-kva.example", "", "a%20b"}) {
    const std::string request =
        absl::StrCat("GET / HTTP/1.1\r\nHost: ", host, "\r\n\r\n");
    EXPECT_EQ(ParseWhole(request).status, Status::kComplete) << host;
  }
  for (const char* host : {"a b", "a/b", "a@b", "[::1", "[::1]x", "[]",
                           "host:80x", "[zz]", "a\"b"}) {
    const std::string request =
        absl::StrCat("GET / HTTP/1.1\r\nHost: ", host, "\r\n\r\n");
    EXPECT_EQ(ParseWhole(request).error, 400) << host;
  }
}

TEST(RequestParser, AFragmentInTheTargetIsRefused) {
  for (const char* target : {"/#frag", "/a?b#c", "http://h/p#f", "*#"}) {
    const std::string request =
        absl::StrCat("GET ", target, " HTTP/1.1\r\nHost: h\r\n\r\n");
    EXPECT_EQ(ParseWhole(request).error, 400) << target;
  }
}

TEST(RequestParser, AByteThatCannotBeginAMethodFailsAtOnce) {
  // Each of these is refused on its own, before any line end arrives.
  for (const std::string& start :
       {std::string("\x16"), std::string("\x16\x03\x01", 3),
        std::string(1, '\0'), std::string("GE\x80"), std::string(" GET"),
        std::string("GET\t"), std::string("\r\n\x16")}) {
    RequestParser parser;
    EXPECT_EQ(parser.Parse(start), Status::kError) << absl::CEscape(start);
    EXPECT_EQ(parser.error_status(), 400) << absl::CEscape(start);
  }
  // A method still arriving is not judged early.
  RequestParser parser;
  EXPECT_EQ(parser.Parse("GE"), Status::kIncomplete);
  EXPECT_EQ(parser.Parse("GET /"), Status::kIncomplete);
  // A method longer than the line limit is a 414, however it was split.
  ParserLimits limits;
  limits.max_request_line = 16;
  const std::string long_method = std::string(17, 'G') + "\x16";
  EXPECT_EQ(ParseWhole(long_method, limits).error, 414);
  EXPECT_EQ(ParseByteByByte(long_method, limits).error, 414);
  const std::string bad_at_edge = std::string(16, 'G') + "\x16";
  EXPECT_EQ(ParseWhole(bad_at_edge, limits).error, 400);
  EXPECT_EQ(ParseByteByByte(bad_at_edge, limits).error, 400);
}

TEST(RequestParser, ErrorsCarryAReason) {
  RequestParser parser;
  ASSERT_EQ(parser.Parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n"
                         "Transfer-Encoding: chunked\r\n\r\n"),
            Status::kError);
  EXPECT_EQ(parser.error_reason(),
            "Content-Length and Transfer-Encoding both present");
  // The error sticks until Reset().
  EXPECT_EQ(parser.Parse("GET / HTTP/1.1\r\nHost: h\r\n\r\n"), Status::kError);
  parser.Reset();
  EXPECT_EQ(parser.Parse("GET / HTTP/1.1\r\nHost: h\r\n\r\n"),
            Status::kComplete);
}

TEST(RequestParser, PipelinedRequestsParseOneAfterAnother) {
  const std::string a = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n";
  const std::string b =
      "POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nxyz";
  const std::string c =
      "\r\nPOST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
      "2\r\nok\r\n0\r\n\r\n";
  const std::string d = "GET /d HTTP/1.0\r\n\r\n";
  std::string input = a + b + c + d;
  RequestParser parser;
  std::vector<std::string> paths;
  std::vector<std::string> bodies;
  std::vector<size_t> consumed;
  while (!input.empty()) {
    ASSERT_EQ(parser.Parse(input), Status::kComplete);
    paths.emplace_back(parser.request().path());
    bodies.emplace_back(parser.request().body());
    consumed.push_back(parser.consumed());
    input.erase(0, parser.consumed());
    parser.Reset();
  }
  EXPECT_EQ(paths, (std::vector<std::string>{"/a", "/b", "/c", "/d"}));
  EXPECT_EQ(bodies, (std::vector<std::string>{"", "xyz", "ok", ""}));
  EXPECT_EQ(consumed,
            (std::vector<size_t>{a.size(), b.size(), c.size(), d.size()}));
}

TEST(RequestParser, PipelinedRequestsArrivingByteByByte) {
  const std::string stream =
      "GET /1 HTTP/1.1\r\nHost: h\r\n\r\n"
      "POST /2 HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
      "1\r\nx\r\n0\r\n\r\n"
      "GET /3 HTTP/1.1\r\nHost: h\r\n\r\n";
  RequestParser parser;
  std::vector<std::string> paths;
  size_t start = 0;
  for (size_t end = 1; end <= stream.size(); ++end) {
    const std::string buffer = stream.substr(start, end - start);
    const Status status = parser.Parse(buffer);
    ASSERT_NE(status, Status::kError);
    if (status == Status::kComplete) {
      paths.emplace_back(parser.request().path());
      start += parser.consumed();
      parser.Reset();
    }
  }
  EXPECT_EQ(start, stream.size());
  EXPECT_EQ(paths, (std::vector<std::string>{"/1", "/2", "/3"}));
}

TEST(RequestParser, ResetReusesTheParserForManyRequests) {
  RequestParser parser;
  for (int i = 0; i < 1000; ++i) {
    const std::string input = absl::StrCat(
        "GET /", i, " HTTP/1.1\r\nHost: h\r\nX-N: ", i, "\r\n\r\n");
    ASSERT_EQ(parser.Parse(input), Status::kComplete);
    EXPECT_EQ(parser.request().path(), absl::StrCat("/", i));
    EXPECT_EQ(parser.request().FindHeader("x-n").value_or(""), absl::StrCat(i));
    parser.Reset();
  }
}

TEST(RequestParser, ReusedParserDoesNotAllocateAfterWarmUp) {
  const std::vector<std::string> inputs = {
      BrowserGet(), ChunkedPost(),
      "POST /submit HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"};
  RequestParser parser;
  for (const std::string& input : inputs) {
    ASSERT_EQ(parser.Parse(input), Status::kComplete);
    parser.Reset();
  }
  const int64_t before = allocations.load();
  int failures = 0;
  for (int i = 0; i < 1000; ++i) {
    for (const std::string& input : inputs) {
      if (parser.Parse(input) != Status::kComplete) ++failures;
      parser.Reset();
    }
  }
  const int64_t allocated = allocations.load() - before;
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(allocated, 0);
}

TEST(RequestParser, LimitsCanChangeBetweenRequests) {
  RequestParser parser;
  ASSERT_EQ(parser.Parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: "
                         "10\r\n\r\n0123456789"),
            Status::kComplete);
  parser.Reset();
  ParserLimits small;
  small.max_body_bytes = 5;
  parser.set_limits(small);
  ASSERT_EQ(parser.Parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: "
                         "10\r\n\r\n"),
            Status::kError);
  EXPECT_EQ(parser.error_status(), 413);
}

}  // namespace
}  // namespace eddy::http
