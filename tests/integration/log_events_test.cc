// What a Server logs (core/log.h) under descriptor exhaustion: an in-process
// echo server with a capturing sink runs out of descriptors while peers
// wait. The exhaustion is logged, the rate limit cuts the storm of failed
// accepts to a few lines and one "N more suppressed" summary, and the
// recovery is logged once descriptors free up.
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "eddy/core/buffer.h"
#include "eddy/core/log.h"
#include "eddy/net/echo.h"
#include "eddy/net/protocol.h"
#include "eddy/net/server.h"
#include "gtest/gtest.h"
#include "tests/support/descriptor_hog.h"
#include "tests/support/server_testing.h"
#include "tests/support/test_client.h"

namespace eddy {
namespace {

using ::eddy::testing::ConnectOpened;
using ::eddy::testing::DescriptorHog;
using ::eddy::testing::EchoRoundTrip;
using ::eddy::testing::Eventually;
using ::eddy::testing::kTestDeadline;
using ::eddy::testing::LoopbackServerOptions;
using ::eddy::testing::TestClient;

// Keeps the JSON line of every event, as the default sink would write it.
class JsonLineCapture {
 public:
  JsonLineCapture() {
    SetLogSink([this](const LogEvent& event) {
      std::string line = FormatLogEventJson(event);
      std::lock_guard lock(mutex_);
      lines_.push_back(std::move(line));
    });
  }
  ~JsonLineCapture() {
    SetLogSink(nullptr);
    SetLogRateLimit(LogRateLimit{});
  }
  std::vector<std::string> lines() {
    std::lock_guard lock(mutex_);
    return lines_;
  }
  std::vector<std::string> LinesOfKind(absl::string_view kind) {
    std::vector<std::string> result;
    for (std::string& line : lines()) {
      if (absl::StrContains(line, absl::StrCat("\"kind\":\"", kind, "\""))) {
        result.push_back(std::move(line));
      }
    }
    return result;
  }

 private:
  std::mutex mutex_;
  std::vector<std::string> lines_;
};

TEST(LogEvents, ExhaustionIsLoggedSuppressedAndItsRecoveryLogged) {
  constexpr uint64_t kBurst = 2;
  constexpr uint64_t kExhaustions = 6;
  JsonLineCapture capture;
  // A window longer than the test: what is suppressed is reported only when
  // Stop flushes, so that the count is exact.
  SetLogRateLimit(LogRateLimit{kBurst, absl::Hours(1)});
  Server server(LoopbackServerOptions(1), MakeEchoFactory());
  ASSERT_TRUE(server.Start().ok());

  std::vector<int> peers;
  for (int i = 0; i < 8; ++i)
    peers.push_back(::socket(AF_INET, SOCK_STREAM, 0));
  bool exhausted = false;
  size_t hogged = 0;
  {
    // Room for what is open now and little more: the hog takes the rest.
    DescriptorHog hog(256);
    hogged = hog.held();
    for (int fd : peers) ConnectOpened(fd, server.port());
    exhausted = Eventually([&server] {
      return server.acceptor_stats().fd_exhausted >= kExhaustions;
    });
  }
  for (int fd : peers) ::close(fd);
  ASSERT_GT(hogged, 0u);
  ASSERT_TRUE(exhausted) << "the acceptor never ran out of descriptors";
  EXPECT_TRUE(Eventually([&capture] {
    return !capture.LinesOfKind("accept.fd_recovered").empty();
  })) << "the recovery was not logged";

  auto client = TestClient::Connect(server.port());
  ASSERT_TRUE(client.ok()) << client.status();
  auto echoed = EchoRoundTrip(*client, "served again", kTestDeadline);
  ASSERT_TRUE(echoed.ok()) << echoed.status();
  server.Stop();
  const uint64_t exhaustions = server.acceptor_stats().fd_exhausted;

  std::vector<std::string> written;
  std::vector<std::string> summaries;
  for (std::string& line : capture.LinesOfKind("accept.fd_exhausted")) {
    if (absl::StrContains(line, "\"suppressed\":")) {
      summaries.push_back(std::move(line));
    } else {
      EXPECT_TRUE(absl::StrContains(line, "\"errno\":24")) << line;
      written.push_back(std::move(line));
    }
  }
  EXPECT_EQ(written.size(), kBurst);
  ASSERT_EQ(summaries.size(), 1u);
  const uint64_t suppressed = exhaustions - kBurst;
  EXPECT_TRUE(absl::StrContains(
      summaries[0], absl::StrCat("\"suppressed\":", suppressed, "}")))
      << summaries[0] << " after " << exhaustions << " exhaustions";
  EXPECT_TRUE(absl::StrContains(
      summaries[0], absl::StrCat("\"message\":\"", suppressed,
                                 " more accept.fd_exhausted suppressed\"")))
      << summaries[0];
  const std::vector<std::string> recovered =
      capture.LinesOfKind("accept.fd_recovered");
  ASSERT_EQ(recovered.size(), 1u);
  EXPECT_TRUE(absl::StrContains(recovered[0], "\"severity\":\"info\""));
}

TEST(LogEvents, StartAndStopAreLoggedWithTheOptionsThatDiffer) {
  JsonLineCapture capture;
  ServerOptions options = LoopbackServerOptions(2);
  options.max_connections = 10;
  options.connection.idle_timeout = absl::Seconds(30);
  Server server(options, MakeEchoFactory());
  ASSERT_TRUE(server.Start().ok());
  const std::string address = absl::StrCat("127.0.0.1:", server.port());
  server.Stop();
  server.Stop();

  const std::vector<std::string> lines = capture.lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_TRUE(absl::StrContains(lines[0], "\"kind\":\"server.start\""));
  EXPECT_TRUE(absl::StrContains(
      lines[0], absl::StrCat("\"message\":\"listening on ", address,
                             " with 2 workers; options: max_connections=10 "
                             "idle_timeout=30s\"")))
      << lines[0];
  EXPECT_TRUE(absl::StrContains(lines[1], "\"kind\":\"server.stop\""));
  EXPECT_TRUE(absl::StrContains(lines[1], address)) << lines[1];
}

TEST(LogEvents, RefusalsAtTheCapAreLoggedAndRateLimited) {
  JsonLineCapture capture;
  SetLogRateLimit(LogRateLimit{1, absl::Hours(1)});
  ServerOptions options = LoopbackServerOptions(1);
  options.max_connections = 1;
  Server server(options, MakeEchoFactory());
  ASSERT_TRUE(server.Start().ok());
  auto holder = TestClient::Connect(server.port());
  ASSERT_TRUE(holder.ok()) << holder.status();
  ASSERT_TRUE(EchoRoundTrip(*holder, "held", kTestDeadline).ok());
  constexpr uint64_t kRefused = 5;
  for (uint64_t i = 0; i < kRefused; ++i) {
    auto refused = TestClient::Connect(server.port());
    ASSERT_TRUE(refused.ok()) << refused.status();
  }
  EXPECT_TRUE(Eventually([&server] {
    return server.acceptor_stats().rejected_at_cap >= kRefused;
  }));
  server.Stop();
  const uint64_t refusals = server.acceptor_stats().rejected_at_cap;
  const std::vector<std::string> lines =
      capture.LinesOfKind("connection.refused_at_cap");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_TRUE(absl::StrContains(lines[0], "max_connections (1) reached"))
      << lines[0];
  EXPECT_TRUE(absl::StrContains(
      lines[1], absl::StrCat("\"suppressed\":", refusals - 1, "}")))
      << lines[1];
}

// Holds its connection open through a graceful stop.
class StubbornHandler final : public Handler {
 public:
  void OnData(Connection& conn, Buffer& input) override {
    conn.Send(input.view());
    input.ConsumeAll();
  }
  void OnServerStopping(Connection& /*conn*/) override {}
};

TEST(LogEvents, ShutdownDeadlineIsLoggedWithTheConnectionsAborted) {
  JsonLineCapture capture;
  ServerOptions options = LoopbackServerOptions(1);
  options.shutdown_timeout = absl::Milliseconds(50);
  Server server(options, MakeProtocolFactory([](Connection&) {
                  return std::make_unique<StubbornHandler>();
                }));
  ASSERT_TRUE(server.Start().ok());
  auto client = TestClient::Connect(server.port());
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE(EchoRoundTrip(*client, "open", kTestDeadline).ok());
  server.Stop();
  const std::vector<std::string> lines =
      capture.LinesOfKind("shutdown.deadline");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_TRUE(absl::StrContains(lines[0], "\"severity\":\"warning\""));
  EXPECT_TRUE(absl::StrContains(
      lines[0], "shutdown_timeout (50ms) passed with 1 connections open"))
      << lines[0];
}

}  // namespace
}  // namespace eddy
