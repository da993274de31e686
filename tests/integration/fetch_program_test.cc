// The client program eddy-fetch against the demo server eddy-httpd, both
// run as shipped.
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/support/certificates_fixture.h"
#include "tests/support/program_process.h"
#include "tests/support/run_command.h"
#include "tests/support/test_certificates.h"

namespace {

using ::eddy::testing::CommandResult;
using ::eddy::testing::LoopbackProgram;
using ::eddy::testing::Output;
using ::eddy::testing::ProgramProcess;
using ::eddy::testing::RunCommand;

// eddy-httpd on a free loopback port, given `flags` too; stopped with
// SIGTERM.
class Httpd {
 public:
  explicit Httpd(std::vector<std::string> flags = {})
      : process_(LoopbackProgram(EDDY_HTTPD_PATH, 1, std::move(flags))) {}
  int port() const { return process_.port(); }

 private:
  ProgramProcess process_;
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

class FetchProgramHttps : public eddy::testing::WithTestCertificates {
 protected:
  void SetUp() override {
    WithTestCertificates::SetUp();
    if (IsSkipped()) return;
    httpd_ = std::make_unique<Httpd>(std::vector<std::string>{
        "--tls_cert=" + certs_.server_cert, "--tls_key=" + certs_.server_key});
    ASSERT_GT(httpd_->port(), 0);
  }
  void TearDown() override {
    httpd_.reset();
    WithTestCertificates::TearDown();
  }
  std::string Url() const {
    return absl::StrCat("https://localhost:", httpd_->port(), "/");
  }

  std::unique_ptr<Httpd> httpd_;
};

TEST_F(FetchProgramHttps, PrintsTheBodyVerifiedByTheGivenCa) {
  const CommandResult result =
      Fetch(absl::StrCat("--ca ", certs_.ca, " ", Url()), Output::kStdout);
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(result.output, "Hello, world!");
}

TEST_F(FetchProgramHttps, CountsRequestsOverPooledTlsConnections) {
  // Two workers, each with its own pool: the second worker's connection
  // can resume the session of the first's.
  const CommandResult result =
      Fetch(absl::StrCat("--workers 2 --count 200 --concurrency 4 --ca ",
                         certs_.ca, " ", Url()),
            Output::kStdout);
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_TRUE(absl::StartsWith(result.output, "200 responses (200 ok), over "))
      << result.output;
  EXPECT_TRUE(absl::StrContains(result.output, "TLS sessions resumed"))
      << result.output;
}

TEST_F(FetchProgramHttps, AServerTheSystemStoreDoesNotTrustIsRefused) {
  const CommandResult result = Fetch(Url(), Output::kStdoutAndStderr);
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_TRUE(absl::StrContains(result.output, "certificate verify failed"))
      << result.output;
  EXPECT_FALSE(absl::StrContains(result.output, "Hello")) << result.output;
}

TEST(FetchProgram, AnUnknownHostFailsWithAClearMessage) {
  const CommandResult result =
      Fetch("http://no-such-host.invalid/", Output::kStdoutAndStderr);
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_TRUE(absl::StrContains(result.output, "no-such-host.invalid"))
      << result.output;
}

}  // namespace
