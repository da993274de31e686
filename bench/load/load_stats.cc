#include "bench/load/load_stats.h"

namespace eddy::load {

absl::string_view ErrorKindName(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kConnect:
      return "connect";
    case ErrorKind::kRead:
      return "read";
    case ErrorKind::kWrite:
      return "write";
    case ErrorKind::kTimeout:
      return "timeout";
    case ErrorKind::kStatus3xx:
      return "status_3xx";
    case ErrorKind::kStatus4xx:
      return "status_4xx";
    case ErrorKind::kStatus5xx:
      return "status_5xx";
    case ErrorKind::kMismatch:
      return "mismatch";
    case ErrorKind::kClosedEarly:
      return "closed_early";
    case ErrorKind::kInvalid:
      return "invalid";
    case ErrorKind::kTls:
      return "tls";
  }
  return "?";
}

uint64_t LoadStats::error_total() const {
  uint64_t total = 0;
  for (uint64_t n : errors) total += n;
  return total;
}

void LoadStats::Merge(const LoadStats& other) {
  responses += other.responses;
  bytes_read += other.bytes_read;
  connections_opened += other.connections_opened;
  tls_handshakes += other.tls_handshakes;
  tls_resumed += other.tls_resumed;
  for (size_t i = 0; i < kErrorKinds; ++i) errors[i] += other.errors[i];
  latency.Merge(other.latency);
}

}  // namespace eddy::load
