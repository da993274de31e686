#include "eddy/http/response_parser.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace eddy::http {
namespace {

using Status = ResponseParser::Status;

// Feeds `stream` to a parser in pieces of `step` bytes, as reads would
// deliver it, and returns the status codes of the completed responses.
// Stops at the first error; `*error` tells whether there was one.
std::vector<int> ParseAll(const std::string& stream, size_t step,
                          bool* error = nullptr,
                          ResponseParser* parser_out = nullptr) {
  ResponseParser local;
  ResponseParser& parser = parser_out != nullptr ? *parser_out : local;
  std::vector<int> codes;
  std::string pending;
  size_t offset = 0;
  if (error != nullptr) *error = false;
  while (offset < stream.size()) {
    pending += stream.substr(offset, step);
    offset += step;
    while (!pending.empty()) {
      size_t consumed = 0;
      const Status status = parser.Feed(pending, &consumed);
      pending.erase(0, consumed);
      if (status == Status::kError) {
        if (error != nullptr) *error = true;
        return codes;
      }
      if (status == Status::kIncomplete) break;
      codes.push_back(parser.status_code());
    }
  }
  return codes;
}

TEST(ResponseParser, ContentLengthResponsesAtEverySplit) {
  const std::string stream =
      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
      "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n"
      "HTTP/1.1 503 \r\nCONTENT-LENGTH:  3 \r\n\r\nbye";
  for (size_t step = 1; step <= stream.size(); ++step) {
    bool error;
    EXPECT_EQ(ParseAll(stream, step, &error), (std::vector<int>{200, 404, 503}))
        << "step " << step;
    EXPECT_FALSE(error);
  }
}

TEST(ResponseParser, ChunkedBodyWithExtensionsAndTrailers) {
  const std::string stream =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
      "5;name=value\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-Trailer: 1\r\n\r\n"
      "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok";
  for (size_t step = 1; step <= stream.size(); ++step) {
    bool error;
    EXPECT_EQ(ParseAll(stream, step, &error), (std::vector<int>{200, 201}))
        << "step " << step;
    EXPECT_FALSE(error);
  }
}

TEST(ResponseParser, TransferEncodingOverridesContentLength) {
  bool error;
  EXPECT_EQ(ParseAll("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n",
                     64, &error),
            std::vector<int>{200});
  EXPECT_FALSE(error);
}

TEST(ResponseParser, StatusesWithoutBodyIgnoreContentLength) {
  bool error;
  EXPECT_EQ(ParseAll("HTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n"
                     "HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n",
                     1000, &error),
            (std::vector<int>{204, 304}));
  EXPECT_FALSE(error);
}

TEST(ResponseParser, InterimResponsesAreSkipped) {
  bool error;
  EXPECT_EQ(ParseAll("HTTP/1.1 100 Continue\r\n\r\n"
                     "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx",
                     7, &error),
            std::vector<int>{200});
  EXPECT_FALSE(error);
}

TEST(ResponseParser, KeepAliveFollowsVersionAndConnectionHeader) {
  struct Case {
    const char* head;
    bool keep_alive;
  };
  const Case cases[] = {
      {"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", true},
      {"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
       false},
      {"HTTP/1.1 200 OK\r\nConnection: Upgrade, Close\r\n"
       "Content-Length: 0\r\n\r\n",
       false},
      {"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", false},
      {"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n",
       true},
  };
  for (const Case& c : cases) {
    ResponseParser parser;
    size_t consumed = 0;
    ASSERT_EQ(parser.Feed(c.head, &consumed), Status::kComplete) << c.head;
    EXPECT_EQ(parser.keep_alive(), c.keep_alive) << c.head;
  }
}

TEST(ResponseParser, BodyWithoutLengthEndsAtClose) {
  ResponseParser parser;
  bool error;
  EXPECT_TRUE(
      ParseAll("HTTP/1.0 200 OK\r\n\r\nsome body bytes", 4, &error, &parser)
          .empty());
  EXPECT_FALSE(error);
  EXPECT_TRUE(parser.in_response());
  EXPECT_EQ(parser.Finish(), Status::kComplete);
  EXPECT_EQ(parser.status_code(), 200);
  EXPECT_FALSE(parser.keep_alive());
}

TEST(ResponseParser, CloseInsideALengthDelimitedBodyIsAnError) {
  ResponseParser parser;
  ParseAll("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", 100, nullptr,
           &parser);
  EXPECT_EQ(parser.Finish(), Status::kError);
}

TEST(ResponseParser, CloseBetweenResponsesIsNotAResponse) {
  ResponseParser parser;
  EXPECT_FALSE(parser.in_response());
  EXPECT_EQ(parser.Finish(), Status::kIncomplete);
}

TEST(ResponseParser, BodyBytesAreConsumedAsTheyArrive) {
  ResponseParser parser;
  size_t consumed = 0;
  const std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n";
  EXPECT_EQ(parser.Feed(head + std::string(100, 'b'), &consumed),
            Status::kIncomplete);
  EXPECT_EQ(consumed, head.size() + 100);
  EXPECT_EQ(parser.Feed(std::string(900, 'b') + "HTTP", &consumed),
            Status::kComplete);
  EXPECT_EQ(consumed, 900u);
}

TEST(ResponseParser, RejectsWhatIsNotHttp) {
  const char* bad[] = {
      "SSH-2.0-OpenSSH\r\n\r\n",
      "HTTP/1.1 20 OK\r\n\r\n",
      "HTTP/2 200 OK\r\n\r\n",
      "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 12x\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nxyz\r\n",
  };
  for (const char* stream : bad) {
    bool error;
    ParseAll(stream, 1000, &error);
    EXPECT_TRUE(error) << stream;
  }
}

TEST(ResponseParser, RejectsAnEndlessHead) {
  ResponseParser parser;
  size_t consumed = 0;
  const std::string head = "HTTP/1.1 200 OK\r\nX: " +
                           std::string(ResponseParser::kMaxHeadBytes, 'a');
  EXPECT_EQ(parser.Feed(head, &consumed), Status::kError);
}

// Records what an observing parser reports.
class Recorder final : public ResponseParser::Observer {
 public:
  void OnResponseHead(int status_code, absl::string_view reason,
                      absl::Span<const Header> headers) override {
    codes.push_back(status_code);
    reasons.emplace_back(reason);
    for (const Header& header : headers) {
      fields += absl::StrCat(header.name, "=", header.value, ";");
    }
  }
  void OnResponseBody(absl::string_view piece) override {
    body.append(piece.data(), piece.size());
  }
  std::vector<int> codes;
  std::vector<std::string> reasons;
  std::string fields;
  std::string body;
};

// Feeds `stream` byte by byte to an observed parser and finishes it.
Recorder ObserveByteByByte(const std::string& stream, bool head = false) {
  Recorder recorder;
  ResponseParser parser(&recorder);
  if (head) parser.ExpectNoBody();
  std::string pending;
  for (char c : stream) {
    pending.push_back(c);
    size_t consumed = 0;
    EXPECT_NE(parser.Feed(pending, &consumed), Status::kError)
        << parser.error();
    pending.erase(0, consumed);
  }
  EXPECT_NE(parser.Finish(), Status::kError);
  return recorder;
}

TEST(ResponseParser, TellsAnObserverTheHeadAndTheDechunkedBody) {
  const Recorder recorder = ObserveByteByByte(
      "HTTP/1.1 100 Continue\r\n\r\n"
      "HTTP/1.1 200 Fine\r\nTransfer-Encoding: chunked\r\nX-A:  b \r\n\r\n"
      "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: t\r\n\r\n");
  EXPECT_EQ(recorder.codes, std::vector<int>{200});
  EXPECT_EQ(recorder.reasons, std::vector<std::string>{"Fine"});
  EXPECT_EQ(recorder.fields, "Transfer-Encoding=chunked;X-A=b;");
  EXPECT_EQ(recorder.body, "hello world");
}

TEST(ResponseParser, TellsAnObserverOfACloseDelimitedBody) {
  const Recorder recorder =
      ObserveByteByByte("HTTP/1.0 200 OK\r\n\r\nuntil the end");
  EXPECT_EQ(recorder.body, "until the end");
}

TEST(ResponseParser, TheAnswerToHeadHasNoBodyWhateverItsLengthSays) {
  ResponseParser parser;
  parser.ExpectNoBody();
  size_t consumed = 0;
  const std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n";
  EXPECT_EQ(parser.Feed(head + "HTTP/1.1", &consumed), Status::kComplete);
  EXPECT_EQ(consumed, head.size());
  // Only that one response: the next has its body again.
  EXPECT_EQ(
      parser.Feed("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n", &consumed),
      Status::kIncomplete);
}

}  // namespace
}  // namespace eddy::http
