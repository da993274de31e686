#ifndef EDDY_EXAMPLES_REDIS_RESP_PARSER_H_
#define EDDY_EXAMPLES_REDIS_RESP_PARSER_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace eddy::redis {

// Parses one client command in RESP2 (an array of bulk strings, what
// redis-cli and every client library send) or the inline form ("PING\r\n",
// what a person types into telnet). The arguments are views into the
// input, valid until the caller consumes `consumed` bytes.
//
// Not thread-safe; one per connection, on its loop thread. Stateless between
// calls: an incomplete command is parsed again from its start when more
// bytes arrive (commands are small; bulk payloads are skipped with one
// length check, not rescanned byte by byte).
class RespParser {
 public:
  enum class Status { kIncomplete, kComplete, kError };

  struct Limits {
    size_t max_arguments = 1024 * 1024;
    size_t max_bulk_bytes = 64 * 1024 * 1024;
    size_t max_inline_bytes = 64 * 1024;
  };

  RespParser() = default;
  explicit RespParser(Limits limits) : limits_(limits) {}

  Status Parse(absl::string_view input);

  const std::vector<absl::string_view>& arguments() const { return arguments_; }
  size_t consumed() const { return consumed_; }
  // After kError: the protocol error, as Redis words it.
  const std::string& error() const { return error_; }

 private:
  Status ParseInline(absl::string_view input);
  Status Fail(std::string message);

  Limits limits_;
  std::vector<absl::string_view> arguments_;
  size_t consumed_ = 0;
  std::string error_;
};

}  // namespace eddy::redis

#endif  // EDDY_EXAMPLES_REDIS_RESP_PARSER_H_
