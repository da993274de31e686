#include "eddy/core/prometheus_text.h"

#include <charconv>
#include <cmath>
#include <cstdint>

#include "absl/strings/str_cat.h"

namespace eddy {
namespace {

absl::string_view TypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

// HELP text escapes only backslash and line feed.
std::string EscapeHelp(absl::string_view help) {
  std::string out;
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

// Whole numbers (every counter) exactly, others with full precision.
std::string FormatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (value == std::floor(value) && std::fabs(value) < 9.0e15) {
    return absl::StrCat(static_cast<int64_t>(value));
  }
  // The shortest text that reads back as the same double.
  char text[32];
  const std::to_chars_result end =
      std::to_chars(text, text + sizeof(text), value);
  return std::string(text, end.ptr);
}

void AppendLabels(std::string* out, const MetricLabels& labels,
                  absl::string_view le = {}) {
  if (labels.empty() && le.empty()) return;
  out->push_back('{');
  bool first = true;
  for (const auto& [name, value] : labels) {
    if (!first) out->push_back(',');
    first = false;
    absl::StrAppend(out, name, "=\"", EscapeLabelValue(value), "\"");
  }
  if (!le.empty()) {
    if (!first) out->push_back(',');
    absl::StrAppend(out, "le=\"", le, "\"");
  }
  out->push_back('}');
}

void AppendHistogram(std::string* out, const MetricFamilySnapshot& family,
                     const MetricSample& sample) {
  for (size_t i = 0; i <= family.bounds.size(); ++i) {
    // Bounds in their shortest form: le="0.0001", not 0.00010000000000000000.
    const std::string le = i < family.bounds.size()
                               ? absl::StrCat(family.bounds[i])
                               : std::string("+Inf");
    absl::StrAppend(out, family.name, "_bucket");
    AppendLabels(out, sample.labels, le);
    absl::StrAppend(out, " ", sample.cumulative_counts[i], "\n");
  }
  absl::StrAppend(out, family.name, "_sum");
  AppendLabels(out, sample.labels);
  absl::StrAppend(out, " ", FormatValue(sample.sum), "\n");
  absl::StrAppend(out, family.name, "_count");
  AppendLabels(out, sample.labels);
  absl::StrAppend(out, " ", sample.cumulative_counts.back(), "\n");
}

}  // namespace

std::string EscapeLabelValue(absl::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string PrometheusText(const std::vector<MetricFamilySnapshot>& families) {
  std::string out;
  for (const MetricFamilySnapshot& family : families) {
    absl::StrAppend(&out, "# HELP ", family.name, " ", EscapeHelp(family.help),
                    "\n# TYPE ", family.name, " ", TypeName(family.type), "\n");
    for (const MetricSample& sample : family.samples) {
      if (family.type == MetricType::kHistogram) {
        AppendHistogram(&out, family, sample);
        continue;
      }
      out += family.name;
      AppendLabels(&out, sample.labels);
      absl::StrAppend(&out, " ", FormatValue(sample.value), "\n");
    }
  }
  return out;
}

std::string PrometheusText(const MetricsRegistry& registry) {
  return PrometheusText(registry.Snapshot());
}

}  // namespace eddy
