// eddy-load: the load generator. Drives an HTTP or echo server over many
// connections from a few threads (the workers of an eddy WorkerGroup, every
// socket opened with eddy::Connect and served by an eddy::Handler), and reports
// throughput, latency percentiles and errors by kind.
//
//   eddy-load --mode http --port 8080 --connections 64 --duration 10s
//   eddy-load --mode pipeline --depth 16 --port 8080 --json
//   eddy-load --mode echo --port 9000 --message_size 1024 --requests 100000
//   eddy-load --mode http10 --tls --tls_resume --port 8443

#include <signal.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "bench/load/load_plan.h"
#include "bench/load/load_run.h"
#include "bench/load/report.h"
#include "eddy/net/address.h"
#include "eddy/net/internal/socket.h"
#include "examples/program_flags.h"
#include "examples/program_logs.h"

ABSL_FLAG(std::string, mode, "http",
          "http (HTTP/1.1 keep-alive, one request in flight per connection), "
          "http10 (HTTP/1.0, a connection per request), pipeline (--depth "
          "requests in flight per connection) or echo (verified echo)");
ABSL_FLAG(std::string, host, "127.0.0.1", "numeric server address");
ABSL_FLAG(uint16_t, port, 8080, "server port");
ABSL_FLAG(std::string, path, "/", "HTTP request target");
ABSL_FLAG(size_t, threads, 1, "load threads, one event loop each");
ABSL_FLAG(size_t, connections, 64,
          "connections in total, spread evenly over the threads");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(10),
          "how long to measure; with --requests, the most to wait for them");
ABSL_FLAG(int64_t, requests, 0,
          "stop after this many responses in total (0: run for --duration)");
ABSL_FLAG(size_t, depth, 16,
          "pipeline mode: requests in flight per connection");
ABSL_FLAG(size_t, message_size, 64, "echo mode: bytes per message");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(5),
          "a connect or request not done in this time is an error");
ABSL_FLAG(absl::Duration, warmup, absl::ZeroDuration(),
          "run this long first without recording anything");
ABSL_FLAG(absl::Duration, busy_poll, absl::Microseconds(100),
          "keep polling this long after the last socket event before "
          "sleeping, so the server is not paying to wake the client (0: off)");
ABSL_FLAG(bool, tls, false,
          "speak TLS on every connection (SNI: --tls_server_name, else "
          "--host); the server is verified only with --tls_ca");
ABSL_FLAG(std::string, tls_ca, "",
          "PEM file of the CAs to verify the server's certificate with");
ABSL_FLAG(std::string, tls_server_name, "",
          "SNI and the name verified (default: --host)");
ABSL_FLAG(bool, tls_resume, false,
          "with --tls: resume the session the server issued last instead of "
          "a full handshake (use with --mode http10 to measure resumption)");
ABSL_FLAG(bool, json, false, "print the report as one JSON object");
ABSL_FLAG(bool, progress, true, "print the rate every second on stderr");

namespace eddy::load {
namespace {

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "eddy-load: %s\n",
               std::string(status.message()).c_str());
  return 1;
}

int Run() {
  absl::StatusOr<LoadMode> mode = ParseLoadMode(absl::GetFlag(FLAGS_mode));
  if (!mode.ok()) return Fail(mode.status());
  absl::StatusOr<SocketAddress> address = SocketAddress::Parse(
      absl::GetFlag(FLAGS_host), absl::GetFlag(FLAGS_port));
  if (!address.ok()) return Fail(address.status());
  LoadOptions options;
  options.mode = *mode;
  options.address = *address;
  options.path = absl::GetFlag(FLAGS_path);
  options.threads = absl::GetFlag(FLAGS_threads);
  options.connections = absl::GetFlag(FLAGS_connections);
  options.duration = absl::GetFlag(FLAGS_duration);
  options.requests = absl::GetFlag(FLAGS_requests);
  options.depth = absl::GetFlag(FLAGS_depth);
  options.message_size = absl::GetFlag(FLAGS_message_size);
  options.timeout = absl::GetFlag(FLAGS_timeout);
  options.warmup = absl::GetFlag(FLAGS_warmup);
  options.busy_poll = absl::GetFlag(FLAGS_busy_poll);
  options.progress = absl::GetFlag(FLAGS_progress);
  options.tls = absl::GetFlag(FLAGS_tls);
  options.tls_ca = absl::GetFlag(FLAGS_tls_ca);
  options.tls_server_name = absl::GetFlag(FLAGS_tls_server_name);
  if (options.tls_server_name.empty()) {
    options.tls_server_name = absl::GetFlag(FLAGS_host);
  }
  options.tls_resume = absl::GetFlag(FLAGS_tls_resume);
  if (absl::Status status = CheckLoadOptions(options); !status.ok()) {
    return Fail(status);
  }

  // One connect up front, so that a wrong port or a server that is not up
  // fails at once with a clear message instead of a run full of errors.
  absl::StatusOr<UniqueFd> probe =
      ConnectWithTimeout(*address, std::min(options.timeout, absl::Seconds(3)));
  if (!probe.ok()) {
    return Fail(absl::UnavailableError(
        absl::StrCat("cannot connect to ", address->ToString(), ": ",
                     probe.status().message(),
                     "; is the server running? (check --host and --port)")));
  }
  probe->reset();

  absl::StatusOr<RunSummary> summary = RunLoad(options);
  if (!summary.ok()) return Fail(summary.status());
  const std::string report =
      absl::GetFlag(FLAGS_json) ? FormatJson(*summary) : FormatTable(*summary);
  std::fputs(report.c_str(), stdout);
  if (summary->stats.connections_opened == 0) {
    return Fail(absl::UnavailableError(
        absl::StrCat("no connection to ", address->ToString(), " succeeded")));
  }
  if (summary->stats.responses == 0) {
    return Fail(absl::UnavailableError(
        "no response was received; see the errors above"));
  }
  return 0;
}

}  // namespace
}  // namespace eddy::load

int main(int argc, char** argv) {
  eddy::ParseProgramFlags(
      argc, argv,
      "HTTP and echo load generator built on eddy's event loop.\n"
      "  eddy-load --mode http --port 8080 --connections 64 --duration 10s");
  eddy::ApplyLogFlags();
  // A server that resets a connection must cost an error count, not the
  // process; every send also passes MSG_NOSIGNAL.
  ::signal(SIGPIPE, SIG_IGN);
  return eddy::load::Run();
}
