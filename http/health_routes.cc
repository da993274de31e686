#include "eddy/http/health_routes.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "eddy/net/server_state.h"

namespace eddy::http {
namespace {

void Answer(Response& response, bool ok, absl::string_view ok_body,
            absl::string_view failed_body) {
  response.set_status(ok ? 200 : 503);
  response.set_content_type("text/plain");
  response.AddHeader("Cache-Control", "no-store");
  response.set_body(std::string(ok ? ok_body : failed_body));
}

}  // namespace

ServerState ServerHealth::state() const {
  const Server* server = server_.load(std::memory_order_acquire);
  return server != nullptr ? server->state() : ServerState::kStarting;
}

bool ServerHealth::Live(absl::Duration bound) const {
  const Server* server = server_.load(std::memory_order_acquire);
  return server != nullptr && server->Live(bound);
}

void AddHealthRoutes(Router& router, const ServerHealth& health,
                     const HealthRoutesOptions& options) {
  router.Handle("GET", options.readiness_path,
                [&health](const Request&, Response& response) {
                  const ServerState state = health.state();
                  Answer(response, state == ServerState::kReady, "ready\n",
                         absl::StrCat(ServerStateName(state), "\n"));
                });
  const absl::Duration bound = options.liveness_bound;
  const auto liveness = [&health, bound](const Request&, Response& response) {
    Answer(response, health.Live(bound), "ok\n", "a worker loop is stuck\n");
  };
  router.Handle("GET", options.liveness_path, liveness);
  if (!options.liveness_alias.empty()) {
    router.Handle("GET", options.liveness_alias, liveness);
  }
}

}  // namespace eddy::http
