#include "eddy/core/log.h"

#include <cctype>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "eddy/core/clock.h"
#include "eddy/core/json_string.h"
#include "eddy/core/log_rate_limiter.h"

namespace eddy {

namespace log_internal {
std::atomic<int> min_severity{static_cast<int>(LogSeverity::kInfo)};
}  // namespace log_internal

namespace {

// The sink and the rate limiter. A std::mutex, not absl::Mutex: Debian's
// Abseil has no TSan annotations, and the events come from every thread.
struct Logger {
  std::mutex mutex;
  LogSink sink = JsonStderrLogSink();
  LogRateLimiter limiter{LogRateLimit{}};
};

// Never destroyed: threads may log while the process exits.
Logger& GetLogger() {
  static Logger* const logger = new Logger;
  return *logger;
}

std::string ErrorText(int error) {
  char buffer[128];
  // The GNU strerror_r returns the text, not necessarily in `buffer`.
  return strerror_r(error, buffer, sizeof(buffer));
}

void WriteLine(std::string line) {
  line.push_back('\n');
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

void WriteSummaries(Logger& logger,
                    const std::vector<LogRateLimiter::Suppressed>& reports) {
  for (const LogRateLimiter::Suppressed& report : reports) {
    const std::string message =
        absl::StrCat(report.count, " more ", report.kind, " suppressed");
    LogEvent event;
    event.time = absl::Now();
    event.severity = report.severity;
    event.kind = report.kind;
    event.message = message;
    event.suppressed = report.count;
    logger.sink(event);
  }
}

}  // namespace

absl::string_view LogSeverityName(LogSeverity severity) {
  switch (severity) {
    case LogSeverity::kDebug:
      return "debug";
    case LogSeverity::kInfo:
      return "info";
    case LogSeverity::kWarning:
      return "warning";
    case LogSeverity::kError:
      return "error";
  }
  return "unknown";
}

std::optional<LogSeverity> ParseLogSeverity(absl::string_view name) {
  for (LogSeverity severity : {LogSeverity::kDebug, LogSeverity::kInfo,
                               LogSeverity::kWarning, LogSeverity::kError}) {
    if (name == LogSeverityName(severity)) return severity;
  }
  return std::nullopt;
}

void SetLogSink(LogSink sink) {
  if (!sink) sink = JsonStderrLogSink();
  Logger& logger = GetLogger();
  std::lock_guard lock(logger.mutex);
  logger.sink = std::move(sink);
}

void SetLogLevel(LogSeverity severity) {
  log_internal::min_severity.store(static_cast<int>(severity),
                                   std::memory_order_relaxed);
}

LogSeverity GetLogLevel() {
  return static_cast<LogSeverity>(
      log_internal::min_severity.load(std::memory_order_relaxed));
}

void SetLogRateLimit(LogRateLimit limit) {
  Logger& logger = GetLogger();
  std::lock_guard lock(logger.mutex);
  logger.limiter.set_limit(limit);
}

void FlushSuppressedLogs() {
  Logger& logger = GetLogger();
  std::lock_guard lock(logger.mutex);
  WriteSummaries(logger, logger.limiter.TakeAll());
}

void Log(LogSeverity severity, absl::string_view kind,
         absl::string_view message) {
  if (!LogEnabled(severity)) return;
  LogEvent event;
  event.severity = severity;
  event.kind = kind;
  event.message = message;
  Log(event);
}

void Log(LogEvent event) {
  if (!LogEnabled(event.severity)) return;
  Logger& logger = GetLogger();
  const int64_t now_ms = MonotonicMillis();
  std::lock_guard lock(logger.mutex);
  WriteSummaries(logger, logger.limiter.TakeClosedWindows(now_ms));
  if (!logger.limiter.Admit(event.kind, event.severity, now_ms)) return;
  event.time = absl::Now();
  logger.sink(event);
}

LogSink JsonStderrLogSink() {
  return [](const LogEvent& event) { WriteLine(FormatLogEventJson(event)); };
}

LogSink TextStderrLogSink() {
  return [](const LogEvent& event) { WriteLine(FormatLogEventText(event)); };
}

std::string FormatLogEventJson(const LogEvent& event) {
  std::string out = "{\"time\":";
  AppendJsonString(&out, absl::FormatTime("%Y-%m-%d%ET%H:%M:%E6SZ", event.time,
                                          absl::UTCTimeZone()));
  out.append(",\"severity\":");
  AppendJsonString(&out, LogSeverityName(event.severity));
  out.append(",\"kind\":");
  AppendJsonString(&out, event.kind);
  if (event.worker >= 0) absl::StrAppend(&out, ",\"worker\":", event.worker);
  if (event.connection != 0) {
    absl::StrAppend(&out, ",\"connection\":", event.connection);
  }
  if (!event.peer.empty()) {
    out.append(",\"peer\":");
    AppendJsonString(&out, event.peer);
  }
  if (!event.close_reason.empty()) {
    out.append(",\"close_reason\":");
    AppendJsonString(&out, event.close_reason);
  }
  if (event.error != 0) {
    absl::StrAppend(&out, ",\"errno\":", event.error, ",\"error\":");
    AppendJsonString(&out, ErrorText(event.error));
  }
  out.append(",\"message\":");
  AppendJsonString(&out, event.message);
  if (event.suppressed != 0) {
    absl::StrAppend(&out, ",\"suppressed\":", event.suppressed);
  }
  out.push_back('}');
  return out;
}

std::string FormatLogEventText(const LogEvent& event) {
  std::string severity(LogSeverityName(event.severity));
  for (char& c : severity) c = static_cast<char>(std::toupper(c));
  std::string out = absl::StrCat(
      absl::FormatTime("%Y-%m-%d %H:%M:%E6S", event.time, absl::UTCTimeZone()),
      " ", severity, " ", event.kind);
  if (event.worker >= 0) absl::StrAppend(&out, " worker=", event.worker);
  if (event.connection != 0) {
    absl::StrAppend(&out, " connection=", event.connection);
  }
  if (!event.peer.empty()) absl::StrAppend(&out, " peer=", event.peer);
  if (!event.close_reason.empty()) {
    absl::StrAppend(&out, " close_reason=", event.close_reason);
  }
  if (event.error != 0) {
    absl::StrAppend(&out, " errno=", event.error, " (", ErrorText(event.error),
                    ")");
  }
  absl::StrAppend(&out, ": ", event.message);
  return out;
}

}  // namespace eddy
