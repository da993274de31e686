#include "eddy/http/metrics_route.h"

#include "eddy/core/prometheus_text.h"

namespace eddy::http {

void AddMetricsRoute(Router& router, const MetricsRegistry& registry,
                     absl::string_view path) {
  router.Handle("GET", path,
                [&registry](const Request& /*request*/, Response& response) {
                  response.set_content_type(kPrometheusTextContentType);
                  response.set_body(PrometheusText(registry));
                });
}

}  // namespace eddy::http
