#ifndef EDDY_HTTP_RESPONDER_H_
#define EDDY_HTTP_RESPONDER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

#include "absl/functional/any_invocable.h"
#include "eddy/http/response.h"
#include "eddy/http/response_stream.h"
#include "eddy/net/connection_ref.h"

namespace eddy {
class Connection;
}  // namespace eddy

namespace eddy::http {

// Responder answers one request of an asynchronous route, later and from any
// thread. Responses on a connection still leave in request order: the
// connection reads no further request until this one is answered.
//
// Move-only. Send or Stream may be called from any thread, once. A Responder
// destroyed without either answers 500, so a forgotten request never hangs
// its client.
class Responder {
 public:
  // Runs on the connection's loop thread, inside its dispatch, with the
  // response (and, for Stream, the channel its body comes through; null
  // otherwise); skipped if the connection closed first.
  using Delivery = absl::AnyInvocable<void(Connection&, Response,
                                           std::shared_ptr<StreamChannel>) &&>;

  // Made by the HTTP protocol for an asynchronous route, on the connection's
  // loop thread; `high_water_mark` is the connection's (a stream's producer
  // is held against it).
  Responder(ConnectionRef connection, Delivery deliver, size_t high_water_mark)
      : connection_(connection),
        deliver_(std::move(deliver)),
        high_water_mark_(high_water_mark) {}
  Responder(Responder&& other) noexcept;
  Responder& operator=(Responder&&) = delete;
  Responder(const Responder&) = delete;
  ~Responder();

  // Queues `response` for the connection's loop. Returns false if the
  // connection has closed already (the response is dropped) or Send was
  // called before.
  bool Send(Response response);
  // Queues `head` (status and fields; its body is ignored) as the start of
  // a streaming response and returns the stream its body is written to
  // (see ResponseStream). If the connection has closed already, or Send or
  // Stream was called before, the stream returned is closed.
  ResponseStream Stream(Response head);

  // The connection the answer goes to. Any thread.
  const ConnectionRef& connection() const { return connection_; }

 private:
  ConnectionRef connection_;
  Delivery deliver_;
  size_t high_water_mark_;
  bool sent_ = false;
};

}  // namespace eddy::http

#endif  // EDDY_HTTP_RESPONDER_H_
