#include "bench/load/tls_session_reuse.h"

#include <openssl/ssl.h>

namespace eddy::load {
namespace {

// The SSL_CTX ex_data slot that points back to the context's reuser.
int ReuseIndex() {
  static const int index =
      SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

TlsSessionReuse* ReuseOf(const SSL* ssl) {
  return static_cast<TlsSessionReuse*>(
      SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ReuseIndex()));
}

}  // namespace

struct TlsSessionReuseCallbacks {
  // OpenSSL calls this for every session the server issues (each TLS 1.3
  // ticket). Returning 1 hands the reference to us.
  static int OnNewSession(SSL* ssl, SSL_SESSION* session) {
    TlsSessionReuse* reuse = ReuseOf(ssl);
    if (reuse == nullptr) return 0;
    reuse->Keep(session);
    return 1;
  }

  // The client's hello is built after SSL_CB_HANDSHAKE_START, from the SSL's
  // session: setting it here is the one hook OpenSSL offers a context to
  // choose the session of connections it does not create itself (eddy's
  // transport makes the SSL). The callback's SSL is const only by its
  // signature; the handshake it starts is this connection's own.
  static void OnInfo(const SSL* ssl, int where, int /*ret*/) {
    if ((where & SSL_CB_HANDSHAKE_START) == 0) return;
    TlsSessionReuse* reuse = ReuseOf(ssl);
    if (reuse == nullptr || reuse->session_ == nullptr) return;
    SSL* mutable_ssl = const_cast<SSL*>(ssl);
    if (SSL_get_session(mutable_ssl) != nullptr) return;  // already chosen
    // A copy per connection: OpenSSL marks a connection's session
    // unresumable when the connection ends without close_notify (the
    // server closed first, or the run aborted it), and the kept one must
    // stay good for the next connections.
    SSL_SESSION* copy = SSL_SESSION_dup(reuse->session_);
    if (copy == nullptr) return;  // out of memory: a full handshake
    SSL_set_session(mutable_ssl, copy);
    SSL_SESSION_free(copy);  // the SSL holds its own reference
  }
};

TlsSessionReuse::TlsSessionReuse(const TlsContext& context)
    : context_(context) {
  SSL_CTX* ctx = context.native();
  SSL_CTX_set_ex_data(ctx, ReuseIndex(), this);
  // OpenSSL's own client cache is never consulted by a client: keep it
  // empty and take the sessions through the callback.
  SSL_CTX_set_session_cache_mode(
      ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  SSL_CTX_sess_set_new_cb(ctx, &TlsSessionReuseCallbacks::OnNewSession);
  SSL_CTX_set_info_callback(ctx, &TlsSessionReuseCallbacks::OnInfo);
}

TlsSessionReuse::~TlsSessionReuse() {
  SSL_CTX* ctx = context_.native();
  SSL_CTX_set_ex_data(ctx, ReuseIndex(), nullptr);
  SSL_CTX_sess_set_new_cb(ctx, nullptr);
  SSL_CTX_set_info_callback(ctx, nullptr);
  SSL_SESSION_free(session_);
}

void TlsSessionReuse::Keep(ssl_session_st* session) {
  SSL_SESSION_free(session_);
  session_ = session;
}

}  // namespace eddy::load
