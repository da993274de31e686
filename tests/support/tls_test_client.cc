#include "tests/support/tls_test_client.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace eddy::testing {
namespace {

std::string Errors() {
  std::string text;
  while (const unsigned long code = ERR_get_error()) {
    const char* reason = ERR_reason_error_string(code);
    absl::StrAppend(&text, reason != nullptr ? reason : "?", "; ");
  }
  return text;
}

}  // namespace

TlsTestClient::TlsTestClient(TestClient socket, size_t split)
    : socket_(std::move(socket)), split_(split) {}

TlsTestClient::~TlsTestClient() {
  SSL_free(ssl_);
  SSL_CTX_free(ctx_);
}

absl::StatusOr<std::unique_ptr<TlsTestClient>> TlsTestClient::Handshake(
    TestClient socket, const Options& options, absl::Duration timeout) {
  std::unique_ptr<TlsTestClient> client(
      new TlsTestClient(std::move(socket), options.split));
  client->ctx_ = SSL_CTX_new(TLS_client_method());
  if (client->ctx_ == nullptr ||
      SSL_CTX_load_verify_locations(client->ctx_, options.ca_file.c_str(),
                                    nullptr) != 1) {
    return absl::InternalError(absl::StrCat("client context: ", Errors()));
  }
  SSL_CTX_set_verify(client->ctx_, SSL_VERIFY_PEER, nullptr);
  client->ssl_ = SSL_new(client->ctx_);
  SSL* ssl = client->ssl_;
  SSL_set_bio(ssl, BIO_new(BIO_s_mem()), BIO_new(BIO_s_mem()));
  SSL_set_connect_state(ssl);
  SSL_set1_host(ssl, options.server_name.c_str());
  SSL_set_tlsext_host_name(ssl, options.server_name.c_str());
  if (!options.alpn.empty()) {
    std::string wire(1, static_cast<char>(options.alpn.size()));
    wire += options.alpn;
    SSL_set_alpn_protos(ssl,
                        reinterpret_cast<const unsigned char*>(wire.data()),
                        static_cast<unsigned int>(wire.size()));
  }
  client->plaintext_first_ = options.plaintext_first;
  client->plaintext_reply_size_ = options.plaintext_reply_size;
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    const int result = SSL_do_handshake(ssl);
    if (absl::Status s = client->FlushOut(); !s.ok()) return s;
    if (result == 1) return client;
    if (SSL_get_error(ssl, result) != SSL_ERROR_WANT_READ) {
      return absl::UnavailableError(
          absl::StrCat("client handshake failed: ", Errors()));
    }
    absl::StatusOr<bool> more = client->FeedIn(deadline);
    if (!more.ok()) return more.status();
    if (!*more) return absl::UnavailableError("EOF during the handshake");
  }
}

absl::StatusOr<std::unique_ptr<TlsTestClient>> TlsTestClient::Connect(
    uint16_t port, const Options& options, absl::Duration timeout) {
  absl::StatusOr<TestClient> socket = TestClient::Connect(port);
  if (!socket.ok()) return socket.status();
  return Handshake(*std::move(socket), options, timeout);
}

absl::Status TlsTestClient::FlushOut() {
  BIO* out = SSL_get_wbio(ssl_);
  char* data = nullptr;
  const long length = BIO_get_mem_data(out, &data);
  if (length <= 0) return absl::OkStatus();
  std::string bytes = std::move(plaintext_first_);
  plaintext_first_.clear();
  bytes.append(data, static_cast<size_t>(length));
  (void)BIO_reset(out);
  const size_t step = split_ == 0 ? bytes.size() : split_;
  for (size_t i = 0; i < bytes.size(); i += step) {
    absl::string_view piece =
        absl::string_view(bytes).substr(i, std::min(step, bytes.size() - i));
    if (absl::Status s = socket_.SendAll(piece); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> TlsTestClient::FeedIn(absl::Time deadline) {
  absl::StatusOr<std::string> got =
      socket_.ReceiveSome(std::max(deadline - absl::Now(), absl::Seconds(0)));
  if (!got.ok()) return got.status();
  if (got->empty()) return false;
  absl::string_view ciphertext = *got;
  const size_t reply = std::min(plaintext_reply_size_ - plaintext_reply_.size(),
                                ciphertext.size());
  plaintext_reply_.append(ciphertext.data(), reply);
  ciphertext.remove_prefix(reply);
  if (ciphertext.empty()) return true;
  BIO_write(SSL_get_rbio(ssl_), ciphertext.data(),
            static_cast<int>(ciphertext.size()));
  return true;
}

absl::Status TlsTestClient::Write(absl::string_view plaintext) {
  size_t written = 0;
  if (!plaintext.empty() &&
      SSL_write_ex(ssl_, plaintext.data(), plaintext.size(), &written) != 1) {
    return absl::InternalError(absl::StrCat("SSL_write: ", Errors()));
  }
  return FlushOut();
}

absl::StatusOr<std::string> TlsTestClient::ReadExactly(size_t n,
                                                       absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  std::string out;
  char chunk[16384];
  while (out.size() < n) {
    size_t got = 0;
    const int result = SSL_read_ex(ssl_, chunk, sizeof(chunk), &got);
    if (result == 1) {
      out.append(chunk, got);
      continue;
    }
    if (SSL_get_error(ssl_, result) != SSL_ERROR_WANT_READ) {
      return absl::UnavailableError(
          absl::StrCat("read ", out.size(), " of ", n, ": ", Errors()));
    }
    if (absl::Status s = FlushOut(); !s.ok()) return s;
    absl::StatusOr<bool> more = FeedIn(deadline);
    if (!more.ok()) return more.status();
    if (!*more) {
      return absl::UnavailableError(
          absl::StrCat("EOF after ", out.size(), " of ", n, " bytes"));
    }
  }
  return out;
}

absl::StatusOr<std::string> TlsTestClient::RoundTrip(absl::string_view message,
                                                     absl::Duration timeout) {
  if (absl::Status s = Write(message); !s.ok()) return s;
  return ReadExactly(message.size(), timeout);
}

absl::Status TlsTestClient::SendCloseNotify() {
  (void)SSL_shutdown(ssl_);
  return FlushOut();
}

bool TlsTestClient::WaitForCloseNotify(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  char chunk[4096];
  while (true) {
    size_t got = 0;
    const int result = SSL_read_ex(ssl_, chunk, sizeof(chunk), &got);
    if (result == 1) continue;
    const int error = SSL_get_error(ssl_, result);
    if (error == SSL_ERROR_ZERO_RETURN) return true;
    if (error != SSL_ERROR_WANT_READ) return false;
    absl::StatusOr<bool> more = FeedIn(deadline);
    if (!more.ok() || !*more) return false;
  }
}

std::string TlsTestClient::alpn() const {
  const unsigned char* data = nullptr;
  unsigned int length = 0;
  SSL_get0_alpn_selected(ssl_, &data, &length);
  return std::string(reinterpret_cast<const char*>(data), length);
}

}  // namespace eddy::testing
