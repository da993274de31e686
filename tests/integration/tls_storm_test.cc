// A reconnect storm against a TLS server (issue 11): 500 handshakes from
// many concurrent clients while 20 established TLS connections keep being
// served by the same worker. The per-worker handshake cap is what protects
// them; the storm's clients it turns away must be counted as sheds. Every
// wait is bounded; nothing is asserted about timing beyond generous
// deadlines.
#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "eddy/net/echo.h"
#include "eddy/net/server.h"
#include "eddy/net/tls_context.h"
#include "gtest/gtest.h"
#include "tests/support/server_testing.h"
#include "tests/support/test_certificates.h"
#include "tests/support/tls_test_client.h"

namespace eddy {
namespace {

using ::eddy::testing::LoopbackServerOptions;
using ::eddy::testing::TestCertificates;
using ::eddy::testing::TlsTestClient;

constexpr int kStormHandshakes = 500;
constexpr int kStormThreads = 32;
constexpr int kEstablished = 20;
// The bound on each answer to an established connection during the storm.
constexpr absl::Duration kAnswerBound = absl::Seconds(5);

TEST(TlsStormTest, EstablishedConnectionsAreServedThroughAHandshakeStorm) {
  absl::StatusOr<TestCertificates> certs =
      eddy::testing::MakeTestCertificates();
  if (!certs.ok()) GTEST_SKIP() << "no test certificates: " << certs.status();
  // One worker: the storm and the established connections share its loop.
  ServerOptions options = LoopbackServerOptions(1);
  TlsServerOptions tls;
  tls.certificate_chain_file = certs->server_cert;
  tls.private_key_file = certs->server_key;
  // Below the storm's concurrency, so that the cap is exercised.
  tls.max_handshakes_per_worker = kStormThreads / 2;
  options.tls = tls;
  Server server(options, MakeEchoFactory());
  ASSERT_TRUE(server.Start().ok());

  TlsTestClient::Options client_options;
  client_options.ca_file = certs->ca;
  std::vector<std::unique_ptr<TlsTestClient>> established;
  for (int i = 0; i < kEstablished; ++i) {
    absl::StatusOr<std::unique_ptr<TlsTestClient>> client =
        TlsTestClient::Connect(server.port(), client_options);
    ASSERT_TRUE(client.ok()) << client.status();
    established.push_back(*std::move(client));
  }

  std::atomic<int> next_handshake{0};
  std::atomic<int> storm_succeeded{0};
  std::atomic<int> storm_failed{0};
  std::atomic<int> storm_running{kStormThreads};
  std::vector<std::thread> storm;
  for (int t = 0; t < kStormThreads; ++t) {
    storm.emplace_back([&] {
      while (next_handshake.fetch_add(1) < kStormHandshakes) {
        absl::StatusOr<std::unique_ptr<TlsTestClient>> client =
            TlsTestClient::Connect(server.port(), client_options);
        (client.ok() ? storm_succeeded : storm_failed).fetch_add(1);
      }
      storm_running.fetch_sub(1);
    });
  }

  // The established connections take turns echoing a message until the
  // storm is over (and at least one full round, bounded in rounds).
  int answered = 0;
  int rounds = 0;
  std::string failure;
  absl::Duration slowest;
  constexpr int kMaxRounds = 100000;
  while (failure.empty() && rounds < kMaxRounds &&
         (rounds == 0 || storm_running.load() > 0)) {
    for (int i = 0; i < kEstablished && failure.empty(); ++i) {
      const std::string message = absl::StrCat("round ", rounds, " conn ", i);
      const absl::Time sent = absl::Now();
      if (absl::Status written = established[i]->Write(message);
          !written.ok()) {
        failure = absl::StrCat("write on ", i, ": ", written.message());
        break;
      }
      absl::StatusOr<std::string> echo =
          established[i]->ReadExactly(message.size(), kAnswerBound);
      if (!echo.ok() || *echo != message) {
        failure =
            absl::StrCat("no echo within ", absl::FormatDuration(kAnswerBound),
                         " on connection ", i, " in round ", rounds, ": ",
                         echo.ok() ? *echo : echo.status().ToString());
        break;
      }
      slowest = std::max(slowest, absl::Now() - sent);
      ++answered;
    }
    ++rounds;
  }
  for (std::thread& thread : storm) thread.join();

  EXPECT_TRUE(failure.empty()) << failure;
  EXPECT_GE(answered, kEstablished);
  EXPECT_LT(slowest, kAnswerBound);
  EXPECT_EQ(storm_succeeded.load() + storm_failed.load(), kStormHandshakes);
  EXPECT_GT(storm_succeeded.load(), 0);
  RecordProperty("storm_succeeded", storm_succeeded.load());
  RecordProperty("storm_failed", storm_failed.load());
  RecordProperty("established_answers", answered);
  // Every storm client turned away was shed at the cap, and counted.
  const WorkerStats stats = server.total_stats();
  const uint64_t shed =
      stats.tls_failures[static_cast<size_t>(TlsFailure::kShedAtCap)];
  EXPECT_LE(static_cast<uint64_t>(storm_failed.load()), shed)
      << storm_failed.load() << " storm handshakes failed, " << shed << " shed";
  for (size_t kind = 0; kind < kTlsFailureCount; ++kind) {
    if (kind == static_cast<size_t>(TlsFailure::kShedAtCap)) continue;
    EXPECT_EQ(stats.tls_failures[kind], 0u)
        << TlsFailureName(static_cast<TlsFailure>(kind));
  }
  server.Stop();
  eddy::testing::RemoveTestCertificates(*certs);
}

}  // namespace
}  // namespace eddy
