#ifndef EDDY_NET_FRAMING_H_
#define EDDY_NET_FRAMING_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "eddy/core/buffer.h"

namespace eddy {

// Framing helpers for protocol authors: cut the bytes of a Handler's input
// into messages, so that no protocol rewrites this loop.
//
// Both take the input Buffer given to Handler::OnData, call `on_frame` for
// every complete frame (a view valid only during the call), consume what
// they delivered, and leave an incomplete tail for the next OnData. They
// return an error when the peer breaks the framing (a frame over the
// limit): close the connection then, since the stream cannot be resynced.
//
// Threading: plain functions on the caller's buffer; call them on the
// connection's loop thread like everything else of the connection.

struct LineFramingOptions {
  // Frames end with this delimiter (not included in the frame).
  std::string delimiter = "\n";
  // Strip a '\r' before a "\n" delimiter (telnet, most text protocols).
  bool strip_carriage_return = true;
  // A line longer than this (without delimiter) is an error.
  size_t max_frame_bytes = 64 * 1024;
};

// Delimiter-separated frames (e.g. lines).
absl::Status ConsumeDelimitedFrames(
    Buffer& input, const LineFramingOptions& options,
    absl::FunctionRef<void(absl::string_view frame)> on_frame);

struct LengthPrefixOptions {
  // Width of the big-endian length prefix: 1, 2 or 4 bytes.
  int prefix_bytes = 4;
  // A declared length above this is an error (before its bytes arrive).
  size_t max_frame_bytes = 1024 * 1024;
};

// Length-prefixed frames: a big-endian unsigned length, then that many bytes.
absl::Status ConsumeLengthPrefixedFrames(
    Buffer& input, const LengthPrefixOptions& options,
    absl::FunctionRef<void(absl::string_view frame)> on_frame);

// Appends `frame` with its big-endian length prefix to `out`; fails if the
// frame does not fit the prefix width or the limit.
absl::Status AppendLengthPrefixedFrame(Buffer& out, absl::string_view frame,
                                       const LengthPrefixOptions& options);

}  // namespace eddy

#endif  // EDDY_NET_FRAMING_H_
