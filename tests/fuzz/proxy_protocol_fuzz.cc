// libFuzzer target for the PROXY protocol parser (net/proxy_protocol.h):
// any bytes, with a small limit so that the size bound is reached too. A
// header must be consumed within the input and the limit, an error must
// say why, and a header cut one byte short must ask for more, since the
// server re-parses as bytes arrive.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "eddy/net/proxy_protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  constexpr size_t kLimit = 512;
  const eddy::ProxyParseResult result = eddy::ParseProxyHeader(input, kLimit);
  using Kind = eddy::ProxyParseResult::Kind;
  switch (result.kind) {
    case Kind::kDone: {
      if (result.consumed == 0 || result.consumed > input.size() ||
          result.consumed > kLimit) {
        std::abort();
      }
      const eddy::ProxyParseResult shorter = eddy::ParseProxyHeader(
          absl::string_view(input).substr(0, result.consumed - 1), kLimit);
      if (shorter.kind != Kind::kNeedMore) std::abort();
      break;
    }
    case Kind::kError:
      if (result.error.ok()) std::abort();
      break;
    case Kind::kNeedMore:
    case Kind::kNotProxy:
      if (result.consumed != 0) std::abort();
      break;
  }
  return 0;
}
