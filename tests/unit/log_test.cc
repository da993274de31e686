#include "eddy/core/log.h"

#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "eddy/core/json_string.h"
#include "eddy/core/log_rate_limiter.h"
#include "eddy/core/manual_clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace eddy {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// What a test's sink received, copied out of the events.
struct Captured {
  LogSeverity severity;
  std::string kind;
  std::string message;
  uint64_t suppressed;
};

// Installs a capturing sink and a known level and limit for one test, and
// restores the defaults after it.
class CapturingLog {
 public:
  explicit CapturingLog(LogRateLimit limit = LogRateLimit{}) {
    SetLogLevel(LogSeverity::kInfo);
    SetLogRateLimit(limit);
    SetLogSink([this](const LogEvent& event) {
      std::lock_guard lock(mutex_);
      events_.push_back({event.severity, std::string(event.kind),
                         std::string(event.message), event.suppressed});
    });
  }
  ~CapturingLog() {
    FlushSuppressedLogs();
    SetLogSink(nullptr);
    SetLogLevel(LogSeverity::kInfo);
    SetLogRateLimit(LogRateLimit{});
  }
  std::vector<Captured> events() {
    std::lock_guard lock(mutex_);
    return events_;
  }
  std::vector<std::string> kinds() {
    std::vector<std::string> result;
    for (const Captured& event : events()) result.push_back(event.kind);
    return result;
  }

 private:
  std::mutex mutex_;
  std::vector<Captured> events_;
};

LogEvent FixedEvent() {
  LogEvent event;
  event.time = absl::FromUnixMicros(1796011565123456);
  event.severity = LogSeverity::kWarning;
  event.kind = "accept.fd_exhausted";
  event.message = "accept failed";
  return event;
}

std::string Json(absl::string_view text) {
  std::string out;
  AppendJsonString(&out, text);
  return out;
}

TEST(JsonString, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(Json("plain"), "\"plain\"");
  EXPECT_EQ(Json("say \"hi\"\\"), R"("say \"hi\"\\")");
  EXPECT_EQ(Json("a\nb\rc\td\be\ff"), R"("a\nb\rc\td\be\ff")");
  EXPECT_EQ(Json(absl::string_view("\x00\x01\x1f\x7f", 4)),
            R"("\u0000\u0001\u001f\u007f")");
}

TEST(JsonString, KeepsValidUtf8AndReplacesInvalidBytes) {
  EXPECT_EQ(Json("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"),
            "\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"");
  // A lone continuation byte, a truncated sequence, an overlong '/' and an
  // encoded surrogate each become U+FFFD.
  EXPECT_EQ(Json("a\x80z"), "\"a\xEF\xBF\xBDz\"");
  EXPECT_EQ(Json("a\xE2\x82"), "\"a\xEF\xBF\xBD\xEF\xBF\xBD\"");
  EXPECT_EQ(Json("\xC0\xAF"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");
  EXPECT_EQ(Json("\xED\xA0\x80"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");
}

TEST(LogFormat, JsonHasOnlyTheFieldsThatApply) {
  EXPECT_EQ(FormatLogEventJson(FixedEvent()),
            R"({"time":"2026-11-30T04:06:05.123456Z","severity":"warning",)"
            R"("kind":"accept.fd_exhausted","message":"accept failed"})");
}

TEST(LogFormat, JsonCarriesEveryFieldEscaped) {
  LogEvent event = FixedEvent();
  event.worker = 3;
  event.connection = 42;
  event.peer = "127.0.0.1:5555";
  event.close_reason = "peer-reset";
  event.error = 24;
  event.message = "line\n\"two\"";
  event.suppressed = 7;
  EXPECT_EQ(FormatLogEventJson(event),
            R"({"time":"2026-11-30T04:06:05.123456Z","severity":"warning",)"
            R"("kind":"accept.fd_exhausted","worker":3,"connection":42,)"
            R"("peer":"127.0.0.1:5555","close_reason":"peer-reset",)"
            R"("errno":24,"error":"Too many open files",)"
            R"("message":"line\n\"two\"","suppressed":7})");
}

TEST(LogFormat, TextIsOneReadableLine) {
  EXPECT_EQ(FormatLogEventText(FixedEvent()),
            "2026-11-30 04:06:05.123456 WARNING accept.fd_exhausted: "
            "accept failed");
  LogEvent event = FixedEvent();
  event.worker = 1;
  event.peer = "[::1]:80";
  event.error = 24;
  EXPECT_EQ(FormatLogEventText(event),
            "2026-11-30 04:06:05.123456 WARNING accept.fd_exhausted worker=1 "
            "peer=[::1]:80 errno=24 (Too many open files): accept failed");
}

TEST(LogSeverityNames, RoundTripAndRejectOthers) {
  for (LogSeverity severity : {LogSeverity::kDebug, LogSeverity::kInfo,
                               LogSeverity::kWarning, LogSeverity::kError}) {
    EXPECT_EQ(ParseLogSeverity(LogSeverityName(severity)), severity);
  }
  EXPECT_EQ(ParseLogSeverity("verbose"), std::nullopt);
  EXPECT_EQ(ParseLogSeverity("INFO"), std::nullopt);
}

TEST(Log, DropsEventsBelowTheLevel) {
  CapturingLog log;
  SetLogLevel(LogSeverity::kWarning);
  EXPECT_FALSE(LogEnabled(LogSeverity::kInfo));
  EXPECT_TRUE(LogEnabled(LogSeverity::kError));
  Log(LogSeverity::kDebug, "test.debug", "");
  Log(LogSeverity::kInfo, "test.info", "");
  Log(LogSeverity::kWarning, "test.warning", "");
  Log(LogSeverity::kError, "test.error", "");
  EXPECT_THAT(log.kinds(), ElementsAre("test.warning", "test.error"));
  SetLogLevel(LogSeverity::kDebug);
  Log(LogSeverity::kDebug, "test.debug", "");
  EXPECT_THAT(log.kinds(),
              ElementsAre("test.warning", "test.error", "test.debug"));
}

TEST(Log, StampsTheTime) {
  std::vector<absl::Time> times;
  SetLogSink([&times](const LogEvent& event) { times.push_back(event.time); });
  const absl::Time before = absl::Now();
  Log(LogSeverity::kInfo, "test.time", "");
  const absl::Time after = absl::Now();
  SetLogSink(nullptr);
  ASSERT_EQ(times.size(), 1u);
  EXPECT_GE(times[0], before);
  EXPECT_LE(times[0], after);
}

TEST(Log, FlushReportsWhatTheLimitSuppressed) {
  CapturingLog log(LogRateLimit{.burst = 2, .interval = absl::Hours(1)});
  for (int i = 0; i < 10; ++i) {
    Log(LogSeverity::kWarning, "test.storm", "");
  }
  Log(LogSeverity::kInfo, "test.other", "");
  FlushSuppressedLogs();
  const std::vector<Captured> events = log.events();
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].kind, "test.storm");
  EXPECT_EQ(events[1].kind, "test.storm");
  EXPECT_EQ(events[2].kind, "test.other");
  EXPECT_EQ(events[3].kind, "test.storm");
  EXPECT_EQ(events[3].suppressed, 8u);
  EXPECT_EQ(events[3].severity, LogSeverity::kWarning);
  EXPECT_EQ(events[3].message, "8 more test.storm suppressed");
}

TEST(Log, SinksSeeEveryEventFromConcurrentThreads) {
  constexpr int kThreads = 4;
  constexpr int kEventsPerThread = 200;
  CapturingLog log(
      LogRateLimit{.burst = kEventsPerThread, .interval = absl::Hours(1)});
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t] {
      const std::string kind = absl::StrCat("test.thread", t);
      for (int i = 0; i < kEventsPerThread + 5; ++i) {
        LogEvent event;
        event.kind = kind;
        event.worker = t;
        Log(event);
      }
    });
  }
  // Level changes race with the logging threads and must be harmless.
  SetLogLevel(LogSeverity::kDebug);
  SetLogLevel(LogSeverity::kInfo);
  for (std::thread& thread : threads) thread.join();
  FlushSuppressedLogs();
  std::vector<int> per_kind(kThreads, 0);
  std::vector<uint64_t> suppressed(kThreads, 0);
  for (const Captured& event : log.events()) {
    const int t = event.kind.back() - '0';
    ASSERT_GE(t, 0);
    ASSERT_LT(t, kThreads);
    if (event.suppressed != 0) {
      suppressed[t] += event.suppressed;
    } else {
      ++per_kind[t];
    }
  }
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(per_kind[t], kEventsPerThread) << t;
    EXPECT_EQ(suppressed[t], 5u) << t;
  }
}

int64_t Millis(const ManualClock& clock) { return clock.NowMillis(); }

TEST(LogRateLimiter, AdmitsTheBurstThenCountsPerKind) {
  ManualClock clock;
  LogRateLimiter limiter({.burst = 3, .interval = absl::Seconds(10)});
  int admitted = 0;
  for (int i = 0; i < 100; ++i) {
    admitted += limiter.Admit("a", LogSeverity::kWarning, Millis(clock));
  }
  EXPECT_EQ(admitted, 3);
  EXPECT_TRUE(limiter.Admit("b", LogSeverity::kInfo, Millis(clock)));
  EXPECT_THAT(limiter.TakeClosedWindows(Millis(clock)), IsEmpty());
  clock.Advance(absl::Milliseconds(9999));
  EXPECT_THAT(limiter.TakeClosedWindows(Millis(clock)), IsEmpty());
  EXPECT_FALSE(limiter.Admit("a", LogSeverity::kWarning, Millis(clock)));
}

TEST(LogRateLimiter, ReportsOncePerClosedWindowAndAdmitsAgain) {
  ManualClock clock;
  LogRateLimiter limiter({.burst = 2, .interval = absl::Seconds(10)});
  for (int i = 0; i < 50; ++i) {
    limiter.Admit("storm", LogSeverity::kWarning, Millis(clock));
  }
  clock.Advance(absl::Seconds(10));
  const std::vector<LogRateLimiter::Suppressed> reports =
      limiter.TakeClosedWindows(Millis(clock));
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].kind, "storm");
  EXPECT_EQ(reports[0].count, 48u);
  EXPECT_EQ(reports[0].severity, LogSeverity::kWarning);
  EXPECT_THAT(limiter.TakeClosedWindows(Millis(clock)), IsEmpty());
  EXPECT_TRUE(limiter.Admit("storm", LogSeverity::kWarning, Millis(clock)));
  EXPECT_TRUE(limiter.Admit("storm", LogSeverity::kWarning, Millis(clock)));
  EXPECT_FALSE(limiter.Admit("storm", LogSeverity::kWarning, Millis(clock)));
  EXPECT_THAT(limiter.TakeClosedWindows(Millis(clock)), IsEmpty());
  ASSERT_EQ(limiter.TakeAll().size(), 1u);
  EXPECT_THAT(limiter.TakeAll(), IsEmpty());
}

TEST(LogRateLimiter, CarriesAnUntakenCountIntoTheNextWindow) {
  ManualClock clock;
  LogRateLimiter limiter({.burst = 1, .interval = absl::Seconds(1)});
  limiter.Admit("k", LogSeverity::kInfo, Millis(clock));
  limiter.Admit("k", LogSeverity::kInfo, Millis(clock));
  clock.Advance(absl::Seconds(5));
  // Admit before the closed window was taken: a new window opens and the
  // old count is kept, not lost.
  EXPECT_TRUE(limiter.Admit("k", LogSeverity::kInfo, Millis(clock)));
  EXPECT_FALSE(limiter.Admit("k", LogSeverity::kInfo, Millis(clock)));
  const std::vector<LogRateLimiter::Suppressed> reports = limiter.TakeAll();
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].count, 2u);
}

}  // namespace
}  // namespace eddy
