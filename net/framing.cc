#include "eddy/net/framing.h"

#include "absl/strings/str_cat.h"

namespace eddy {
namespace {

absl::Status CheckPrefixWidth(int prefix_bytes) {
  if (prefix_bytes == 1 || prefix_bytes == 2 || prefix_bytes == 4) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "length prefix must be 1, 2 or 4 bytes, not ", prefix_bytes));
}

}  // namespace

absl::Status ConsumeDelimitedFrames(
    Buffer& input, const LineFramingOptions& options,
    absl::FunctionRef<void(absl::string_view frame)> on_frame) {
  if (options.delimiter.empty()) {
    return absl::InvalidArgumentError("the frame delimiter must not be empty");
  }
  const bool strip_cr =
      options.strip_carriage_return && options.delimiter == "\n";
  size_t consumed = 0;
  absl::string_view rest = input.view();
  absl::Status status;
  while (true) {
    const size_t end = rest.find(options.delimiter);
    if (end == absl::string_view::npos) {
      if (rest.size() > options.max_frame_bytes + options.delimiter.size()) {
        status = absl::ResourceExhaustedError(absl::StrCat(
            "frame longer than ", options.max_frame_bytes, " bytes"));
      }
      break;
    }
    absl::string_view frame = rest.substr(0, end);
    if (strip_cr && !frame.empty() && frame.back() == '\r') {
      frame.remove_suffix(1);
    }
    if (frame.size() > options.max_frame_bytes) {
      status = absl::ResourceExhaustedError(absl::StrCat(
          "frame longer than ", options.max_frame_bytes, " bytes"));
      break;
    }
    on_frame(frame);
    const size_t used = end + options.delimiter.size();
    rest.remove_prefix(used);
    consumed += used;
  }
  input.Consume(consumed);
  return status;
}

absl::Status ConsumeLengthPrefixedFrames(
    Buffer& input, const LengthPrefixOptions& options,
    absl::FunctionRef<void(absl::string_view frame)> on_frame) {
  if (absl::Status s = CheckPrefixWidth(options.prefix_bytes); !s.ok())
    return s;
  const size_t width = static_cast<size_t>(options.prefix_bytes);
  size_t consumed = 0;
  absl::string_view rest = input.view();
  absl::Status status;
  while (rest.size() >= width) {
    uint64_t length = 0;
    for (size_t i = 0; i < width; ++i) {
      length = (length << 8) | static_cast<unsigned char>(rest[i]);
    }
    if (length > options.max_frame_bytes) {
      status = absl::ResourceExhaustedError(
          absl::StrCat("frame of ", length, " bytes exceeds the limit of ",
                       options.max_frame_bytes));
      break;
    }
    if (rest.size() - width < length) break;
    on_frame(rest.substr(width, length));
    rest.remove_prefix(width + length);
    consumed += width + length;
  }
  input.Consume(consumed);
  return status;
}

absl::Status AppendLengthPrefixedFrame(Buffer& out, absl::string_view frame,
                                       const LengthPrefixOptions& options) {
  if (absl::Status s = CheckPrefixWidth(options.prefix_bytes); !s.ok())
    return s;
  const size_t width = static_cast<size_t>(options.prefix_bytes);
  const uint64_t max_for_width =
      width == 4 ? 0xffffffffu : (uint64_t{1} << (8 * width)) - 1;
  if (frame.size() > options.max_frame_bytes || frame.size() > max_for_width) {
    return absl::InvalidArgumentError(absl::StrCat(
        "frame of ", frame.size(), " bytes does not fit the length prefix"));
  }
  char prefix[4];
  for (size_t i = 0; i < width; ++i) {
    prefix[i] = static_cast<char>(frame.size() >> (8 * (width - 1 - i)));
  }
  out.Append(absl::string_view(prefix, width));
  out.Append(frame);
  return absl::OkStatus();
}

}  // namespace eddy
