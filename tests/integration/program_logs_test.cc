// The shipped programs' log flags: eddy-echo writes its start and stop
// events on stderr as JSON lines (the default) or text, and --log_level
// hides what is below it.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/support/program_process.h"

namespace {

// eddy-echo on a free loopback port with `flags`, its stderr in a file;
// Stop sends SIGTERM and returns the lines it wrote there.
class EchoProcess {
 public:
  explicit EchoProcess(const std::vector<std::string>& flags)
      : stderr_path_(absl::StrCat(::testing::TempDir(), "/eddy-echo-stderr-",
                                  ::getpid(), "-", ++started_)),
        process_(Launch(flags, stderr_path_)) {}
  ~EchoProcess() {
    process_.Stop();
    std::filesystem::remove(stderr_path_);
  }

  int port() const { return process_.port(); }

  // SIGTERM, a wait for the exit (SIGKILL after the deadline), then the
  // stderr lines.
  std::vector<std::string> Stop() {
    if (process_.exited()) return {};
    process_.Stop();
    // The process is gone, so the file holds all it wrote.
    std::ifstream file(stderr_path_);
    const std::string text((std::istreambuf_iterator<char>(file)),
                           std::istreambuf_iterator<char>());
    return absl::StrSplit(text, '\n', absl::SkipEmpty());
  }

 private:
  static eddy::testing::ProgramLaunch Launch(
      const std::vector<std::string>& flags, const std::string& stderr_path) {
    eddy::testing::ProgramLaunch launch =
        eddy::testing::LoopbackProgram(EDDY_ECHO_PATH, 1, flags);
    launch.stderr_path = stderr_path;
    return launch;
  }

  // Numbers each process's stderr file within this test run.
  static inline int started_ = 0;
  const std::string stderr_path_;
  eddy::testing::ProgramProcess process_;
};

TEST(ProgramLogs, JsonLinesByDefaultForStartAndStop) {
  EchoProcess echo({});
  ASSERT_GT(echo.port(), 0) << "eddy-echo did not start";
  const std::string address = absl::StrCat("127.0.0.1:", echo.port());
  const std::vector<std::string> lines = echo.Stop();
  ASSERT_EQ(lines.size(), 2u) << absl::StrJoin(lines, "\n");
  for (const std::string& line : lines) {
    EXPECT_TRUE(absl::StartsWith(line, "{\"time\":\"")) << line;
    EXPECT_TRUE(absl::EndsWith(line, "}")) << line;
    EXPECT_TRUE(absl::StrContains(line, "\"severity\":\"info\"")) << line;
  }
  EXPECT_TRUE(absl::StrContains(lines[0], "\"kind\":\"server.start\""));
  EXPECT_TRUE(absl::StrContains(
      lines[0], absl::StrCat("\"message\":\"listening on ", address)))
      << lines[0];
  EXPECT_TRUE(absl::StrContains(lines[1], "\"kind\":\"server.stop\""));
}

TEST(ProgramLogs, TextFormatWritesReadableLines) {
  EchoProcess echo({"--log_format=text"});
  ASSERT_GT(echo.port(), 0) << "eddy-echo did not start";
  const std::vector<std::string> lines = echo.Stop();
  ASSERT_EQ(lines.size(), 2u) << absl::StrJoin(lines, "\n");
  EXPECT_TRUE(absl::StrContains(
      lines[0], absl::StrCat(" INFO server.start: listening on 127.0.0.1:",
                             echo.port(), " with 1 workers")))
      << lines[0];
  EXPECT_TRUE(absl::StrContains(lines[1], " INFO server.stop: ")) << lines[1];
}

TEST(ProgramLogs, LevelWarningHidesStartAndStop) {
  EchoProcess echo({"--log_level=warning"});
  ASSERT_GT(echo.port(), 0) << "eddy-echo did not start";
  const std::vector<std::string> lines = echo.Stop();
  EXPECT_TRUE(lines.empty()) << absl::StrJoin(lines, "\n");
}

}  // namespace
