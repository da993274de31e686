#ifndef EDDY_HTTP_HTTP_PROTOCOL_H_
#define EDDY_HTTP_HTTP_PROTOCOL_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "eddy/core/timer_wheel.h"
#include "eddy/http/access_log.h"
#include "eddy/http/parser.h"
#include "eddy/http/response.h"
#include "eddy/http/router.h"
#include "eddy/net/connection.h"
#include "eddy/net/protocol.h"

namespace eddy::http {

struct HttpOptions {
  // Request line, header and body limits (414, 431, 413).
  ParserLimits limits;
  // The Server header's value.
  std::string server_name = "eddy";
  // Requests served on one connection before it is closed (0: no limit).
  uint64_t max_requests_per_connection = 0;
  // A request's head must arrive within request_head_timeout (slowloris)
  // and its body within request_body_timeout of the head; otherwise the
  // client gets 408 and the connection closes. The head's time counts from
  // accept for the first request (as nginx's client_header_timeout), and
  // from the end of the previous response when the connection has no idle
  // timeout; with one, idle keep-alive time is the idle timeout's and the
  // head's time counts from its first byte. A connection that sent no byte
  // of a request when the time is up is closed without a response (as
  // nginx does), so silence is never unbounded.
  absl::Duration request_head_timeout = absl::Seconds(10);
  absl::Duration request_body_timeout = absl::Seconds(30);
  // Common Log Format lines, if set.
  std::shared_ptr<AccessLog> access_log;
};

// HttpProtocol is the ProtocolFactory of eddy's HTTP/1.x server: HTTP/1.0
// first-class (close after the response unless the request asks for
// keep-alive), HTTP/1.1 persistent connections and pipelining.
//
// Every complete request of a read burst is answered in order and the
// responses leave in one write. A bad request gets its 4xx/5xx, the
// connection closes, and nothing sent after it is acted on. A client that
// pipelines without reading is held by the connection's high-water mark and
// its cap on queued files (Connection::output_full).
//
// Threading: construct before the server starts; NewHandler runs on the
// workers concurrently (it only reads the shared Router and options).
class HttpProtocol final : public ProtocolFactory {
 public:
  HttpProtocol(std::shared_ptr<const Router> router, HttpOptions options);

  std::unique_ptr<Handler> NewHandler(Connection& conn) override;
  absl::string_view OverloadResponse() const override;

 private:
  std::shared_ptr<const Router> router_;
  HttpOptions options_;
  std::string overload_response_;
};

// The per-connection HTTP handler. Public for Responder; protocol authors use
// HttpProtocol. All functions run on the connection's loop thread.
class HttpConnectionHandler final : public Handler {
 public:
  HttpConnectionHandler(const Router& router, const HttpOptions& options);

  void OnOpen(Connection& conn) override;
  void OnData(Connection& conn, Buffer& input) override;
  void OnDrained(Connection& conn) override;
  void OnInputEnd(Connection& conn) override;
  void OnServerStopping(Connection& conn) override;
  void OnClose(Connection& conn, CloseReason reason) override;

  // Delivers the answer of an asynchronous route (see Responder).
  void CompleteAsync(Connection& conn, uint64_t sequence, Response response);

  // What a request in progress needs: the parser, the response being built
  // and the request line for the access log. Borrowed from a per-worker
  // pool while a request is in progress and handed back when the connection
  // goes idle, so an idle keep-alive connection holds only this handler's
  // few words, and a busy one allocates nothing per request.
  struct RequestState;

 private:
  void ProcessInput(Connection& conn, Buffer& input);
  void Dispatch(Connection& conn, const Request& request);
  void RespondError(Connection& conn, int status, absl::string_view detail);
  void WriteResponse(Connection& conn, Response& response);
  void FinishResponse(Connection& conn, const Response& response);
  void AcquireState();
  // Arms, moves or cancels the 408 timer for the request being received.
  void UpdateRequestTimer(Connection& conn, bool receiving);
  // Arms the request timer for the head (or the body, if `body`).
  void ArmRequestTimer(Connection& conn, bool body);
  void OnRequestTimeout(Connection& conn);
  void ReleaseStateIfIdle(const Buffer& input);

  struct RequestStateDeleter {
    void operator()(RequestState* state) const;
  };

  const Router& router_;
  const HttpOptions& options_;
  std::unique_ptr<RequestState, RequestStateDeleter> state_;
  TimerId request_timer_;
  bool timing_body_ = false;  // the timer guards the body, not the head
  uint64_t requests_ = 0;
  uint64_t async_sequence_ = 0;
  bool awaiting_async_ = false;
  bool head_only_ = false;  // the request was HEAD
  bool http10_ = false;
  bool keep_alive_ = true;
  bool continue_sent_ = false;
  bool input_ended_ = false;
  bool stopping_ = false;
};

}  // namespace eddy::http

#endif  // EDDY_HTTP_HTTP_PROTOCOL_H_
