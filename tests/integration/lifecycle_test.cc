// The server lifecycle over real sockets on 127.0.0.1: states, Drain and
// its hook, the drain delay, max connection age, and what HTTP does with
// them (Connection: close, idle keep-alive closed after a grace, /readyz).
#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "eddy/http/health_routes.h"
#include "eddy/http/http_protocol.h"
#include "eddy/http/router.h"
#include "eddy/net/connection.h"
#include "eddy/net/echo.h"
#include "eddy/net/protocol.h"
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
using ::eddy::testing::kTestDeadline;
using ::eddy::testing::LoopbackServerOptions;
using ::eddy::testing::TestClient;

// Echoes, and says "bye\n" when asked to drain.
class GoAwayEcho final : public Handler {
 public:
  explicit GoAwayEcho(std::atomic<int>& drains) : drains_(drains) {}
  void OnData(Connection& conn, Buffer& input) override {
    conn.Send(input.view());
    input.ConsumeAll();
  }
  void OnDrain(Connection& conn) override {
    drains_.fetch_add(1);
    conn.Send("bye\n");
  }

 private:
  std::atomic<int>& drains_;
};

std::unique_ptr<ProtocolFactory> GoAwayEchoFactory(std::atomic<int>& drains) {
  return MakeProtocolFactory(
      [&drains](Connection&) { return std::make_unique<GoAwayEcho>(drains); });
}

TEST(Lifecycle, StateMovesFromStartingToReadyToDrainingToStopping) {
  Server server(LoopbackServerOptions(1), MakeEchoFactory());
  EXPECT_EQ(server.state(), ServerState::kStarting);
  ASSERT_TRUE(server.Start().ok());
  EXPECT_EQ(server.state(), ServerState::kReady);
  server.Drain();
  EXPECT_EQ(server.state(), ServerState::kDraining);
  server.Drain();  // idempotent
  EXPECT_EQ(server.state(), ServerState::kDraining);
  server.Stop();
  EXPECT_EQ(server.state(), ServerState::kStopping);
  EXPECT_EQ(ServerStateName(ServerState::kDraining), "draining");
}

TEST(Lifecycle, StopWithoutDrainGoesFromReadyToStopping) {
  Server server(LoopbackServerOptions(1), MakeEchoFactory());
  ASSERT_TRUE(server.Start().ok());
  server.Stop();
  EXPECT_EQ(server.state(), ServerState::kStopping);
}

TEST(Lifecycle, DrainCallsOnDrainOnOpenAndLaterConnectionsAndKeepsServing) {
  std::atomic<int> drains{0};
  Server server(LoopbackServerOptions(2), GoAwayEchoFactory(drains));
  ASSERT_TRUE(server.Start().ok());
  absl::StatusOr<TestClient> before = TestClient::Connect(server.port());
  ASSERT_TRUE(before.ok()) << before.status();
  ASSERT_TRUE(before->SendAll("ping\n").ok());
  ASSERT_TRUE(before->ReceiveUntil("ping\n").ok());

  server.Drain();
  absl::StatusOr<std::string> bye = before->ReceiveUntil("bye\n");
  ASSERT_TRUE(bye.ok()) << bye.status();
  // Still served while draining, and still accepting.
  ASSERT_TRUE(before->SendAll("again\n").ok());
  EXPECT_TRUE(before->ReceiveUntil("again\n").ok());
  absl::StatusOr<TestClient> after = TestClient::Connect(server.port());
  ASSERT_TRUE(after.ok()) << after.status();
  // OnDrain comes right after OnOpen, before any echo.
  absl::StatusOr<std::string> first = after->ReceiveUntil("bye\n");
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(*first, "bye\n");
  ASSERT_TRUE(after->SendAll("late\n").ok());
  EXPECT_TRUE(after->ReceiveUntil("late\n").ok());
  EXPECT_EQ(drains.load(), 2);
  server.Stop();
}

TEST(Lifecycle, WaitForDrainEndWaitsTheDelayOrASecondDrain) {
  ServerOptions options = LoopbackServerOptions(1);
  options.drain_delay = absl::InfiniteDuration();
  Server server(options, MakeEchoFactory());
  ASSERT_TRUE(server.Start().ok());
  std::atomic<bool> ended{false};
  std::thread owner([&] {
    server.WaitForDrainEnd();
    ended.store(true);
  });
  server.Drain();
  // An infinite delay ends only with the second request.
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_FALSE(ended.load());
  server.Drain();
  EXPECT_TRUE(Eventually([&] { return ended.load(); }));
  owner.join();
  server.Stop();

  options.drain_delay = absl::Milliseconds(20);
  Server quick(options, MakeEchoFactory());
  ASSERT_TRUE(quick.Start().ok());
  quick.Drain();
  quick.WaitForDrainEnd();  // returns after the delay, by itself
  quick.Stop();
}

TEST(Lifecycle, MaxAgeClosesAConnectionGracefullyByDefault) {
  ServerOptions options = LoopbackServerOptions(1);
  options.connection.max_age = absl::Milliseconds(100);
  Server server(options, MakeEchoFactory());
  ASSERT_TRUE(server.Start().ok());
  absl::StatusOr<TestClient> client = TestClient::Connect(server.port());
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE(client->SendAll("hello").ok());
  EXPECT_TRUE(client->ReceiveExactly(5).ok());
  EXPECT_TRUE(client->WaitForClose(kTestDeadline));
  server.Stop();
}

TEST(Lifecycle, LiveWhileTheLoopsTurn) {
  Server server(LoopbackServerOptions(2), MakeEchoFactory());
  ASSERT_TRUE(server.Start().ok());
  EXPECT_TRUE(server.Live(absl::Seconds(30)));
  // A worker blocked by its handler stops turning.
  std::atomic<bool> release{false};
  server.worker_loop(0).Post([&release] {
    while (!release.load()) absl::SleepFor(absl::Milliseconds(1));
  });
  EXPECT_TRUE(Eventually([&] { return !server.Live(absl::Seconds(1)); }));
  release.store(true);
  EXPECT_TRUE(Eventually([&] { return server.Live(absl::Seconds(1)); }));
  server.Stop();
}

// An HTTP server with the health routes and "/".
class HttpLifecycleTest : public ::testing::Test {
 protected:
  void StartServer(ServerOptions options, http::HttpOptions http_options) {
    auto router = std::make_shared<http::Router>();
    router->Handle("GET", "/",
                   [](const http::Request&, http::Response& response) {
                     response.set_body("hello");
                   });
    http::AddHealthRoutes(*router, health_);
    server_ = std::make_unique<Server>(
        options, std::make_unique<http::HttpProtocol>(router, http_options));
    health_.Attach(*server_);
    ASSERT_TRUE(server_->Start().ok());
  }
  void TearDown() override {
    if (server_ != nullptr) server_->Stop();
  }
  // A request on `client`, and its response.
  absl::StatusOr<HttpTestResponse> Get(TestClient& client,
                                       HttpTestReader& reader,
                                       const std::string& path) {
    if (absl::Status s = client.SendAll(
            absl::StrCat("GET ", path, " HTTP/1.1\r\nHost: test\r\n\r\n"));
        !s.ok()) {
      return s;
    }
    return reader.Next();
  }

  http::ServerHealth health_;
  std::unique_ptr<Server> server_;
};

TEST_F(HttpLifecycleTest, ReadyzFailsOnceDrainingWhileRequestsAreServed) {
  StartServer(LoopbackServerOptions(2), http::HttpOptions());
  absl::StatusOr<TestClient> client = TestClient::Connect(server_->port());
  ASSERT_TRUE(client.ok()) << client.status();
  HttpTestReader reader(*client);
  absl::StatusOr<HttpTestResponse> ready = Get(*client, reader, "/readyz");
  ASSERT_TRUE(ready.ok()) << ready.status();
  EXPECT_EQ(ready->status, 200);
  EXPECT_EQ(ready->body, "ready\n");
  absl::StatusOr<HttpTestResponse> live = Get(*client, reader, "/livez");
  ASSERT_TRUE(live.ok()) << live.status();
  EXPECT_EQ(live->status, 200);
  absl::StatusOr<HttpTestResponse> healthz = Get(*client, reader, "/healthz");
  ASSERT_TRUE(healthz.ok()) << healthz.status();
  EXPECT_EQ(healthz->status, 200);
  EXPECT_EQ(healthz->Header("connection"), "");

  server_->Drain();
  absl::StatusOr<TestClient> fresh = TestClient::Connect(server_->port());
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  HttpTestReader fresh_reader(*fresh);
  absl::StatusOr<HttpTestResponse> draining =
      Get(*fresh, fresh_reader, "/readyz");
  ASSERT_TRUE(draining.ok()) << draining.status();
  EXPECT_EQ(draining->status, 503);
  EXPECT_EQ(draining->body, "draining\n");
  EXPECT_EQ(draining->Header("connection"), "close");
  EXPECT_TRUE(fresh_reader.AtEof());

  // The keep-alive connection from before: served, with "close".
  absl::StatusOr<HttpTestResponse> hello = Get(*client, reader, "/");
  ASSERT_TRUE(hello.ok()) << hello.status();
  EXPECT_EQ(hello->status, 200);
  EXPECT_EQ(hello->body, "hello");
  EXPECT_EQ(hello->Header("connection"), "close");
  EXPECT_TRUE(reader.AtEof());
}

TEST_F(HttpLifecycleTest, DrainClosesIdleKeepAliveAfterTheGraceButNotARequest) {
  http::HttpOptions http_options;
  http_options.drain_idle_grace = absl::Milliseconds(200);
  StartServer(LoopbackServerOptions(1), http_options);
  absl::StatusOr<TestClient> idle = TestClient::Connect(server_->port());
  ASSERT_TRUE(idle.ok()) << idle.status();
  HttpTestReader idle_reader(*idle);
  ASSERT_TRUE(Get(*idle, idle_reader, "/").ok());
  // A connection in the middle of sending its request when the drain
  // begins, and still in it after the grace.
  absl::StatusOr<TestClient> busy = TestClient::Connect(server_->port());
  ASSERT_TRUE(busy.ok()) << busy.status();
  ASSERT_TRUE(busy->SendAll("GET / HTTP/1.1\r\nHost: te").ok());

  server_->Drain();
  EXPECT_TRUE(idle_reader.AtEof(kTestDeadline));
  // The idle one closed after the grace; the busy one is still open and
  // its request is answered, with "close".
  ASSERT_TRUE(busy->SendAll("st\r\n\r\n").ok());
  HttpTestReader busy_reader(*busy);
  absl::StatusOr<HttpTestResponse> answer = busy_reader.Next();
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(answer->status, 200);
  EXPECT_EQ(answer->Header("connection"), "close");
  EXPECT_TRUE(busy_reader.AtEof());
}

TEST_F(HttpLifecycleTest, RequestOnAnIdleKeepAliveWithinTheGraceIsAnswered) {
  http::HttpOptions http_options;
  // Longer than the test waits: the close comes with the response.
  http_options.drain_idle_grace = absl::Seconds(600);
  StartServer(LoopbackServerOptions(1), http_options);
  absl::StatusOr<TestClient> client = TestClient::Connect(server_->port());
  ASSERT_TRUE(client.ok()) << client.status();
  HttpTestReader reader(*client);
  ASSERT_TRUE(Get(*client, reader, "/").ok());
  // The client's next request may already be on the wire when the drain
  // begins: it is answered, with "close", and not cut.
  server_->Drain();
  absl::StatusOr<HttpTestResponse> next = Get(*client, reader, "/");
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->status, 200);
  EXPECT_EQ(next->body, "hello");
  EXPECT_EQ(next->Header("connection"), "close");
  EXPECT_TRUE(reader.AtEof());
}

TEST_F(HttpLifecycleTest, MaxAgeEndsAKeepAliveConnectionAfterItsNextResponse) {
  ServerOptions options = LoopbackServerOptions(1);
  options.connection.max_age = absl::Milliseconds(100);
  http::HttpOptions http_options;
  // Longer than the test waits: the close comes with the response.
  http_options.drain_idle_grace = absl::Seconds(600);
  StartServer(options, http_options);
  absl::StatusOr<TestClient> client = TestClient::Connect(server_->port());
  ASSERT_TRUE(client.ok()) << client.status();
  HttpTestReader reader(*client);
  absl::StatusOr<HttpTestResponse> young = Get(*client, reader, "/");
  ASSERT_TRUE(young.ok()) << young.status();
  absl::SleepFor(absl::Milliseconds(300));
  absl::StatusOr<HttpTestResponse> old = Get(*client, reader, "/");
  ASSERT_TRUE(old.ok()) << old.status();
  EXPECT_EQ(old->status, 200);
  EXPECT_EQ(old->Header("connection"), "close");
  EXPECT_TRUE(reader.AtEof());
}

}  // namespace
}  // namespace eddy
