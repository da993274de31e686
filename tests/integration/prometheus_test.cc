// The shipped programs' metrics as Prometheus itself reads them: promtool
// checks every program's exposition, and a real Prometheus server scrapes
// eddy-httpd and answers a query for its request counter. Each test skips
// (with the reason) when Debian's prometheus package is missing;
// third_party/install_deps.sh --observe installs it.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/support/program_process.h"
#include "tests/support/run_command.h"
#include "tests/support/server_testing.h"

namespace eddy {
namespace {

using ::eddy::testing::CommandResult;
using ::eddy::testing::HaveTool;
using ::eddy::testing::LoopbackProgram;
using ::eddy::testing::ProgramLaunch;
using ::eddy::testing::ProgramProcess;
using ::eddy::testing::RunCommand;

// The first line among the start line and the few printed right after it
// that contains `needle`; empty if the output ends first.
std::string LineWith(ProgramProcess& program, absl::string_view needle) {
  constexpr int kMaxLines = 8;
  std::string line = program.start_line();
  for (int i = 1; i < kMaxLines && !absl::StrContains(line, needle); ++i) {
    line = program.ReadLine(testing::kTestDeadline);
  }
  return absl::StrContains(line, needle) ? line : "";
}

// "http://127.0.0.1:PORT/metrics" out of a start line, or "".
std::string MetricsUrl(const std::string& line) {
  const size_t start = line.find("http://");
  if (start == std::string::npos) return "";
  const size_t end = line.find_first_of(" /", start + 7);
  return absl::StrCat(line.substr(start, end - start), "/metrics");
}

std::string HostPort(const std::string& url) {
  const std::string rest = url.substr(7);
  return rest.substr(0, rest.find('/'));
}

// Runs promtool check metrics on what `url` serves.
CommandResult CheckMetrics(const std::string& url) {
  return RunCommand(absl::StrCat("curl -sf --max-time 30 '", url,
                                 "' > /dev/null && curl -sf --max-time 30 '",
                                 url, "' | promtool check metrics"),
                    absl::Seconds(90));
}

struct Program {
  const char* path;
  std::vector<std::string> args;
  const char* start_line;  // the line with the metrics URL
};

TEST(Promtool, EveryShippedProgramsMetricsPass) {
  if (!HaveTool("promtool")) GTEST_SKIP() << "promtool not installed";
  if (!HaveTool("curl")) GTEST_SKIP() << "curl is not installed";
  const std::vector<Program> programs = {
      {EDDY_HTTPD_PATH, {}, "listening on http://"},
      {EDDY_ECHO_PATH, {"--metrics_port=0"}, "metrics on http://"},
      {EDDY_REDIS_PATH, {"--metrics_port=0"}, "metrics on http://"},
      {EDDY_PROXY_PATH, {"--metrics_port=0"}, "metrics on http://"},
  };
  for (const Program& program : programs) {
    SCOPED_TRACE(program.path);
    ProgramProcess child(LoopbackProgram(program.path, 2, program.args));
    const std::string url = MetricsUrl(LineWith(child, program.start_line));
    ASSERT_FALSE(url.empty()) << "no start line with the metrics address";
    // A request first, so that the HTTP series hold values, not just zeros.
    (void)RunCommand(
        absl::StrCat("curl -s --max-time 30 -o /dev/null '", url, "'"));
    const CommandResult check = CheckMetrics(url);
    EXPECT_EQ(check.exit_code, 0) << check.output;
    EXPECT_EQ(child.Stop(), 0);
  }
}

TEST(Prometheus, ScrapesEddyHttpdAndAnswersAQueryForItsRequestCounter) {
  if (!HaveTool("prometheus")) GTEST_SKIP() << "prometheus not installed";
  if (!HaveTool("curl")) GTEST_SKIP() << "curl is not installed";
  const std::string dir =
      absl::StrCat(::testing::TempDir(), "/eddy-prometheus-", ::getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);

  ProgramProcess httpd(LoopbackProgram(EDDY_HTTPD_PATH, 2));
  const std::string metrics_url =
      MetricsUrl(LineWith(httpd, "listening on http://"));
  ASSERT_FALSE(metrics_url.empty());
  const std::string httpd_address = HostPort(metrics_url);
  for (int i = 0; i < 3; ++i) {
    (void)RunCommand(absl::StrCat("curl -s --max-time 30 -o /dev/null http://",
                                  httpd_address, "/"));
  }

  {
    std::ofstream config(dir + "/prometheus.yml");
    config << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
           << "scrape_configs:\n  - job_name: eddy\n    static_configs:\n"
           << "      - targets: ['" << httpd_address << "']\n";
  }
  const std::string web_address = testing::UnusedLoopbackAddress().ToString();
  ASSERT_FALSE(web_address.empty());
  ProgramLaunch prometheus_launch;
  prometheus_launch.path = "/usr/bin/prometheus";
  prometheus_launch.args = {"--config.file=" + dir + "/prometheus.yml",
                            "--storage.tsdb.path=" + dir + "/data",
                            "--web.listen-address=" + web_address};
  prometheus_launch.has_start_line = false;
  prometheus_launch.stderr_path = dir + "/prometheus.log";
  ProgramProcess prometheus(prometheus_launch);

  // Prometheus starts, scrapes every second, and the counter of "/" reaches
  // the three requests; the deadline is generous for a busy machine.
  const std::string query = absl::StrCat(
      "curl -s --max-time 10 'http://", web_address,
      "/api/v1/query?query=sum(eddy_http_requests_total%7Broute=%22/%22%7D)'");
  std::string answer;
  const bool answered = testing::Eventually(
      [&] {
        answer = RunCommand(query, absl::Seconds(30)).output;
        if (absl::StrContains(answer, "\"3\"]")) return true;
        absl::SleepFor(absl::Milliseconds(500));
        return false;
      },
      absl::Seconds(120));
  std::ifstream log(dir + "/prometheus.log");
  std::string log_text((std::istreambuf_iterator<char>(log)),
                       std::istreambuf_iterator<char>());
  EXPECT_TRUE(answered) << "last answer: " << answer << "\nprometheus log:\n"
                        << log_text;
  EXPECT_TRUE(absl::StrContains(answer, "\"status\":\"success\""));
  prometheus.Stop();
  EXPECT_EQ(httpd.Stop(), 0);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace eddy
