#include "examples/program_logs.h"

#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/string_view.h"
#include "eddy/core/log.h"

namespace eddy {
namespace {

enum class LogFormat { kJson, kText };

// Abseil flag parsing for the two flags below, found by argument-dependent
// lookup; a wrong value is refused at parse time with the choices.
bool AbslParseFlag(absl::string_view text, LogFormat* format,
                   std::string* error) {
  if (text == "json") {
    *format = LogFormat::kJson;
  } else if (text == "text") {
    *format = LogFormat::kText;
  } else {
    *error = "must be json or text";
    return false;
  }
  return true;
}

std::string AbslUnparseFlag(LogFormat format) {
  return format == LogFormat::kJson ? "json" : "text";
}

}  // namespace

bool AbslParseFlag(absl::string_view text, LogSeverity* severity,
                   std::string* error) {
  const std::optional<LogSeverity> parsed = ParseLogSeverity(text);
  if (!parsed.has_value()) {
    *error = "must be debug, info, warning or error";
    return false;
  }
  *severity = *parsed;
  return true;
}

std::string AbslUnparseFlag(LogSeverity severity) {
  return std::string(LogSeverityName(severity));
}

}  // namespace eddy

ABSL_FLAG(eddy::LogFormat, log_format, eddy::LogFormat::kJson,
          "eddy's log on stderr: json (one object per line) or text");
ABSL_FLAG(eddy::LogSeverity, log_level, eddy::LogSeverity::kInfo,
          "least severe log event written: debug, info, warning or error");

namespace eddy {

void ApplyLogFlags() {
  SetLogSink(absl::GetFlag(FLAGS_log_format) == LogFormat::kText
                 ? TextStderrLogSink()
                 : JsonStderrLogSink());
  SetLogLevel(absl::GetFlag(FLAGS_log_level));
}

}  // namespace eddy
