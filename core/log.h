#ifndef EDDY_CORE_LOG_H_
#define EDDY_CORE_LOG_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace eddy {

// eddy's log: the library reports what an operator must know (a server
// started or stopped, a listener failed, descriptors ran out and came back,
// connections were shed or refused at the cap, a shutdown deadline aborted
// connections) as structured events to one process-wide sink. Nothing is
// logged per request: the HTTP access log is the per-request record.
// (Debian 12's Abseil has no absl/log; this is eddy's own small sink.)
//
// Threading: every function here may be called from any thread, at once.
// LogEnabled is one relaxed atomic load, so code that would log nothing pays
// nothing more. Log takes a process-wide lock and calls the sink under it:
// the sink sees one event at a time, in order, and must not call Log (it
// would deadlock). Logging is rare by design; a storm of one kind of event
// is cut down by per-kind rate limiting (SetLogRateLimit).

enum class LogSeverity : int {
  kDebug = 0,
  kInfo = 1,
  kWarning = 2,
  kError = 3
};

// "debug", "info", "warning", "error".
absl::string_view LogSeverityName(LogSeverity severity);
// The inverse of LogSeverityName; nullopt for any other text.
std::optional<LogSeverity> ParseLogSeverity(absl::string_view name);

// One event. Fields that do not apply keep their "none" value and are left
// out of the formatted line. The string_views point into the caller's
// storage and are valid only during the sink call: a sink that keeps an
// event copies what it needs.
struct LogEvent {
  absl::Time time;  // stamped by Log
  LogSeverity severity = LogSeverity::kInfo;
  // A short stable identifier, "<area>.<what>", e.g. "server.start",
  // "accept.fd_exhausted": what a sink or a log query filters on.
  absl::string_view kind;
  int worker = -1;                 // worker index; -1: none
  uint64_t connection = 0;         // connection id; 0: none
  absl::string_view peer;          // "host:port"; empty: none
  absl::string_view close_reason;  // CloseReasonName(); empty: none
  int error = 0;                   // errno; 0: none
  absl::string_view message;
  // Above zero only on a rate limiter's summary: this many events of `kind`
  // were not written.
  uint64_t suppressed = 0;
};

using LogSink = std::function<void(const LogEvent&)>;

// Per kind, each `interval` admits the first `burst` events; the rest are
// counted and reported as one summary event ("N more suppressed") once the
// interval is over, or when FlushSuppressedLogs is called.
struct LogRateLimit {
  uint64_t burst = 5;
  absl::Duration interval = absl::Seconds(10);
};

// Installs `sink`; an empty one restores the default, JsonStderrLogSink().
// Once it returns, the previous sink is no longer being called and never
// will be again.
void SetLogSink(LogSink sink);

// Events below `severity` are dropped before anything else is done. The
// default is kInfo.
void SetLogLevel(LogSeverity severity);
LogSeverity GetLogLevel();

// Replaces the rate limit for every kind (the default: LogRateLimit{}).
void SetLogRateLimit(LogRateLimit limit);

// Writes every suppressed count not yet reported as summary events, now.
// Server::Stop calls it, so that the end of a storm is never lost.
void FlushSuppressedLogs();

// The default sink: FormatLogEventJson, one line per event, on stderr.
LogSink JsonStderrLogSink();
// FormatLogEventText, one line per event, on stderr.
LogSink TextStderrLogSink();

// One JSON object, no newline:
//   {"time":"2026-11-30T04:06:05.123456Z","severity":"warning",
//    "kind":"accept.fd_exhausted","errno":24,
//    "error":"Too many open files","message":"..."}
// Fields that do not apply are left out; strings are JSON-escaped.
std::string FormatLogEventJson(const LogEvent& event);

// One line for a human, no newline:
//   2026-11-30 04:06:05.123456 WARNING accept.fd_exhausted worker=0
//   errno=24 (Too many open files): accept failed ...
std::string FormatLogEventText(const LogEvent& event);

namespace log_internal {
extern std::atomic<int> min_severity;
}  // namespace log_internal

// Whether an event of `severity` would reach the sink (before rate
// limiting): build a message only when it is true.
inline bool LogEnabled(LogSeverity severity) {
  return static_cast<int>(severity) >=
         log_internal::min_severity.load(std::memory_order_relaxed);
}

// Stamps the time, applies the level and the rate limit, and hands the event
// to the sink.
void Log(LogEvent event);
// Log for an event with no other field than its message.
void Log(LogSeverity severity, absl::string_view kind,
         absl::string_view message);

}  // namespace eddy

#endif  // EDDY_CORE_LOG_H_
