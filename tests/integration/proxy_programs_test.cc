// The shipped programs behind a balancer that sends PROXY headers: eddy-proxy
// --send_proxy_v2 and HAProxy (send-proxy-v2) in front of eddy-httpd
// --proxy_protocol=required. A client on its own loopback address
// (127.0.0.5, 127.0.0.7; curl --interface) must appear in eddy-httpd's
// access log, not the balancer. Skips, with the reason, where curl or
// haproxy is missing (tests/run.sh installs them).
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/support/program_process.h"
#include "tests/support/run_command.h"
#include "tests/support/server_testing.h"
#include "tests/support/test_client.h"

namespace {

using ::eddy::testing::HaveTool;
using ::eddy::testing::LoopbackProgram;
using ::eddy::testing::ProgramLaunch;
using ::eddy::testing::ProgramProcess;
using ::eddy::testing::RunCommand;

// Whether something accepts connections on `port` within a generous
// deadline: HAProxy prints no start line to wait for.
bool AcceptsConnections(int port) {
  return eddy::testing::Eventually(
      [port] {
        if (eddy::testing::TestClient::Connect(static_cast<uint16_t>(port),
                                               absl::Seconds(1))
                .ok()) {
          return true;
        }
        absl::SleepFor(absl::Milliseconds(20));
        return false;
      },
      absl::Seconds(30));
}

std::string ReadFile(const std::string& path) {
  std::ifstream file(path);
  std::stringstream content;
  content << file.rdbuf();
  return content.str();
}

class ProxyProgramsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!HaveTool("curl")) GTEST_SKIP() << "curl is not installed";
    dir_ =
        absl::StrCat(::testing::TempDir(), "/eddy-proxy-programs-", ::getpid());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    log_path_ = dir_ + "/access.log";
    httpd_ = std::make_unique<ProgramProcess>(LoopbackProgram(
        EDDY_HTTPD_PATH, 1,
        {"--access_log=" + log_path_, "--proxy_protocol=required",
         "--proxy_trusted=127.0.0.1/32"}));
    httpd_port_ = httpd_->port();
    ASSERT_GT(httpd_port_, 0) << "eddy-httpd did not start";
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  // GET / through `port` from `source`, then the access log once eddy-httpd
  // stopped (it flushes at exit).
  void ExpectClientInAccessLog(int port, const std::string& source) {
    const auto result =
        RunCommand(absl::StrCat("curl -sS --max-time 30 --interface ", source,
                                " http://127.0.0.1:", port, "/"));
    EXPECT_EQ(result.exit_code, 0) << result.output;
    EXPECT_EQ(result.output, "Hello, world!");
    EXPECT_EQ(httpd_->Stop(), 0);
    const std::string log = ReadFile(log_path_);
    EXPECT_TRUE(absl::StartsWith(log, source + " - - [")) << log;
    EXPECT_TRUE(absl::StrContains(log, "\"GET / HTTP/1.1\" 200 13")) << log;
  }

  std::string dir_;
  std::string log_path_;
  std::unique_ptr<ProgramProcess> httpd_;
  int httpd_port_ = 0;
};

TEST_F(ProxyProgramsTest, EddyProxySendsTheClientToEddyHttpd) {
  ProgramProcess proxy(LoopbackProgram(
      EDDY_PROXY_PATH, 1,
      {absl::StrCat("--upstream=127.0.0.1:", httpd_port_), "--send_proxy_v2"}));
  const int port = proxy.port();
  ASSERT_GT(port, 0) << "eddy-proxy did not start";
  ExpectClientInAccessLog(port, "127.0.0.7");
}

TEST_F(ProxyProgramsTest, HaproxySendProxyV2ShowsTheClientToEddyHttpd) {
  if (!HaveTool("haproxy")) GTEST_SKIP() << "haproxy is not installed";
  // HAProxy cannot be told port 0 and say which port it got.
  const int port = eddy::testing::UnusedLoopbackAddress().port();
  ASSERT_GT(port, 0);
  const std::string config = dir_ + "/haproxy.cfg";
  std::ofstream(config) << absl::StrCat(
      "defaults\n"
      "  mode tcp\n"
      "  timeout connect 5s\n"
      "  timeout client 30s\n"
      "  timeout server 30s\n"
      "frontend in\n"
      "  bind 127.0.0.1:",
      port,
      "\n"
      "  default_backend eddy\n"
      "backend eddy\n"
      "  server httpd 127.0.0.1:",
      httpd_port_, " send-proxy-v2\n");
  ProgramLaunch haproxy_launch;
  haproxy_launch.path = "haproxy";
  haproxy_launch.args = {"-db", "-q", "-f", config};
  haproxy_launch.has_start_line = false;
  ProgramProcess haproxy(haproxy_launch);
  ASSERT_TRUE(AcceptsConnections(port)) << "haproxy did not listen";
  ExpectClientInAccessLog(port, "127.0.0.5");
}

}  // namespace
