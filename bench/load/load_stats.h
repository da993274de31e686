#ifndef EDDY_BENCH_LOAD_LOAD_STATS_H_
#define EDDY_BENCH_LOAD_LOAD_STATS_H_

#include <array>
#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "bench/load/histogram.h"

namespace eddy::load {

// The ways a request or a connection can fail, as the report counts them.
enum class ErrorKind {
  kConnect,    // connect failed or timed out; the connection retries
  kRead,       // read(2) failed (e.g. ECONNRESET)
  kWrite,      // send(2) failed (e.g. EPIPE)
  kTimeout,    // no complete response within --timeout
  kStatus3xx,  // a complete response with a non-2xx status, by class
  kStatus4xx,
  kStatus5xx,
  kMismatch,     // echo: bytes differing from those sent
  kClosedEarly,  // the server closed with requests unanswered
  kInvalid,      // not HTTP/1.x, or a response nobody asked for
  kTls,          // --tls: the handshake failed; the connection retries
};
inline constexpr size_t kErrorKinds = 11;

// A short snake_case name, used as the JSON key: "connect", "status_4xx".
absl::string_view ErrorKindName(ErrorKind kind);

// LoadStats is what one load thread measured; the threads' stats are merged
// at the end. Not thread-safe: owned by one loop thread until it stops.
struct LoadStats {
  // Complete responses, whatever their status (non-2xx are also errors).
  uint64_t responses = 0;
  uint64_t bytes_read = 0;
  // Successful connects, warm-up included.
  uint64_t connections_opened = 0;
  // --tls: handshakes completed while measuring, and how many of them
  // resumed a session (SSL_session_reused) instead of a full handshake.
  uint64_t tls_handshakes = 0;
  uint64_t tls_resumed = 0;
  std::array<uint64_t, kErrorKinds> errors{};
  Histogram latency;

  void Count(ErrorKind kind) { ++errors[static_cast<size_t>(kind)]; }
  uint64_t errors_of(ErrorKind kind) const {
    return errors[static_cast<size_t>(kind)];
  }
  uint64_t error_total() const;
  void Merge(const LoadStats& other);
};

}  // namespace eddy::load

#endif  // EDDY_BENCH_LOAD_LOAD_STATS_H_
