// eddy-httpd: the demo HTTP server.
//
//   GET  /          "Hello, world!" (13 bytes, text/plain)
//   POST /echo      the request body
//   GET  /static/.. files under --root (sendfile, Range, If-Modified-Since)
//   GET  /healthz   "ok"
//   GET  /metrics   per-worker counters in Prometheus text format
#include <cstdio>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "eddy/http/access_log.h"
#include "eddy/http/http_protocol.h"
#include "eddy/http/router.h"
#include "eddy/http/static_files.h"
#include "eddy/net/serve.h"
#include "eddy/net/server.h"
#include "examples/program_flags.h"

#ifndef EDDY_DEFAULT_WWW_ROOT
#define EDDY_DEFAULT_WWW_ROOT "examples/www"
#endif

ABSL_FLAG(uint16_t, port, 8080, "TCP port to listen on (0 picks a free one)");
ABSL_FLAG(std::string, bind, "0.0.0.0",
          "numeric address to bind, e.g. 127.0.0.1 or ::");
ABSL_FLAG(size_t, workers, 0, "worker threads (0: one per CPU)");
ABSL_FLAG(std::string, root, EDDY_DEFAULT_WWW_ROOT,
          "directory served under /static/");
ABSL_FLAG(absl::Duration, idle_timeout, absl::Seconds(60),
          "close keep-alive connections idle this long");
ABSL_FLAG(size_t, max_body, 1 << 20, "largest request body accepted, bytes");
ABSL_FLAG(std::string, access_log, "",
          "Common Log Format file ('-' for stdout); empty: off");
ABSL_FLAG(size_t, max_connections, 100000, "connections open at once");
ABSL_FLAG(bool, pin, false, "pin worker i to CPU i");
ABSL_FLAG(absl::Duration, defer_accept, absl::Seconds(1),
          "accept a connection once its request starts arriving "
          "(TCP_DEFER_ACCEPT; a silent client is accepted after about this "
          "long) and read it before registering with epoll; 0 turns it off");
ABSL_FLAG(absl::Duration, head_timeout, absl::Seconds(10),
          "a request head must arrive within this (else 408)");
ABSL_FLAG(absl::Duration, body_timeout, absl::Seconds(30),
          "a request body must arrive within this after its head (else 408)");
ABSL_FLAG(absl::Duration, shutdown_timeout, absl::Seconds(10),
          "how long SIGTERM waits for requests in flight");

namespace {

std::string Metrics(const eddy::Server& server) {
  std::string out;
  const std::vector<eddy::WorkerStats> stats = server.stats();
  auto family = [&](const char* name, const char* type, const char* help,
                    auto field) {
    absl::StrAppend(&out, "# HELP ", name, " ", help, "\n# TYPE ", name, " ",
                    type, "\n");
    for (size_t i = 0; i < stats.size(); ++i) {
      absl::StrAppend(&out, name, "{worker=\"", i, "\"} ", field(stats[i]),
                      "\n");
    }
  };
  using S = eddy::WorkerStats;
  family("eddy_connections_accepted_total", "counter",
         "Connections handed to the worker.",
         [](const S& s) { return s.accepted; });
  family("eddy_connections_active", "gauge", "Connections open now.",
         [](const S& s) { return s.active; });
  family("eddy_connections_closed_total", "counter", "Connections closed.",
         [](const S& s) { return s.closed; });
  family("eddy_connections_shed_total", "counter",
         "Connections dropped because every worker inbox was full.",
         [](const S& s) { return s.shed; });
  family("eddy_bytes_received_total", "counter", "Bytes read from clients.",
         [](const S& s) { return s.bytes_in; });
  family("eddy_bytes_sent_total", "counter", "Bytes written to clients.",
         [](const S& s) { return s.bytes_out; });
  const eddy::AcceptorStats acceptor = server.acceptor_stats();
  absl::StrAppend(&out,
                  "# HELP eddy_connections_rejected_total Connections refused "
                  "at max_connections.\n# TYPE eddy_connections_rejected_total "
                  "counter\neddy_connections_rejected_total ",
                  acceptor.rejected_at_cap, "\n");
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  eddy::ParseProgramFlags(argc, argv, "the eddy demo HTTP server");

  eddy::http::HttpOptions http_options;
  http_options.limits.max_body_bytes = absl::GetFlag(FLAGS_max_body);
  http_options.request_head_timeout = absl::GetFlag(FLAGS_head_timeout);
  http_options.request_body_timeout = absl::GetFlag(FLAGS_body_timeout);
  if (const std::string path = absl::GetFlag(FLAGS_access_log); !path.empty()) {
    auto log = eddy::http::AccessLog::Open(path);
    if (!log.ok()) {
      std::fprintf(stderr, "eddy-httpd: %s\n", log.status().ToString().c_str());
      return 1;
    }
    http_options.access_log = *log;
  }
  auto files = eddy::http::StaticFiles::Open(absl::GetFlag(FLAGS_root));
  if (!files.ok()) {
    std::fprintf(stderr, "eddy-httpd: %s\n", files.status().ToString().c_str());
    return 1;
  }

  // Routes run only after Start, so the pointer is set before any reads it.
  const eddy::Server* server_for_metrics = nullptr;
  auto router = std::make_shared<eddy::http::Router>();
  router->Handle(
      "GET", "/",
      [](const eddy::http::Request&, eddy::http::Response& response) {
        response.set_content_type("text/plain");
        response.set_body("Hello, world!");
      });
  router->Handle(
      "POST", "/echo",
      [](const eddy::http::Request& request, eddy::http::Response& response) {
        response.set_content_type("application/octet-stream");
        response.set_body(std::string(request.body()));
      });
  router->Handle(
      "GET", "/healthz",
      [](const eddy::http::Request&, eddy::http::Response& response) {
        response.set_content_type("text/plain");
        response.set_body("ok\n");
      });
  router->Handle("GET", "/metrics",
                 [&server_for_metrics](const eddy::http::Request&,
                                       eddy::http::Response& response) {
                   response.set_content_type("text/plain; version=0.0.4");
                   response.set_body(Metrics(*server_for_metrics));
                 });
  eddy::http::ServeStaticFiles(*router, "/static/", *files);

  eddy::ServerOptions options;
  options.port = absl::GetFlag(FLAGS_port);
  options.bind_address = absl::GetFlag(FLAGS_bind);
  options.workers = absl::GetFlag(FLAGS_workers);
  options.pin_workers = absl::GetFlag(FLAGS_pin);
  options.defer_accept = absl::GetFlag(FLAGS_defer_accept);
  options.max_connections = absl::GetFlag(FLAGS_max_connections);
  options.connection.idle_timeout = absl::GetFlag(FLAGS_idle_timeout);
  options.shutdown_timeout = absl::GetFlag(FLAGS_shutdown_timeout);
  eddy::Server server(options, std::make_unique<eddy::http::HttpProtocol>(
                                   router, http_options));
  server_for_metrics = &server;
  return eddy::ServeUntilSignal(
      server, "eddy-httpd", "http://", "/",
      absl::StrCat(" (static root: ", (*files)->root(), ")"));
}
