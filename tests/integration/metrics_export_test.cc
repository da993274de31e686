// The series a Server and an HttpProtocol export into a MetricsRegistry,
// moved by a scripted load over real loopback connections.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "eddy/core/metrics.h"
#include "eddy/core/prometheus_text.h"
#include "eddy/http/http_protocol.h"
#include "eddy/http/metrics_route.h"
#include "eddy/http/router.h"
#include "eddy/net/echo.h"
#include "eddy/net/server.h"
#include "gtest/gtest.h"
#include "tests/support/http_test_client.h"
#include "tests/support/server_testing.h"
#include "tests/support/test_client.h"

namespace eddy {
namespace {

using ::eddy::testing::Eventually;
using ::eddy::testing::HttpTestReader;
using ::eddy::testing::HttpTestResponse;
using ::eddy::testing::LoopbackServerOptions;
using ::eddy::testing::TestClient;

// The value of the series `name` with exactly `labels`; -1 if absent.
double Value(const MetricsRegistry& registry, const std::string& name,
             const MetricLabels& labels = {}) {
  for (const MetricFamilySnapshot& family : registry.Snapshot()) {
    if (family.name != name) continue;
    for (const MetricSample& sample : family.samples) {
      if (sample.labels != labels) continue;
      return family.type == MetricType::kHistogram
                 ? static_cast<double>(sample.cumulative_counts.back())
                 : sample.value;
    }
  }
  return -1;
}

TEST(ServerMetrics, ConnectionsBytesAndClosesByReasonMove) {
  MetricsRegistry registry(2);
  ServerOptions options = LoopbackServerOptions(2);
  options.metrics = &registry;
  Server server(options, MakeEchoFactory());
  ASSERT_TRUE(server.Start().ok());

  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<TestClient> client = TestClient::Connect(server.port());
    ASSERT_TRUE(client.ok()) << client.status();
    ASSERT_TRUE(client->SendAll("hello").ok());
    ASSERT_TRUE(client->ReceiveExactly(5).ok());
    client->ShutdownWrite();
    EXPECT_TRUE(client->WaitForClose());
  }
  EXPECT_TRUE(Eventually([&] {
    return Value(registry, "eddy_connections_closed_total",
                 {{"reason", "peer_closed"}}) == 3;
  }));
  EXPECT_EQ(Value(registry, "eddy_connections_accepted_total"), 3);
  EXPECT_EQ(Value(registry, "eddy_connections_active"), 0);
  EXPECT_EQ(Value(registry, "eddy_received_bytes_total"), 15);
  EXPECT_EQ(Value(registry, "eddy_sent_bytes_total"), 15);
  EXPECT_GE(Value(registry, "eddy_write_syscalls_total"), 3);
  EXPECT_EQ(
      Value(registry, "eddy_connections_closed_total", {{"reason", "reset"}}),
      0);
  EXPECT_EQ(Value(registry, "eddy_listener_accept_queue_length"), 0);
  EXPECT_EQ(Value(registry, "eddy_worker_inbox_depth", {{"worker", "1"}}), 0);
  // Each worker's probe runs every 250 ms; a generous deadline for a busy
  // machine.
  EXPECT_TRUE(Eventually([&] {
    return Value(registry, "eddy_loop_lag_seconds", {{"worker", "0"}}) > 0 &&
           Value(registry, "eddy_loop_iterations_total", {{"worker", "1"}}) > 0;
  }));
  EXPECT_GE(Value(registry, "eddy_loop_timers", {{"worker", "0"}}), 1);

  server.Stop();
  // Stopped: the server's callbacks are gone from the registry.
  EXPECT_EQ(Value(registry, "eddy_connections_accepted_total"), -1);
}

TEST(ServerMetrics, ReadBudgetExhaustionsAndRefusalsAtTheCapAreCounted) {
  MetricsRegistry registry(1);
  ServerOptions options = LoopbackServerOptions(1);
  options.metrics = &registry;
  options.max_connections = 1;
  options.connection.read_budget = 64;
  Server server(options, MakeEchoFactory());
  ASSERT_TRUE(server.Start().ok());

  absl::StatusOr<TestClient> first = TestClient::Connect(server.port());
  ASSERT_TRUE(first.ok()) << first.status();
  // More than one read budget in one go: the worker stops reading at 64
  // bytes at least once and comes back for the rest.
  const std::string message(64 * 1024, 'x');
  ASSERT_TRUE(first->SendAll(message).ok());
  ASSERT_TRUE(first->ReceiveExactly(message.size()).ok());
  EXPECT_GE(Value(registry, "eddy_read_budget_exhausted_total"), 1);

  // The cap is one connection: a second is closed at once, and counted.
  absl::StatusOr<TestClient> second = TestClient::Connect(server.port());
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_TRUE(second->WaitForClose());
  EXPECT_TRUE(Eventually(
      [&] { return Value(registry, "eddy_connections_refused_total") == 1; }));
  EXPECT_EQ(Value(registry, "eddy_connections_accepted_total"), 1);
}

TEST(ServerMetrics, RegistryWithTooFewWritersIsRefused) {
  MetricsRegistry registry(1);
  ServerOptions options = LoopbackServerOptions(2);
  options.metrics = &registry;
  Server server(options, MakeEchoFactory());
  const absl::Status status = server.Start();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
}

class HttpMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto router = std::make_shared<http::Router>();
    router->Handle("GET", "/hello",
                   [](const http::Request&, http::Response& response) {
                     response.set_body("hi");
                   });
    router->HandlePrefix("GET", "/items/",
                         [](const http::Request&, http::Response& response) {
                           response.set_status(500);
                         });
    http::AddMetricsRoute(*router, registry_);
    http::HttpOptions http_options;
    http_options.metrics = &registry_;
    ServerOptions options = LoopbackServerOptions(2);
    options.metrics = &registry_;
    server_ = std::make_unique<Server>(
        options,
        std::make_unique<http::HttpProtocol>(router, std::move(http_options)));
    ASSERT_TRUE(server_->Start().ok());
  }

  // Sends `requests` on one connection and reads as many responses.
  std::vector<int> Exchange(const std::string& requests, int count) {
    std::vector<int> statuses;
    absl::StatusOr<TestClient> client = TestClient::Connect(server_->port());
    if (!client.ok() || !client->SendAll(requests).ok()) return statuses;
    HttpTestReader reader(*client);
    for (int i = 0; i < count; ++i) {
      absl::StatusOr<HttpTestResponse> response = reader.Next();
      if (!response.ok()) break;
      statuses.push_back(response->status);
    }
    return statuses;
  }

  MetricsRegistry registry_{2};
  std::unique_ptr<Server> server_;
};

TEST_F(HttpMetricsTest, RequestsAreCountedByMethodRoutePatternAndStatus) {
  const std::string get_hello = "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n";
  const std::string head_hello = "HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\n";
  const std::string get_item = "GET /items/42 HTTP/1.1\r\nHost: x\r\n\r\n";
  const std::string get_nothing = "GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n";
  EXPECT_EQ(Exchange(absl::StrCat(get_hello, get_hello, head_hello, get_item,
                                  get_item, get_nothing),
                     6),
            (std::vector<int>{200, 200, 200, 500, 500, 404}));

  EXPECT_EQ(Value(registry_, "eddy_http_requests_total",
                  {{"method", "GET"}, {"route", "/hello"}, {"status", "2xx"}}),
            2);
  EXPECT_EQ(Value(registry_, "eddy_http_requests_total",
                  {{"method", "HEAD"}, {"route", "/hello"}, {"status", "2xx"}}),
            1);
  // The route pattern, not the path: /items/42 is /items/*.
  EXPECT_EQ(
      Value(registry_, "eddy_http_requests_total",
            {{"method", "GET"}, {"route", "/items/*"}, {"status", "5xx"}}),
      2);
  EXPECT_EQ(
      Value(registry_, "eddy_http_requests_total",
            {{"method", "GET"}, {"route", "unmatched"}, {"status", "4xx"}}),
      1);
  EXPECT_EQ(Value(registry_, "eddy_http_request_duration_seconds",
                  {{"route", "/hello"}}),
            3);
  EXPECT_EQ(
      Value(registry_, "eddy_http_error_responses_total", {{"status", "404"}}),
      1);
  EXPECT_EQ(
      Value(registry_, "eddy_http_error_responses_total", {{"status", "500"}}),
      2);
}

TEST_F(HttpMetricsTest, MalformedAndOversizedRequestsAreCountedByCause) {
  EXPECT_EQ(Exchange("BAD\r\n\r\n", 1), (std::vector<int>{400}));
  EXPECT_EQ(Exchange("GET /hello HTTP/2.5\r\nHost: x\r\n\r\n", 1),
            (std::vector<int>{505}));
  EXPECT_EQ(Exchange(absl::StrCat("GET /", std::string(70000, 'a'),
                                  " HTTP/1.1\r\nHost: x\r\n\r\n"),
                     1),
            (std::vector<int>{414}));
  EXPECT_EQ(
      Value(registry_, "eddy_http_error_responses_total", {{"status", "400"}}),
      1);
  EXPECT_EQ(
      Value(registry_, "eddy_http_error_responses_total", {{"status", "505"}}),
      1);
  EXPECT_EQ(
      Value(registry_, "eddy_http_error_responses_total", {{"status", "414"}}),
      1);
  EXPECT_EQ(
      Value(registry_, "eddy_http_requests_total",
            {{"method", "unknown"}, {"route", "unparsed"}, {"status", "4xx"}}),
      2);
}

TEST_F(HttpMetricsTest, MetricsRouteServesTheExposition) {
  absl::StatusOr<TestClient> client = TestClient::Connect(server_->port());
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE(client->SendAll("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").ok());
  HttpTestReader reader(*client);
  absl::StatusOr<HttpTestResponse> response = reader.Next();
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->Header("content-type"), kPrometheusTextContentType);
  EXPECT_TRUE(absl::StrContains(
      response->body, "# TYPE eddy_http_request_duration_seconds histogram\n"));
  EXPECT_TRUE(
      absl::StrContains(response->body, "eddy_connections_accepted_total 1\n"));
}

}  // namespace
}  // namespace eddy
