#include "eddy/http/access_log.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/time/clock.h"
#include "eddy/core/event_loop.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/notification.h"

namespace eddy::http {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string TempPath(const char* name) {
  const char* dir = std::getenv("TMPDIR");
  return std::string(dir != nullptr ? dir : "/tmp") + "/eddy_access_log_" +
         name + "_" + std::to_string(::getpid());
}

// Each log flushes its own buffer on every worker that records into it: a
// second log on the same worker is written out within a second too, with
// no more traffic and no call to Flush.
TEST(AccessLog, TwoLogsOnOneWorkerAreBothWrittenWithoutMoreTraffic) {
  const std::string first_path = TempPath("first");
  const std::string second_path = TempPath("second");
  auto first = AccessLog::Open(first_path);
  auto second = AccessLog::Open(second_path);
  ASSERT_TRUE(first.ok() && second.ok());
  auto loop = EventLoop::Create();
  ASSERT_TRUE(loop.ok());
  std::thread thread([&] { (*loop)->Run(); });
  // Two records in the same second: the second one is only buffered.
  (*loop)->Post([&] {
    for (int i = 0; i < 2; ++i) {
      (*first)->Record(**loop, "127.0.0.1", "GET /a HTTP/1.1", 200, 1);
      (*second)->Record(**loop, "127.0.0.2", "GET /b HTTP/1.1", 404, 2);
    }
  });
  auto lines = [](const std::string& path) {
    const std::string text = ReadFile(path);
    return std::count(text.begin(), text.end(), '\n');
  };
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while ((lines(first_path) < 2 || lines(second_path) < 2) &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_EQ(lines(first_path), 2);
  EXPECT_EQ(lines(second_path), 2);
  EXPECT_NE(ReadFile(second_path).find("\"GET /b HTTP/1.1\" 404 2"),
            std::string::npos);
  (*loop)->Stop();
  thread.join();
  ::unlink(first_path.c_str());
  ::unlink(second_path.c_str());
}

// A log destroyed before the worker's loop: its flush timer does nothing
// from then on, and the lines were written by the destructor.
TEST(AccessLog, DestroyedBeforeTheLoopWritesItsLinesAndItsTimerGoesQuiet) {
  const std::string path = TempPath("destroyed");
  auto log = AccessLog::Open(path);
  ASSERT_TRUE(log.ok());
  auto loop = EventLoop::Create();
  ASSERT_TRUE(loop.ok());
  std::thread thread([&] { (*loop)->Run(); });
  testing::Notification recorded;
  std::shared_ptr<AccessLog> owned = *std::move(log);
  (*loop)->Post([&] {
    owned->Record(**loop, "::1", "GET / HTTP/1.0", 200, 3);
    owned->Record(**loop, "::1", "GET / HTTP/1.0", 200, 3);
    owned.reset();
    recorded.Notify();
  });
  ASSERT_TRUE(recorded.WaitForNotificationWithTimeout(absl::Seconds(30)));
  absl::SleepFor(absl::Milliseconds(1100));  // let the timer tick once
  (*loop)->Stop();
  thread.join();
  const std::string text = ReadFile(path);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2);
  ::unlink(path.c_str());
}

// Records `lines` (peer, request line) on a loop's thread into a new log
// at `path` in `format`, flushes it and returns what was written.
std::string RecordOnALoop(
    const std::string& path, AccessLogFormat format,
    const std::vector<std::pair<std::string, std::string>>& lines) {
  auto log = AccessLog::Open(path, format);
  if (!log.ok()) return "";
  auto loop = EventLoop::Create();
  if (!loop.ok()) return "";
  std::thread thread([&] { (*loop)->Run(); });
  testing::Notification recorded;
  (*loop)->Post([&] {
    for (const auto& [peer, request_line] : lines) {
      (*log)->Record(**loop, peer, request_line, 200, 13);
    }
    recorded.Notify();
  });
  const bool done = recorded.WaitForNotificationWithTimeout(absl::Seconds(30));
  (*loop)->Stop();
  thread.join();
  (*log)->Flush();
  const std::string text = done ? ReadFile(path) : "";
  ::unlink(path.c_str());
  return text;
}

TEST(AccessLog, JsonFormatWritesOneObjectPerResponse) {
  const std::string text =
      RecordOnALoop(TempPath("json"), AccessLogFormat::kJson,
                    {{"127.0.0.1", "GET /index.html HTTP/1.1"}});
  EXPECT_THAT(text,
              ::testing::MatchesRegex(
                  R"(\{"time":"[0-9]{4}-[0-9]{2}-[0-9]{2}T)"
                  R"([0-9]{2}:[0-9]{2}:[0-9]{2}Z","peer":"127\.0\.0\.1",)"
                  R"("method":"GET","request":"GET /index\.html HTTP/1\.1",)"
                  R"("status":200,"bytes":13\})"
                  "\n"));
}

TEST(AccessLog, JsonFormatEscapesWhatAClientSent) {
  const std::string text =
      RecordOnALoop(TempPath("json_escape"), AccessLogFormat::kJson,
                    {{"::1", "GET /a\"b\\c\x01\xff HTTP/1.0"}});
  EXPECT_NE(text.find(R"("peer":"::1","method":"GET",)"
                      R"("request":"GET /a\"b\\c\u0001)"
                      "\xEF\xBF\xBD HTTP/1.0\""),
            std::string::npos)
      << text;
}

TEST(AccessLog, FormatNamesParse) {
  EXPECT_EQ(ParseAccessLogFormat("clf"), AccessLogFormat::kCommon);
  EXPECT_EQ(ParseAccessLogFormat("json"), AccessLogFormat::kJson);
  EXPECT_EQ(ParseAccessLogFormat("combined"), std::nullopt);
}

}  // namespace
}  // namespace eddy::http
