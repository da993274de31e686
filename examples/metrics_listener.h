#ifndef EDDY_EXAMPLES_METRICS_LISTENER_H_
#define EDDY_EXAMPLES_METRICS_LISTENER_H_

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "eddy/core/metrics.h"
#include "eddy/net/server.h"

namespace eddy {

// What a shipped program keeps for its metrics: the registry its server
// exports into, and the --metrics_port listener if one was asked for.
// Members are destroyed listener first, then the registry.
struct ProgramMetrics {
  std::unique_ptr<MetricsRegistry> registry;
  std::unique_ptr<Server> listener;
};

// Makes a registry with a writer per worker of `options` and points
// options.metrics at it. With `metrics_port` >= 0 (0 picks a free port)
// also starts the listener of a program that does not speak HTTP itself
// (eddy-echo, eddy-redis, eddy-proxy): a one-worker HTTP server on
// options.bind_address (127.0.0.1 when that is a Unix socket) whose only route,
// /metrics, serves the registry. It shares nothing mutable with the program's
// server but the registry, and prints "<program> metrics on
// http://ADDR/metrics" once it listens.
//
// Threading: call from main before ServeUntilSignal, and make the program's
// Server after it (so that the registry outlives the server). It blocks the
// termination signals first, so that the listener's threads never take them.
absl::StatusOr<ProgramMetrics> SetUpProgramMetrics(absl::string_view program,
                                                   ServerOptions& options,
                                                   int32_t metrics_port);

}  // namespace eddy

#endif  // EDDY_EXAMPLES_METRICS_LISTENER_H_
