#include "eddy/net/tls_context.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace eddy {
namespace {

// OpenSSL's queued errors, oldest first, as one line; the queue ends empty.
std::string TakeOpenSslErrors() {
  std::string text;
  while (const unsigned long code = ERR_get_error()) {
    const char* reason = ERR_reason_error_string(code);
    absl::StrAppend(&text, text.empty() ? "" : "; ",
                    reason != nullptr ? reason : "unknown error");
  }
  return text.empty() ? "unknown error" : text;
}

// Checked before OpenSSL opens the file, whose error says less ("system
// lib") than errno does.
absl::Status CheckReadable(absl::string_view what, const std::string& path) {
  if (path.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("no ", what, " file given"));
  }
  std::FILE* file = std::fopen(path.c_str(), "r");
  if (file == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot read ", what, " ", path, ": ", std::strerror(errno)));
  }
  std::fclose(file);
  return absl::OkStatus();
}

absl::Status OpenSslError(absl::string_view what, const std::string& path) {
  return absl::InvalidArgumentError(
      absl::StrCat("cannot use ", what, " ", path, ": ", TakeOpenSslErrors()));
}

int ProtocolVersion(TlsVersion version) {
  return version == TlsVersion::kTls13 ? TLS1_3_VERSION : TLS1_2_VERSION;
}

absl::StatusOr<std::string> AlpnWireFormat(
    const std::vector<std::string>& protocols) {
  std::string wire;
  for (const std::string& protocol : protocols) {
    if (protocol.empty() || protocol.size() > 255) {
      return absl::InvalidArgumentError(absl::StrCat(
          "ALPN protocol names are 1 to 255 bytes; got \"", protocol, "\""));
    }
    wire.push_back(static_cast<char>(protocol.size()));
    wire.append(protocol);
  }
  return wire;
}

absl::Status LoadCertificateAndKey(SSL_CTX* ctx, const std::string& chain,
                                   const std::string& key) {
  if (absl::Status s = CheckReadable("certificate chain", chain); !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckReadable("private key", key); !s.ok()) return s;
  if (SSL_CTX_use_certificate_chain_file(ctx, chain.c_str()) != 1) {
    return OpenSslError("certificate chain", chain);
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) != 1) {
    if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH) {
      ERR_clear_error();
      return absl::InvalidArgumentError(absl::StrCat(
          "private key ", key, " does not match certificate ", chain));
    }
    return OpenSslError("private key", key);
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(absl::StrCat(
        "private key ", key, " does not match certificate ", chain));
  }
  return absl::OkStatus();
}

// Settings both sides share: no renegotiation (a CPU sink and a source of
// old attacks), and OpenSSL's record buffers released while a connection
// is idle, so an idle TLS connection stays cheap.
void CommonSettings(SSL_CTX* ctx, TlsVersion min_version) {
  SSL_CTX_set_min_proto_version(ctx, ProtocolVersion(min_version));
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
}

int TicketKeysIndex() {
  static const int index =
      SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

int SelectAlpn(SSL*, const unsigned char** out, unsigned char* out_length,
               const unsigned char* offered, unsigned int offered_length,
               void* arg) {
  const std::string& ours = *static_cast<const std::string*>(arg);
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, out_length,
                            reinterpret_cast<const unsigned char*>(ours.data()),
                            static_cast<unsigned int>(ours.size()), offered,
                            offered_length) != OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  }
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

}  // namespace

absl::string_view TlsFailureName(TlsFailure failure) {
  switch (failure) {
    case TlsFailure::kHandshakeTimeout:
      return "handshake_timeout";
    case TlsFailure::kHandshakeFailed:
      return "handshake_failed";
    case TlsFailure::kPlainHttp:
      return "plain_http";
    case TlsFailure::kBadRecord:
      return "bad_record";
    case TlsFailure::kShedAtCap:
      return "shed_at_cap";
    case TlsFailure::kPeerCertificateRejected:
      return "peer_certificate_rejected";
  }
  return "unknown";
}

// The session-ticket keys of one server: the current key, which encrypts
// new tickets, and the one before it, still accepted. Shared by every
// context the server builds, so tickets survive reloads.
class TlsContext::TicketKeys {
 public:
  explicit TicketKeys(absl::Duration rotation) : rotation_(rotation) {}

  // OpenSSL's ticket callback (SSL_CTX_set_tlsext_ticket_key_evp_cb), on
  // any worker thread: 1 = key set up, 2 = decrypted with an old key (issue
  // a new ticket), 0 = unknown key (full handshake), -1 = error.
  static int Callback(SSL* ssl, unsigned char name[16], unsigned char* iv,
                      EVP_CIPHER_CTX* cipher, EVP_MAC_CTX* mac, int encrypt) {
    auto* keys = static_cast<TicketKeys*>(
        SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), TicketKeysIndex()));
    if (keys == nullptr) return -1;
    std::optional<Key> key;
    bool current = true;
    {
      std::lock_guard<std::mutex> lock(keys->mutex_);
      keys->RotateIfDue();
      if (encrypt) {
        key = keys->current_;
      } else if (std::memcmp(name, keys->current_.name, 16) == 0) {
        key = keys->current_;
      } else if (keys->previous_.has_value() &&
                 std::memcmp(name, keys->previous_->name, 16) == 0) {
        key = keys->previous_;
        current = false;
      }
    }
    if (!key.has_value()) return 0;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, key->hmac,
                                          sizeof(key->hmac)),
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                         const_cast<char*>("SHA256"), 0),
        OSSL_PARAM_construct_end()};
    if (EVP_MAC_CTX_set_params(mac, params) != 1) return -1;
    if (encrypt) {
      std::memcpy(name, key->name, 16);
      if (RAND_bytes(iv, EVP_MAX_IV_LENGTH) != 1) return -1;
      return EVP_EncryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, key->aes,
                                iv) == 1
                 ? 1
                 : -1;
    }
    if (EVP_DecryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, key->aes, iv) !=
        1) {
      return -1;
    }
    // 2 also for TLS 1.3, where a client uses each ticket once (RFC 8446
    // C.4; OpenSSL's client does): a resumed connection needs a fresh
    // ticket for the next, which OpenSSL only sends when asked to renew.
    return current && SSL_version(ssl) != TLS1_3_VERSION ? 1 : 2;
  }

  absl::Status Init() {
    std::lock_guard<std::mutex> lock(mutex_);
    return MakeKey(current_) ? absl::OkStatus()
                             : absl::InternalError(absl::StrCat(
                                   "cannot make a session ticket key: ",
                                   TakeOpenSslErrors()));
  }

 private:
  struct Key {
    unsigned char name[16];
    unsigned char aes[32];
    unsigned char hmac[32];
  };

  bool MakeKey(Key& key) {
    created_ = absl::Now();
    return RAND_bytes(key.name, sizeof(key.name)) == 1 &&
           RAND_bytes(key.aes, sizeof(key.aes)) == 1 &&
           RAND_bytes(key.hmac, sizeof(key.hmac)) == 1;
  }

  void RotateIfDue() {
    if (absl::Now() - created_ < rotation_) return;
    Key next;
    if (!MakeKey(next)) return;  // keep the current key; try again later
    previous_ = current_;
    current_ = next;
  }

  const absl::Duration rotation_;
  std::mutex mutex_;
  Key current_{};
  std::optional<Key> previous_;
  absl::Time created_;
};

namespace {

int SessionCacheIndex() {
  static const int index =
      SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

void FreeServerName(void*, void* name, CRYPTO_EX_DATA*, int, long, void*) {
  delete static_cast<std::string*>(name);
}

// The server name a client connection's sessions are saved under, owned by
// its SSL.
int ServerNameIndex() {
  static const int index =
      SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, FreeServerName);
  return index;
}

}  // namespace

// The resumable sessions of one client context by server name, shared by
// every worker that connects with it. A session is taken out when a
// connection offers it: TLS 1.3 tickets are for one use (RFC 8446 C.4), and
// OpenSSL's client marks a session it resumed as spent. Bounded: a few
// sessions per name (a server sends two tickets per full handshake, one per
// resumption), and past kMaxNames names, saving one forgets another, which
// costs that name one full handshake.
class TlsContext::SessionCache {
 public:
  static constexpr size_t kMaxNames = 1024;
  static constexpr size_t kPerName = 4;

  ~SessionCache() {
    for (auto& [name, sessions] : sessions_) {
      for (SSL_SESSION* session : sessions) SSL_SESSION_free(session);
    }
  }

  // OpenSSL's new-session callback (SSL_CTX_sess_set_new_cb), on the
  // connection's thread: 1 = the reference to `session` was kept.
  static int Save(SSL* ssl, SSL_SESSION* session) {
    auto* cache = static_cast<SessionCache*>(
        SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), SessionCacheIndex()));
    auto* name = static_cast<const std::string*>(
        SSL_get_ex_data(ssl, ServerNameIndex()));
    if (cache == nullptr || name == nullptr ||
        SSL_SESSION_is_resumable(session) != 1) {
      return 0;
    }
    std::deque<SSL_SESSION*> forgotten;
    {
      std::lock_guard<std::mutex> lock(cache->mutex_);
      if (!cache->sessions_.contains(*name) &&
          cache->sessions_.size() >= kMaxNames) {
        auto victim = cache->sessions_.begin();
        forgotten = std::move(victim->second);
        cache->sessions_.erase(victim);
      }
      std::deque<SSL_SESSION*>& sessions = cache->sessions_[*name];
      sessions.push_back(session);
      if (sessions.size() > kPerName) {
        forgotten.push_back(sessions.front());
        sessions.pop_front();
      }
    }
    for (SSL_SESSION* old : forgotten) SSL_SESSION_free(old);  // unlocked
    return 1;
  }

  // The newest session saved for `name`, now the caller's; null if none.
  SSL_SESSION* Take(const std::string& name) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = sessions_.find(name);
    if (it == sessions_.end()) return nullptr;
    SSL_SESSION* session = it->second.back();
    it->second.pop_back();
    if (it->second.empty()) sessions_.erase(it);
    return session;
  }

 private:
  std::mutex mutex_;
  absl::flat_hash_map<std::string, std::deque<SSL_SESSION*>> sessions_;
};

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

void TlsContext::PrepareClientSession(ssl_st* ssl,
                                      const std::string& server_name) const {
  if (sessions_ == nullptr || server_name.empty()) return;
  auto name = std::make_unique<std::string>(server_name);
  if (SSL_set_ex_data(ssl, ServerNameIndex(), name.get()) != 1) return;
  name.release();  // the SSL's now: FreeServerName deletes it
  if (SSL_SESSION* session = sessions_->Take(server_name)) {
    (void)SSL_set_session(ssl, session);  // a failure: a full handshake
    SSL_SESSION_free(session);
  }
}

absl::StatusOr<std::shared_ptr<const TlsContext>> TlsContext::ForServer(
    const TlsServerOptions& options) {
  auto keys = std::make_shared<TicketKeys>(options.ticket_key_rotation);
  if (absl::Status s = keys->Init(); !s.ok()) return s;
  std::shared_ptr<TlsContext> context(new TlsContext);
  context->ticket_keys_ = std::move(keys);
  return ForServer(options, *context);
}

absl::StatusOr<std::shared_ptr<const TlsContext>> TlsContext::ForServer(
    const TlsServerOptions& options, const TlsContext& previous) {
  if (previous.ticket_keys_ == nullptr) {
    return absl::InvalidArgumentError("the previous context is not a server's");
  }
  if (options.max_handshakes_per_worker == 0) {
    return absl::InvalidArgumentError(
        "tls.max_handshakes_per_worker must be at least 1");
  }
  absl::StatusOr<std::string> alpn = AlpnWireFormat(options.alpn);
  if (!alpn.ok()) return alpn.status();
  std::shared_ptr<TlsContext> context(new TlsContext);
  context->is_server_ = true;
  context->handshake_timeout_ = options.handshake_timeout;
  context->max_handshakes_ = options.max_handshakes_per_worker;
  context->ticket_keys_ = previous.ticket_keys_;
  context->alpn_wire_ = *std::move(alpn);
  context->ctx_ = SSL_CTX_new(TLS_server_method());
  SSL_CTX* ctx = context->ctx_;
  if (ctx == nullptr) {
    return absl::InternalError(
        absl::StrCat("SSL_CTX_new failed: ", TakeOpenSslErrors()));
  }
  CommonSettings(ctx, options.min_version);
  SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (absl::Status s = LoadCertificateAndKey(
          ctx, options.certificate_chain_file, options.private_key_file);
      !s.ok()) {
    return s;
  }
  // Resumed sessions must belong to this server: OpenSSL refuses to resume
  // a verified session without an id context.
  static constexpr unsigned char kSessionContext[] = "eddy";
  SSL_CTX_set_session_id_context(ctx, kSessionContext,
                                 sizeof(kSessionContext) - 1);
  if (options.client_certificates != ClientCertificates::kOff) {
    const std::string& ca = options.client_ca_file;
    if (ca.empty()) {
      return absl::InvalidArgumentError(
          "client certificates are asked for, but no client_ca_file says "
          "which CAs to trust");
    }
    if (absl::Status s = CheckReadable("client CA file", ca); !s.ok()) {
      return s;
    }
    if (SSL_CTX_load_verify_locations(ctx, ca.c_str(), nullptr) != 1) {
      return OpenSslError("client CA file", ca);
    }
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(ca.c_str());
    if (names == nullptr) return OpenSslError("client CA file", ca);
    SSL_CTX_set_client_CA_list(ctx, names);
    int mode = SSL_VERIFY_PEER;
    if (options.client_certificates == ClientCertificates::kRequire) {
      mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    }
    SSL_CTX_set_verify(ctx, mode, nullptr);
  }
  if (!context->alpn_wire_.empty()) {
    SSL_CTX_set_alpn_select_cb(ctx, SelectAlpn, &context->alpn_wire_);
  }
  SSL_CTX_set_ex_data(ctx, TicketKeysIndex(), context->ticket_keys_.get());
  SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, TicketKeys::Callback);
  return std::shared_ptr<const TlsContext>(std::move(context));
}

absl::StatusOr<std::shared_ptr<const TlsContext>> TlsContext::ForClient(
    const TlsClientOptions& options) {
  absl::StatusOr<std::string> alpn = AlpnWireFormat(options.alpn);
  if (!alpn.ok()) return alpn.status();
  std::shared_ptr<TlsContext> context(new TlsContext);
  context->handshake_timeout_ = options.handshake_timeout;
  context->server_name_ = options.server_name;
  context->ctx_ = SSL_CTX_new(TLS_client_method());
  SSL_CTX* ctx = context->ctx_;
  if (ctx == nullptr) {
    return absl::InternalError(
        absl::StrCat("SSL_CTX_new failed: ", TakeOpenSslErrors()));
  }
  CommonSettings(ctx, options.min_version);
  if (options.resume_sessions) {
    // Sessions are kept by server name in the context's own cache, not
    // OpenSSL's internal one, which a client cannot look up by name.
    context->sessions_ = std::make_unique<SessionCache>();
    SSL_CTX_set_ex_data(ctx, SessionCacheIndex(), context->sessions_.get());
    SSL_CTX_set_session_cache_mode(
        ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(ctx, SessionCache::Save);
  }
  if (!options.ca_file.empty()) {
    if (absl::Status s = CheckReadable("CA file", options.ca_file); !s.ok()) {
      return s;
    }
    if (SSL_CTX_load_verify_locations(ctx, options.ca_file.c_str(), nullptr) !=
        1) {
      return OpenSslError("CA file", options.ca_file);
    }
  } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
    return absl::InternalError(absl::StrCat(
        "cannot load the system's CA store: ", TakeOpenSslErrors()));
  }
  SSL_CTX_set_verify(
      ctx, options.verify_peer ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nullptr);
  const bool has_chain = !options.certificate_chain_file.empty();
  if (has_chain != !options.private_key_file.empty()) {
    return absl::InvalidArgumentError(
        "a client certificate needs both certificate_chain_file and "
        "private_key_file");
  }
  if (has_chain) {
    if (absl::Status s = LoadCertificateAndKey(
            ctx, options.certificate_chain_file, options.private_key_file);
        !s.ok()) {
      return s;
    }
  }
  if (!alpn->empty() &&
      SSL_CTX_set_alpn_protos(
          ctx, reinterpret_cast<const unsigned char*>(alpn->data()),
          static_cast<unsigned int>(alpn->size())) != 0) {
    return absl::InternalError(
        absl::StrCat("cannot set ALPN: ", TakeOpenSslErrors()));
  }
  return std::shared_ptr<const TlsContext>(std::move(context));
}

}  // namespace eddy
