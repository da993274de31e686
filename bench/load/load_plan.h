#ifndef EDDY_BENCH_LOAD_LOAD_PLAN_H_
#define EDDY_BENCH_LOAD_LOAD_PLAN_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "eddy/net/address.h"

namespace eddy::load {

enum class LoadMode {
  kHttp,      // HTTP/1.1 keep-alive, one request in flight per connection
  kHttp10,    // HTTP/1.0, a new connection per request, read until close
  kPipeline,  // HTTP/1.1 keep-alive, `depth` requests in flight
  kEcho,      // a message echoed back and verified byte for byte
};

absl::StatusOr<LoadMode> ParseLoadMode(absl::string_view name);
absl::string_view LoadModeName(LoadMode mode);

// LoadPlan is what every connection of a run does. It is built once before
// the threads start and read-only afterwards, so all threads share it.
struct LoadPlan {
  // The echo pattern repeats every kEchoPeriod bytes (a prime), and message
  // k starts at offset k % kEchoPeriod: consecutive messages differ in every
  // byte, so a stale or repeated echo fails verification.
  static constexpr size_t kEchoPeriod = 251;

  LoadMode mode = LoadMode::kHttp;
  SocketAddress address;
  // HTTP modes: `depth` copies of the request, back to back; a send of n
  // requests is the first n * request_bytes of it. Echo: the pattern,
  // message_bytes + kEchoPeriod long; a message is a slice of it.
  std::string payload;
  size_t request_bytes = 0;  // one request, or one echo message
  size_t depth = 1;          // requests in flight per connection
  int64_t timeout_ns = 0;    // a request or connect waiting longer fails
  // Requests sent before this time (MonotonicNanos) are warm-up: their
  // responses, errors and bytes are not recorded.
  int64_t measure_from_ns = 0;
};

// Builds the plan for `mode`. `path` is the HTTP request target; `depth`
// matters for kPipeline only, `message_size` for kEcho only. The error says
// which flag is wrong.
absl::StatusOr<LoadPlan> MakeLoadPlan(LoadMode mode,
                                      const SocketAddress& address,
                                      absl::string_view path, size_t depth,
                                      size_t message_size,
                                      absl::Duration timeout);

}  // namespace eddy::load

#endif  // EDDY_BENCH_LOAD_LOAD_PLAN_H_
