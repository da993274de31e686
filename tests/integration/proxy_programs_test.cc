// The shipped programs behind a balancer that sends PROXY headers: eddy-proxy
// --send_proxy_v2 and HAProxy (send-proxy-v2) in front of eddy-httpd
// --proxy_protocol=required. A client on its own loopback address
// (127.0.0.5, 127.0.0.7; curl --interface) must appear in eddy-httpd's
// access log, not the balancer. Skips, with the reason, where curl or
// haproxy is missing (tests/run.sh installs them).
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/support/child_process.h"
#include "tests/support/run_command.h"
#include "tests/support/test_client.h"

namespace {

using ::eddy::testing::HaveTool;
using ::eddy::testing::RunCommand;

// A program started with `argv` (the first searched on the PATH); its stdout is
// read for the start line. SIGTERM (then SIGKILL after a deadline) when stopped
// or destroyed.
class Child {
 public:
  explicit Child(std::vector<std::string> argv) {
    int out[2];
    if (::pipe(out) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(out[1], STDOUT_FILENO);
      ::close(out[0]);
      ::close(out[1]);
      std::vector<char*> args;
      for (std::string& arg : argv) args.push_back(arg.data());
      args.push_back(nullptr);
      ::execvp(args[0], args.data());
      ::_exit(127);
    }
    ::close(out[1]);
    stdout_ = ::fdopen(out[0], "r");
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    Stop();
    if (stdout_ != nullptr) std::fclose(stdout_);
  }

  // The port of an eddy program's start line; 0 if it did not start. The
  // line comes at once (or EOF when the program fails), so this is bounded.
  int StartPort() {
    char line[512];
    if (stdout_ == nullptr ||
        std::fgets(line, sizeof(line), stdout_) == nullptr) {
      return 0;
    }
    return eddy::testing::PortInStartLine(line);
  }

  int Stop() {
    if (pid_ <= 0) return -1;
    const int status = eddy::testing::TerminateAndWait(pid_, absl::Seconds(60));
    pid_ = -1;
    return status;
  }

 private:
  pid_t pid_ = -1;
  FILE* stdout_ = nullptr;
};

// A loopback port free right now, for a program that cannot be told port 0
// and say which it got (HAProxy).
int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = ntohs(address.sin_port);
  }
  ::close(fd);
  return port;
}

bool AcceptsConnections(int port) {
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (absl::Now() < deadline) {
    if (eddy::testing::TestClient::Connect(static_cast<uint16_t>(port),
                                           absl::Seconds(1))
            .ok()) {
      return true;
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  return false;
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
    httpd_ = std::make_unique<Child>(std::vector<std::string>{
        EDDY_HTTPD_PATH, "--port=0", "--bind=127.0.0.1", "--workers=1",
        "--access_log=" + log_path_, "--proxy_protocol=required",
        "--proxy_trusted=127.0.0.1/32"});
    httpd_port_ = httpd_->StartPort();
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
  std::unique_ptr<Child> httpd_;
  int httpd_port_ = 0;
};

TEST_F(ProxyProgramsTest, EddyProxySendsTheClientToEddyHttpd) {
  Child proxy({EDDY_PROXY_PATH, "--port=0", "--bind=127.0.0.1", "--workers=1",
               absl::StrCat("--upstream=127.0.0.1:", httpd_port_),
               "--send_proxy_v2"});
  const int port = proxy.StartPort();
  ASSERT_GT(port, 0) << "eddy-proxy did not start";
  ExpectClientInAccessLog(port, "127.0.0.7");
}

TEST_F(ProxyProgramsTest, HaproxySendProxyV2ShowsTheClientToEddyHttpd) {
  if (!HaveTool("haproxy")) GTEST_SKIP() << "haproxy is not installed";
  const int port = FreePort();
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
  Child haproxy({"haproxy", "-db", "-q", "-f", config});
  ASSERT_TRUE(AcceptsConnections(port)) << "haproxy did not listen";
  ExpectClientInAccessLog(port, "127.0.0.5");
}

}  // namespace
