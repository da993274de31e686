// eddy-echo: the echo server. Every byte a client sends comes back.
//
//   eddy-echo --port 9000 --workers 2
#include <cstdio>
#include <memory>
#include <optional>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "eddy/net/echo.h"
#include "eddy/net/serve.h"
#include "eddy/net/server.h"
#include "examples/lifecycle_flags.h"
#include "examples/listener_flags.h"
#include "examples/metrics_listener.h"
#include "examples/program_flags.h"
#include "examples/program_logs.h"
#include "examples/tls_flags.h"

ABSL_FLAG(uint16_t, port, 9000, "TCP port to listen on (0 picks a free one)");
ABSL_FLAG(std::string, bind, "0.0.0.0",
          "numeric address to bind, e.g. 127.0.0.1 or ::, or a Unix socket: "
          "unix:/run/NAME.sock or unix:@NAME (abstract)");
ABSL_FLAG(size_t, workers, 0, "worker threads (0: one per CPU)");
ABSL_FLAG(absl::Duration, idle_timeout, absl::Seconds(300),
          "close connections idle this long (inf: never)");
ABSL_FLAG(size_t, max_connections, 100000, "connections open at once");
ABSL_FLAG(bool, pin, false, "pin worker i to CPU i");
ABSL_FLAG(int32_t, metrics_port, -1,
          "serve Prometheus metrics on this port at /metrics (-1: off; 0 "
          "picks a free one)");

int main(int argc, char** argv) {
  eddy::ParseProgramFlags(argc, argv, "TCP echo server built on eddy");
  eddy::ApplyLogFlags();

  eddy::ServerOptions options;
  options.port = absl::GetFlag(FLAGS_port);
  options.bind_address = absl::GetFlag(FLAGS_bind);
  if (absl::Status s = eddy::ApplyListenerFlags(options); !s.ok()) {
    std::fprintf(stderr, "%s: %s\n", "eddy-echo", s.ToString().c_str());
    return 1;
  }
  options.workers = absl::GetFlag(FLAGS_workers);
  options.pin_workers = absl::GetFlag(FLAGS_pin);
  options.max_connections = absl::GetFlag(FLAGS_max_connections);
  options.connection.idle_timeout = absl::GetFlag(FLAGS_idle_timeout);
  absl::StatusOr<std::optional<eddy::TlsServerOptions>> tls =
      eddy::TlsOptionsFromFlags({});
  if (!tls.ok()) {
    std::fprintf(stderr, "eddy-echo: %s\n", tls.status().ToString().c_str());
    return 1;
  }
  options.tls = *std::move(tls);
  absl::StatusOr<eddy::ProgramMetrics> metrics = eddy::SetUpProgramMetrics(
      "eddy-echo", options, absl::GetFlag(FLAGS_metrics_port));
  if (!metrics.ok()) {
    std::fprintf(stderr, "eddy-echo: %s\n",
                 metrics.status().ToString().c_str());
    return 1;
  }
  if (absl::Status s = eddy::ApplyLifecycleFlags(options); !s.ok()) {
    std::fprintf(stderr, "eddy-echo: %s\n", s.ToString().c_str());
    return 1;
  }
  eddy::Server server(options, eddy::MakeEchoFactory());
  return eddy::ServeUntilSignal(server, "eddy-echo");
}
