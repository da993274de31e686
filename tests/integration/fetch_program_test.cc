// The client program eddy-fetch against the demo server eddy-httpd, both
// run as shipped.
#include <unistd.h>

#include <cstdio>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/support/child_process.h"
#include "tests/support/run_command.h"

namespace {

using ::eddy::testing::CommandResult;
using ::eddy::testing::Output;
using ::eddy::testing::RunCommand;

// eddy-httpd on a free loopback port, stopped with SIGTERM.
class Httpd {
 public:
  Httpd() {
    int out[2];
    if (::pipe(out) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(out[1], STDOUT_FILENO);
      ::close(out[0]);
      ::close(out[1]);
      ::execl(EDDY_HTTPD_PATH, EDDY_HTTPD_PATH, "--port=0", "--bind=127.0.0.1",
              "--workers=1", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(out[1]);
    stdout_ = ::fdopen(out[0], "r");
    char line[512];
    if (stdout_ != nullptr &&
        std::fgets(line, sizeof(line), stdout_) != nullptr) {
      port_ = eddy::testing::PortInStartLine(line);
    }
  }
  ~Httpd() {
    eddy::testing::TerminateAndWait(pid_, absl::Seconds(60));
    if (stdout_ != nullptr) std::fclose(stdout_);
  }
  int port() const { return port_; }

 private:
  pid_t pid_ = -1;
  FILE* stdout_ = nullptr;
  int port_ = 0;
};

CommandResult Fetch(const std::string& arguments, Output output) {
  return RunCommand(absl::StrCat("'", EDDY_FETCH_PATH, "' ", arguments),
                    absl::Seconds(120), output);
}

TEST(FetchProgram, PrintsTheBodyOfOneRequest) {
  Httpd httpd;
  ASSERT_GT(httpd.port(), 0);
  const CommandResult result = Fetch(
      absl::StrCat("http://localhost:", httpd.port(), "/"), Output::kStdout);
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(result.output, "Hello, world!");
}

TEST(FetchProgram, CountsManyRequestsOverPooledConnections) {
  Httpd httpd;
  ASSERT_GT(httpd.port(), 0);
  const CommandResult result = Fetch(
      absl::StrCat(
          "--count 300 --concurrency 4 http://127.0.0.1:", httpd.port(), "/"),
      Output::kStdout);
  EXPECT_EQ(result.exit_code, 0) << result.output;
  ASSERT_TRUE(absl::StartsWith(result.output, "300 responses (300 ok), over "))
      << result.output;
  // "... over K connections in T s": no more connections than requests in
  // flight, and reused (far fewer than requests).
  const std::vector<std::string> words = absl::StrSplit(result.output, ' ');
  ASSERT_GE(words.size(), 7u) << result.output;
  int connections = 0;
  ASSERT_TRUE(absl::SimpleAtoi(words[5], &connections)) << result.output;
  EXPECT_GE(connections, 1);
  EXPECT_LE(connections, 4);
}

TEST(FetchProgram, AnUnknownHostFailsWithAClearMessage) {
  const CommandResult result =
      Fetch("http://no-such-host.invalid/", Output::kStdoutAndStderr);
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_TRUE(absl::StrContains(result.output, "no-such-host.invalid"))
      << result.output;
}

}  // namespace
