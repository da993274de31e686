// eddy-proxy with TLS on either side: terminating (--tls_cert/--tls_key)
// in front of plain eddy-echo and eddy-httpd, and originating
// (--upstream_tls --upstream_ca) towards eddy-httpd --tls_cert. An upstream
// that fails verification (an unknown CA, a name its certificate does not
// carry) closes the client's connection, is logged, and leaves the proxy
// serving. The curl tests skip where curl is missing.
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/support/certificates_fixture.h"
#include "tests/support/program_process.h"
#include "tests/support/run_command.h"
#include "tests/support/test_certificates.h"
#include "tests/support/test_client.h"
#include "tests/support/tls_test_client.h"

namespace {

using ::eddy::testing::CommandResult;
using ::eddy::testing::HaveTool;
using ::eddy::testing::LoopbackProgram;
using ::eddy::testing::ProgramLaunch;
using ::eddy::testing::ProgramProcess;
using ::eddy::testing::RunCommand;
using ::eddy::testing::TestClient;
using ::eddy::testing::TlsTestClient;

std::string ReadFile(const std::string& path) {
  std::ifstream file(path);
  std::stringstream content;
  content << file.rdbuf();
  return content.str();
}

class ProxyTlsTest : public eddy::testing::WithTestCertificates {
 protected:
  void SetUp() override {
    WithTestCertificates::SetUp();
    if (IsSkipped()) return;
    proxy_log_ = certs_.dir + "/proxy.log";
  }
  // A shipped server on a free loopback port with one worker.
  static std::unique_ptr<ProgramProcess> Start(const char* path,
                                               std::vector<std::string> flags) {
    return std::make_unique<ProgramProcess>(
        LoopbackProgram(path, 1, std::move(flags)));
  }

  // eddy-proxy to `upstream`, its log (stderr) in proxy_log_.
  std::unique_ptr<ProgramProcess> StartProxy(const std::string& upstream,
                                             std::vector<std::string> flags) {
    flags.insert(flags.begin(), "--upstream=" + upstream);
    ProgramLaunch launch =
        LoopbackProgram(EDDY_PROXY_PATH, 1, std::move(flags));
    launch.stderr_path = proxy_log_;
    return std::make_unique<ProgramProcess>(launch);
  }

  std::vector<std::string> ServerTlsFlags() const {
    return {"--tls_cert=" + certs_.server_cert,
            "--tls_key=" + certs_.server_key};
  }

  // curl's plain GET of / through the proxy on `port`.
  static CommandResult PlainGet(int port) {
    return RunCommand(
        absl::StrCat("curl -sS --max-time 30 http://127.0.0.1:", port, "/"));
  }

  std::string proxy_log_;
};

TEST_F(ProxyTlsTest, TlsClientThroughTheProxyToPlainEddyEcho) {
  auto echo = Start(EDDY_ECHO_PATH, {});
  ASSERT_GT(echo->port(), 0) << "eddy-echo: " << echo->start_line();
  auto proxy =
      StartProxy(absl::StrCat("127.0.0.1:", echo->port()), ServerTlsFlags());
  ASSERT_GT(proxy->port(), 0) << "eddy-proxy: " << proxy->start_line();
  TlsTestClient::Options options;
  options.ca_file = certs_.ca;
  absl::StatusOr<std::unique_ptr<TlsTestClient>> client =
      TlsTestClient::Connect(static_cast<uint16_t>(proxy->port()), options);
  ASSERT_TRUE(client.ok()) << client.status();
  const std::string message = "hello through TLS and back\n";
  for (int round = 0; round < 3; ++round) {
    absl::StatusOr<std::string> echoed = (*client)->RoundTrip(message);
    ASSERT_TRUE(echoed.ok()) << echoed.status();
    EXPECT_EQ(*echoed, message);
  }
  EXPECT_EQ(proxy->Stop(), 0);
  EXPECT_EQ(echo->Stop(), 0);
}

TEST_F(ProxyTlsTest, CurlOverHttpsThroughTheProxyToPlainEddyHttpd) {
  if (!HaveTool("curl")) GTEST_SKIP() << "curl is not installed";
  auto httpd = Start(EDDY_HTTPD_PATH, {});
  ASSERT_GT(httpd->port(), 0) << "eddy-httpd: " << httpd->start_line();
  auto proxy =
      StartProxy(absl::StrCat("127.0.0.1:", httpd->port()), ServerTlsFlags());
  ASSERT_GT(proxy->port(), 0) << "eddy-proxy: " << proxy->start_line();
  const CommandResult result = RunCommand(absl::StrCat(
      "curl -sS --max-time 30 --cacert ", certs_.ca, " --resolve localhost:",
      proxy->port(), ":127.0.0.1 https://localhost:", proxy->port(), "/"));
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(result.output, "Hello, world!");
  EXPECT_EQ(proxy->Stop(), 0);
  EXPECT_EQ(httpd->Stop(), 0);
}

TEST_F(ProxyTlsTest, PlainClientThroughTheProxyToEddyHttpdOverTls) {
  if (!HaveTool("curl")) GTEST_SKIP() << "curl is not installed";
  auto httpd = Start(EDDY_HTTPD_PATH, ServerTlsFlags());
  ASSERT_GT(httpd->port(), 0) << "eddy-httpd: " << httpd->start_line();
  // "localhost": the name the proxy verifies is the --upstream host.
  auto proxy = StartProxy(absl::StrCat("localhost:", httpd->port()),
                          {"--upstream_tls", "--upstream_ca=" + certs_.ca});
  ASSERT_GT(proxy->port(), 0) << "eddy-proxy: " << proxy->start_line();
  for (int round = 0; round < 2; ++round) {
    const CommandResult result = PlainGet(proxy->port());
    EXPECT_EQ(result.exit_code, 0) << result.output;
    EXPECT_EQ(result.output, "Hello, world!");
  }
  EXPECT_EQ(proxy->Stop(), 0);
  EXPECT_EQ(httpd->Stop(), 0);
  EXPECT_FALSE(absl::StrContains(ReadFile(proxy_log_), "upstream_failed"));
}

// An upstream the proxy cannot verify: every client is closed without an
// answer, each failure is logged with its reason, and the proxy stays up.
void ExpectRefusedAndLogged(ProgramProcess& proxy, const std::string& log_path,
                            const std::string& reason) {
  for (int round = 0; round < 2; ++round) {
    const CommandResult result = RunCommand(absl::StrCat(
        "curl -sS --max-time 30 http://127.0.0.1:", proxy.port(), "/"));
    EXPECT_FALSE(absl::StrContains(result.output, "Hello")) << result.output;
    // Closed without an answer: 52 "empty reply from server", or 56 when
    // the unread request made the close a reset. (28 would be a hang.)
    EXPECT_TRUE(result.exit_code == 52 || result.exit_code == 56)
        << result.exit_code << ": " << result.output;
  }
  EXPECT_EQ(proxy.Stop(), 0) << "the proxy did not keep running";
  const std::string log = ReadFile(log_path);
  EXPECT_TRUE(absl::StrContains(log, "proxy.upstream_failed")) << log;
  EXPECT_TRUE(absl::StrContains(log, reason)) << log;
}

TEST_F(ProxyTlsTest, AnUpstreamFromAnUnknownCaClosesTheClient) {
  if (!HaveTool("curl")) GTEST_SKIP() << "curl is not installed";
  auto httpd = Start(EDDY_HTTPD_PATH, ServerTlsFlags());
  ASSERT_GT(httpd->port(), 0) << "eddy-httpd: " << httpd->start_line();
  auto proxy =
      StartProxy(absl::StrCat("localhost:", httpd->port()),
                 {"--upstream_tls", "--upstream_ca=" + certs_.other_ca});
  ASSERT_GT(proxy->port(), 0) << "eddy-proxy: " << proxy->start_line();
  ExpectRefusedAndLogged(*proxy, proxy_log_, "certificate verify failed");
  EXPECT_EQ(httpd->Stop(), 0);
}

TEST_F(ProxyTlsTest, AnUpstreamWithAnotherNameClosesTheClient) {
  if (!HaveTool("curl")) GTEST_SKIP() << "curl is not installed";
  auto httpd = Start(EDDY_HTTPD_PATH, ServerTlsFlags());
  ASSERT_GT(httpd->port(), 0) << "eddy-httpd: " << httpd->start_line();
  auto proxy = StartProxy(absl::StrCat("127.0.0.1:", httpd->port()),
                          {"--upstream_tls", "--upstream_ca=" + certs_.ca,
                           "--upstream_server_name=wrong.example"});
  ASSERT_GT(proxy->port(), 0) << "eddy-proxy: " << proxy->start_line();
  ExpectRefusedAndLogged(*proxy, proxy_log_, "hostname mismatch");
  EXPECT_EQ(httpd->Stop(), 0);
}

TEST_F(ProxyTlsTest, UpstreamCaWithoutUpstreamTlsIsRefusedAtStart) {
  ProgramLaunch launch;
  launch.path = EDDY_PROXY_PATH;
  launch.args = {"--port=0", "--upstream_ca=" + certs_.ca};
  ProgramProcess proxy(launch);
  EXPECT_EQ(proxy.port(), 0);
  EXPECT_EQ(proxy.WaitForExit(absl::Seconds(60)), 1);
}

}  // namespace
