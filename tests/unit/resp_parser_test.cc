#include "examples/redis/resp_parser.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace eddy::redis {
namespace {

using Status = RespParser::Status;

// What a test compares of one parse, copied.
struct Parsed {
  Status status = Status::kIncomplete;
  std::vector<std::string> arguments;
  size_t consumed = 0;
  std::string error;

  bool operator==(const Parsed& o) const {
    return status == o.status && arguments == o.arguments &&
           consumed == o.consumed && error == o.error;
  }
};

std::ostream& operator<<(std::ostream& os, const Parsed& p) {
  os << "status=" << static_cast<int>(p.status) << " arguments=";
  for (const std::string& a : p.arguments) os << "[" << a << "]";
  return os << " consumed=" << p.consumed << " error=" << p.error;
}

Parsed Capture(const RespParser& parser, Status status) {
  Parsed p;
  p.status = status;
  if (status == Status::kError) p.error = parser.error();
  if (status != Status::kComplete) return p;
  for (absl::string_view a : parser.arguments()) p.arguments.emplace_back(a);
  p.consumed = parser.consumed();
  return p;
}

Parsed ParseWhole(const std::string& input) {
  RespParser parser;
  return Capture(parser, parser.Parse(input));
}

// Feeds growing prefixes, each a fresh copy, so that the buffer moves as a
// connection's may and offsets kept as pointers would dangle under ASan.
Parsed ParseByteByByte(const std::string& input) {
  RespParser parser;
  Status status = Status::kIncomplete;
  for (size_t end = 1; end <= input.size(); ++end) {
    const std::string buffer = input.substr(0, end);
    status = parser.Parse(buffer);
    if (status != Status::kIncomplete) return Capture(parser, status);
  }
  return Capture(parser, status);
}

TEST(RespParser, CommandsParseTheSameWholeAndByteByByte) {
  const std::vector<std::string> samples = {
      "*1\r\n$4\r\nPING\r\n",
      "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nva\r\nl\r\n",
      "*2\r\n$4\r\nECHO\r\n$0\r\n\r\n",
      "*0\r\n",
      "PING\r\n",
      "SET  key   value\n",
      "\r\n",
  };
  for (const std::string& sample : samples) {
    const Parsed whole = ParseWhole(sample);
    ASSERT_EQ(whole.status, Status::kComplete) << sample;
    EXPECT_EQ(whole.consumed, sample.size()) << sample;
    EXPECT_EQ(ParseByteByByte(sample), whole) << sample;
  }
  EXPECT_EQ(
      ParseWhole("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nva\r\nl\r\n").arguments,
      (std::vector<std::string>{"SET", "key", "va\r\nl"}));
  EXPECT_EQ(ParseWhole("SET  key   value\n").arguments,
            (std::vector<std::string>{"SET", "key", "value"}));
}

TEST(RespParser, MalformedCommandsFailWholeAndByteByByte) {
  struct BadCase {
    std::string input;
    std::string error;
  };
  const std::vector<BadCase> cases = {
      {"*x\r\n", "Protocol error: invalid multibulk length"},
      {"*-1\r\n", "Protocol error: invalid multibulk length"},
      {"*" + std::string(30, '1'), "Protocol error: invalid multibulk length"},
      {"*1\r\n:4\r\n", "Protocol error: expected '$', got ':'"},
      {"*1\r\n$-1\r\n", "Protocol error: invalid bulk length"},
      {"*1\r\n$3\r\nabcd\r\n",
       "Protocol error: bulk string not followed by CRLF"},
      {std::string(70000, 'a'), "Protocol error: too big inline request"},
  };
  for (const BadCase& c : cases) {
    EXPECT_EQ(ParseWhole(c.input).error, c.error) << c.input.substr(0, 40);
    EXPECT_EQ(ParseByteByByte(c.input).error, c.error) << c.input.substr(0, 40);
  }
}

TEST(RespParser, PipelinedCommandsParseOneAfterAnother) {
  std::string input =
      "*1\r\n$4\r\nPING\r\nECHO hi\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n";
  RespParser parser;
  std::vector<std::vector<std::string>> commands;
  while (!input.empty()) {
    ASSERT_EQ(parser.Parse(input), Status::kComplete);
    commands.emplace_back(parser.arguments().begin(), parser.arguments().end());
    input.erase(0, parser.consumed());
  }
  EXPECT_EQ(commands, (std::vector<std::vector<std::string>>{
                          {"PING"}, {"ECHO", "hi"}, {"GET", "k"}}));
}

// The attack of issue 15: a command of very many arguments trickled in
// small segments used to be parsed again from its start on every read.
TEST(RespParser, TrickledHugeCommandCostsWorkLinearInItsBytes) {
  constexpr int kArguments = 200000;
  std::string command = absl::StrCat("*", kArguments + 1, "\r\n$4\r\nMSET\r\n");
  for (int i = 0; i < kArguments; ++i) {
    const std::string value = absl::StrCat("v", i);
    absl::StrAppend(&command, "$", value.size(), "\r\n", value, "\r\n");
  }
  RespParser parser;
  const absl::string_view all = command;
  // Segments of 13 bytes: they end anywhere in a length line or a payload.
  constexpr size_t kSegment = 13;
  Status status = Status::kIncomplete;
  size_t calls = 0;
  for (size_t end = kSegment; status == Status::kIncomplete; end += kSegment) {
    status = parser.Parse(all.substr(0, end));
    ++calls;
  }
  ASSERT_EQ(status, Status::kComplete);
  EXPECT_EQ(parser.consumed(), command.size());
  ASSERT_EQ(parser.arguments().size(), size_t{kArguments + 1});
  EXPECT_EQ(parser.arguments()[kArguments], absl::StrCat("v", kArguments - 1));
  EXPECT_GT(calls, 100000u);
  // Each byte is read about once (a CR at a segment's end twice), however
  // many segments it came in; re-parsing from the start would read the
  // command about `calls / 2` times over.
  EXPECT_LE(parser.bytes_examined(), 2 * command.size())
      << command.size() << " bytes in " << calls << " segments";
}

TEST(RespParser, TrickledInlineLineIsScannedOnce) {
  const std::string line = "ECHO " + std::string(60000, 'x') + "\r\n";
  RespParser parser;
  const absl::string_view all = line;
  Status status = Status::kIncomplete;
  for (size_t end = 1; end <= line.size() && status == Status::kIncomplete;
       ++end) {
    status = parser.Parse(all.substr(0, end));
  }
  ASSERT_EQ(status, Status::kComplete);
  EXPECT_EQ(parser.arguments().size(), 2u);
  EXPECT_LE(parser.bytes_examined(), 2 * line.size());
}

TEST(RespParser, AfterAnErrorTheNextCallStartsANewCommand) {
  RespParser parser;
  ASSERT_EQ(parser.Parse("*z\r\n"), Status::kError);
  EXPECT_FALSE(parser.error().empty());
  ASSERT_EQ(parser.Parse("*1\r\n$4\r\nPING\r\n"), Status::kComplete);
  EXPECT_EQ(parser.arguments().size(), 1u);
  EXPECT_TRUE(parser.error().empty());
}

}  // namespace
}  // namespace eddy::redis
