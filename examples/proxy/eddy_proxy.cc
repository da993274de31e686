// eddy-proxy: a TCP proxy built on eddy (client side + server side, with
// backpressure both ways).
//
//   eddy-proxy --port 9100 --upstream 127.0.0.1:9000
//   eddy-proxy --port 9100 --upstream localhost:9000
//   eddy-proxy --port 9443 --tls_cert cert.pem --tls_key key.pem
//       --upstream api.internal:443 --upstream_tls --upstream_ca ca.pem
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <utility>

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
#include "examples/tls_flags.h"

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
ABSL_FLAG(bool, upstream_tls, false,
          "speak TLS to the upstream, verifying its certificate against "
          "--upstream_ca or the system's CA store and its name against the "
          "--upstream host");
ABSL_FLAG(std::string, upstream_ca, "",
          "PEM file of the CAs the upstream's certificate must chain to "
          "(with --upstream_tls; empty: the system's store)");
ABSL_FLAG(std::string, upstream_server_name, "",
          "with --upstream_tls: the name sent as SNI and verified, when it "
          "is not the --upstream host (e.g. an address)");
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
  if (absl::GetFlag(FLAGS_upstream_tls)) {
    eddy::TlsClientOptions upstream_tls;
    upstream_tls.ca_file = absl::GetFlag(FLAGS_upstream_ca);
    absl::StatusOr<std::shared_ptr<const eddy::TlsContext>> context =
        eddy::TlsContext::ForClient(upstream_tls);
    if (!context.ok()) {
      std::fprintf(stderr, "eddy-proxy: --upstream_tls: %s\n",
                   context.status().ToString().c_str());
      return 1;
    }
    connect.tls = *std::move(context);
    connect.tls_server_name = absl::GetFlag(FLAGS_upstream_server_name);
  } else if (!absl::GetFlag(FLAGS_upstream_ca).empty() ||
             !absl::GetFlag(FLAGS_upstream_server_name).empty()) {
    std::fprintf(stderr,
                 "eddy-proxy: --upstream_ca and --upstream_server_name need "
                 "--upstream_tls\n");
    return 1;
  }
  eddy::ServerOptions options;
  options.port = absl::GetFlag(FLAGS_port);
  options.bind_address = absl::GetFlag(FLAGS_bind);
  if (absl::Status s = eddy::ApplyListenerFlags(options); !s.ok()) {
    std::fprintf(stderr, "%s: %s\n", "eddy-proxy", s.ToString().c_str());
    return 1;
  }
  options.workers = absl::GetFlag(FLAGS_workers);
  // The client side is opaque bytes to the proxy: no ALPN is offered.
  absl::StatusOr<std::optional<eddy::TlsServerOptions>> tls =
      eddy::TlsOptionsFromFlags({});
  if (!tls.ok()) {
    std::fprintf(stderr, "eddy-proxy: %s\n", tls.status().ToString().c_str());
    return 1;
  }
  options.tls = *std::move(tls);
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
