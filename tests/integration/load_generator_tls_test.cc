// eddy-load over TLS (--tls, --tls_ca, --tls_resume): RunLoad against an
// in-process HTTPS server built like eddy-httpd (HttpProtocol behind
// ServerOptions::tls) on loopback. The runs are short and the deadlines
// generous; nothing here asserts on timing.
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "bench/load/load_run.h"
#include "eddy/http/http_protocol.h"
#include "eddy/http/router.h"
#include "eddy/net/server.h"
#include "eddy/net/tls_context.h"
#include "gtest/gtest.h"
#include "tests/support/certificates_fixture.h"
#include "tests/support/server_testing.h"
#include "tests/support/test_certificates.h"

namespace eddy::load {
namespace {

using ::eddy::testing::LoopbackServerOptions;

class LoadGeneratorTlsTest : public eddy::testing::WithTestCertificates {
 protected:
  void SetUp() override {
    WithTestCertificates::SetUp();
    if (IsSkipped()) return;
    auto router = std::make_shared<http::Router>();
    router->Handle("GET", "/",
                   [](const http::Request&, http::Response& response) {
                     response.set_body("Hello, world!");
                   });
    ServerOptions options = LoopbackServerOptions(2);
    TlsServerOptions tls = ServerTls();
    tls.alpn = {"http/1.1"};
    options.tls = tls;
    server_ = std::make_unique<Server>(
        options,
        std::make_unique<http::HttpProtocol>(router, http::HttpOptions{}));
    absl::Status started = server_->Start();
    ASSERT_TRUE(started.ok()) << started;
  }
  void TearDown() override {
    if (server_ != nullptr) server_->Stop();
    WithTestCertificates::TearDown();
  }

  // A run that ends after `requests` responses, verifying the server
  // against the test CA; the duration only bounds a run that goes wrong.
  LoadOptions Requests(LoadMode mode, int64_t requests) const {
    LoadOptions options;
    options.mode = mode;
    options.address = server_->local_address();
    options.threads = 2;
    options.connections = 8;
    options.requests = requests;
    options.duration = absl::Seconds(120);
    options.timeout = absl::Seconds(30);
    options.progress = false;
    options.tls = true;
    options.tls_ca = certs_.ca;
    options.tls_server_name = "localhost";
    return options;
  }

  std::unique_ptr<Server> server_;
};

TEST_F(LoadGeneratorTlsTest, KeepAliveRequestsSucceedOverVerifiedTls) {
  constexpr int64_t kRequests = 2000;
  absl::StatusOr<RunSummary> summary =
      RunLoad(Requests(LoadMode::kHttp, kRequests));
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->stats.responses, static_cast<uint64_t>(kRequests));
  EXPECT_EQ(summary->stats.error_total(), 0u);
  // One handshake per connection, none of them resumed.
  EXPECT_GE(summary->stats.tls_handshakes, 8u);
  EXPECT_EQ(summary->stats.tls_handshakes, summary->stats.connections_opened);
  EXPECT_EQ(summary->stats.tls_resumed, 0u);
  EXPECT_TRUE(summary->tls);
  EXPECT_EQ(
      server_->total_stats()
          .tls_failures[static_cast<size_t>(TlsFailure::kHandshakeFailed)],
      0u);
}

TEST_F(LoadGeneratorTlsTest, Http10WithoutResumeMakesFullHandshakes) {
  constexpr int64_t kRequests = 200;
  absl::StatusOr<RunSummary> summary =
      RunLoad(Requests(LoadMode::kHttp10, kRequests));
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->stats.responses, static_cast<uint64_t>(kRequests));
  EXPECT_EQ(summary->stats.error_total(), 0u);
  EXPECT_GE(summary->stats.tls_handshakes, static_cast<uint64_t>(kRequests));
  EXPECT_EQ(summary->stats.tls_resumed, 0u);
}

TEST_F(LoadGeneratorTlsTest, Http10WithResumeResumesMostHandshakes) {
  constexpr int64_t kRequests = 400;
  LoadOptions options = Requests(LoadMode::kHttp10, kRequests);
  options.tls_resume = true;
  absl::StatusOr<RunSummary> summary = RunLoad(options);
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->stats.responses, static_cast<uint64_t>(kRequests));
  EXPECT_EQ(summary->stats.error_total(), 0u);
  EXPECT_GE(summary->stats.tls_handshakes, static_cast<uint64_t>(kRequests));
  // Only the connections opened before a thread's first ticket arrived make
  // a full handshake: at most one per connection.
  EXPECT_GT(summary->stats.tls_resumed * 2, summary->stats.tls_handshakes)
      << summary->stats.tls_resumed << " of " << summary->stats.tls_handshakes;
}

TEST_F(LoadGeneratorTlsTest, AnUnknownCaFailsEveryHandshakeAsTlsErrors) {
  LoadOptions options = Requests(LoadMode::kHttp, 0);
  options.tls_ca = certs_.other_ca;
  options.duration = absl::Seconds(1);
  absl::StatusOr<RunSummary> summary = RunLoad(options);
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->stats.responses, 0u);
  EXPECT_EQ(summary->stats.connections_opened, 0u);
  EXPECT_GT(summary->stats.errors_of(ErrorKind::kTls), 0u);
  EXPECT_EQ(summary->stats.error_total(),
            summary->stats.errors_of(ErrorKind::kTls));
}

TEST_F(LoadGeneratorTlsTest, TlsFlagsWithoutTlsAreRefused) {
  LoadOptions options = Requests(LoadMode::kHttp, 10);
  options.tls = false;
  options.tls_ca.clear();
  options.tls_resume = true;
  EXPECT_FALSE(CheckLoadOptions(options).ok());
  options.tls_resume = false;
  options.tls_ca = certs_.ca;
  EXPECT_FALSE(CheckLoadOptions(options).ok());
}

}  // namespace
}  // namespace eddy::load
