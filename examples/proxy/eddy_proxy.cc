// eddy-proxy: a TCP proxy built on eddy (client side + server side, with
// backpressure both ways).
//
//   eddy-proxy --port 9100 --upstream 127.0.0.1:9000
//   eddy-proxy --port 9100 --upstream localhost:9000
#include <cstdint>
#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "eddy/net/resolver.h"
#include "eddy/net/serve.h"
#include "eddy/net/server.h"
#include "examples/lifecycle_flags.h"
#include "examples/listener_flags.h"
#include "examples/metrics_listener.h"
#include "examples/program_flags.h"
#include "examples/program_logs.h"
#include "examples/proxy/tcp_proxy.h"

ABSL_FLAG(uint16_t, port, 9100, "TCP port to listen on (0 picks a free one)");
ABSL_FLAG(std::string, bind, "127.0.0.1",
          "numeric address to bind, e.g. 127.0.0.1 or ::, or a Unix socket: "
          "unix:/run/NAME.sock or unix:@NAME (abstract)");
ABSL_FLAG(size_t, workers, 0, "worker threads (0: one per CPU)");
ABSL_FLAG(std::string, upstream, "127.0.0.1:9000",
          "host:port (a name is resolved on each connect), or unix:PATH, "
          "unix:@NAME, to forward to");
ABSL_FLAG(bool, send_proxy_v2, false,
          "start each upstream connection with a PROXY protocol v2 header "
          "naming the client");
ABSL_FLAG(absl::Duration, connect_timeout, absl::Seconds(5),
          "give up on an upstream connect after this long");
ABSL_FLAG(int32_t, metrics_port, -1,
          "serve Prometheus metrics on this port at /metrics (-1: off; 0 "
          "picks a free one)");

int main(int argc, char** argv) {
  eddy::ParseProgramFlags(argc, argv, "a TCP proxy on eddy");
  eddy::ApplyLogFlags();
  const std::string upstream = absl::GetFlag(FLAGS_upstream);
  std::string upstream_host;
  uint16_t upstream_port = 0;
  if (absl::Status valid =
          absl::StartsWith(upstream, "unix:")
              ? eddy::SocketAddress::ParseHostPort(upstream).status()
              : eddy::SplitHostPort(upstream, &upstream_host, &upstream_port);
      !valid.ok()) {
    std::fprintf(stderr, "eddy-proxy: --upstream: %s\n",
                 valid.ToString().c_str());
    return 1;
  }
  eddy::ConnectOptions connect;
  connect.timeout = absl::GetFlag(FLAGS_connect_timeout);
  eddy::ServerOptions options;
  options.port = absl::GetFlag(FLAGS_port);
  options.bind_address = absl::GetFlag(FLAGS_bind);
  if (absl::Status s = eddy::ApplyListenerFlags(options); !s.ok()) {
    std::fprintf(stderr, "%s: %s\n", "eddy-proxy", s.ToString().c_str());
    return 1;
  }
  options.workers = absl::GetFlag(FLAGS_workers);
  absl::StatusOr<eddy::ProgramMetrics> metrics = eddy::SetUpProgramMetrics(
      "eddy-proxy", options, absl::GetFlag(FLAGS_metrics_port));
  if (!metrics.ok()) {
    std::fprintf(stderr, "eddy-proxy: %s\n",
                 metrics.status().ToString().c_str());
    return 1;
  }
  if (absl::Status s = eddy::ApplyLifecycleFlags(options); !s.ok()) {
    std::fprintf(stderr, "eddy-proxy: %s\n", s.ToString().c_str());
    return 1;
  }
  eddy::Server server(
      options, eddy::proxy::MakeTcpProxyFactory(
                   upstream, connect, absl::GetFlag(FLAGS_send_proxy_v2)));
  return eddy::ServeUntilSignal(server, "eddy-proxy");
}
