// eddy-load end to end (bench/load): RunLoad, the machinery behind the
// program, against in-process eddy servers on loopback, and the program
// itself where only it decides (the up-front probe). The runs are short and
// the deadlines generous; nothing here asserts on timing.
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "bench/load/load_run.h"
#include "eddy/http/http_protocol.h"
#include "eddy/http/router.h"
#include "eddy/net/connection.h"
#include "eddy/net/echo.h"
#include "eddy/net/internal/socket.h"
#include "eddy/net/server.h"
#include "gtest/gtest.h"
#include "tests/support/run_command.h"
#include "tests/support/server_testing.h"

namespace eddy::load {
namespace {

using ::eddy::testing::LoopbackServerOptions;
using ::eddy::testing::UnusedLoopbackAddress;

constexpr int64_t kRequests = 2000;

// An HTTP server answering GET / with 200; it closes each connection after
// `max_requests_per_connection` requests (0: never).
std::unique_ptr<Server> StartHttpServer(
    uint64_t max_requests_per_connection = 0) {
  auto router = std::make_shared<http::Router>();
  router->Handle("GET", "/",
                 [](const http::Request&, http::Response& response) {
                   response.set_body("Hello, world!");
                 });
  http::HttpOptions http;
  http.max_requests_per_connection = max_requests_per_connection;
  auto server = std::make_unique<Server>(
      LoopbackServerOptions(2),
      std::make_unique<http::HttpProtocol>(router, http));
  EXPECT_TRUE(server->Start().ok());
  return server;
}

// Options for a run against `server` that ends after kRequests responses;
// the duration only bounds a run that goes wrong.
LoadOptions RequestsAgainst(const Server& server, LoadMode mode) {
  LoadOptions options;
  options.mode = mode;
  options.address = server.local_address();
  options.threads = 2;
  options.connections = 8;
  options.requests = kRequests;
  options.duration = absl::Seconds(60);
  options.progress = false;
  return options;
}

void ExpectExactlyTheRequestedResponses(const LoadOptions& options) {
  absl::StatusOr<RunSummary> summary = RunLoad(options);
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->stats.responses, static_cast<uint64_t>(kRequests));
  EXPECT_EQ(summary->stats.error_total(), 0u);
  EXPECT_EQ(summary->stats.latency.count(), static_cast<uint64_t>(kRequests));
  EXPECT_GE(summary->stats.connections_opened, options.connections);
}

TEST(LoadGenerator, HttpKeepAliveGetsExactlyTheRequestedResponses) {
  std::unique_ptr<Server> server = StartHttpServer();
  ExpectExactlyTheRequestedResponses(RequestsAgainst(*server, LoadMode::kHttp));
}

TEST(LoadGenerator, Http10OpensAConnectionPerRequest) {
  std::unique_ptr<Server> server = StartHttpServer();
  const LoadOptions options = RequestsAgainst(*server, LoadMode::kHttp10);
  ExpectExactlyTheRequestedResponses(options);
  // One per request; a slot that connected as the budget ran out closes
  // its socket unused.
  EXPECT_GE(server->total_stats().accepted, static_cast<uint64_t>(kRequests));
  EXPECT_LE(server->total_stats().accepted,
            static_cast<uint64_t>(kRequests) + options.connections);
}

TEST(LoadGenerator, PipelineGetsExactlyTheRequestedResponses) {
  std::unique_ptr<Server> server = StartHttpServer();
  LoadOptions options = RequestsAgainst(*server, LoadMode::kPipeline);
  options.depth = 4;
  ExpectExactlyTheRequestedResponses(options);
}

TEST(LoadGenerator, PipelineSendsAgainWhatAClosingServerLeftUnanswered) {
  // After 5 responses the server says "close" and reads no more: the
  // requests pipelined behind them go back to the budget, not to errors.
  std::unique_ptr<Server> server = StartHttpServer(5);
  LoadOptions options = RequestsAgainst(*server, LoadMode::kPipeline);
  options.depth = 4;
  ExpectExactlyTheRequestedResponses(options);
}

TEST(LoadGenerator, EchoVerifiesEveryMessage) {
  Server server(LoopbackServerOptions(2), MakeEchoFactory());
  ASSERT_TRUE(server.Start().ok());
  LoadOptions options = RequestsAgainst(server, LoadMode::kEcho);
  options.message_size = 1000;
  ExpectExactlyTheRequestedResponses(options);
}

// Echoes with the first byte of every read flipped.
class CorruptingEcho final : public Handler {
 public:
  void OnData(Connection& conn, Buffer& input) override {
    std::string bytes(input.view());
    input.ConsumeAll();
    bytes[0] = static_cast<char>(bytes[0] ^ 0x20);
    conn.Send(bytes);
  }
};

TEST(LoadGenerator, EchoCountsACorruptingServerAsMismatches) {
  Server server(LoopbackServerOptions(1), MakeProtocolFactory([](Connection&) {
                  return std::make_unique<CorruptingEcho>();
                }));
  ASSERT_TRUE(server.Start().ok());
  LoadOptions options = RequestsAgainst(server, LoadMode::kEcho);
  options.requests = 0;
  options.duration = absl::Milliseconds(500);
  absl::StatusOr<RunSummary> summary = RunLoad(options);
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_GT(summary->stats.errors_of(ErrorKind::kMismatch), 0u);
  EXPECT_EQ(summary->stats.responses, 0u);
  EXPECT_EQ(summary->stats.error_total(),
            summary->stats.errors_of(ErrorKind::kMismatch));
}

TEST(LoadGenerator, APortNobodyListensOnGivesConnectErrorsAndTheRunEnds) {
  LoadOptions options;
  options.address = UnusedLoopbackAddress();
  options.connections = 4;
  options.requests = kRequests;
  options.duration = absl::Milliseconds(500);
  options.progress = false;
  absl::StatusOr<RunSummary> summary = RunLoad(options);
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_GT(summary->stats.errors_of(ErrorKind::kConnect), 0u);
  EXPECT_EQ(summary->stats.error_total(),
            summary->stats.errors_of(ErrorKind::kConnect));
  EXPECT_EQ(summary->stats.connections_opened, 0u);
  EXPECT_EQ(summary->stats.responses, 0u);
}

TEST(LoadGenerator, ProgramRefusesToStartWhenNothingListens) {
  const testing::CommandResult result = testing::RunCommand(
      absl::StrCat(EDDY_LOAD_PATH, " --port ", UnusedLoopbackAddress().port(),
                   " --duration 1s"),
      absl::Seconds(60));
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_TRUE(absl::StrContains(result.output, "cannot connect"))
      << result.output;
}

}  // namespace
}  // namespace eddy::load
