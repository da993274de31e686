#ifndef EDDY_HTTP_BODY_SINK_H_
#define EDDY_HTTP_BODY_SINK_H_

#include "absl/strings/string_view.h"
#include "eddy/http/request.h"
#include "eddy/http/responder.h"

namespace eddy::http {

// BodySink takes one request's body in pieces as they arrive, for a route
// registered with Router::HandleStream: the body is never buffered whole,
// so max_body_bytes does not apply to it and an upload may be larger than
// memory. Each piece is released from the connection's input once handed
// over.
//
// Threading: made, fed and ended on the connection's worker thread, inside
// its dispatch; it must not block. The Responder it gets at the end may be
// moved to any thread (see Responder).
class BodySink {
 public:
  // Destroyed after OnBodyEnd, or without it when the body never completes
  // (the client left, timed out or broke the framing).
  virtual ~BodySink() = default;

  // The next piece of the decoded body (Content-Length or chunked), valid
  // only during the call.
  virtual void OnBodyData(absl::string_view piece) = 0;
  // The whole body arrived. `request` is the head (its body() is empty; its
  // views, trailers included, are valid only during the call); the answer
  // goes through `responder`, now or later.
  virtual void OnBodyEnd(const Request& request, Responder responder) = 0;
};

}  // namespace eddy::http

#endif  // EDDY_HTTP_BODY_SINK_H_
