#ifndef EDDY_HTTP_METRICS_ROUTE_H_
#define EDDY_HTTP_METRICS_ROUTE_H_

#include "absl/strings/string_view.h"
#include "eddy/core/metrics.h"
#include "eddy/http/router.h"

namespace eddy::http {

// Serves `registry` in the Prometheus text exposition format on GET (and
// HEAD) `path` of `router`. Each scrape snapshots the registry, summing the
// workers' cells, on the worker that serves it.
//
// Threading: call while building the Router (before the server starts);
// `registry` must outlive every server that uses the Router.
void AddMetricsRoute(Router& router, const MetricsRegistry& registry,
                     absl::string_view path = "/metrics");

}  // namespace eddy::http

#endif  // EDDY_HTTP_METRICS_ROUTE_H_
