#ifndef EDDY_NET_INTERNAL_TLS_TRANSPORT_H_
#define EDDY_NET_INTERNAL_TLS_TRANSPORT_H_

#include <memory>
#include <string>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "eddy/core/buffer.h"
#include "eddy/core/timer_wheel.h"
#include "eddy/net/output_queue.h"
#include "eddy/net/tls_context.h"

struct ssl_st;

namespace eddy {

// How a connection begins with TLS: the server's context for an accepted
// one, or a Connect's.
struct TlsStart {
  std::shared_ptr<const TlsContext> context;
  // A client's SNI and name to verify; empty: the context's.
  std::string server_name;
  // A client's: why the handshake failed (its handler never opened).
  absl::AnyInvocable<void(absl::Status)> on_failure;
};

// TlsTransport is the TLS engine of one Connection: an OpenSSL SSL whose
// BIO reads ciphertext from, and writes ciphertext to, two eddy Buffers
// that the connection fills from and sends to its socket. So the socket
// stays eddy's (one readv per read, one send per flush), no copy is made
// between OpenSSL and eddy's buffers beyond the encryption itself, and
// plaintext never leaves the connection's own input Buffer and OutputQueue.
//
// Threading: owned by one connection; its loop thread only.
//
// Internal: reached through ServerOptions::tls, ConnectOptions::tls and
// Connection::StartTls; not installed.
class TlsTransport {
 public:
  // What the ciphertext read so far amounts to.
  enum class Progress {
    kNeedMore,    // nothing more can happen until more ciphertext arrives
    kPeerClosed,  // the peer sent close_notify: its side is done
    kFailed,      // the connection is broken: failure() says why
  };

  // `server_name` (a client's: SNI and the name verified) overrides the
  // context's; both empty: none sent, and only the chain is verified.
  static absl::StatusOr<std::unique_ptr<TlsTransport>> Create(
      std::shared_ptr<const TlsContext> context, absl::string_view server_name);
  ~TlsTransport();
  TlsTransport(const TlsTransport&) = delete;
  TlsTransport& operator=(const TlsTransport&) = delete;

  // Socket reads go here...
  Buffer& ciphertext_in() { return ciphertext_in_; }
  // ...and this is what the socket must be sent, in order.
  Buffer& ciphertext_out() { return ciphertext_out_; }

  bool handshake_done() const { return handshake_done_; }
  const TlsContext& context() const { return *context_; }

  // Advances the handshake with the ciphertext read so far (a client's
  // first call writes its hello). kNeedMore also when it completed:
  // handshake_done() says which.
  Progress Handshake();
  // Decrypts the ciphertext read so far onto the back of `plaintext`.
  Progress Decrypt(Buffer& plaintext);
  // Encrypts plaintext from the front of `output` (files read with pread in
  // bounded chunks) until ciphertext_out holds `ciphertext_limit` bytes or
  // `output` is empty. Consecutive small pieces leave as one record. An
  // error: a queued file could not be read or ended early.
  absl::Status Encrypt(OutputQueue& output, size_t ciphertext_limit);
  // The handshake deadline passed: failure() and error() say so (the
  // status a client's Connect hears).
  void FailHandshakeTimeout();
  // Queues close_notify (once).
  void SendCloseNotify();
  bool close_notify_sent() const { return close_notify_sent_; }

  // Why the last kFailed happened.
  TlsFailure failure() const { return failure_; }
  const absl::Status& error() const { return error_; }
  // What the handshake negotiated; valid once handshake_done().
  const TlsInfo& info() const { return info_; }

  // For the connection's handshake deadline.
  TimerId handshake_timer;

 private:
  TlsTransport(std::shared_ptr<const TlsContext> context, ssl_st* ssl);

  Progress Fail(TlsFailure failure, absl::Status error);
  // Classifies the SSL error of a call that returned `result`.
  Progress AfterError(int result, bool in_handshake);
  void FillInfo();

  const std::shared_ptr<const TlsContext> context_;
  ssl_st* const ssl_;
  Buffer ciphertext_in_;
  Buffer ciphertext_out_;
  bool handshake_done_ = false;
  bool close_notify_sent_ = false;
  // Whether the first bytes were checked for a plain HTTP request.
  bool first_bytes_checked_ = false;
  TlsFailure failure_ = TlsFailure::kHandshakeFailed;
  absl::Status error_;
  TlsInfo info_;
};

}  // namespace eddy

#endif  // EDDY_NET_INTERNAL_TLS_TRANSPORT_H_
