#include "eddy/net/framing.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace eddy {
namespace {

std::vector<std::string> Lines(Buffer& input, const LineFramingOptions& options,
                               absl::Status* status) {
  std::vector<std::string> frames;
  *status = ConsumeDelimitedFrames(
      input, options, [&](absl::string_view f) { frames.emplace_back(f); });
  return frames;
}

TEST(DelimitedFrames, DeliversCompleteLinesAndKeepsTheTail) {
  Buffer input;
  input.Append("one\r\ntwo\nthr");
  absl::Status status;
  EXPECT_EQ(Lines(input, {}, &status),
            (std::vector<std::string>{"one", "two"}));
  EXPECT_TRUE(status.ok());
  EXPECT_EQ(input.view(), "thr");
  input.Append("ee\n");
  EXPECT_EQ(Lines(input, {}, &status), (std::vector<std::string>{"three"}));
  EXPECT_TRUE(input.empty());
}

TEST(DelimitedFrames, MultiByteDelimiterSplitAcrossReads) {
  LineFramingOptions options;
  options.delimiter = "\r\n\r\n";
  Buffer input;
  absl::Status status;
  input.Append("a\r\n");
  EXPECT_TRUE(Lines(input, options, &status).empty());
  input.Append("\r\nb");
  EXPECT_EQ(Lines(input, options, &status), (std::vector<std::string>{"a"}));
  EXPECT_EQ(input.view(), "b");
}

TEST(DelimitedFrames, OverlongLineIsAnErrorEvenWithoutDelimiter) {
  LineFramingOptions options;
  options.max_frame_bytes = 8;
  Buffer input;
  absl::Status status;
  input.Append("short\n0123456789");
  EXPECT_EQ(Lines(input, options, &status),
            (std::vector<std::string>{"short"}));
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
}

TEST(LengthPrefixedFrames, RoundTripsEveryPrefixWidth) {
  for (int width : {1, 2, 4}) {
    LengthPrefixOptions options;
    options.prefix_bytes = width;
    Buffer wire;
    ASSERT_TRUE(AppendLengthPrefixedFrame(wire, "hello", options).ok());
    ASSERT_TRUE(AppendLengthPrefixedFrame(wire, "", options).ok());
    ASSERT_TRUE(
        AppendLengthPrefixedFrame(wire, std::string(200, 'x'), options).ok());
    // Deliver one byte at a time: frames appear only when complete.
    Buffer input;
    std::vector<std::string> frames;
    for (char c : wire.view()) {
      input.Append(absl::string_view(&c, 1));
      ASSERT_TRUE(
          ConsumeLengthPrefixedFrames(input, options, [&](absl::string_view f) {
            frames.emplace_back(f);
          }).ok());
    }
    EXPECT_EQ(frames,
              (std::vector<std::string>{"hello", "", std::string(200, 'x')}))
        << width;
    EXPECT_TRUE(input.empty());
  }
}

TEST(LengthPrefixedFrames, DeclaredLengthOverTheLimitFailsBeforeTheBody) {
  LengthPrefixOptions options;
  options.prefix_bytes = 4;
  options.max_frame_bytes = 100;
  Buffer input;
  input.Append(std::string("\x00\x00\x01\x00", 4));  // 256
  const absl::Status status = ConsumeLengthPrefixedFrames(
      input, options, [](absl::string_view) { FAIL(); });
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
}

TEST(LengthPrefixedFrames, FrameTooLargeForOneBytePrefixIsRejected) {
  LengthPrefixOptions options;
  options.prefix_bytes = 1;
  Buffer out;
  EXPECT_FALSE(
      AppendLengthPrefixedFrame(out, std::string(256, 'a'), options).ok());
  options.prefix_bytes = 3;
  EXPECT_FALSE(AppendLengthPrefixedFrame(out, "a", options).ok());
}

}  // namespace
}  // namespace eddy
