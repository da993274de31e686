// Restarts that lose nothing, with the shipped programs in child processes:
// SIGTERM drains (readiness fails, new connections are still served, exit
// 0), socket activation (a test parent passes a bound socket as systemd
// does), NOTIFY_SOCKET, and the listener hand-off between an old and a new
// eddy-httpd under a continuous client, and a rolling restart of three
// instances behind HAProxy with PROXY v2 that logs the client itself.
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "eddy/net/address.h"
#include "eddy/net/internal/socket.h"
#include "gtest/gtest.h"
#include "tests/support/http_test_client.h"
#include "tests/support/program_process.h"
#include "tests/support/run_command.h"
#include "tests/support/server_testing.h"
#include "tests/support/test_client.h"

namespace eddy {
namespace {

using ::eddy::testing::CommandResult;
using ::eddy::testing::Eventually;
using ::eddy::testing::HaveTool;
using ::eddy::testing::HttpTestReader;
using ::eddy::testing::HttpTestResponse;
using ::eddy::testing::kTestDeadline;
using ::eddy::testing::LoopbackProgram;
using ::eddy::testing::ProgramLaunch;
using ::eddy::testing::ProgramProcess;
using ::eddy::testing::RunCommand;
using ::eddy::testing::TestClient;
using ::eddy::testing::UnusedLoopbackAddress;

ProgramLaunch Httpd(std::vector<std::string> extra_args) {
  ProgramLaunch launch;
  launch.path = EDDY_HTTPD_PATH;
  launch.args = {"--bind=127.0.0.1", "--workers=1", "--log_level=warning"};
  for (std::string& arg : extra_args) launch.args.push_back(std::move(arg));
  return launch;
}

// A new connection to 127.0.0.1:`port`, from the loopback address `source`
// when one is given (a client of its own, not the balancer's address).
absl::StatusOr<TestClient> ConnectTo(int port, absl::string_view source) {
  return source.empty() ? TestClient::Connect(port)
                        : TestClient::ConnectFrom(source, port);
}

// One GET on a new connection: the response, or why there is none.
absl::StatusOr<HttpTestResponse> GetOnce(int port, const std::string& path,
                                         absl::string_view source = "") {
  absl::StatusOr<TestClient> client = ConnectTo(port, source);
  if (!client.ok()) return client.status();
  if (absl::Status s = client->SendAll(
          absl::StrCat("GET ", path, " HTTP/1.1\r\nHost: t\r\n\r\n"));
      !s.ok()) {
    return s;
  }
  HttpTestReader reader(*client);
  return reader.Next();
}

size_t LinesIn(const std::string& path) {
  std::ifstream file(path);
  size_t lines = 0;
  for (std::string line; std::getline(file, line);) ++lines;
  return lines;
}

std::string TempPath(absl::string_view name) {
  return absl::StrCat(::testing::TempDir(), "/eddy-restart-", ::getpid(), "-",
                      name);
}

// A listening socket on 127.0.0.1 at a port the kernel chose, as a test
// parent passes it under LISTEN_FDS.
struct LoopbackListener {
  UniqueFd fd;
  int port = 0;
};
absl::StatusOr<LoopbackListener> ListenOnLoopback() {
  absl::StatusOr<SocketAddress> any = SocketAddress::Parse("127.0.0.1", 0);
  if (!any.ok()) return any.status();
  absl::StatusOr<UniqueFd> fd = Listen(*any, ListenOptions{});
  if (!fd.ok()) return fd.status();
  absl::StatusOr<SocketAddress> local = SocketAddress::LocalOf(fd->get());
  if (!local.ok()) return local.status();
  return LoopbackListener{*std::move(fd), local->port()};
}

TEST(Restart, SigtermFailsReadinessAtOnceAndServesNewConnectionsForTheDelay) {
  ProgramProcess httpd(Httpd({"--port=0", "--drain_delay=3s"}));
  ASSERT_GT(httpd.port(), 0) << httpd.start_line();
  absl::StatusOr<HttpTestResponse> ready = GetOnce(httpd.port(), "/readyz");
  ASSERT_TRUE(ready.ok()) << ready.status();
  EXPECT_EQ(ready->status, 200);

  ASSERT_EQ(::kill(httpd.pid(), SIGTERM), 0);
  EXPECT_TRUE(Eventually([&] {
    absl::StatusOr<HttpTestResponse> r = GetOnce(httpd.port(), "/readyz");
    return r.ok() && r->status == 503;
  }));
  // Readiness fails, but a new connection is still accepted and served.
  absl::StatusOr<HttpTestResponse> hello = GetOnce(httpd.port(), "/");
  ASSERT_TRUE(hello.ok()) << hello.status();
  EXPECT_EQ(hello->status, 200);
  EXPECT_EQ(hello->Header("connection"), "close");
  EXPECT_EQ(httpd.WaitForExit(kTestDeadline), 0);
}

TEST(Restart, SocketActivationServesOnThePassedListener) {
  absl::StatusOr<LoopbackListener> listener = ListenOnLoopback();
  ASSERT_TRUE(listener.ok()) << listener.status();

  ProgramLaunch launch = Httpd({"--port=0", "--listen_fds"});
  launch.listen_fds = {listener->fd.get()};
  ProgramProcess httpd(launch);
  ASSERT_EQ(httpd.port(), listener->port) << httpd.start_line();
  // The parent closes its copy; the accept queue lives on in the child.
  listener->fd.reset();
  absl::StatusOr<HttpTestResponse> hello = GetOnce(listener->port, "/");
  ASSERT_TRUE(hello.ok()) << hello.status();
  EXPECT_EQ(hello->status, 200);
  EXPECT_EQ(hello->body, "Hello, world!");
  EXPECT_EQ(httpd.Stop(), 0);
}

TEST(Restart, SocketActivationRefusesAMissingOrWrongListener) {
  // No LISTEN_FDS at all.
  ProgramProcess none(Httpd({"--port=0", "--listen_fds"}));
  EXPECT_EQ(none.port(), 0);
  EXPECT_EQ(none.WaitForExit(kTestDeadline), 1);

  // A listener on another port than the one configured.
  absl::StatusOr<LoopbackListener> listener = ListenOnLoopback();
  ASSERT_TRUE(listener.ok()) << listener.status();
  const int other_port = listener->port == 65535 ? 65534 : listener->port + 1;
  ProgramLaunch launch =
      Httpd({absl::StrCat("--port=", other_port), "--listen_fds"});
  launch.listen_fds = {listener->fd.get()};
  ProgramProcess wrong(launch);
  EXPECT_EQ(wrong.port(), 0);
  EXPECT_EQ(wrong.WaitForExit(kTestDeadline), 1);
}

TEST(Restart, SocketActivationTakesTheListenerNamedInListenFdNames) {
  absl::StatusOr<LoopbackListener> admin = ListenOnLoopback();
  ASSERT_TRUE(admin.ok()) << admin.status();
  absl::StatusOr<LoopbackListener> web = ListenOnLoopback();
  ASSERT_TRUE(web.ok()) << web.status();

  ProgramLaunch launch =
      Httpd({"--port=0", "--listen_fds", "--listen_fd_name=web"});
  launch.listen_fds = {admin->fd.get(), web->fd.get()};
  launch.env = {{"LISTEN_FDNAMES", "admin:web"}};
  ProgramProcess httpd(launch);
  ASSERT_EQ(httpd.port(), web->port) << httpd.start_line();
  absl::StatusOr<HttpTestResponse> hello = GetOnce(web->port, "/");
  ASSERT_TRUE(hello.ok()) << hello.status();
  EXPECT_EQ(hello->status, 200);
  EXPECT_EQ(httpd.Stop(), 0);

  // Two sockets and no name to choose by, or a name none has: refused.
  for (const std::vector<std::string>& flags :
       {std::vector<std::string>{"--port=0", "--listen_fds"},
        std::vector<std::string>{"--port=0", "--listen_fds",
                                 "--listen_fd_name=nope"}}) {
    ProgramLaunch refused = Httpd(flags);
    refused.listen_fds = {admin->fd.get(), web->fd.get()};
    refused.env = {{"LISTEN_FDNAMES", "admin:web"}};
    ProgramProcess process(refused);
    EXPECT_EQ(process.port(), 0);
    EXPECT_EQ(process.WaitForExit(kTestDeadline), 1);
  }
}

// A datagram socket standing in for systemd's notify socket.
class NotifySocket {
 public:
  NotifySocket() : name_(absl::StrCat("@eddy-notify-test-", ::getpid())) {
    fd_ = UniqueFd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, name_.data(), name_.size());
    address.sun_path[0] = '\0';
    bound_ = ::bind(fd_.get(), reinterpret_cast<sockaddr*>(&address),
                    offsetof(sockaddr_un, sun_path) + name_.size()) == 0;
  }
  bool bound() const { return bound_; }
  const std::string& name() const { return name_; }
  // The next datagram, or "" after the test deadline.
  std::string Next() {
    pollfd readable{fd_.get(), POLLIN, 0};
    if (::poll(&readable, 1,
               static_cast<int>(absl::ToInt64Milliseconds(kTestDeadline))) <=
        0) {
      return "";
    }
    char buffer[256];
    const ssize_t n = ::recv(fd_.get(), buffer, sizeof(buffer), 0);
    return n > 0 ? std::string(buffer, n) : "";
  }
  // Whether a datagram is waiting now (without waiting for one).
  bool HasPending() {
    pollfd readable{fd_.get(), POLLIN, 0};
    return ::poll(&readable, 1, 0) > 0;
  }

 private:
  std::string name_;
  UniqueFd fd_;
  bool bound_ = false;
};

TEST(Restart, NotifySocketHearsReadyAndStopping) {
  NotifySocket notify;
  ASSERT_TRUE(notify.bound()) << std::strerror(errno);
  ProgramLaunch launch =
      LoopbackProgram(EDDY_ECHO_PATH, 1, {"--log_level=warning"});
  launch.env = {{"NOTIFY_SOCKET", notify.name()}};
  ProgramProcess echo(launch);
  ASSERT_GT(echo.port(), 0) << echo.start_line();
  EXPECT_EQ(notify.Next(), "READY=1");
  ASSERT_EQ(::kill(echo.pid(), SIGTERM), 0);
  EXPECT_EQ(notify.Next(), "STOPPING=1");
  EXPECT_EQ(echo.WaitForExit(kTestDeadline), 0);
}

// Requests without pause on fresh and keep-alive connections (from
// `source` if given), counting those that fail, until stopped (or a bound on
// their number).
class ContinuousClient {
 public:
  explicit ContinuousClient(int port, std::string source = "")
      : port_(port), source_(std::move(source)), thread_([this] { Run(); }) {}
  ~ContinuousClient() { Stop(); }
  void Stop() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
  }
  int64_t succeeded() const { return succeeded_.load(); }
  int64_t failed() const { return failed_.load(); }
  std::string first_failure() const { return first_failure_; }

 private:
  static constexpr int64_t kMaxRequests = 200000;

  void Count(const absl::StatusOr<HttpTestResponse>& response) {
    if (response.ok() && response->status == 200) {
      succeeded_.fetch_add(1);
      return;
    }
    if (failed_.fetch_add(1) == 0) {
      first_failure_ = response.ok() ? absl::StrCat("status ", response->status)
                                     : response.status().ToString();
    }
  }

  void Run() {
    std::optional<TestClient> kept;
    std::optional<HttpTestReader> reader;
    for (int64_t i = 0; i < kMaxRequests && !stop_.load(); ++i) {
      if (i % 2 == 0) {
        Count(GetOnce(port_, "/", source_));
        continue;
      }
      if (!kept.has_value()) {
        absl::StatusOr<TestClient> client = ConnectTo(port_, source_);
        if (!client.ok()) {
          Count(client.status());
          continue;
        }
        kept.emplace(*std::move(client));
        reader.emplace(*kept);
      }
      absl::Status sent = kept->SendAll("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
      absl::StatusOr<HttpTestResponse> response =
          sent.ok() ? reader->Next() : absl::StatusOr<HttpTestResponse>(sent);
      Count(response);
      // The server said this connection ends: the next request opens one.
      if (!response.ok() || response->Header("connection") == "close") {
        reader.reset();
        kept.reset();
      }
    }
  }

  const int port_;
  const std::string source_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> succeeded_{0};
  std::atomic<int64_t> failed_{0};
  std::string first_failure_;  // written by the client thread only
  std::thread thread_;
};

class HandoffTest : public ::testing::Test {
 protected:
  void SetUp() override {
    socket_path_ = TempPath("handoff.sock");
    std::filesystem::remove(socket_path_);
  }
  void TearDown() override { std::filesystem::remove(socket_path_); }
  ProgramLaunch Generation(const std::string& access_log,
                           const std::string& port = "--port=0") {
    std::filesystem::remove(access_log);
    return Httpd({port, "--drain_delay=1s", "--access_log=" + access_log,
                  "--handoff_socket=" + socket_path_});
  }
  std::string socket_path_;
};

TEST_F(HandoffTest, NewProcessTakesOverUnderLoadAndNoRequestFails) {
  const std::string old_log = TempPath("old.log");
  const std::string new_log = TempPath("new.log");
  auto old_server = std::make_unique<ProgramProcess>(Generation(old_log));
  ASSERT_GT(old_server->port(), 0) << old_server->start_line();
  const int port = old_server->port();

  ContinuousClient client(port);
  ASSERT_TRUE(Eventually([&] { return client.succeeded() >= 50; }));
  ProgramProcess new_server(Generation(new_log));
  // The new process serves the same listener, not a port of its own.
  ASSERT_EQ(new_server.port(), port) << new_server.start_line();
  EXPECT_EQ(old_server->WaitForExit(kTestDeadline), 0);
  const int64_t at_exit = client.succeeded();
  ASSERT_TRUE(Eventually([&] { return client.succeeded() >= at_exit + 50; }));
  client.Stop();

  EXPECT_EQ(client.failed(), 0) << client.first_failure();
  EXPECT_EQ(new_server.Stop(), 0);
  EXPECT_GT(LinesIn(old_log), 0u);
  EXPECT_GT(LinesIn(new_log), 0u);
  std::filesystem::remove(old_log);
  std::filesystem::remove(new_log);
}

TEST_F(HandoffTest, TheServiceManagerFollowsTheNewProcess) {
  NotifySocket notify;
  ASSERT_TRUE(notify.bound()) << std::strerror(errno);
  const std::string old_log = TempPath("old.log");
  const std::string new_log = TempPath("new.log");
  ProgramLaunch first = Generation(old_log);
  first.env = {{"NOTIFY_SOCKET", notify.name()}};
  ProgramProcess old_server(first);
  ASSERT_GT(old_server.port(), 0) << old_server.start_line();
  EXPECT_EQ(notify.Next(), "READY=1");

  ProgramLaunch second = Generation(new_log);
  second.env = {{"NOTIFY_SOCKET", notify.name()}};
  ProgramProcess new_server(second);
  ASSERT_EQ(new_server.port(), old_server.port()) << new_server.start_line();
  // The new process is named the main one before the old one is told to
  // go, then says it is ready.
  EXPECT_EQ(notify.Next(), absl::StrCat("MAINPID=", new_server.pid()));
  EXPECT_EQ(notify.Next(), "READY=1");
  // The old one drains and exits without "STOPPING=1", which would stop
  // the service the new one continues: anything it sent is queued by now.
  EXPECT_EQ(old_server.WaitForExit(kTestDeadline), 0);
  EXPECT_FALSE(notify.HasPending()) << notify.Next();

  ASSERT_EQ(::kill(new_server.pid(), SIGTERM), 0);
  EXPECT_EQ(notify.Next(), "STOPPING=1");
  EXPECT_EQ(new_server.WaitForExit(kTestDeadline), 0);
  std::filesystem::remove(old_log);
  std::filesystem::remove(new_log);
}

TEST_F(HandoffTest, FailedNewProcessLeavesTheOldOneServingForTheNext) {
  const std::string log = TempPath("a.log");
  ProgramProcess old_server(Generation(log));
  ASSERT_GT(old_server.port(), 0) << old_server.start_line();
  const int port = old_server.port();
  const int other_port = port == 65535 ? 65534 : port + 1;

  // Takes the listener, then fails its own checks (the listener is not on
  // the port it was told) and exits before saying ready.
  ProgramProcess failed(
      Generation(TempPath("b.log"), absl::StrCat("--port=", other_port)));
  EXPECT_EQ(failed.port(), 0) << failed.start_line();
  EXPECT_EQ(failed.WaitForExit(kTestDeadline), 1);

  absl::StatusOr<HttpTestResponse> ready = GetOnce(port, "/readyz");
  ASSERT_TRUE(ready.ok()) << ready.status();
  EXPECT_EQ(ready->status, 200);
  EXPECT_FALSE(old_server.exited());

  // The old one still answers on the hand-off socket.
  ProgramProcess next(Generation(TempPath("c.log")));
  ASSERT_EQ(next.port(), port) << next.start_line();
  EXPECT_EQ(old_server.WaitForExit(kTestDeadline), 0);
  absl::StatusOr<HttpTestResponse> hello = GetOnce(port, "/");
  ASSERT_TRUE(hello.ok()) << hello.status();
  EXPECT_EQ(hello->status, 200);
  EXPECT_EQ(next.Stop(), 0);
  for (const char* name : {"a.log", "b.log", "c.log"}) {
    std::filesystem::remove(TempPath(name));
  }
}

TEST_F(HandoffTest, HandOffUnderWrkLoadHasNoErrors) {
  if (!HaveTool("wrk")) GTEST_SKIP() << "wrk is not installed";
  const std::string old_log = TempPath("wrk-old.log");
  const std::string new_log = TempPath("wrk-new.log");
  auto old_server = std::make_unique<ProgramProcess>(Generation(old_log));
  ASSERT_GT(old_server->port(), 0) << old_server->start_line();
  const int port = old_server->port();

  CommandResult wrk;
  std::thread load([&] {
    wrk = RunCommand(
        absl::StrCat("wrk -t1 -c16 -d8s http://127.0.0.1:", port, "/"));
  });
  ASSERT_TRUE(Eventually([&] { return LinesIn(old_log) >= 100; }));
  ProgramProcess new_server(Generation(new_log));
  EXPECT_EQ(new_server.port(), port) << new_server.start_line();
  EXPECT_EQ(old_server->WaitForExit(kTestDeadline), 0);
  load.join();

  EXPECT_EQ(wrk.exit_code, 0) << wrk.output;
  EXPECT_TRUE(absl::StrContains(wrk.output, "Requests/sec")) << wrk.output;
  EXPECT_FALSE(absl::StrContains(wrk.output, "Socket errors")) << wrk.output;
  EXPECT_FALSE(absl::StrContains(wrk.output, "Non-2xx")) << wrk.output;
  EXPECT_EQ(new_server.Stop(), 0);
  // Both served wrk's requests: the hand-off happened under the load.
  EXPECT_GT(LinesIn(new_log), 0u);
  std::filesystem::remove(old_log);
  std::filesystem::remove(new_log);
}

// The access log's lines for GET /: how many name `client`, and how many
// name anyone else (the balancer, had the PROXY header been lost).
struct RootRequests {
  size_t from_client = 0;
  size_t from_others = 0;
};

RootRequests RootRequestsIn(const std::string& path, absl::string_view client) {
  RootRequests counts;
  std::ifstream file(path);
  for (std::string line; std::getline(file, line);) {
    if (!absl::StrContains(line, "\"GET / HTTP/1.1\"")) continue;
    if (absl::StartsWith(line, absl::StrCat(client, " - - ["))) {
      ++counts.from_client;
    } else {
      ++counts.from_others;
    }
  }
  return counts;
}

// Three eddy-httpd behind HAProxy (checks on /readyz, send-proxy-v2),
// restarted one at a time with hand-offs while a client on its own loopback
// address keeps asking through HAProxy: no request fails, and every
// generation of every instance logs that client, never HAProxy.
TEST(Fleet, RollingRestartBehindHaproxyLosesNoRequestAndLogsTheClient) {
  if (!HaveTool("haproxy")) {
    GTEST_SKIP() << "haproxy is not installed "
                    "(third_party/install_deps.sh --deploy)";
  }
  // Not HAProxy's address (it connects to the instances from 127.0.0.1).
  const std::string kClient = "127.0.0.7";
  const int front = UnusedLoopbackAddress().port();
  std::vector<int> ports;
  for (int i = 0; i < 3; ++i) ports.push_back(UnusedLoopbackAddress().port());
  const std::string config_path = TempPath("haproxy.cfg");
  std::string config = absl::StrCat(
      "defaults\n  mode http\n  timeout connect 2s\n  timeout client 30s\n"
      "  timeout server 30s\n  retries 2\n  option redispatch\n"
      "frontend www\n  bind 127.0.0.1:",
      front,
      "\n  default_backend eddy\n"
      "backend eddy\n  balance roundrobin\n  option httpchk GET /readyz\n"
      "  default-server check inter 100ms fall 3 rise 2 send-proxy-v2\n");
  for (int i = 0; i < 3; ++i) {
    absl::StrAppend(&config, "  server eddy", i, " 127.0.0.1:", ports[i], "\n");
  }
  std::ofstream(config_path) << config;

  const auto handoff_path = [](int i) {
    return TempPath(absl::StrCat("fleet", i));
  };
  const auto log_path = [](int i, int generation) {
    return TempPath(absl::StrCat("fleet", i, "-", generation, ".log"));
  };
  const auto instance = [&](int i, int generation) {
    std::filesystem::remove(log_path(i, generation));
    return Httpd({absl::StrCat("--port=", ports[i]), "--drain_delay=1s",
                  "--handoff_socket=" + handoff_path(i),
                  "--proxy_protocol=required", "--proxy_trusted=127.0.0.1/32",
                  "--access_log=" + log_path(i, generation)});
  };
  std::vector<std::unique_ptr<ProgramProcess>> fleet;
  for (int i = 0; i < 3; ++i) {
    std::filesystem::remove(handoff_path(i));
    fleet.push_back(std::make_unique<ProgramProcess>(instance(i, 0)));
    ASSERT_EQ(fleet.back()->port(), ports[i]) << fleet.back()->start_line();
  }
  ProgramLaunch haproxy_launch;
  haproxy_launch.path = "/usr/sbin/haproxy";
  if (!std::filesystem::exists(haproxy_launch.path)) {
    haproxy_launch.path = "/usr/bin/haproxy";
  }
  haproxy_launch.args = {"-db", "-f", config_path};
  haproxy_launch.has_start_line = false;
  ProgramProcess haproxy(haproxy_launch);
  ASSERT_TRUE(Eventually([&] {
    absl::StatusOr<HttpTestResponse> r = GetOnce(front, "/", kClient);
    return r.ok() && r->status == 200;
  }));

  ContinuousClient client(front, kClient);
  // Each instance is restarted once its running generation has served the
  // client (the log flushes within a second), so that every generation is
  // seen to log it; HAProxy's round robin gets there in a few requests.
  const auto served_client = [&](int i, int generation) {
    return Eventually([&] {
      return RootRequestsIn(log_path(i, generation), kClient).from_client > 0;
    });
  };
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(served_client(i, 0)) << "instance " << i;
    auto next = std::make_unique<ProgramProcess>(instance(i, 1));
    ASSERT_EQ(next->port(), ports[i]) << next->start_line();
    EXPECT_EQ(fleet[i]->WaitForExit(kTestDeadline), 0) << "instance " << i;
    fleet[i] = std::move(next);
  }
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(served_client(i, 1)) << "instance " << i;
  }
  client.Stop();
  EXPECT_EQ(client.failed(), 0) << client.first_failure();
  EXPECT_GT(client.succeeded(), 0);
  for (auto& server : fleet) EXPECT_EQ(server->Stop(), 0);
  haproxy.Stop();

  // Complete now that every process exited (and flushed): the client, and
  // only the client, in both generations of all three.
  for (int i = 0; i < 3; ++i) {
    for (int generation = 0; generation < 2; ++generation) {
      const RootRequests requests =
          RootRequestsIn(log_path(i, generation), kClient);
      EXPECT_GT(requests.from_client, 0u) << log_path(i, generation);
      EXPECT_EQ(requests.from_others, 0u) << log_path(i, generation);
      std::filesystem::remove(log_path(i, generation));
    }
    std::filesystem::remove(handoff_path(i));
  }
  std::filesystem::remove(config_path);
}

}  // namespace
}  // namespace eddy
