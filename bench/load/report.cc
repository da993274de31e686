#include "bench/load/report.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace eddy::load {
namespace {

struct Percentile {
  const char* label;     // in the table
  const char* json_key;  // in the JSON object
  double value;
};

constexpr Percentile kPercentiles[] = {
    {"p50", "p50", 50.0},
    {"p90", "p90", 90.0},
    {"p99", "p99", 99.0},
    {"p99.9", "p99_9", 99.9},
};

double Seconds(absl::Duration d) { return absl::ToDoubleSeconds(d); }

double PerSecond(uint64_t count, absl::Duration elapsed) {
  const double seconds = Seconds(elapsed);
  return seconds > 0 ? static_cast<double>(count) / seconds : 0.0;
}

std::string HumanNanos(int64_t nanos) {
  if (nanos < 1000000) {
    return absl::StrFormat("%.0f us", static_cast<double>(nanos) / 1e3);
  }
  if (nanos < 1000000000) {
    return absl::StrFormat("%.2f ms", static_cast<double>(nanos) / 1e6);
  }
  return absl::StrFormat("%.2f s", static_cast<double>(nanos) / 1e9);
}

std::string HumanBytes(double bytes) {
  if (bytes < 1024) return absl::StrFormat("%.0f B", bytes);
  if (bytes < 1024 * 1024) return absl::StrFormat("%.1f KiB", bytes / 1024);
  if (bytes < 1024.0 * 1024 * 1024) {
    return absl::StrFormat("%.1f MiB", bytes / (1024 * 1024));
  }
  return absl::StrFormat("%.2f GiB", bytes / (1024.0 * 1024 * 1024));
}

}  // namespace

std::string FormatTable(const RunSummary& summary) {
  const LoadStats& stats = summary.stats;
  std::string out =
      absl::StrFormat("eddy-load %s %s: %zu threads, %zu connections",
                      LoadModeName(summary.mode), summary.target,
                      summary.threads, summary.connections);
  if (summary.mode == LoadMode::kPipeline) {
    absl::StrAppend(&out, ", depth ", summary.depth);
  }
  absl::StrAppendFormat(&out, ", %.2f s\n", Seconds(summary.elapsed));
  absl::StrAppendFormat(&out, "  requests   %12u   %12.1f/s\n", stats.responses,
                        PerSecond(stats.responses, summary.elapsed));
  absl::StrAppendFormat(
      &out, "  read       %12s   %12s/s\n",
      HumanBytes(static_cast<double>(stats.bytes_read)),
      HumanBytes(PerSecond(stats.bytes_read, summary.elapsed)));
  absl::StrAppend(&out, "  latency   ");
  for (const Percentile& p : kPercentiles) {
    absl::StrAppend(&out, " ", p.label, " ",
                    HumanNanos(stats.latency.PercentileNanos(p.value)), " ");
  }
  absl::StrAppend(
      &out, " max ", HumanNanos(stats.latency.max_nanos()), "  mean ",
      HumanNanos(static_cast<int64_t>(stats.latency.mean_nanos())), "\n");
  absl::StrAppendFormat(&out, "  errors     %12u", stats.error_total());
  std::vector<std::string> kinds;
  for (size_t i = 0; i < kErrorKinds; ++i) {
    if (stats.errors[i] == 0) continue;
    kinds.push_back(absl::StrCat(ErrorKindName(static_cast<ErrorKind>(i)), " ",
                                 stats.errors[i]));
  }
  if (!kinds.empty())
    absl::StrAppend(&out, "   (", absl::StrJoin(kinds, ", "), ")");
  absl::StrAppendFormat(&out, "\n  connects   %12u\n",
                        stats.connections_opened);
  if (summary.tls) {
    absl::StrAppendFormat(&out, "  tls        %12u handshakes, %u resumed\n",
                          stats.tls_handshakes, stats.tls_resumed);
  }
  return out;
}

std::string FormatJson(const RunSummary& summary) {
  const LoadStats& stats = summary.stats;
  // Every string here is generated (mode, a numeric address, a path that
  // MakeLoadPlan checked), but the path is user input: escape what JSON
  // requires.
  std::string target;
  for (char c : summary.target) {
    if (c == '"' || c == '\\') target.push_back('\\');
    if (static_cast<unsigned char>(c) < 0x20) {
      absl::StrAppendFormat(&target, "\\u%04x", c);
      continue;
    }
    target.push_back(c);
  }
  std::string out = absl::StrFormat(
      "{\"mode\":\"%s\",\"target\":\"%s\",\"threads\":%zu,"
      "\"connections\":%zu,\"depth\":%zu,\"seconds\":%.3f,"
      "\"requests\":%u,\"requests_per_sec\":%.1f,\"bytes_read\":%u,"
      "\"bytes_read_per_sec\":%.1f,\"connects\":%u,",
      LoadModeName(summary.mode), target, summary.threads, summary.connections,
      summary.depth, Seconds(summary.elapsed), stats.responses,
      PerSecond(stats.responses, summary.elapsed), stats.bytes_read,
      PerSecond(stats.bytes_read, summary.elapsed), stats.connections_opened);
  if (summary.tls) {
    absl::StrAppendFormat(&out,
                          "\"tls\":{\"handshakes\":%u,\"resumed\":%u,"
                          "\"handshakes_per_sec\":%.1f},",
                          stats.tls_handshakes, stats.tls_resumed,
                          PerSecond(stats.tls_handshakes, summary.elapsed));
  }
  absl::StrAppend(&out, "\"latency_us\":{");
  for (const Percentile& p : kPercentiles) {
    absl::StrAppendFormat(
        &out, "\"%s\":%.1f,", p.json_key,
        static_cast<double>(stats.latency.PercentileNanos(p.value)) / 1e3);
  }
  absl::StrAppendFormat(&out, "\"max\":%.1f,\"mean\":%.1f},\"errors\":{",
                        static_cast<double>(stats.latency.max_nanos()) / 1e3,
                        stats.latency.mean_nanos() / 1e3);
  for (size_t i = 0; i < kErrorKinds; ++i) {
    absl::StrAppendFormat(&out, "\"%s\":%u,",
                          ErrorKindName(static_cast<ErrorKind>(i)),
                          stats.errors[i]);
  }
  absl::StrAppendFormat(&out, "\"total\":%u}}\n", stats.error_total());
  return out;
}

}  // namespace eddy::load
