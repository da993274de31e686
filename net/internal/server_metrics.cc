#include "eddy/net/internal/server_metrics.h"

#include <cstdint>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "eddy/core/event_loop.h"
#include "eddy/core/histogram.h"
#include "eddy/core/timer_wheel.h"
#include "eddy/net/internal/acceptor.h"
#include "eddy/net/protocol.h"
#include "eddy/net/server.h"

namespace eddy {
namespace {

// Label values are identifiers: "peer_closed", not CloseReasonName's prose.
const char* const kCloseReasonLabels[kCloseReasonCount] = {
    "peer_closed", "local_close",  "aborted",       "reset",
    "error",       "idle_timeout", "write_timeout", "server_stopping"};

// A series summed over the workers' stats at scrape time.
template <typename Field>
absl::AnyInvocable<double() const> SumOverWorkers(const Server& server,
                                                  Field field) {
  return [&server, field] {
    uint64_t total = 0;
    for (const WorkerStats& stats : server.stats()) total += field(stats);
    return static_cast<double>(total);
  };
}

}  // namespace

// One worker's probe: re-armed with RunAfter, so each firing knows when it
// was due and the difference is how late the loop turned.
struct ServerMetrics::Probe {
  EventLoop* loop;
  size_t worker;
  Histogram lag;
  Counter iterations;
  Gauge timers;
  TimerId timer;
  int64_t due_ms = 0;
  uint64_t last_iterations = 0;
  bool stopped = false;

  void Arm(const std::shared_ptr<Probe>& self) {
    const int64_t period_ms = absl::ToInt64Milliseconds(kProbePeriod);
    due_ms = loop->now_ms() + period_ms;
    timer = loop->RunAfter(kProbePeriod, [self] { self->Fire(self); });
  }

  void Fire(const std::shared_ptr<Probe>& self) {
    const int64_t late_ms = loop->now_ms() - due_ms;
    lag.Observe(worker, static_cast<double>(late_ms > 0 ? late_ms : 0) / 1000);
    const uint64_t now_iterations = loop->iterations();
    iterations.Add(worker, now_iterations - last_iterations);
    last_iterations = now_iterations;
    timers.Set(worker, static_cast<int64_t>(loop->timer_count()));
    if (!stopped) Arm(self);
  }
};

ServerMetrics::ServerMetrics(const Server& server, const Acceptor& acceptor,
                             MetricsRegistry& registry) {
  ExportCounters(server, registry);
  ExportAcceptor(acceptor, registry);
  StartProbes(server, registry);
}

ServerMetrics::~ServerMetrics() {
  // Callbacks go first (each waits for a scrape in progress); then each
  // probe is stopped on its own loop, if that loop still runs.
  callbacks_.clear();
  for (const std::shared_ptr<Probe>& probe : probes_) {
    probe->loop->Post([probe] {
      probe->stopped = true;
      probe->loop->Cancel(probe->timer);
    });
  }
}

void ServerMetrics::ExportCounters(const Server& server,
                                   MetricsRegistry& registry) {
  auto add = [&](MetricType type, absl::string_view name,
                 absl::string_view help, const MetricLabels& labels,
                 absl::AnyInvocable<double() const> read) {
    callbacks_.push_back(
        registry.AddCallback(type, name, help, labels, std::move(read)));
  };
  add(MetricType::kCounter, "eddy_connections_accepted_total",
      "Connections opened by the workers.", {},
      SumOverWorkers(server, [](const WorkerStats& s) { return s.accepted; }));
  add(MetricType::kGauge, "eddy_connections_active", "Connections open now.",
      {},
      SumOverWorkers(server, [](const WorkerStats& s) { return s.active; }));
  for (size_t i = 0; i < kCloseReasonCount; ++i) {
    add(MetricType::kCounter, "eddy_connections_closed_total",
        "Connections closed, by reason.", {{"reason", kCloseReasonLabels[i]}},
        SumOverWorkers(server, [i](const WorkerStats& s) {
          return s.closed_by_reason[i];
        }));
  }
  add(MetricType::kCounter, "eddy_connections_shed_total",
      "Connections dropped before they opened: every worker inbox was full "
      "or the worker had no slot.",
      {}, SumOverWorkers(server, [](const WorkerStats& s) { return s.shed; }));
  add(MetricType::kCounter, "eddy_received_bytes_total",
      "Bytes read from connections.", {},
      SumOverWorkers(server, [](const WorkerStats& s) { return s.bytes_in; }));
  add(MetricType::kCounter, "eddy_sent_bytes_total",
      "Bytes written to connections.", {},
      SumOverWorkers(server, [](const WorkerStats& s) { return s.bytes_out; }));
  add(MetricType::kCounter, "eddy_write_syscalls_total",
      "Write system calls (sendmsg, sendfile) for connections' output.", {},
      SumOverWorkers(server, [](const WorkerStats& s) { return s.writes; }));
  add(MetricType::kCounter, "eddy_read_budget_exhausted_total",
      "Reads that stopped at the read budget with bytes left (fairness).", {},
      SumOverWorkers(server, [](const WorkerStats& s) {
        return s.read_budget_exhausted;
      }));
  add(MetricType::kCounter, "eddy_proxy_header_rejected_total",
      "Connections closed by the PROXY protocol step: a malformed, forged, "
      "missing or late header.",
      {}, SumOverWorkers(server, [](const WorkerStats& s) {
        return s.proxy_rejected;
      }));
  // Every kind, TLS or not, so that a dashboard's series exist from the
  // start (and read zero on a plaintext server).
  for (size_t i = 0; i < kTlsFailureCount; ++i) {
    add(MetricType::kCounter, "eddy_tls_failures_total",
        "TLS connections that failed, by kind.",
        {{"kind", std::string(TlsFailureName(static_cast<TlsFailure>(i)))}},
        SumOverWorkers(
            server, [i](const WorkerStats& s) { return s.tls_failures[i]; }));
  }
  for (size_t i = 0; i < server.worker_count(); ++i) {
    add(MetricType::kGauge, "eddy_worker_inbox_depth",
        "Accepted connections queued for the worker, not yet opened.",
        {{"worker", absl::StrCat(i)}}, [&server, i] {
          return static_cast<double>(server.worker(i).stats().inbox_depth);
        });
  }
}

void ServerMetrics::ExportAcceptor(const Acceptor& acceptor,
                                   MetricsRegistry& registry) {
  auto add = [&](MetricType type, absl::string_view name,
                 absl::string_view help,
                 absl::AnyInvocable<double() const> read) {
    callbacks_.push_back(
        registry.AddCallback(type, name, help, {}, std::move(read)));
  };
  add(MetricType::kCounter, "eddy_connections_refused_total",
      "Connections closed at once because max_connections were open.",
      [&acceptor] {
        return static_cast<double>(acceptor.stats().rejected_at_cap);
      });
  add(MetricType::kCounter, "eddy_descriptor_exhaustion_episodes_total",
      "Times accept ran out of descriptors or memory (EMFILE, ENFILE, "
      "ENOBUFS, ENOMEM) and backed off.",
      [&acceptor] {
        return static_cast<double>(acceptor.stats().fd_exhausted);
      });
  add(MetricType::kCounter, "eddy_accept_errors_total",
      "Other accept failures.", [&acceptor] {
        return static_cast<double>(acceptor.stats().accept_errors);
      });
  add(MetricType::kGauge, "eddy_listener_accept_queue_length",
      "Connections waiting in the listener's accept queue (TCP_INFO): an "
      "early sign of overload.",
      [&acceptor] {
        return static_cast<double>(acceptor.accept_queue_length());
      });
}

void ServerMetrics::StartProbes(const Server& server,
                                MetricsRegistry& registry) {
  for (size_t i = 0; i < server.worker_count(); ++i) {
    const MetricLabels labels = {{"worker", absl::StrCat(i)}};
    auto probe = std::make_shared<Probe>(Probe{
        &server.worker_loop(i), i,
        registry.GetHistogram(
            "eddy_loop_lag_seconds",
            "How late the worker's loop ran a timer that was due: the time "
            "an event waits for the loop to turn.",
            HistogramBuckets::Exponential(0.001, 2, 14), labels),
        registry.GetCounter("eddy_loop_iterations_total",
                            "Iterations of the worker's event loop.", labels),
        registry.GetGauge("eddy_loop_timers",
                          "Timers armed on the worker's loop.", labels),
        TimerId{}});
    probes_.push_back(probe);
    probe->loop->Post([probe] {
      probe->last_iterations = probe->loop->iterations();
      probe->Arm(probe);
    });
  }
}

}  // namespace eddy
