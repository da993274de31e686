#ifndef EDDY_BENCH_LOAD_LOAD_RUN_H_
#define EDDY_BENCH_LOAD_LOAD_RUN_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "bench/load/load_plan.h"
#include "bench/load/report.h"
#include "eddy/net/address.h"

namespace eddy::load {

// One run of the load generator, as eddy-load's flags describe it (see
// `eddy-load --help` for each).
struct LoadOptions {
  LoadMode mode = LoadMode::kHttp;
  SocketAddress address;
  std::string path = "/";
  size_t threads = 1;
  size_t connections = 64;  // in total, spread evenly over the threads
  absl::Duration duration = absl::Seconds(10);
  int64_t requests = 0;  // 0: run for `duration`
  size_t depth = 16;
  size_t message_size = 64;
  absl::Duration timeout = absl::Seconds(5);
  absl::Duration warmup = absl::ZeroDuration();
  absl::Duration busy_poll = absl::Microseconds(100);
  bool progress = true;  // a rate line every second on stderr
  // TLS on every connection. tls_ca: the CAs to verify the server with
  // (empty: not verified); tls_server_name: SNI (and the name verified).
  bool tls = false;
  std::string tls_ca;
  std::string tls_server_name;
  // Each handshake offers the newest session the server issued (needs tls).
  bool tls_resume = false;
};

// Whether `options` can run; the error names the flag to fix. RunLoad
// checks the same.
absl::Status CheckLoadOptions(const LoadOptions& options);

// Drives the server at `options.address` and returns what was measured.
// The load threads are the workers of an eddy WorkerGroup; every socket is
// opened with eddy::Connect and served by an eddy::Handler. The run ends at
// the deadline, or once `requests` responses were recorded (when the last
// slot retires). Errors are for options that cannot run (with the flag to
// fix); a server that fails or is absent shows in the summary's errors.
absl::StatusOr<RunSummary> RunLoad(const LoadOptions& options);

}  // namespace eddy::load

#endif  // EDDY_BENCH_LOAD_LOAD_RUN_H_
