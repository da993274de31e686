#ifndef EDDY_HTTP_RESPONDER_H_
#define EDDY_HTTP_RESPONDER_H_

#include <cstdint>

#include "eddy/http/response.h"
#include "eddy/net/connection_ref.h"

namespace eddy::http {

// Responder answers one request of an asynchronous route, later and from any
// thread. Responses on a connection still leave in request order: the
// connection reads no further request until this one is answered.
//
// Move-only. Send may be called from any thread, at most once. A Responder
// destroyed without Send answers 500, so a forgotten request never hangs
// its client.
class Responder {
 public:
  Responder(ConnectionRef connection, uint64_t sequence)
      : connection_(connection), sequence_(sequence) {}
  Responder(Responder&& other) noexcept;
  Responder& operator=(Responder&&) = delete;
  Responder(const Responder&) = delete;
  ~Responder();

  // Queues `response` for the connection's loop. Returns false if the
  // connection has closed already (the response is dropped) or Send was
  // called before.
  bool Send(Response response);

 private:
  ConnectionRef connection_;
  uint64_t sequence_;
  bool sent_ = false;
};

}  // namespace eddy::http

#endif  // EDDY_HTTP_RESPONDER_H_
