#include "bench/load/load_run.h"

#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bench/load/client_thread.h"
#include "bench/load/monotonic_nanos.h"
#include "bench/load/request_budget.h"
#include "eddy/net/tls_context.h"
#include "eddy/net/worker_group.h"

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

absl::Status CheckScalars(const LoadOptions& options) {
  if (options.threads == 0) {
    return absl::InvalidArgumentError("--threads must be at least 1");
  }
  if (options.connections < options.threads) {
    return absl::InvalidArgumentError(
        "--connections must be at least --threads (each thread drives its "
        "own connections)");
  }
  if (options.duration <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--duration must be positive");
  }
  if (options.requests < 0) {
    return absl::InvalidArgumentError("--requests must not be negative");
  }
  if (options.busy_poll < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--busy_poll must not be negative");
  }
  if (options.warmup < absl::ZeroDuration() ||
      options.warmup == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError("--warmup must be finite, at least 0");
  }
  if (options.tls_resume && !options.tls) {
    return absl::InvalidArgumentError("--tls_resume needs --tls");
  }
  if (!options.tls_ca.empty() && !options.tls) {
    return absl::InvalidArgumentError("--tls_ca needs --tls");
  }
  if (options.address.port() == 0) {
    return absl::InvalidArgumentError("--port must not be 0");
  }
  return absl::OkStatus();
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

absl::StatusOr<LoadPlan> PlanOf(const LoadOptions& options) {
  return MakeLoadPlan(options.mode, options.address, options.path,
                      options.depth, options.message_size, options.timeout);
}

// One client context per load thread: a session kept for resumption is
// hooked on the context, and a thread's connections share it.
absl::StatusOr<std::shared_ptr<const TlsContext>> ClientContextOf(
    const LoadOptions& options) {
  if (!options.tls) return nullptr;
  TlsClientOptions tls;
  tls.ca_file = options.tls_ca;
  tls.verify_peer = !options.tls_ca.empty();
  tls.server_name = options.tls_server_name;
  tls.handshake_timeout = options.timeout;
  // Whether handshakes resume is --tls_resume's to say (TlsSessionReuse),
  // not the context's cache.
  tls.resume_sessions = false;
  return TlsContext::ForClient(tls);
}

}  // namespace

absl::Status CheckLoadOptions(const LoadOptions& options) {
  if (absl::Status status = CheckScalars(options); !status.ok()) return status;
  return PlanOf(options).status();
}

absl::StatusOr<RunSummary> RunLoad(const LoadOptions& options) {
  if (absl::Status status = CheckScalars(options); !status.ok()) return status;
  if (absl::Status status =
          EnsureDescriptors(options.connections, options.threads);
      !status.ok()) {
    return status;
  }
  absl::StatusOr<LoadPlan> plan = PlanOf(options);
  if (!plan.ok()) return plan.status();

  const int64_t start_ns = MonotonicNanos();
  // Clamped so that an infinite --duration (with --requests) cannot
  // overflow the deadline.
  constexpr int64_t kForeverNs = INT64_MAX / 4;
  plan->measure_from_ns =
      start_ns + std::min(absl::ToInt64Nanoseconds(options.warmup), kForeverNs);
  const int64_t deadline_ns =
      plan->measure_from_ns +
      std::min(absl::ToInt64Nanoseconds(options.duration), kForeverNs);
  std::unique_ptr<RequestBudget> budget;
  if (options.requests > 0) {
    budget = std::make_unique<RequestBudget>(options.requests);
  }

  // Built before any thread starts, so a bad --tls_ca fails the run at once.
  std::vector<std::shared_ptr<const TlsContext>> tls_contexts;
  for (size_t i = 0; i < options.threads; ++i) {
    absl::StatusOr<std::shared_ptr<const TlsContext>> tls =
        ClientContextOf(options);
    if (!tls.ok()) return tls.status();
    tls_contexts.push_back(*std::move(tls));
  }

  // The load threads are a WorkerGroup's workers: no listening socket, no
  // ProtocolFactory; each connection's handler comes from its slot.
  WorkerGroupOptions group_options;
  group_options.workers = options.threads;
  // Stopping aborts every socket at once (requests in flight are not
  // counted), so the drain is short; the bound is for a stuck close.
  group_options.shutdown_timeout = absl::Seconds(1);
  WorkerGroup group(group_options);
  if (absl::Status status = group.Start(); !status.ok()) return status;
  std::vector<std::unique_ptr<ClientThread>> threads;
  for (size_t i = 0; i < options.threads; ++i) {
    const size_t share = options.connections / options.threads +
                         (i < options.connections % options.threads ? 1 : 0);
    threads.push_back(std::make_unique<ClientThread>(
        group.worker(i), *plan, share, budget.get(), options.busy_poll,
        tls_contexts[i], options.tls_resume));
  }
  for (auto& thread : threads) thread->Start();

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
    if (options.progress && now >= next_report_ns) {
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
    if (options.progress) wake_ns = std::min(wake_ns, next_report_ns);
    absl::SleepFor(absl::Nanoseconds(std::max<int64_t>(wake_ns - now, 0)));
  }
  for (auto& thread : threads) thread->EndMeasurement();
  group.Stop();

  RunSummary summary;
  summary.mode = options.mode;
  summary.target = plan->address.ToString();
  if (options.mode != LoadMode::kEcho) summary.target += options.path;
  summary.threads = options.threads;
  summary.tls = options.tls;
  summary.connections = options.connections;
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
                 static_cast<long long>(options.requests));
  }
  return summary;
}

}  // namespace eddy::load
