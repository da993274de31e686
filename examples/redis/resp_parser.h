#ifndef EDDY_EXAMPLES_REDIS_RESP_PARSER_H_
#define EDDY_EXAMPLES_REDIS_RESP_PARSER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace eddy::redis {

// Parses one client command in RESP2 (an array of bulk strings, what
// redis-cli and every client library send) or the inline form ("PING\r\n",
// what a person types into telnet), incrementally.
//
// The caller passes all bytes received for the current command so far,
// starting at its first byte, each call with the same prefix plus whatever
// arrived since, and consumes nothing until the command is complete. The
// parser resumes where it stopped, keeping its progress as offsets (the
// caller's buffer may move between calls), so a command that arrives in
// many small pieces costs time linear in its bytes, not quadratic. After
// kComplete the caller consumes consumed() bytes; the next call begins the
// next command.
//
// The arguments are views into the input of the last Parse() call, valid
// until the caller consumes or moves it.
//
// Not thread-safe; one per connection, on its loop thread.
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

  // Parses as far as `input` allows. After kError, a further call starts
  // over with a new command.
  Status Parse(absl::string_view input);

  // After kComplete.
  const std::vector<absl::string_view>& arguments() const { return arguments_; }
  size_t consumed() const { return consumed_; }
  // After kError: the protocol error, as Redis words it. It may quote a
  // byte of the input, so it can hold any byte.
  const std::string& error() const { return error_; }
  // Bytes of input this parser has read since it was made, over all
  // commands: a measure of its work. Bulk payloads are skipped with a
  // length check, so only framing (and inline lines) counts.
  uint64_t bytes_examined() const { return bytes_examined_; }

 private:
  enum class Phase {
    kStart,
    kArrayLength,
    kBulkStart,
    kBulkLength,
    kBulkData,
    kInline,
    kComplete,
    kError,
  };
  enum class NumberStatus { kIncomplete, kMalformed, kRead };
  // An argument's place in the input.
  struct Range {
    size_t offset = 0;
    size_t length = 0;
  };

  void StartCommand();
  Status ParseSome(absl::string_view input);
  // Reads "<digits>\r\n" at pos_ (after the type byte), resuming the search
  // for its CRLF where the last call left it.
  NumberStatus ReadNumber(absl::string_view input, long long* value);
  Status ParseInline(absl::string_view input);
  Status Complete(absl::string_view input);
  Status Fail(std::string message);

  Limits limits_;
  Phase phase_ = Phase::kStart;
  size_t pos_ = 0;   // the next byte to parse
  size_t scan_ = 0;  // where the search for a line's end resumes
  uint64_t arguments_left_ = 0;
  size_t bulk_length_ = 0;
  std::vector<Range> ranges_;
  std::vector<absl::string_view> arguments_;
  size_t consumed_ = 0;
  std::string error_;
  uint64_t bytes_examined_ = 0;
};

}  // namespace eddy::redis

#endif  // EDDY_EXAMPLES_REDIS_RESP_PARSER_H_
