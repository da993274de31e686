#include "eddy/http/internal/http_metrics.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "eddy/core/histogram.h"

namespace eddy::http {
namespace {

constexpr absl::string_view kRequestsName = "eddy_http_requests_total";
constexpr absl::string_view kRequestsHelp =
    "HTTP requests answered, by method, route pattern and status class.";
constexpr absl::string_view kLatencyName = "eddy_http_request_duration_seconds";
constexpr absl::string_view kLatencyHelp =
    "Time from a request's dispatch to its response being queued, by route "
    "pattern.";
constexpr absl::string_view kErrorsName = "eddy_http_error_responses_total";
constexpr absl::string_view kErrorsHelp =
    "4xx and 5xx responses by status: what went wrong.";
constexpr const char* kStatusClasses[] = {"1xx", "2xx", "3xx", "4xx", "5xx"};
constexpr int kCauses[] = {400, 404, 405, 408, 413, 414,
                           431, 500, 501, 503, 505};

// Latencies a burst owes, observed when it ends: requests of one route that
// started together (pipelined in one burst) share one entry.
struct PendingLatency {
  const Histogram* latency;
  size_t writer;
  HttpMetrics::Clock::time_point started;
  uint64_t count;
};

struct BurstState {
  int depth = 0;
  bool has_start = false;
  HttpMetrics::Clock::time_point start;
  std::vector<PendingLatency> pending;
};

BurstState& ThisThreadBurst() {
  thread_local BurstState burst;
  return burst;
}

double SecondsBetween(HttpMetrics::Clock::time_point from,
                      HttpMetrics::Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

size_t StatusClass(int status) {
  const int index = status / 100 - 1;
  return index < 0 ? 0 : index > 4 ? 4 : static_cast<size_t>(index);
}

}  // namespace

HttpMetrics::Burst::Burst(const HttpMetrics* metrics) : metrics_(metrics) {
  if (metrics_ != nullptr) ++ThisThreadBurst().depth;
}

HttpMetrics::Burst::~Burst() {
  if (metrics_ == nullptr) return;
  BurstState& burst = ThisThreadBurst();
  if (--burst.depth > 0) return;
  burst.has_start = false;
  if (burst.pending.empty()) return;
  const Clock::time_point end = Clock::now();
  for (const PendingLatency& pending : burst.pending) {
    pending.latency->Observe(
        pending.writer, SecondsBetween(pending.started, end), pending.count);
  }
  burst.pending.clear();
}

HttpMetrics::Clock::time_point HttpMetrics::Now() {
  BurstState& burst = ThisThreadBurst();
  if (burst.depth == 0) return Clock::now();
  if (!burst.has_start) {
    burst.start = Clock::now();
    burst.has_start = true;
  }
  return burst.start;
}

void HttpMetrics::Finish(size_t writer, const RouteSeries& route,
                         size_t method_index, int status, bool timed,
                         Clock::time_point started) const {
  if (writer >= writers_) return;
  route.requests[method_index * 5 + StatusClass(status)].Add(writer);
  if (status >= 400) CountError(writer, status);
  if (!timed) return;
  BurstState& burst = ThisThreadBurst();
  if (burst.depth == 0) {
    route.latency.Observe(writer, SecondsBetween(started, Clock::now()));
    return;
  }
  if (!burst.pending.empty()) {
    PendingLatency& last = burst.pending.back();
    if (last.latency == &route.latency && last.writer == writer &&
        last.started == started) {
      ++last.count;
      return;
    }
  }
  burst.pending.push_back(PendingLatency{&route.latency, writer, started, 1});
}

HttpMetrics::HttpMetrics(MetricsRegistry& registry, const Router& router)
    : writers_(registry.writers()), by_route_(router.route_count(), nullptr) {
  router.ForEachRoute(
      [&](absl::string_view pattern, const Router::Route& route) {
        std::vector<std::string> methods = {route.method};
        // HEAD falls back to the GET route.
        if (route.method == "GET") methods.push_back("HEAD");
        owned_.push_back(MakeSeries(registry, pattern, std::move(methods)));
        by_route_[route.index] = owned_.back().get();
      });
  // No route: the standard methods, then "other", so that a client that
  // invents methods cannot invent series.
  unmatched_ = MakeSeries(
      registry, "unmatched",
      {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "other"});
  errors_route_ = MakeSeries(registry, "unparsed", {"unknown"});
  for (int status : kCauses) {
    errors_.emplace_back(
        status, registry.GetCounter(kErrorsName, kErrorsHelp,
                                    {{"status", absl::StrCat(status)}}));
  }
  other_errors_.push_back(
      registry.GetCounter(kErrorsName, kErrorsHelp, {{"status", "other_4xx"}}));
  other_errors_.push_back(
      registry.GetCounter(kErrorsName, kErrorsHelp, {{"status", "other_5xx"}}));
}

std::unique_ptr<HttpMetrics::RouteSeries> HttpMetrics::MakeSeries(
    MetricsRegistry& registry, absl::string_view pattern,
    std::vector<std::string> methods) {
  const std::string route(pattern);
  std::vector<Counter> requests;
  for (const std::string& method : methods) {
    for (const char* status_class : kStatusClasses) {
      requests.push_back(registry.GetCounter(
          kRequestsName, kRequestsHelp,
          {{"method", method}, {"route", route}, {"status", status_class}}));
    }
  }
  Histogram latency = registry.GetHistogram(kLatencyName, kLatencyHelp,
                                            HistogramBuckets::LatencySeconds(),
                                            {{"route", route}});
  return std::make_unique<RouteSeries>(
      RouteSeries{std::move(methods), std::move(requests), latency});
}

const HttpMetrics::RouteSeries* HttpMetrics::ForRoute(
    const Router::Route* route) const {
  return route != nullptr ? by_route_[route->index] : unmatched_.get();
}

size_t HttpMetrics::MethodIndex(const RouteSeries& route,
                                absl::string_view method) {
  size_t index = 0;
  while (index + 1 < route.methods.size() && route.methods[index] != method) {
    ++index;
  }
  return index;
}

void HttpMetrics::CountError(size_t writer, int status) const {
  for (const auto& [cause, counter] : errors_) {
    if (cause == status) {
      counter.Add(writer);
      return;
    }
  }
  other_errors_[status >= 500 ? 1 : 0].Add(writer);
}

}  // namespace eddy::http
