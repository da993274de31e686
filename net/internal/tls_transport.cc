#include "eddy/net/internal/tls_transport.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace eddy {
namespace {

// Plaintext taken from a queued file per pread: one full TLS record.
constexpr size_t kFileChunk = 16 * 1024;

// The BIO under every TLS connection: reads take ciphertext from the
// transport's input Buffer, writes append to its output Buffer. A write
// never fails, so SSL_write always takes everything it is given.
int BioWrite(BIO* bio, const char* data, int length) {
  auto* out = static_cast<Buffer*>(BIO_get_data(bio));
  BIO_clear_retry_flags(bio);
  out->Append(data, static_cast<size_t>(length));
  return length;
}

long BioControl(BIO*, int command, long, void*) {
  return command == BIO_CTRL_FLUSH ? 1 : 0;
}

int BioCreate(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

int BioRead(BIO* bio, char* data, int length) {
  auto* in = static_cast<Buffer*>(BIO_get_data(bio));
  BIO_clear_retry_flags(bio);
  if (in->empty()) {
    BIO_set_retry_read(bio);
    return -1;
  }
  const size_t n = std::min(in->readable_bytes(), static_cast<size_t>(length));
  std::memcpy(data, in->data(), n);
  in->Consume(n);
  return static_cast<int>(n);
}

// A BIO method over a Buffer: reading it (`read`) or writing it (`write`).
BIO_METHOD* MakeBufferMethod(const char* name, int (*read)(BIO*, char*, int),
                             int (*write)(BIO*, const char*, int)) {
  BIO_METHOD* method =
      BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, name);
  if (read != nullptr) BIO_meth_set_read(method, read);
  if (write != nullptr) BIO_meth_set_write(method, write);
  BIO_meth_set_ctrl(method, BioControl);
  BIO_meth_set_create(method, BioCreate);
  return method;
}

const BIO_METHOD* ReadMethod() {
  static BIO_METHOD* const method =
      MakeBufferMethod("eddy ciphertext in", BioRead, nullptr);
  return method;
}

const BIO_METHOD* WriteMethod() {
  static BIO_METHOD* const method =
      MakeBufferMethod("eddy ciphertext out", nullptr, BioWrite);
  return method;
}

// A TLS record starts with its content type; a client's first record is a
// handshake (22). An HTTP request starts with an upper-case method.
bool LooksLikePlainHttp(const Buffer& in) {
  if (in.empty()) return false;
  const unsigned char first = static_cast<unsigned char>(in.data()[0]);
  return first != 22 && first >= 'A' && first <= 'Z';
}

bool IsIpAddress(const std::string& name) {
  unsigned char address[16];
  return inet_pton(AF_INET, name.c_str(), address) == 1 ||
         inet_pton(AF_INET6, name.c_str(), address) == 1;
}

}  // namespace

absl::StatusOr<std::unique_ptr<TlsTransport>> TlsTransport::Create(
    std::shared_ptr<const TlsContext> context, absl::string_view server_name) {
  SSL* ssl = SSL_new(context->native());
  if (ssl == nullptr) {
    return absl::ResourceExhaustedError("SSL_new failed");
  }
  std::unique_ptr<TlsTransport> transport(
      new TlsTransport(std::move(context), ssl));
  BIO* in = BIO_new(ReadMethod());
  BIO* out = BIO_new(WriteMethod());
  if (in == nullptr || out == nullptr) {
    BIO_free(in);
    BIO_free(out);
    return absl::ResourceExhaustedError("BIO_new failed");
  }
  BIO_set_data(in, &transport->ciphertext_in_);
  BIO_set_data(out, &transport->ciphertext_out_);
  SSL_set_bio(ssl, in, out);
  if (transport->context_->is_server()) {
    SSL_set_accept_state(ssl);
    return transport;
  }
  SSL_set_connect_state(ssl);
  const std::string name(server_name.empty()
                             ? transport->context_->server_name()
                             : std::string(server_name));
  if (!name.empty()) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    const bool ip = IsIpAddress(name);
    // An IP address is verified as one and never sent as SNI (RFC 6066).
    const int set = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str())
                       : SSL_set1_host(ssl, name.c_str());
    if (set != 1 || (!ip && SSL_set_tlsext_host_name(ssl, name.c_str()) != 1)) {
      ERR_clear_error();
      return absl::InvalidArgumentError(
          absl::StrCat("cannot use \"", name, "\" as the TLS server name"));
    }
  }
  transport->context_->PrepareClientSession(ssl, name);
  return transport;
}

TlsTransport::TlsTransport(std::shared_ptr<const TlsContext> context,
                           ssl_st* ssl)
    : context_(std::move(context)), ssl_(ssl) {}

TlsTransport::~TlsTransport() { SSL_free(ssl_); }

TlsTransport::Progress TlsTransport::Fail(TlsFailure failure,
                                          absl::Status error) {
  failure_ = failure;
  error_ = std::move(error);
  return Progress::kFailed;
}

TlsTransport::Progress TlsTransport::AfterError(int result, bool in_handshake) {
  switch (SSL_get_error(ssl_, result)) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
      return Progress::kNeedMore;
    case SSL_ERROR_ZERO_RETURN:
      return Progress::kPeerClosed;
    default:
      break;
  }
  bool no_peer_certificate = false;
  std::string reasons;
  while (const unsigned long code = ERR_get_error()) {
    no_peer_certificate |=
        ERR_GET_REASON(code) == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE;
    const char* reason = ERR_reason_error_string(code);
    absl::StrAppend(&reasons, reasons.empty() ? "" : "; ",
                    reason != nullptr ? reason : "unknown error");
  }
  if (reasons.empty()) reasons = "the connection broke";
  const long verify = SSL_get_verify_result(ssl_);
  if (in_handshake && verify != X509_V_OK) {
    return Fail(TlsFailure::kPeerCertificateRejected,
                absl::UnauthenticatedError(
                    absl::StrCat("certificate verify failed: ",
                                 X509_verify_cert_error_string(verify))));
  }
  if (no_peer_certificate) {
    return Fail(TlsFailure::kPeerCertificateRejected,
                absl::UnauthenticatedError(
                    "the peer sent no certificate and one is required"));
  }
  if (in_handshake) {
    return Fail(TlsFailure::kHandshakeFailed,
                absl::UnavailableError(
                    absl::StrCat("TLS handshake failed: ", reasons)));
  }
  return Fail(TlsFailure::kBadRecord,
              absl::DataLossError(absl::StrCat("bad TLS record: ", reasons)));
}

void TlsTransport::FailHandshakeTimeout() {
  Fail(TlsFailure::kHandshakeTimeout,
       absl::DeadlineExceededError(
           absl::StrCat("no TLS handshake within ",
                        absl::FormatDuration(context_->handshake_timeout()))));
}

TlsTransport::Progress TlsTransport::Handshake() {
  if (handshake_done_) return Progress::kNeedMore;
  // Only the first bytes: later ones may continue a record cut short.
  const bool first = !first_bytes_checked_ && !ciphertext_in_.empty();
  if (first) first_bytes_checked_ = true;
  if (first && context_->is_server() && LooksLikePlainHttp(ciphertext_in_)) {
    return Fail(
        TlsFailure::kPlainHttp,
        absl::InvalidArgumentError("plain HTTP request sent to a TLS port"));
  }
  ERR_clear_error();
  const int result = SSL_do_handshake(ssl_);
  if (result == 1) {
    handshake_done_ = true;
    FillInfo();
    return Progress::kNeedMore;
  }
  return AfterError(result, /*in_handshake=*/true);
}

TlsTransport::Progress TlsTransport::Decrypt(Buffer& plaintext) {
  // A record's plaintext is at most 16 KiB; reading one at a time keeps the
  // buffer from growing far beyond what arrived.
  constexpr size_t kRecord = 16 * 1024;
  while (!ciphertext_in_.empty() || SSL_pending(ssl_) > 0) {
    ERR_clear_error();
    absl::Span<char> space = plaintext.PrepareWrite(kRecord);
    size_t got = 0;
    const int result = SSL_read_ex(ssl_, space.data(), space.size(), &got);
    plaintext.CommitWrite(result == 1 ? got : 0);
    if (result != 1) return AfterError(result, /*in_handshake=*/false);
  }
  return Progress::kNeedMore;
}

absl::Status TlsTransport::Encrypt(OutputQueue& output,
                                   size_t ciphertext_limit) {
  while (!output.empty() &&
         ciphertext_out_.readable_bytes() < ciphertext_limit) {
    const size_t room = ciphertext_limit - ciphertext_out_.readable_bytes();
    iovec iov[OutputQueue::kMaxIovecs];
    const size_t count = output.Gather(absl::MakeSpan(iov));
    if (count == 0) {
      // A file range at the front: a bounded chunk at a time, never the
      // whole file in memory.
      char chunk[kFileChunk];
      const ssize_t got = output.ReadFrontFile(
          absl::MakeSpan(chunk, std::min(room, kFileChunk)));
      if (got <= 0) {
        return absl::DataLossError(
            got == 0 ? std::string("a queued file ended before its length")
                     : absl::StrCat("cannot read a queued file: ",
                                    std::strerror(errno)));
      }
      size_t written = 0;
      if (SSL_write_ex(ssl_, chunk, static_cast<size_t>(got), &written) != 1) {
        ERR_clear_error();
        return absl::InternalError("SSL_write failed");
      }
      continue;
    }
    // Pieces queued back to back (pipelined answers) share the front buffer,
    // so they leave as one record, not one per piece.
    size_t taken = 0;
    for (size_t i = 0; i < count && taken < room; ++i) {
      const size_t length = std::min(iov[i].iov_len, room - taken);
      size_t written = 0;
      if (SSL_write_ex(ssl_, iov[i].iov_base, length, &written) != 1) {
        ERR_clear_error();
        return absl::InternalError("SSL_write failed");
      }
      taken += length;
      if (length < iov[i].iov_len) break;
    }
    output.Consume(taken);
  }
  return absl::OkStatus();
}

void TlsTransport::SendCloseNotify() {
  if (close_notify_sent_ || !handshake_done_) return;
  close_notify_sent_ = true;
  ERR_clear_error();
  (void)SSL_shutdown(ssl_);
  ERR_clear_error();
}

void TlsTransport::FillInfo() {
  info_.version = SSL_get_version(ssl_);
  info_.cipher = SSL_get_cipher_name(ssl_);
  const unsigned char* alpn = nullptr;
  unsigned int alpn_length = 0;
  SSL_get0_alpn_selected(ssl_, &alpn, &alpn_length);
  info_.alpn.assign(reinterpret_cast<const char*>(alpn), alpn_length);
  info_.resumed = SSL_session_reused(ssl_) == 1;
  if (X509* peer = SSL_get0_peer_certificate(ssl_)) {
    BIO* text = BIO_new(BIO_s_mem());
    if (text != nullptr) {
      X509_NAME_print_ex(text, X509_get_subject_name(peer), 0, XN_FLAG_RFC2253);
      char* data = nullptr;
      const long length = BIO_get_mem_data(text, &data);
      if (length > 0) info_.peer_subject.assign(data, length);
      BIO_free(text);
    }
  }
}

}  // namespace eddy
