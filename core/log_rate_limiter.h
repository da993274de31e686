#ifndef EDDY_CORE_LOG_RATE_LIMITER_H_
#define EDDY_CORE_LOG_RATE_LIMITER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "eddy/core/log.h"

namespace eddy {

// LogRateLimiter keeps a storm of one kind of event (an EMFILE storm, a
// flood of shed connections) from writing a line per event: per kind, each
// window of `LogRateLimit::interval` admits the first `burst` events and
// counts the rest. The count is reported once, as a summary ("N more
// suppressed"), when the window has closed (TakeClosedWindows) or when the
// owner flushes (TakeAll); the summary carries the severity of the last
// suppressed event. The logger takes the closed windows before each Admit,
// so that a summary comes before the events of the next window. A kind that
// logs less than `burst` events per interval is never limited.
//
// Time is given by the caller (milliseconds on any monotonic clock), so that
// tests drive it.
//
// Threading: not thread-safe; the logger (core/log.h) calls it under its
// lock.
class LogRateLimiter {
 public:
  struct Suppressed {
    std::string kind;
    LogSeverity severity;
    uint64_t count;
  };

  explicit LogRateLimiter(LogRateLimit limit) : limit_(limit) {}

  // Replaces the limit; windows already open keep their count of admitted
  // events.
  void set_limit(LogRateLimit limit) { limit_ = limit; }

  // True if the event of `kind` at `now_ms` is to be written; false if it is
  // counted as suppressed instead.
  bool Admit(absl::string_view kind, LogSeverity severity, int64_t now_ms);

  // The suppressed counts of kinds whose window closed by `now_ms`; they
  // are forgotten once returned.
  std::vector<Suppressed> TakeClosedWindows(int64_t now_ms);

  // Every suppressed count, closed window or not (at a server's stop, so
  // that no count is lost); they are forgotten once returned.
  std::vector<Suppressed> TakeAll();

 private:
  struct Window {
    int64_t start_ms = 0;
    uint64_t admitted = 0;
    uint64_t suppressed = 0;
    LogSeverity severity = LogSeverity::kInfo;
  };

  bool Closed(const Window& window, int64_t now_ms) const;

  LogRateLimit limit_;
  absl::flat_hash_map<std::string, Window> windows_;
};

}  // namespace eddy

#endif  // EDDY_CORE_LOG_RATE_LIMITER_H_
