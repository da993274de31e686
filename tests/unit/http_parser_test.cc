#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "http/parser.h"

namespace eddy::http {
namespace {

// What a test compares: everything a complete request exposes, copied.
struct Parsed {
  RequestParser::Status status;
  std::string method, target, path, query, body;
  Version version = Version::kHttp11;
  std::vector<std::pair<std::string, std::string>> headers;
  size_t consumed = 0;
  bool keep_alive = false;
  int error = 0;

  bool operator==(const Parsed& o) const {
    return status == o.status && method == o.method && target == o.target &&
           path == o.path && query == o.query && body == o.body &&
           version == o.version && headers == o.headers &&
           consumed == o.consumed && keep_alive == o.keep_alive &&
           error == o.error;
  }
};

Parsed Capture(const RequestParser& parser, RequestParser::Status status) {
  Parsed p;
  p.status = status;
  if (status == RequestParser::Status::kError) {
    p.error = parser.error_status();
    return p;
  }
  if (status != RequestParser::Status::kComplete) return p;
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
  return p;
}

Parsed ParseWhole(const std::string& input, ParserLimits limits = {}) {
  RequestParser parser(limits);
  return Capture(parser, parser.Parse(input));
}

// Feeds growing prefixes, as a connection's buffer grows; the copy per call
// makes stale views visible to ASan.
Parsed ParseInSteps(const std::string& input, const std::vector<size_t>& cuts,
                    ParserLimits limits = {}) {
  RequestParser parser(limits);
  RequestParser::Status status = RequestParser::Status::kIncomplete;
  std::string buffer;
  for (size_t cut : cuts) {
    buffer = input.substr(0, cut);
    status = parser.Parse(buffer);
    if (status != RequestParser::Status::kIncomplete) break;
  }
  return Capture(parser, status);
}

const std::vector<std::string>& Samples() {
  static const auto* samples = new std::vector<std::string>{
      "GET / HTTP/1.0\r\n\r\n",
      "GET /index.html?x=1&y=2 HTTP/1.1\r\nHost: example.com\r\n\r\n",
      "GET /page HTTP/1.1\r\nHost: www.example.com\r\n"
      "User-Agent: Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0\r\n"
      "Accept: "
      "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
      "Accept-Language: en-US,en;q=0.9\r\nAccept-Encoding: gzip, deflate, "
      "br\r\n"
      "Connection: keep-alive\r\nCache-Control: max-age=0\r\n"
      "Upgrade-Insecure-Requests: 1\r\nSec-Fetch-Dest: document\r\n"
      "Sec-Fetch-Mode: navigate\r\nSec-Fetch-Site: none\r\nCookie: a=b; "
      "c=d\r\n\r\n",
      "POST /submit HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello "
      "world",
      "POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5;name=value\r\nhello\r\n6 ; quoted=\"a b\"\r\n world\r\n0\r\n"
      "X-Trailer: yes\r\n\r\n",
      "GET http://example.com/abs/path?q HTTP/1.1\r\nHost: example.com\r\n\r\n",
      "GET http://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n",
      "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n",
      "\r\n\r\nGET /after-empty-lines HTTP/1.1\r\nHost: h\r\n\r\n",
      "GET /lf-only HTTP/1.1\nHost: h\nX-Empty:\n\n",
      "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: h\r\nX-Spaces:   padded value \t \r\n\r\n",
  };
  return *samples;
}

TEST(RequestParser, SamplesParseTheSameWholeSplitAnywhereAndByteByByte) {
  for (const std::string& sample : Samples()) {
    const Parsed whole = ParseWhole(sample);
    ASSERT_EQ(whole.status, RequestParser::Status::kComplete) << sample;
    EXPECT_EQ(whole.consumed, sample.size()) << sample;
    for (size_t split = 1; split < sample.size(); ++split) {
      EXPECT_EQ(ParseInSteps(sample, {split, sample.size()}), whole)
          << "split at " << split << " of: " << sample;
    }
    std::vector<size_t> bytes;
    for (size_t i = 1; i <= sample.size(); ++i) bytes.push_back(i);
    EXPECT_EQ(ParseInSteps(sample, bytes), whole) << "byte by byte: " << sample;
  }
}

TEST(RequestParser, ExposesTheParts) {
  RequestParser parser;
  const std::string input =
      "GET /a/b?c=d HTTP/1.1\r\nHost: example\r\nX-Thing:  v  \r\n\r\n";
  ASSERT_EQ(parser.Parse(input), RequestParser::Status::kComplete);
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
}

TEST(RequestParser, AbsoluteFormAndAsteriskPaths) {
  EXPECT_EQ(ParseWhole(Samples()[5]).path, "/abs/path");
  EXPECT_EQ(ParseWhole(Samples()[5]).query, "q");
  EXPECT_EQ(ParseWhole(Samples()[6]).path, "/");
  EXPECT_EQ(ParseWhole(Samples()[7]).path, "*");
}

TEST(RequestParser, ChunkedBodyIsDecoded) {
  const Parsed p = ParseWhole(Samples()[4]);
  EXPECT_EQ(p.body, "hello world");
  EXPECT_EQ(p.headers.size(), 2u);  // trailers are not merged
}

TEST(RequestParser, KeepAliveRules) {
  EXPECT_FALSE(ParseWhole("GET / HTTP/1.0\r\n\r\n").keep_alive);
  EXPECT_TRUE(ParseWhole("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")
                  .keep_alive);
  EXPECT_TRUE(ParseWhole("GET / HTTP/1.1\r\nHost: h\r\n\r\n").keep_alive);
  EXPECT_FALSE(
      ParseWhole("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
          .keep_alive);
  EXPECT_FALSE(
      ParseWhole("GET / HTTP/1.1\r\nHost: h\r\nConnection: foo, Close\r\n\r\n")
          .keep_alive);
  EXPECT_EQ(ParseWhole("GET / HTTP/1.7\r\nHost: h\r\n\r\n").version,
            Version::kHttp11);
}

TEST(RequestParser, ExpectContinueIsKnownWhenTheHeadIsComplete) {
  RequestParser parser;
  EXPECT_EQ(
      parser.Parse("POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\n"
                   "Content-Length: 3\r\n\r\n"),
      RequestParser::Status::kIncomplete);
  EXPECT_TRUE(parser.head_complete());
  EXPECT_TRUE(parser.request().expects_continue());
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
  const std::vector<BadCase> cases = {
      {"bare CR in header", "GET / HTTP/1.1\r\nHost: h\rX\r\n\r\n", 400},
      {"bare CR in request line", "GET /\r HTTP/1.1\r\nHost: h\r\n\r\n", 400},
      {"NUL in header",
       std::string("GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n", 35), 400},
      {"control char in target", "GET /a\x01 HTTP/1.1\r\n" + host + "\r\n",
       400},
      {"space in target", "GET /a b HTTP/1.1\r\n" + host + "\r\n", 400},
      {"non-ASCII in target", "GET /\xc3\xa9 HTTP/1.1\r\n" + host + "\r\n",
       400},
      {"space before colon", "GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400},
      {"obs-fold", "GET / HTTP/1.1\r\n" + host + "X: a\r\n  b\r\n\r\n", 400},
      {"no colon", "GET / HTTP/1.1\r\n" + host + "Nonsense\r\n\r\n", 400},
      {"missing Host on 1.1", "GET / HTTP/1.1\r\n\r\n", 400},
      {"two Hosts", "GET / HTTP/1.1\r\n" + host + host + "\r\n", 400},
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
      {"CL with sign",
       "POST / HTTP/1.1\r\n" + host + "Content-Length: +3\r\n\r\n", 400},
      {"CL with inner space",
       "POST / HTTP/1.1\r\n" + host + "Content-Length: 1 2\r\n\r\n", 400},
      {"CL letters",
       "POST / HTTP/1.1\r\n" + host + "Content-Length: 1a\r\n\r\n", 400},
      {"CL empty", "POST / HTTP/1.1\r\n" + host + "Content-Length: \r\n\r\n",
       400},
      {"CL overflow",
       "POST / HTTP/1.1\r\n" + host +
           "Content-Length: 99999999999999999999999\r\n\r\n",
       400},
      {"TE on 1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
       400},
      {"TE gzip alone",
       "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: gzip\r\n\r\n", 501},
      {"TE chunked not last",
       "POST / HTTP/1.1\r\n" + host +
           "Transfer-Encoding: chunked, gzip\r\n\r\n",
       400},
      {"TE chunked twice",
       "POST / HTTP/1.1\r\n" + host +
           "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
       400},
      {"chunk size not hex",
       "POST / HTTP/1.1\r\n" + host +
           "Transfer-Encoding: chunked\r\n\r\nzz\r\n",
       400},
      {"chunk size overflow",
       "POST / HTTP/1.1\r\n" + host +
           "Transfer-Encoding: chunked\r\n\r\n1ffffffffffffffffff\r\n",
       400},
      {"chunk data too long",
       "POST / HTTP/1.1\r\n" + host +
           "Transfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n",
       400},
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
      {"body via CL",
       "POST / HTTP/1.1\r\n" + host + "Content-Length: 51\r\n\r\n", 413},
      {"body via chunks",
       "POST / HTTP/1.1\r\n" + host +
           "Transfer-Encoding: chunked\r\n\r\n20\r\n" + std::string(32, 'x') +
           "\r\n20\r\n",
       413},
      {"HTTP/2.0", "GET / HTTP/2.0\r\n" + host + "\r\n", 505},
      {"HTTP/3.1", "GET / HTTP/3.1\r\n" + host + "\r\n", 505},
      {"HTTP/1 malformed", "GET / HTTP/1\r\n" + host + "\r\n", 400},
      {"lower-case version", "GET / http/1.1\r\n" + host + "\r\n", 400},
      {"two spaces", "GET  / HTTP/1.1\r\n" + host + "\r\n", 400},
      {"asterisk with GET", "GET * HTTP/1.1\r\n" + host + "\r\n", 400},
      {"relative target", "GET foo HTTP/1.1\r\n" + host + "\r\n", 400},
      {"empty method", " / HTTP/1.1\r\n" + host + "\r\n", 400},
      {"bad char in method", "GE(T / HTTP/1.1\r\n" + host + "\r\n", 400},
      {"DEL in value", "GET / HTTP/1.1\r\n" + host + "X: a\x7f\r\n\r\n", 400},
  };
  for (const BadCase& c : cases) {
    const Parsed whole = ParseWhole(c.request, limits);
    EXPECT_EQ(whole.status, RequestParser::Status::kError) << c.name;
    EXPECT_EQ(whole.error, c.status) << c.name;
    std::vector<size_t> bytes;
    for (size_t i = 1; i <= c.request.size(); ++i) bytes.push_back(i);
    EXPECT_EQ(ParseInSteps(c.request, bytes, limits).error, c.status)
        << c.name << " (byte by byte)";
  }
}

TEST(RequestParser, ErrorsCarryAReason) {
  RequestParser parser;
  ASSERT_EQ(parser.Parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n"
                         "Transfer-Encoding: chunked\r\n\r\n"),
            RequestParser::Status::kError);
  EXPECT_EQ(parser.error_reason(),
            "Content-Length and Transfer-Encoding both present");
}

TEST(RequestParser, IdenticalRepeatedContentLengthIsAccepted) {
  const Parsed p = ParseWhole(
      "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nContent-Length: "
      "2\r\n\r\nok");
  EXPECT_EQ(p.status, RequestParser::Status::kComplete);
  EXPECT_EQ(p.body, "ok");
}

TEST(RequestParser, PipelinedRequestsParseOneAfterAnother) {
  const std::string a = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n";
  const std::string b =
      "POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nxyz";
  const std::string c = "GET /c HTTP/1.1\r\nHost: h\r\n\r\n";
  std::string input = a + b + c;
  RequestParser parser;
  std::vector<std::string> paths;
  while (!input.empty()) {
    ASSERT_EQ(parser.Parse(input), RequestParser::Status::kComplete);
    paths.emplace_back(parser.request().path());
    if (paths.back() == "/b") {
      EXPECT_EQ(parser.request().body(), "xyz");
    }
    input.erase(0, parser.consumed());
    parser.Reset();
  }
  EXPECT_EQ(paths, (std::vector<std::string>{"/a", "/b", "/c"}));
}

TEST(RequestParser, ResetReusesTheParserForManyRequests) {
  RequestParser parser;
  for (int i = 0; i < 1000; ++i) {
    const std::string input = absl::StrCat(
        "GET /", i, " HTTP/1.1\r\nHost: h\r\nX-N: ", i, "\r\n\r\n");
    ASSERT_EQ(parser.Parse(input), RequestParser::Status::kComplete);
    EXPECT_EQ(parser.request().path(), absl::StrCat("/", i));
    EXPECT_EQ(parser.request().FindHeader("x-n").value_or(""), absl::StrCat(i));
    parser.Reset();
  }
}

}  // namespace
}  // namespace eddy::http
