// The TLS transport (net/internal/tls_transport.h) and its context
// (net/tls_context.h) without sockets: a server and a client transport
// hand each other their ciphertext buffers.
#include "eddy/net/internal/tls_transport.h"

#include <memory>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "eddy/core/buffer.h"
#include "eddy/net/output_queue.h"
#include "eddy/net/tls_context.h"
#include "gtest/gtest.h"
#include "tests/support/certificates_fixture.h"
#include "tests/support/test_certificates.h"

namespace eddy {
namespace {

using Progress = TlsTransport::Progress;

class TlsTransportTest : public eddy::testing::WithTestCertificates {
 protected:
  // A connected pair, handshake done.
  void Connect() {
    absl::StatusOr<std::shared_ptr<const TlsContext>> server_context =
        TlsContext::ForServer(ServerTls());
    ASSERT_TRUE(server_context.ok()) << server_context.status();
    TlsClientOptions client_options;
    client_options.ca_file = certs_.ca;
    client_options.server_name = "localhost";
    absl::StatusOr<std::shared_ptr<const TlsContext>> client_context =
        TlsContext::ForClient(client_options);
    ASSERT_TRUE(client_context.ok()) << client_context.status();
    auto server = TlsTransport::Create(*server_context, "");
    auto client = TlsTransport::Create(*client_context, "");
    ASSERT_TRUE(server.ok() && client.ok());
    server_ = *std::move(server);
    client_ = *std::move(client);
    for (int round = 0; round < 10; ++round) {
      ASSERT_NE(client_->Handshake(), Progress::kFailed) << client_->error();
      Deliver(*client_, *server_);
      ASSERT_NE(server_->Handshake(), Progress::kFailed) << server_->error();
      Deliver(*server_, *client_);
      if (client_->handshake_done() && server_->handshake_done()) return;
    }
    FAIL() << "the handshake did not complete";
  }

  static void Deliver(TlsTransport& from, TlsTransport& to) {
    to.ciphertext_in().Append(std::move(from.ciphertext_out()));
  }

  // The TLS records in `ciphertext`: their count (5-byte headers).
  static size_t CountRecords(absl::string_view ciphertext) {
    size_t records = 0;
    while (ciphertext.size() >= 5) {
      const size_t length = (static_cast<unsigned char>(ciphertext[3]) << 8) |
                            static_cast<unsigned char>(ciphertext[4]);
      ciphertext.remove_prefix(std::min(ciphertext.size(), 5 + length));
      ++records;
    }
    return records;
  }

  std::unique_ptr<TlsTransport> server_;
  std::unique_ptr<TlsTransport> client_;
};

TEST_F(TlsTransportTest, PipelinedAnswersLeaveAsOneRecord) {
  Connect();
  server_->ciphertext_out().ConsumeAll();  // session tickets
  OutputQueue output;
  std::string expected;
  for (int i = 0; i < 16; ++i) {
    const std::string answer = absl::StrCat("answer ", i, "\n");
    output.Append(answer);
    expected += answer;
  }
  ASSERT_TRUE(server_->Encrypt(output, 64 * 1024).ok());
  EXPECT_TRUE(output.empty());
  EXPECT_EQ(CountRecords(server_->ciphertext_out().view()), 1u);
  Deliver(*server_, *client_);
  Buffer plaintext;
  EXPECT_EQ(client_->Decrypt(plaintext), Progress::kNeedMore);
  EXPECT_EQ(plaintext.ToString(), expected);
}

TEST_F(TlsTransportTest, EncryptStopsAtTheCiphertextLimitAndKeepsTheRest) {
  Connect();
  server_->ciphertext_out().ConsumeAll();
  OutputQueue output;
  output.Append(std::string(1 << 20, 'p'));
  ASSERT_TRUE(server_->Encrypt(output, 64 * 1024).ok());
  // The plaintext not encrypted stays queued, where the marks see it.
  EXPECT_GE(output.size(), (1u << 20) - 64 * 1024 - 16 * 1024);
  EXPECT_LE(server_->ciphertext_out().readable_bytes(), 64u * 1024 + 1024);
}

TEST_F(TlsTransportTest, CloseNotifyEndsThePeersInput) {
  Connect();
  server_->SendCloseNotify();
  Deliver(*server_, *client_);
  Buffer plaintext;
  EXPECT_EQ(client_->Decrypt(plaintext), Progress::kPeerClosed);
}

TEST_F(TlsTransportTest, ACorruptedRecordIsABadRecord) {
  Connect();
  OutputQueue output;
  output.Append("hello");
  ASSERT_TRUE(client_->Encrypt(output, 1024).ok());
  Buffer& record = client_->ciphertext_out();
  std::string bytes = record.ToString();
  bytes.back() ^= 1;
  record.ConsumeAll();
  server_->ciphertext_in().Append(bytes);
  Buffer plaintext;
  EXPECT_EQ(server_->Decrypt(plaintext), Progress::kFailed);
  EXPECT_EQ(server_->failure(), TlsFailure::kBadRecord);
  EXPECT_TRUE(absl::StrContains(server_->error().message(), "bad TLS record"))
      << server_->error();
}

TEST_F(TlsTransportTest, ContextErrorsNameTheFileAndTheReason) {
  TlsServerOptions options = ServerTls();
  options.private_key_file = certs_.dir + "/nope.key";
  EXPECT_EQ(TlsContext::ForServer(options).status().message(),
            absl::StrCat("cannot read private key ", certs_.dir,
                         "/nope.key: No such file or directory"));
  options = ServerTls();
  options.private_key_file = certs_.client_key;
  EXPECT_TRUE(absl::StrContains(
      TlsContext::ForServer(options).status().message(), "does not match"));
  options = ServerTls();
  options.certificate_chain_file = certs_.server_key;  // not a certificate
  EXPECT_TRUE(absl::StartsWith(
      TlsContext::ForServer(options).status().message(),
      absl::StrCat("cannot use certificate chain ", certs_.server_key, ": ")));
  options = ServerTls();
  options.client_certificates = ClientCertificates::kRequire;
  EXPECT_TRUE(absl::StrContains(
      TlsContext::ForServer(options).status().message(), "no client_ca_file"));
  options = ServerTls();
  options.alpn = {std::string(300, 'a')};
  EXPECT_TRUE(absl::StrContains(
      TlsContext::ForServer(options).status().message(), "1 to 255 bytes"));
  TlsClientOptions client;
  client.certificate_chain_file = certs_.client_cert;
  EXPECT_TRUE(absl::StrContains(
      TlsContext::ForClient(client).status().message(), "needs both"));
}

}  // namespace
}  // namespace eddy
