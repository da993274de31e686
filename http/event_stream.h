#ifndef EDDY_HTTP_EVENT_STREAM_H_
#define EDDY_HTTP_EVENT_STREAM_H_

#include <string>

#include "absl/strings/string_view.h"
#include "eddy/http/response.h"
#include "eddy/http/response_stream.h"

namespace eddy::http {

// One Server-Sent Event (the WHATWG HTML "text/event-stream" format).
struct ServerSentEvent {
  std::string data;   // may hold several lines
  std::string event;  // the type; empty: "message"
  std::string id;     // the last event id the client resends on reconnect
};

// The event as the stream carries it: "event:", "id:", one "data:" line per
// line of `data` (split at CRLF, CR or LF), then a blank line. An `event` or
// `id` holding CR or LF (or NUL for the id) would end its line early, so
// the field is left out.
std::string FormatServerSentEvent(const ServerSentEvent& event);

// EventStream sends Server-Sent Events over a streaming response: Head()
// is the head to pass to Responder::Stream, and each Send is one write.
//
//   EventStream events(responder.Stream(EventStream::Head()));
//   ServerSentEvent event;
//   event.data = "hello";
//   events.Send(event);
//
// Threading: as ResponseStream (any thread, one producer at a time).
class EventStream {
 public:
  // 200, Content-Type: text/event-stream, Cache-Control: no-cache.
  static Response Head();

  explicit EventStream(ResponseStream stream) : stream_(std::move(stream)) {}

  // False once the stream ended (see ResponseStream::Write).
  bool Send(const ServerSentEvent& event);
  // A comment line (": text"), e.g. to keep idle proxies from timing out.
  bool SendComment(absl::string_view text);
  bool Finish() { return stream_.Finish(); }

  // For backpressure (is_full, OnWritable) and the client leaving.
  ResponseStream& stream() { return stream_; }

 private:
  ResponseStream stream_;
};

}  // namespace eddy::http

#endif  // EDDY_HTTP_EVENT_STREAM_H_
