#ifndef EDDY_HTTP_INTERNAL_HTTP_CONNECTION_HANDLER_H_
#define EDDY_HTTP_INTERNAL_HTTP_CONNECTION_HANDLER_H_

#include <cstdint>
#include <memory>

#include "eddy/core/timer_wheel.h"
#include "eddy/http/body_sink.h"
#include "eddy/http/http_protocol.h"
#include "eddy/http/internal/request_memory_budget.h"
#include "eddy/http/internal/stream_channel.h"
#include "eddy/http/parser.h"
#include "eddy/http/responder.h"
#include "eddy/http/response.h"
#include "eddy/net/connection.h"
#include "eddy/net/protocol.h"

namespace eddy::http {

// The per-connection HTTP handler that HttpProtocol makes. Internal: protocol
// authors use HttpProtocol, and asynchronous answers reach it through the
// Responder's delivery, not through a cast of Connection::handler(). All
// functions run on the connection's loop thread.
class HttpConnectionHandler final : public Handler, private StreamTarget {
 public:
  // `metrics` null: nothing is recorded.
  HttpConnectionHandler(const Router& router, const HttpOptions& options,
                        const HttpMetrics* metrics);
  ~HttpConnectionHandler() override;

  void OnOpen(Connection& conn) override;
  void OnData(Connection& conn, Buffer& input) override;
  void OnDrained(Connection& conn) override;
  void OnInputEnd(Connection& conn) override;
  void OnDrain(Connection& conn) override;
  void OnMaxAge(Connection& conn) override;
  void OnServerStopping(Connection& conn) override;
  void OnClose(Connection& conn, CloseReason reason) override;

  // What a request in progress needs: the parser, the response being built
  // and the request line for the access log. Borrowed from a per-worker
  // pool while a request is in progress and handed back when the connection
  // goes idle, so an idle keep-alive connection holds only this handler's
  // few words, and a busy one allocates nothing per request.
  struct RequestState;

 private:
  // Delivers the answer of an asynchronous route (see Responder); with a
  // `stream`, `response` is the head of a streaming response.
  void CompleteAsync(Connection& conn, uint64_t sequence, Response response,
                     std::shared_ptr<StreamChannel> stream);
  // Sends the head of a streaming response; its body follows through
  // StreamTarget.
  void StartStream(Connection& conn, Response& head,
                   std::shared_ptr<StreamChannel> stream);
  // StreamTarget.
  void WritePiece(Connection& conn, std::string piece) override;
  void FinishStream(Connection& conn, Trailers trailers) override;
  void AbandonStream(Connection& conn) override;
  // The stream is over: log it, then go on with the next request.
  void EndStream(Connection& conn);
  // Detaches the stream when the connection or this handler ends first.
  void DropStream();
  // A Responder for the request being dispatched: it reaches this handler
  // while it lives, and nothing once it is gone.
  Responder MakeResponder(Connection& conn);
  void ProcessInput(Connection& conn, Buffer& input);
  // Parses what `input` holds, streaming body pieces to body_sink_ if set.
  RequestParser::Status Parse(RequestParser& parser, const Buffer& input);
  // At the end of a head that announces a body: a streaming route gets a
  // sink for it, any other request buffers it. False if the route gave no
  // sink.
  bool ChooseBodyDelivery(RequestParser& parser);
  // Reports what this connection holds to the worker's budget, which may
  // pause its reading.
  void AccountMemory(Connection& conn, const Buffer& input);
  void Dispatch(Connection& conn, const Request& request);
  void RespondError(Connection& conn, int status, absl::string_view detail);
  void WriteResponse(Connection& conn, Response& response);
  // Sends the 101 head and hands the connection to the response's handler.
  void SwitchProtocols(Connection& conn, Response& response);
  // Whether the connection persists after `response` (or a stream with
  // this head): clears keep_alive_ when the response or the server's state
  // says to close.
  void DecideKeepAlive(const Connection& conn, const Response& response);
  // A response head is the status line and the fields every response
  // carries (StartHead), its framing field (the caller's), then the
  // Connection field, the response's own fields and the blank line
  // (EndHead).
  void StartHead(int status, std::string& head);
  void EndHead(const Response& response, std::string& head);
  // Logs and measures the response (`body_bytes` sent) and closes the
  // connection if it does not persist.
  void FinishResponse(Connection& conn, int status, uint64_t body_bytes);
  // Notes the request being answered for the metrics: its route's series
  // (null: no route, or a request that never parsed) and method.
  void StartMeasuring(const Router::Route* route, bool parsed,
                      absl::string_view method);
  void AcquireState();
  // Arms, moves or cancels the 408 timer for the request being received.
  void UpdateRequestTimer(Connection& conn, bool receiving);
  // Arms the request timer for the head (or the body, if `body`).
  void ArmRequestTimer(Connection& conn, bool body);
  void OnRequestTimeout(Connection& conn);
  // The connection should end soon (draining, or max age): every response
  // from now on says "Connection: close", and an idle connection closes
  // after HttpOptions::drain_idle_grace.
  void EndSoon(Connection& conn);
  void ArmIdleGrace(Connection& conn);
  // From the grace timer: closes the connection if it is idle and its
  // output left.
  void CloseIfIdle(Connection& conn);
  // No request in progress and no answer owed.
  bool Idle(const Buffer& input) const;
  void ReleaseStateIfIdle(const Buffer& input);

  struct RequestStateDeleter {
    void operator()(RequestState* state) const;
  };

  const Router& router_;
  const HttpOptions& options_;
  const HttpMetrics* const metrics_;
  std::unique_ptr<RequestState, RequestStateDeleter> state_;
  // Shared with this handler's Responders; cleared when it is destroyed.
  // Made on the first asynchronous request only.
  std::shared_ptr<HttpConnectionHandler*> async_target_;
  // Where a streaming route's body goes while it arrives.
  std::unique_ptr<BodySink> body_sink_;
  // The streaming response being sent (null: none). Later requests wait
  // for its end like for an asynchronous answer (awaiting_async_).
  std::shared_ptr<StreamChannel> stream_;
  int stream_status_ = 0;
  uint64_t streamed_bytes_ = 0;
  bool stream_chunked_ = false;   // HTTP/1.1: chunked; HTTP/1.0: until close
  bool stream_has_body_ = false;  // not HEAD, 204 or 304
  RequestMemoryBudget::Account budget_account_;
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
  bool ending_ = false;    // EndSoon was called
  bool upgraded_ = false;  // 101 sent: the connection is the new handler's
};

}  // namespace eddy::http

#endif  // EDDY_HTTP_INTERNAL_HTTP_CONNECTION_HANDLER_H_
