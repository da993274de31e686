#include "eddy/core/log_rate_limiter.h"

#include <algorithm>

#include "eddy/core/clock.h"

namespace eddy {

bool LogRateLimiter::Closed(const Window& window, int64_t now_ms) const {
  return now_ms - window.start_ms >= DurationToMillisCeil(limit_.interval);
}

bool LogRateLimiter::Admit(absl::string_view kind, LogSeverity severity,
                           int64_t now_ms) {
  auto [it, inserted] = windows_.try_emplace(kind);
  Window& window = it->second;
  if (inserted || Closed(window, now_ms)) {
    // A count not yet taken carries over into the new window: it is
    // reported late rather than lost.
    window.start_ms = now_ms;
    window.admitted = 0;
  }
  if (window.admitted < limit_.burst) {
    ++window.admitted;
    return true;
  }
  ++window.suppressed;
  window.severity = severity;
  return false;
}

std::vector<LogRateLimiter::Suppressed> LogRateLimiter::TakeClosedWindows(
    int64_t now_ms) {
  std::vector<Suppressed> result;
  for (auto& [kind, window] : windows_) {
    if (window.suppressed == 0 || !Closed(window, now_ms)) continue;
    result.push_back({kind, window.severity, window.suppressed});
    window = Window();
    window.start_ms = now_ms;
  }
  std::sort(
      result.begin(), result.end(),
      [](const Suppressed& a, const Suppressed& b) { return a.kind < b.kind; });
  return result;
}

std::vector<LogRateLimiter::Suppressed> LogRateLimiter::TakeAll() {
  std::vector<Suppressed> result;
  for (auto& [kind, window] : windows_) {
    if (window.suppressed == 0) continue;
    result.push_back({kind, window.severity, window.suppressed});
    window.suppressed = 0;
  }
  std::sort(
      result.begin(), result.end(),
      [](const Suppressed& a, const Suppressed& b) { return a.kind < b.kind; });
  return result;
}

}  // namespace eddy
