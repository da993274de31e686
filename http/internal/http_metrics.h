#ifndef EDDY_HTTP_INTERNAL_HTTP_METRICS_H_
#define EDDY_HTTP_INTERNAL_HTTP_METRICS_H_

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "eddy/core/metrics.h"
#include "eddy/http/router.h"

namespace eddy::http {

// HttpMetrics holds the HTTP series of one HttpProtocol: requests by method,
// route pattern and status class, latency per route, and error responses by
// status. Every handle is made in the constructor, one set per route of the
// Router, so that recording a request is an array lookup and a few
// single-writer stores.
//
// The clock is read twice per read burst, not twice per request: a
// request's latency runs from the burst that completed it (its bytes were
// read) to the end of the burst that answered it, when its response leaves
// with the others in one write. Pipelined requests then cost no clock read
// and no histogram update of their own: those of one route share one.
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

  using Clock = std::chrono::steady_clock;

  // While one lives on this thread (they nest), answered requests are
  // recorded when the outermost ends, with one end time. Null `metrics`:
  // nothing happens.
  class Burst {
   public:
    explicit Burst(const HttpMetrics* metrics);
    ~Burst();
    Burst(const Burst&) = delete;
    Burst& operator=(const Burst&) = delete;

   private:
    const HttpMetrics* const metrics_;
  };

  HttpMetrics(MetricsRegistry& registry, const Router& router);

  // The series of `route` (null: no route matched).
  const RouteSeries* ForRoute(const Router::Route* route) const;
  // Requests that failed before a route was looked up (a malformed head, a
  // timeout): a 4xx or 5xx by HttpConnectionHandler::RespondError.
  const RouteSeries* for_errors() const { return errors_route_.get(); }

  // Where `method` is counted in `route`'s series.
  static size_t MethodIndex(const RouteSeries& route, absl::string_view method);

  // When a request dispatched now started: the start of this thread's
  // burst (read once per burst), or the clock outside one.
  static Clock::time_point Now();

  // One answered request: counted at once; its latency, if `timed` (it
  // parsed; `started` is Now() at its dispatch), observed at the end of
  // this thread's burst, together with the others of the burst that share
  // its route and start, or at once outside a burst. Writers past the
  // registry's count are not recorded (a registry made for fewer workers
  // than the server runs).
  void Finish(size_t writer, const RouteSeries& route, size_t method_index,
              int status, bool timed, Clock::time_point started) const;

 private:
  void CountError(size_t writer, int status) const;
  std::unique_ptr<RouteSeries> MakeSeries(MetricsRegistry& registry,
                                          absl::string_view pattern,
                                          std::vector<std::string> methods);

  const size_t writers_;
  std::vector<std::unique_ptr<RouteSeries>> owned_;
  std::vector<const RouteSeries*> by_route_;  // by Router::Route::index
  std::unique_ptr<RouteSeries> unmatched_;
  std::unique_ptr<RouteSeries> errors_route_;
  // By status: the causes the issue names, then every other 4xx/5xx.
  std::vector<std::pair<int, Counter>> errors_;
  std::vector<Counter> other_errors_;  // [0]: 4xx, [1]: 5xx
};

}  // namespace eddy::http

#endif  // EDDY_HTTP_INTERNAL_HTTP_METRICS_H_
