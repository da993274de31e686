// eddy-load: the load generator. Drives an HTTP or echo server over many
// connections from a few threads, each an eddy EventLoop, and reports
// throughput, latency percentiles and errors by kind.
//
//   eddy-load --mode http --port 8080 --connections 64 --duration 10s
//   eddy-load --mode pipeline --depth 16 --port 8080 --json
//   eddy-load --mode echo --port 9000 --message_size 1024 --requests 100000

#include <signal.h>
#include <sys/resource.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/load/client_thread.h"
#include "bench/load/load_plan.h"
#include "bench/load/load_stats.h"
#include "bench/load/monotonic_nanos.h"
#include "bench/load/report.h"
#include "bench/load/request_budget.h"
#include "net/address.h"
#include "net/socket.h"

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
ABSL_FLAG(bool, json, false, "print the report as one JSON object");
ABSL_FLAG(bool, progress, true, "print the rate every second on stderr");

namespace eddy::load {
namespace {

// Every connection needs a descriptor, and the default soft limit (often
// 1024) is far below what a load test opens: raise it as far as needed,
// which the hard limit allows without privileges.
absl::Status EnsureDescriptors(size_t connections, size_t threads) {
  const rlim_t needed = connections + threads * 4 + 64;
  rlimit limit;
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return absl::OkStatus();
  if (limit.rlim_cur >= needed) return absl::OkStatus();
  limit.rlim_cur = std::min(limit.rlim_max, needed);
  ::setrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur < needed) {
    return absl::ResourceExhaustedError(
        absl::StrCat("--connections ", connections, " needs about ", needed,
                     " descriptors but the hard limit is ", limit.rlim_max,
                     "; raise it (ulimit -Hn) or use fewer connections"));
  }
  return absl::OkStatus();
}

absl::Status CheckFlags() {
  if (absl::GetFlag(FLAGS_threads) == 0) {
    return absl::InvalidArgumentError("--threads must be at least 1");
  }
  if (absl::GetFlag(FLAGS_connections) < absl::GetFlag(FLAGS_threads)) {
    return absl::InvalidArgumentError(
        "--connections must be at least --threads (each thread drives its "
        "own connections)");
  }
  if (absl::GetFlag(FLAGS_duration) <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--duration must be positive");
  }
  if (absl::GetFlag(FLAGS_requests) < 0) {
    return absl::InvalidArgumentError("--requests must not be negative");
  }
  if (absl::GetFlag(FLAGS_busy_poll) < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--busy_poll must not be negative");
  }
  if (absl::GetFlag(FLAGS_warmup) < absl::ZeroDuration() ||
      absl::GetFlag(FLAGS_warmup) == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError("--warmup must be finite, at least 0");
  }
  if (absl::GetFlag(FLAGS_port) == 0) {
    return absl::InvalidArgumentError("--port must not be 0");
  }
  return absl::OkStatus();
}

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "eddy-load: %s\n",
               std::string(status.message()).c_str());
  return 1;
}

uint64_t TotalCompleted(
    const std::vector<std::unique_ptr<ClientThread>>& threads) {
  uint64_t total = 0;
  for (const auto& thread : threads) total += thread->completed();
  return total;
}

bool AllFinished(const std::vector<std::unique_ptr<ClientThread>>& threads) {
  for (const auto& thread : threads) {
    if (!thread->finished()) return false;
  }
  return true;
}

int Run() {
  if (absl::Status status = CheckFlags(); !status.ok()) return Fail(status);
  absl::StatusOr<LoadMode> mode = ParseLoadMode(absl::GetFlag(FLAGS_mode));
  if (!mode.ok()) return Fail(mode.status());
  absl::StatusOr<SocketAddress> address = SocketAddress::Parse(
      absl::GetFlag(FLAGS_host), absl::GetFlag(FLAGS_port));
  if (!address.ok()) return Fail(address.status());
  const size_t thread_count = absl::GetFlag(FLAGS_threads);
  const size_t connections = absl::GetFlag(FLAGS_connections);
  if (absl::Status status = EnsureDescriptors(connections, thread_count);
      !status.ok()) {
    return Fail(status);
  }
  absl::StatusOr<LoadPlan> plan = MakeLoadPlan(
      *mode, *address, absl::GetFlag(FLAGS_path), absl::GetFlag(FLAGS_depth),
      absl::GetFlag(FLAGS_message_size), absl::GetFlag(FLAGS_timeout));
  if (!plan.ok()) return Fail(plan.status());

  // One connect up front, so that a wrong port or a server that is not up
  // fails at once with a clear message instead of a run full of errors.
  absl::StatusOr<UniqueFd> probe = ConnectWithTimeout(
      *address, std::min(absl::GetFlag(FLAGS_timeout), absl::Seconds(3)));
  if (!probe.ok()) {
    return Fail(absl::UnavailableError(
        absl::StrCat("cannot connect to ", address->ToString(), ": ",
                     probe.status().message(),
                     "; is the server running? (check --host and --port)")));
  }
  probe->reset();

  const absl::Duration warmup = absl::GetFlag(FLAGS_warmup);
  const absl::Duration duration = absl::GetFlag(FLAGS_duration);
  const int64_t requests = absl::GetFlag(FLAGS_requests);
  const int64_t start_ns = MonotonicNanos();
  // Clamped so that an infinite --duration (with --requests) cannot
  // overflow the deadline.
  constexpr int64_t kForeverNs = INT64_MAX / 4;
  plan->measure_from_ns =
      start_ns + std::min(absl::ToInt64Nanoseconds(warmup), kForeverNs);
  const int64_t deadline_ns =
      plan->measure_from_ns +
      std::min(absl::ToInt64Nanoseconds(duration), kForeverNs);
  std::unique_ptr<RequestBudget> budget;
  if (requests > 0) budget = std::make_unique<RequestBudget>(requests);

  std::vector<std::unique_ptr<ClientThread>> threads;
  for (size_t i = 0; i < thread_count; ++i) {
    const size_t share =
        connections / thread_count + (i < connections % thread_count ? 1 : 0);
    absl::StatusOr<std::unique_ptr<ClientThread>> thread = ClientThread::Create(
        *plan, share, budget.get(), absl::GetFlag(FLAGS_busy_poll));
    if (!thread.ok()) return Fail(thread.status());
    threads.push_back(std::move(*thread));
  }
  for (auto& thread : threads) thread->Start();

  const bool progress = absl::GetFlag(FLAGS_progress);
  int64_t next_report_ns = start_ns + 1000000000;
  int64_t last_report_ns = start_ns;
  uint64_t last_completed = 0;
  int64_t end_ns = 0;
  while (true) {
    const int64_t now = MonotonicNanos();
    if (budget != nullptr && AllFinished(threads)) break;
    if (now >= deadline_ns) {
      end_ns = now;
      break;
    }
    if (progress && now >= next_report_ns) {
      const uint64_t completed = TotalCompleted(threads);
      std::fprintf(stderr, "eddy-load: %5.0fs %12.0f req/s%s\n",
                   static_cast<double>(now - start_ns) / 1e9,
                   static_cast<double>(completed - last_completed) * 1e9 /
                       static_cast<double>(now - last_report_ns),
                   last_report_ns < plan->measure_from_ns ? "  (warm-up)" : "");
      last_completed = completed;
      last_report_ns = now;
      next_report_ns += 1000000000;
    }
    // Short naps: a --requests run ends within 10 ms of its last response
    // without busy-waiting, and the end time comes from the threads anyway.
    int64_t wake_ns = std::min(deadline_ns, now + int64_t{10000000});
    if (progress) wake_ns = std::min(wake_ns, next_report_ns);
    absl::SleepFor(absl::Nanoseconds(std::max<int64_t>(wake_ns - now, 0)));
  }
  for (auto& thread : threads) thread->Stop();
  for (auto& thread : threads) thread->Join();

  RunSummary summary;
  summary.mode = *mode;
  summary.target = plan->address.ToString();
  if (*mode != LoadMode::kEcho) summary.target += absl::GetFlag(FLAGS_path);
  summary.threads = thread_count;
  summary.connections = connections;
  summary.depth = plan->depth;
  for (const auto& thread : threads) {
    summary.stats.Merge(thread->stats());
    end_ns = std::max(end_ns, thread->finished_ns());
  }
  if (end_ns == 0) end_ns = MonotonicNanos();
  summary.elapsed =
      absl::Nanoseconds(std::max<int64_t>(end_ns - plan->measure_from_ns, 0));

  if (budget != nullptr && !budget->spent()) {
    std::fprintf(stderr,
                 "eddy-load: --duration ended the run before --requests %lld "
                 "were sent\n",
                 static_cast<long long>(requests));
  }
  const std::string report =
      absl::GetFlag(FLAGS_json) ? FormatJson(summary) : FormatTable(summary);
  std::fputs(report.c_str(), stdout);
  if (summary.stats.connections_opened == 0) {
    return Fail(absl::UnavailableError(absl::StrCat(
        "no connection to ", plan->address.ToString(), " succeeded")));
  }
  if (summary.stats.responses == 0) {
    return Fail(absl::UnavailableError(
        "no response was received; see the errors above"));
  }
  return 0;
}

}  // namespace
}  // namespace eddy::load

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "eddy-load: HTTP and echo load generator built on eddy's event loop.\n"
      "  eddy-load --mode http --port 8080 --connections 64 --duration 10s");
  absl::ParseCommandLine(argc, argv);
  // A server that resets a connection must cost an error count, not the
  // process; every send also passes MSG_NOSIGNAL.
  ::signal(SIGPIPE, SIG_IGN);
  return eddy::load::Run();
}
