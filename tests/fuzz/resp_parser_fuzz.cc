// libFuzzer target for the RESP parser of the eddy-redis example: any bytes,
// parsed command after command; every argument must lie within the input
// and consumed() must advance within it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "examples/redis/resp_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  eddy::redis::RespParser::Limits limits;
  limits.max_bulk_bytes = 4096;
  limits.max_arguments = 64;
  limits.max_inline_bytes = 1024;
  eddy::redis::RespParser parser(limits);
  const std::string input(reinterpret_cast<const char*>(data), size);
  absl::string_view rest = input;
  while (!rest.empty()) {
    const auto status = parser.Parse(rest);
    if (status != eddy::redis::RespParser::Status::kComplete) {
      if (status == eddy::redis::RespParser::Status::kError &&
          parser.error().empty()) {
        std::abort();
      }
      break;
    }
    if (parser.consumed() == 0 || parser.consumed() > rest.size()) std::abort();
    for (absl::string_view arg : parser.arguments()) {
      if (!arg.empty() &&
          (arg.data() < rest.data() ||
           arg.data() + arg.size() > rest.data() + rest.size())) {
        std::abort();
      }
    }
    rest.remove_prefix(parser.consumed());
  }
  return 0;
}
