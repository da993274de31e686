#ifndef EDDY_HTTP_RESPONSE_STREAM_H_
#define EDDY_HTTP_RESPONSE_STREAM_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "eddy/net/connection_ref.h"

namespace eddy::http {

class StreamChannel;

// Trailer fields sent after a chunked body: (name, value) pairs.
using Trailers = std::vector<std::pair<std::string, std::string>>;

// ResponseStream is the producer's end of a streaming response, made by
// Responder::Stream once the head is queued. The body leaves piece by piece
// as Write is called: in chunked transfer coding on HTTP/1.1, close-delimited
// (the connection closes after it) on HTTP/1.0. Finish ends the body, with
// trailers on HTTP/1.1. Later requests on the connection wait until then,
// so pipelined responses stay in order.
//
// Backpressure: is_full() turns true while the connection's output is above
// its high-water mark (or much is on its way to it); a producer then stops
// and goes on from OnWritable. Nothing bounds a producer that ignores it.
//
// The client may go first: the connection closes, closed() turns true, the
// OnClientGone callback runs and further Writes return false.
//
// Threading: Write, Finish, is_full and closed may be called from any thread
// (one producer at a time: pieces leave in the order of the calls); the
// callbacks run on the connection's loop thread, inside its dispatch.
// Move-only. Destroyed without Finish, it ends the response by closing the
// connection without the body's end (chunked: no last chunk), so the client
// sees that the body was cut short.
class ResponseStream {
 public:
  ResponseStream() = default;
  explicit ResponseStream(std::shared_ptr<StreamChannel> channel);
  ResponseStream(ResponseStream&& other) noexcept = default;
  ResponseStream& operator=(ResponseStream&& other) noexcept;
  ResponseStream(const ResponseStream&) = delete;
  ResponseStream& operator=(const ResponseStream&) = delete;
  ~ResponseStream();

  // Queues `piece` as the next part of the body (empty pieces are skipped).
  // False if the stream ended (finished, or the client is gone).
  bool Write(std::string piece);
  // Ends the body; `trailers` follow it on HTTP/1.1 (dropped on HTTP/1.0).
  // False if the stream had ended already.
  bool Finish(Trailers trailers = {});

  // The producer should wait for OnWritable before writing more.
  bool is_full() const;
  // The stream can take no more: finished, or the client is gone.
  bool closed() const;

  // Runs `callback` once, on the loop thread, as soon as the stream is not
  // full (at once, on the next turn of the loop, if it is not full now).
  // Replaces an earlier callback that has not run. Never runs if the
  // connection closes first.
  void OnWritable(absl::AnyInvocable<void() &&> callback);
  // Runs `callback` once if the connection closes before Finish: on the
  // loop thread then, or right away on the caller's thread if it is closed
  // already.
  void OnClientGone(absl::AnyInvocable<void() &&> callback);

  // The connection the response goes to, e.g. to set connection timers
  // for a producer that runs on its loop (ConnectionRef::Post).
  ConnectionRef connection() const;

 private:
  void Abandon();

  std::shared_ptr<StreamChannel> channel_;
  bool finished_ = false;
};

}  // namespace eddy::http

#endif  // EDDY_HTTP_RESPONSE_STREAM_H_
