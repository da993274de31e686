#include "examples/metrics_listener.h"

#include <algorithm>
#include <cstdio>
#include <thread>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "eddy/core/signals.h"
#include "eddy/http/http_protocol.h"
#include "eddy/http/metrics_route.h"
#include "eddy/http/router.h"

namespace eddy {

absl::StatusOr<ProgramMetrics> SetUpProgramMetrics(absl::string_view program,
                                                   ServerOptions& options,
                                                   int32_t metrics_port) {
  ProgramMetrics metrics;
  // The worker group's default too: one worker per CPU.
  const size_t writers =
      options.workers != 0
          ? options.workers
          : std::max<size_t>(1, std::thread::hardware_concurrency());
  metrics.registry = std::make_unique<MetricsRegistry>(writers);
  options.metrics = metrics.registry.get();
  if (metrics_port < 0) return metrics;
  if (metrics_port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--metrics_port=", metrics_port, " is not a port; pass 0..65535"));
  }
  BlockTerminationSignals();
  auto router = std::make_shared<http::Router>();
  http::AddMetricsRoute(*router, *metrics.registry);
  ServerOptions listener_options;
  // Prometheus scrapes over TCP: a server on a Unix socket exports its
  // metrics on loopback.
  listener_options.bind_address =
      absl::StartsWith(options.bind_address, "unix:") ? "127.0.0.1"
                                                      : options.bind_address;
  listener_options.port = static_cast<uint16_t>(metrics_port);
  listener_options.workers = 1;
  listener_options.max_connections = 64;
  metrics.listener = std::make_unique<Server>(
      listener_options, std::make_unique<http::HttpProtocol>(
                            std::move(router), http::HttpOptions{}));
  if (absl::Status status = metrics.listener->Start(); !status.ok()) {
    return absl::Status(status.code(),
                        absl::StrCat("metrics listener: ", status.message()));
  }
  std::printf("%s\n", absl::StrCat(program, " metrics on http://",
                                   metrics.listener->local_address().ToString(),
                                   "/metrics")
                          .c_str());
  std::fflush(stdout);
  return metrics;
}

}  // namespace eddy
