#ifndef EDDY_CORE_PROMETHEUS_TEXT_H_
#define EDDY_CORE_PROMETHEUS_TEXT_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "eddy/core/metrics.h"

namespace eddy {

// The content type of PrometheusText's output (text format 0.0.4).
inline constexpr absl::string_view kPrometheusTextContentType =
    "text/plain; version=0.0.4; charset=utf-8";

// The Prometheus text exposition of `families`: a HELP and a TYPE line per
// family, then its samples; histograms as _bucket{le=...}, _sum and _count.
// Pure function: any thread.
std::string PrometheusText(const std::vector<MetricFamilySnapshot>& families);

// PrometheusText(registry.Snapshot()). Any thread.
std::string PrometheusText(const MetricsRegistry& registry);

// A label value as the text format quotes it: backslash, double quote and
// line feed escaped. Pure function: any thread.
std::string EscapeLabelValue(absl::string_view value);

}  // namespace eddy

#endif  // EDDY_CORE_PROMETHEUS_TEXT_H_
