#ifndef EDDY_NET_INTERNAL_SERVER_METRICS_H_
#define EDDY_NET_INTERNAL_SERVER_METRICS_H_

#include <memory>
#include <vector>

#include "absl/time/time.h"
#include "eddy/core/metrics.h"

namespace eddy {

class Acceptor;
class Server;

// ServerMetrics exports one running Server's series into a registry: its
// counters (connections, bytes, writes, read-budget exhaustions, the
// acceptor's refusals and descriptor-exhaustion episodes) and lengths (inbox
// depths, the accept queue) as callbacks read at scrape time, so that they
// cost the hot path nothing beyond the per-worker counters that exist
// anyway; and, per worker, a probe timer that measures how late the loop
// turns and publishes its iterations and timer count.
//
// Threading: constructed by Server::Start on the owning thread once the
// workers and the acceptor run; destroyed by Server::Stop before the
// acceptor stops. After the destructor returns no callback reads the server
// any more; probes still armed write only into the registry's cells.
//
// Internal: set ServerOptions::metrics; not installed.
class ServerMetrics {
 public:
  // How often each worker's probe runs: the resolution of the loop-lag
  // histogram, and one timer wake-up per period on an idle worker.
  static constexpr absl::Duration kProbePeriod = absl::Milliseconds(250);

  ServerMetrics(const Server& server, const Acceptor& acceptor,
                MetricsRegistry& registry);
  ~ServerMetrics();
  ServerMetrics(const ServerMetrics&) = delete;
  ServerMetrics& operator=(const ServerMetrics&) = delete;

 private:
  struct Probe;

  void ExportCounters(const Server& server, MetricsRegistry& registry);
  void ExportAcceptor(const Acceptor& acceptor, MetricsRegistry& registry);
  void StartProbes(const Server& server, MetricsRegistry& registry);

  std::vector<MetricsCallback> callbacks_;
  std::vector<std::shared_ptr<Probe>> probes_;
};

}  // namespace eddy

#endif  // EDDY_NET_INTERNAL_SERVER_METRICS_H_
