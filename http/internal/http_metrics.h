#ifndef EDDY_HTTP_INTERNAL_HTTP_METRICS_H_
#define EDDY_HTTP_INTERNAL_HTTP_METRICS_H_

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "eddy/core/metrics.h"
#include "eddy/http/router.h"

namespace eddy::http {

// HttpMetrics holds the HTTP series of one HttpProtocol: requests by method,
// route pattern and status class, latency per route, and error responses by
// status. Every handle is made in the constructor, one set per route of the
// Router, so that recording a request is a pointer lookup and a few
// single-writer stores.
//
// Threading: construct before the server starts; then every member
// function may run on any worker thread, with the worker's index as the
// writer.
//
// Internal: set HttpOptions::metrics; not installed.
class HttpMetrics {
 public:
  // The series of one route, or of the requests no route took.
  struct RouteSeries {
    std::vector<std::string> methods;  // the last one takes any other
    std::vector<Counter> requests;     // [method][status class 1xx..5xx]
    Histogram latency;
  };

  HttpMetrics(MetricsRegistry& registry, const Router& router);

  // The series of `route` (null: no route matched).
  const RouteSeries* ForRoute(const Router::Route* route) const;
  // Requests that failed before a route was looked up (a malformed head, a
  // timeout): a 4xx or 5xx by HttpConnectionHandler::RespondError.
  const RouteSeries* for_errors() const { return errors_route_.get(); }

  // Where `method` is counted in `route`'s series.
  static size_t MethodIndex(const RouteSeries& route, absl::string_view method);

  // One answered request; a negative `seconds` records no latency (the
  // request was never dispatched). Writers past the registry's count are
  // not recorded (a registry made for fewer workers than the server runs).
  void Record(size_t writer, const RouteSeries& route, size_t method_index,
              int status, double seconds) const;

 private:
  std::unique_ptr<RouteSeries> MakeSeries(MetricsRegistry& registry,
                                          absl::string_view pattern,
                                          std::vector<std::string> methods);

  const size_t writers_;
  std::vector<std::unique_ptr<RouteSeries>> owned_;
  absl::flat_hash_map<const Router::Route*, const RouteSeries*> by_route_;
  std::unique_ptr<RouteSeries> unmatched_;
  std::unique_ptr<RouteSeries> errors_route_;
  // By status: the causes the issue names, then every other 4xx/5xx.
  std::vector<std::pair<int, Counter>> errors_;
  std::vector<Counter> other_errors_;  // [0]: 4xx, [1]: 5xx
};

}  // namespace eddy::http

#endif  // EDDY_HTTP_INTERNAL_HTTP_METRICS_H_
