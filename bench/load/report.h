#ifndef EDDY_BENCH_LOAD_REPORT_H_
#define EDDY_BENCH_LOAD_REPORT_H_

#include <cstddef>
#include <string>

#include "absl/time/time.h"
#include "bench/load/load_plan.h"
#include "bench/load/load_stats.h"

namespace eddy::load {

// Everything the final report says about one run.
struct RunSummary {
  LoadMode mode = LoadMode::kHttp;
  std::string target;  // "127.0.0.1:8080/" or "127.0.0.1:9000"
  size_t threads = 0;
  size_t connections = 0;
  size_t depth = 1;
  bool tls = false;        // --tls: the stats' handshake counts are reported
  absl::Duration elapsed;  // the measured time, warm-up excluded
  LoadStats stats;         // merged over the threads
};

// A table for people: throughput, latency percentiles, errors by kind.
std::string FormatTable(const RunSummary& summary);

// One JSON object (and a newline) for scripts; latencies in microseconds.
std::string FormatJson(const RunSummary& summary);

}  // namespace eddy::load

#endif  // EDDY_BENCH_LOAD_REPORT_H_
