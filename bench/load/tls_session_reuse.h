#ifndef EDDY_BENCH_LOAD_TLS_SESSION_REUSE_H_
#define EDDY_BENCH_LOAD_TLS_SESSION_REUSE_H_

#include "eddy/net/tls_context.h"

struct ssl_session_st;

namespace eddy::load {

// TlsSessionReuse makes every handshake of one TLS client context offer the
// newest session its server issued, so that a load that opens a connection
// per request (--tls_resume with --mode http10) measures resumed handshakes,
// as `openssl s_time -reuse` does. The session is kept here, not per
// connection: the connections of a load thread take turns, and a TLS 1.3
// server's tickets (sent after the handshake, read with the first response)
// are good for any of them.
//
// It hooks the context's OpenSSL callbacks, so the context must be this
// object's alone (one per load thread) and must not have been used yet.
//
// Threading: the callbacks run on the threads that handshake with the
// context; use the context from one thread (a load thread's loop) only.
// Destroy this after the last connection of the context closed.
class TlsSessionReuse {
 public:
  explicit TlsSessionReuse(const TlsContext& context);
  ~TlsSessionReuse();
  TlsSessionReuse(const TlsSessionReuse&) = delete;
  TlsSessionReuse& operator=(const TlsSessionReuse&) = delete;

 private:
  // Takes the session a ticket brought (replacing the one before it).
  void Keep(ssl_session_st* session);

  const TlsContext& context_;
  ssl_session_st* session_ = nullptr;  // owned; null until the first ticket

  friend struct TlsSessionReuseCallbacks;
};

}  // namespace eddy::load

#endif  // EDDY_BENCH_LOAD_TLS_SESSION_REUSE_H_
