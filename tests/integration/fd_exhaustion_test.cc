// Descriptor exhaustion: eddy-echo runs as a child process with a small
// RLIMIT_NOFILE; more clients connect than it has descriptors for. The
// connections it already has keep being served, the acceptor does not spin,
// and once descriptors free up new connections are served again.
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/support/program_process.h"
#include "tests/support/test_client.h"

namespace {

using ::eddy::testing::EchoRoundTrip;
using ::eddy::testing::TestClient;

constexpr absl::Duration kDeadline = absl::Seconds(60);

// user+sys CPU seconds of a process, from /proc/PID/stat.
double CpuSeconds(pid_t pid) {
  FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/stat").c_str(), "r");
  if (f == nullptr) return -1;
  char buffer[2048];
  const size_t n = std::fread(buffer, 1, sizeof(buffer) - 1, f);
  std::fclose(f);
  buffer[n] = '\0';
  // Fields after the parenthesised command name; utime and stime are the
  // 14th and 15th fields overall.
  const char* p = std::strrchr(buffer, ')');
  unsigned long utime = 0, stime = 0;
  if (p == nullptr ||
      std::sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
                  &utime, &stime) != 2) {
    return -1;
  }
  return static_cast<double>(utime + stime) / sysconf(_SC_CLK_TCK);
}

// eddy-echo with one worker and at most `max_open_files` descriptors.
eddy::testing::ProgramLaunch LimitedEcho(rlim_t max_open_files) {
  eddy::testing::ProgramLaunch launch =
      eddy::testing::LoopbackProgram(EDDY_ECHO_PATH, 1);
  launch.max_open_files = max_open_files;
  return launch;
}

TEST(FdExhaustion, ServesExistingConnectionsDoesNotSpinAndRecovers) {
  // 32 descriptors: the server's own (listen, epoll, eventfds, reserve,
  // stdio) take about a dozen, leaving room for ~20 connections.
  eddy::testing::ProgramProcess server(LimitedEcho(32));
  ASSERT_GT(server.port(), 0) << "eddy-echo did not start";
  std::vector<TestClient> clients;
  for (int i = 0; i < 60; ++i) {
    auto client = TestClient::Connect(static_cast<uint16_t>(server.port()));
    ASSERT_TRUE(client.ok()) << client.status();  // the kernel backlog accepts
    clients.push_back(*std::move(client));
  }
  // The first connection was accepted before the limit: still served.
  auto echoed = EchoRoundTrip(clients[0], "still served", kDeadline);
  ASSERT_TRUE(echoed.ok()) << echoed.status();
  EXPECT_EQ(*echoed, "still served");

  // With peers waiting and no descriptors, the acceptor backs off instead
  // of spinning: over two seconds it uses a small fraction of a core.
  const double before = CpuSeconds(server.pid());
  absl::SleepFor(absl::Seconds(2));
  const double used = CpuSeconds(server.pid()) - before;
  EXPECT_GE(before, 0);
  EXPECT_LT(used, 0.5) << "the server burned " << used << " s of CPU in 2 s";

  // Free the descriptors: close every client, then a new one is served.
  clients.clear();
  const absl::Time deadline = absl::Now() + kDeadline;
  bool served = false;
  while (!served && absl::Now() < deadline) {
    auto client = TestClient::Connect(static_cast<uint16_t>(server.port()));
    if (client.ok()) {
      auto again = EchoRoundTrip(*client, "recovered", absl::Seconds(2));
      served = again.ok() && *again == "recovered";
    }
    if (!served) absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_TRUE(served) << "no connection served after descriptors freed up";
}

}  // namespace
