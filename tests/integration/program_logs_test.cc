// The shipped programs' log flags: eddy-echo writes its start and stop
// events on stderr as JSON lines (the default) or text, and --log_level
// hides what is below it.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/support/child_process.h"

namespace {

constexpr absl::Duration kDeadline = absl::Seconds(60);

// eddy-echo on a free loopback port with `flags`; Stop sends SIGTERM and
// returns everything it wrote on stderr.
class EchoProcess {
 public:
  explicit EchoProcess(const std::vector<std::string>& flags) {
    int out[2];
    int err[2];
    if (::pipe(out) != 0) return;
    if (::pipe(err) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(out[1], STDOUT_FILENO);
      ::dup2(err[1], STDERR_FILENO);
      for (int fd : {out[0], out[1], err[0], err[1]}) ::close(fd);
      std::vector<const char*> argv = {EDDY_ECHO_PATH, "--port=0",
                                       "--bind=127.0.0.1", "--workers=1"};
      for (const std::string& flag : flags) argv.push_back(flag.c_str());
      argv.push_back(nullptr);
      ::execv(EDDY_ECHO_PATH, const_cast<char* const*>(argv.data()));
      ::_exit(127);
    }
    ::close(out[1]);
    ::close(err[1]);
    stdout_ = ::fdopen(out[0], "r");
    stderr_ = ::fdopen(err[0], "r");
    // "eddy-echo listening on 127.0.0.1:PORT with 1 workers": the server
    // has started once this is written.
    char line[256];
    if (stdout_ != nullptr &&
        std::fgets(line, sizeof(line), stdout_) != nullptr) {
      port_ = eddy::testing::PortInStartLine(line);
    }
  }
  ~EchoProcess() {
    Stop();
    if (stdout_ != nullptr) std::fclose(stdout_);
    if (stderr_ != nullptr) std::fclose(stderr_);
  }

  int port() const { return port_; }

  // SIGTERM, a wait for the exit (SIGKILL after the deadline), then the
  // stderr lines.
  std::vector<std::string> Stop() {
    if (pid_ <= 0) return {};
    eddy::testing::TerminateAndWait(pid_, kDeadline);
    pid_ = -1;
    // The process is gone, so the pipe ends at what it wrote.
    std::string text;
    char buffer[4096];
    size_t n;
    while (stderr_ != nullptr &&
           (n = std::fread(buffer, 1, sizeof(buffer), stderr_)) > 0) {
      text.append(buffer, n);
    }
    return absl::StrSplit(text, '\n', absl::SkipEmpty());
  }

 private:
  pid_t pid_ = -1;
  FILE* stdout_ = nullptr;
  FILE* stderr_ = nullptr;
  int port_ = 0;
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
