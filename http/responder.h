#ifndef EDDY_HTTP_RESPONDER_H_
#define EDDY_HTTP_RESPONDER_H_

#include <cstdint>
#include <utility>

#include "absl/functional/any_invocable.h"

#include "eddy/http/response.h"
#include "eddy/net/connection_ref.h"

namespace eddy {
class Connection;
}  // namespace eddy

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
  // Runs on the connection's loop thread, inside its dispatch, with the
  // response; skipped if the connection closed first.
  using Delivery = absl::AnyInvocable<void(Connection&, Response) &&>;

  // Made by the HTTP protocol for an asynchronous route.
  Responder(ConnectionRef connection, Delivery deliver)
      : connection_(connection), deliver_(std::move(deliver)) {}
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
  Delivery deliver_;
  bool sent_ = false;
};

}  // namespace eddy::http

#endif  // EDDY_HTTP_RESPONDER_H_
