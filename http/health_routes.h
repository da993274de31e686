#ifndef EDDY_HTTP_HEALTH_ROUTES_H_
#define EDDY_HTTP_HEALTH_ROUTES_H_

#include <atomic>

#include "absl/time/time.h"
#include "eddy/http/router.h"
#include "eddy/net/server.h"

namespace eddy::http {

// What AddHealthRoutes serves, and how stale a worker loop may be.
struct HealthRoutesOptions {
  // 200 "ready" while the server is ready; 503 while it starts, drains or
  // stops: a load balancer's (or Kubernetes') readiness check.
  absl::string_view readiness_path = "/readyz";
  // 200 while every worker loop turned within liveness_bound
  // (Server::Live), with "ok" as the older /healthz said; 503 otherwise: a
  // liveness check, which restarts a process whose loop is stuck.
  absl::string_view liveness_path = "/livez";
  // Another path answered like liveness_path, e.g. an older "/healthz";
  // empty: none.
  absl::string_view liveness_alias = "/healthz";
  absl::Duration liveness_bound = absl::Seconds(5);
};

// The server whose health the routes report. The Router is complete before
// the HttpProtocol that serves it is made, and that before the Server, so
// the routes take this and the Server is attached to it afterwards:
//   http::ServerHealth health;
//   http::AddHealthRoutes(*router, health);
//   Server server(options, std::make_unique<http::HttpProtocol>(router, ...));
//   health.Attach(server);
//
// Threading: Attach from the owner before the server starts; the rest from
// any thread.
class ServerHealth {
 public:
  // `server` must outlive every use of the routes.
  void Attach(const Server& server) {
    server_.store(&server, std::memory_order_release);
  }
  // kStarting until a server is attached.
  ServerState state() const;
  // False until a server is attached.
  bool Live(absl::Duration bound) const;

 private:
  std::atomic<const Server*> server_{nullptr};
};

// Serves the readiness and liveness checks of `health`'s server on GET (and
// HEAD) in `router`; both answer text/plain and are never cached. The
// answers are computed on the worker that serves them from atomic state
// (Server::state, Server::Live).
//
// Threading: call while building the Router; `health` must outlive the
// routes' use.
void AddHealthRoutes(Router& router, const ServerHealth& health,
                     const HealthRoutesOptions& options = {});

}  // namespace eddy::http

#endif  // EDDY_HTTP_HEALTH_ROUTES_H_
