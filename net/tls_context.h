#ifndef EDDY_NET_TLS_CONTEXT_H_
#define EDDY_NET_TLS_CONTEXT_H_

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

// OpenSSL's own types, named without its headers: users of eddy need none.
struct ssl_ctx_st;
struct ssl_st;

namespace eddy {

enum class TlsVersion { kTls12, kTls13 };

// What a TLS server asks of its clients' certificates.
enum class ClientCertificates {
  kOff,       // not asked for
  kOptional,  // asked for; a client without one is served, a bad one refused
  kRequire,   // a client without a certificate from client_ca_file is refused
};

// A TLS server: ServerOptions::tls, or TlsContext::ForServer for StartTls.
struct TlsServerOptions {
  // PEM files: the certificate followed by its intermediates, and its key.
  std::string certificate_chain_file;
  std::string private_key_file;
  // PEM file of the CAs client certificates must chain to; needed unless
  // client_certificates is kOff.
  std::string client_ca_file;
  ClientCertificates client_certificates = ClientCertificates::kOff;
  // ALPN protocols offered, in the server's order of preference (e.g.
  // {"http/1.1"}). A client that offers ALPN but none of these is refused;
  // empty: ALPN is not negotiated.
  std::vector<std::string> alpn;
  // TLS 1.3 is preferred whenever the client speaks it.
  TlsVersion min_version = TlsVersion::kTls12;
  // A client that has not finished its handshake this long after the
  // connection was accepted is closed (a TLS slowloris).
  absl::Duration handshake_timeout = absl::Seconds(10);
  // Handshakes in progress at once per worker. A new connection above it is
  // closed at once (counted as TlsFailure::kShedAtCap): full handshakes
  // cost milliseconds of CPU each, and a reconnect storm must not take that
  // time from the connections already established.
  size_t max_handshakes_per_worker = 256;
  // Session tickets are encrypted with a key shared by every worker (and by
  // the contexts ReloadTls builds), so a client resumes on any of them. A
  // new key is made after this long; tickets of the key before it are still
  // accepted (and replaced by fresh ones), so a ticket lives up to twice as
  // long.
  absl::Duration ticket_key_rotation = absl::Hours(1);
};

// A TLS client: ConnectOptions::tls.
struct TlsClientOptions {
  // PEM file of the CAs the server's certificate must chain to; empty: the
  // system's store.
  std::string ca_file;
  // Refuse a server whose certificate does not verify (chain and name).
  // Turn off only for tests against self-signed servers you cannot name.
  bool verify_peer = true;
  // Sent as SNI and checked against the certificate (DNS name or IP
  // address), unless ConnectOptions::tls_server_name names another.
  std::string server_name;
  // ALPN protocols offered, in order of preference; empty: none.
  std::vector<std::string> alpn;
  // A client certificate (mutual TLS): PEM chain and key, both or neither.
  std::string certificate_chain_file;
  std::string private_key_file;
  TlsVersion min_version = TlsVersion::kTls12;
  absl::Duration handshake_timeout = absl::Seconds(10);
  // Offer a session saved from an earlier connection to the same server
  // name (resumption: an abbreviated handshake). Off: every handshake is a
  // full one, e.g. to measure them.
  bool resume_sessions = true;
};

// What a TLS connection negotiated (Connection::tls()).
struct TlsInfo {
  std::string version;       // "TLSv1.3"
  std::string cipher;        // "TLS_AES_256_GCM_SHA384"
  std::string alpn;          // the protocol agreed on; empty if none
  std::string peer_subject;  // "CN=client,O=..." if the peer sent one
  bool resumed = false;      // the session was resumed (a ticket)
};

// The ways a TLS connection fails, counted per worker (WorkerStats) and
// exported as eddy_tls_failures_total{kind=...}.
enum class TlsFailure {
  kHandshakeTimeout,  // the handshake did not finish in time
  kHandshakeFailed,   // no common version, cipher or ALPN; a bad hello
  kPlainHttp,         // an HTTP request sent to the TLS port
  kBadRecord,         // a record that failed to decrypt after the handshake
  kShedAtCap,         // closed unread: too many handshakes in progress
  kPeerCertificateRejected,  // the peer's certificate missing or invalid
};
inline constexpr size_t kTlsFailureCount =
    static_cast<size_t>(TlsFailure::kPeerCertificateRejected) + 1;
// "handshake_timeout", "plain_http", ...: the metric's label values.
absl::string_view TlsFailureName(TlsFailure failure);

// TlsContext is the configuration of one side of TLS, built once from its
// options (certificates and keys loaded and checked) and shared by every
// connection that uses it: each holds a shared_ptr to the context it started
// with, so replacing a server's context (Server::ReloadTls) leaves the
// connections in flight untouched.
//
// A client context keeps the resumable sessions each server name gave it (a
// few per name, each offered once), so that the next connection to that
// name resumes (an abbreviated handshake: no certificate chain sent or
// verified again) from whichever thread it is made; TLS 1.3 tickets arrive
// after the handshake, with the first data read.
//
// Threading: immutable once built, but for the client's session cache,
// which is locked; use from any thread.
class TlsContext {
 public:
  // Errors name the file and OpenSSL's reason, e.g. "cannot read
  // certificate chain /etc/x.pem: No such file or directory".
  static absl::StatusOr<std::shared_ptr<const TlsContext>> ForServer(
      const TlsServerOptions& options);
  // As above, with the session-ticket keys of `previous`, so that tickets it
  // issued still resume (a reload).
  static absl::StatusOr<std::shared_ptr<const TlsContext>> ForServer(
      const TlsServerOptions& options, const TlsContext& previous);
  static absl::StatusOr<std::shared_ptr<const TlsContext>> ForClient(
      const TlsClientOptions& options);

  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  bool is_server() const { return is_server_; }
  absl::Duration handshake_timeout() const { return handshake_timeout_; }
  size_t max_handshakes_per_worker() const { return max_handshakes_; }
  // The name a client sends as SNI and verifies by default.
  const std::string& server_name() const { return server_name_; }
  // OpenSSL's SSL_CTX, for eddy's TLS transport (and for settings eddy does
  // not offer; change them before the first connection uses the context).
  ssl_ctx_st* native() const { return ctx_; }

  // Internal, for eddy's TLS transport: makes `ssl`, a new connection of
  // this client context, one to `server_name`, to resume the session last
  // saved for that name (if any) and to save the sessions it gets.
  void PrepareClientSession(ssl_st* ssl, const std::string& server_name) const;

  // The session-ticket key ring; internal, shared by reloaded contexts.
  class TicketKeys;
  // A client's sessions by server name; internal.
  class SessionCache;

 private:
  TlsContext() = default;

  ssl_ctx_st* ctx_ = nullptr;
  bool is_server_ = false;
  absl::Duration handshake_timeout_;
  size_t max_handshakes_ = 0;
  std::string server_name_;
  std::shared_ptr<TicketKeys> ticket_keys_;
  std::unique_ptr<SessionCache> sessions_;  // a client's
  // The ALPN wire format (length-prefixed names) the server selects from.
  std::string alpn_wire_;
};

}  // namespace eddy

#endif  // EDDY_NET_TLS_CONTEXT_H_
