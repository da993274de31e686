#include "eddy/http/http_protocol.h"

#include <sys/socket.h>

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "eddy/http/http_date.h"
#include "eddy/http/internal/http_connection_handler.h"
#include "eddy/http/internal/http_metrics.h"
#include "eddy/net/connection.h"
#include "eddy/net/server_state.h"
#include "eddy/net/worker.h"

namespace eddy::http {
namespace {

// The status line and fields of the response being written; one per worker
// thread, since a response is serialized and appended in one go.
std::string& ScratchHead() {
  thread_local std::string head;
  return head;
}

// Responses whose status forbids a body (RFC 9110 6.4.1).
bool StatusHasNoBody(int status) {
  return (status >= 100 && status < 200) || status == 204 || status == 304;
}

}  // namespace

HttpProtocol::HttpProtocol(std::shared_ptr<const Router> router,
                           HttpOptions options)
    : router_(std::move(router)), options_(std::move(options)) {
  if (options_.metrics != nullptr) {
    metrics_ = std::make_unique<HttpMetrics>(*options_.metrics, *router_);
  }
  const std::string body = "503 Service Unavailable: too many connections\n";
  overload_response_ = absl::StrCat(
      "HTTP/1.1 503 Service Unavailable\r\nServer: ", options_.server_name,
      "\r\nContent-Type: text/plain\r\nContent-Length: ", body.size(),
      "\r\nRetry-After: 1\r\nConnection: close\r\n\r\n", body);
}

HttpProtocol::~HttpProtocol() = default;

std::unique_ptr<Handler> HttpProtocol::NewHandler(Connection& /*conn*/) {
  return std::make_unique<HttpConnectionHandler>(*router_, options_,
                                                 metrics_.get());
}

absl::string_view HttpProtocol::OverloadResponse() const {
  return overload_response_;
}

struct HttpConnectionHandler::RequestState {
  RequestParser parser;
  Response response;
  std::string request_line;
  // The request being answered, for the metrics.
  const HttpMetrics::RouteSeries* metrics_route = nullptr;
  size_t metrics_method = 0;
  bool metrics_timed = false;
  HttpMetrics::Clock::time_point dispatched;
};

namespace {

// Free RequestStates of this worker thread, capacity intact.
class RequestStatePool {
 public:
  static constexpr size_t kMaxFree = 1024;
  // A state whose parser grew beyond this (a large chunked body) is freed,
  // not kept: the pool must not hold on to what a burst of big requests
  // took.
  static constexpr size_t kMaxPooledBytes = 64 * 1024;
  std::vector<std::unique_ptr<HttpConnectionHandler::RequestState>> free;
};

RequestStatePool& ThreadStatePool() {
  thread_local RequestStatePool pool;
  return pool;
}

}  // namespace

void HttpConnectionHandler::RequestStateDeleter::operator()(
    RequestState* state) const {
  std::unique_ptr<RequestState> owned(state);
  RequestStatePool& pool = ThreadStatePool();
  if (pool.free.size() < RequestStatePool::kMaxFree &&
      owned->parser.held_bytes() <= RequestStatePool::kMaxPooledBytes) {
    owned->parser.Reset();
    owned->response.Reset();
    pool.free.push_back(std::move(owned));
  }
}

HttpConnectionHandler::HttpConnectionHandler(const Router& router,
                                             const HttpOptions& options,
                                             const HttpMetrics* metrics)
    : router_(router), options_(options), metrics_(metrics) {}

HttpConnectionHandler::~HttpConnectionHandler() {
  DropStream();
  // Responders still out there deliver to nothing from now on.
  if (async_target_ != nullptr) *async_target_ = nullptr;
  if (budget_account_.held() > 0 || budget_account_.waiting()) {
    RequestMemoryBudget::ForThisThread().Leave(
        budget_account_, options_.max_buffered_request_bytes);
  }
}

void HttpConnectionHandler::AcquireState() {
  if (state_ != nullptr) return;
  RequestStatePool& pool = ThreadStatePool();
  if (pool.free.empty()) {
    state_.reset(new RequestState{
        RequestParser(options_.limits), Response(), {}, nullptr, 0, false, {}});
  } else {
    state_.reset(pool.free.back().release());
    pool.free.pop_back();
    state_->parser.set_limits(options_.limits);
  }
  state_->parser.set_hold_at_body(router_.has_stream_routes());
}

bool HttpConnectionHandler::Idle(const Buffer& input) const {
  // Nothing buffered, no answer owed, and no request whose parsed bytes
  // were released from the input (only a complete head lets them go).
  return input.empty() && !awaiting_async_ &&
         (state_ == nullptr || !state_->parser.head_complete());
}

void HttpConnectionHandler::ReleaseStateIfIdle(const Buffer& input) {
  if (Idle(input)) state_.reset();
}

void HttpConnectionHandler::OnOpen(Connection& conn) {
  // The first head is due within the head timeout of accept: a connection
  // that never sends a byte must not hold its slot until the idle timeout.
  ArmRequestTimer(conn, /*body=*/false);
}

void HttpConnectionHandler::OnData(Connection& conn, Buffer& input) {
  ProcessInput(conn, input);
}

void HttpConnectionHandler::ProcessInput(Connection& conn, Buffer& input) {
  const HttpMetrics::Burst burst(metrics_);
  if (!input.empty()) AcquireState();
  while (!conn.closing() && !awaiting_async_ && !upgraded_ && !input.empty()) {
    // A client that pipelines without reading its responses: stop here and
    // continue from OnDrained, so its output stays near the high-water mark
    // and its open files at the connection's cap.
    if (conn.output_full()) break;
    RequestParser& parser = state_->parser;
    RequestParser::Status status = Parse(parser, input);
    if (parser.awaiting_body_choice()) {
      if (!ChooseBodyDelivery(parser)) {
        RespondError(conn, 500, "the route took no body");
        input.ConsumeAll();
        return;
      }
      status = Parse(parser, input);
    }
    if (status == RequestParser::Status::kError) {
      RespondError(conn, parser.error_status(), parser.error_reason());
      input.ConsumeAll();
      return;
    }
    if (status != RequestParser::Status::kComplete) {
      // Chunk framing, decoded data and streamed pieces need not stay
      // buffered until the request completes; only the limits bound what a
      // request holds.
      input.Consume(parser.ReleaseParsed());
      UpdateRequestTimer(conn, /*receiving=*/true);
      if (parser.head_complete() && !continue_sent_ &&
          parser.request().expects_continue()) {
        // The client waits for this before sending the body.
        conn.Send("HTTP/1.1 100 Continue\r\n\r\n");
        continue_sent_ = true;
      }
      break;
    }
    UpdateRequestTimer(conn, /*receiving=*/false);
    Dispatch(conn, parser.request());
    // The request's views die here: handlers copied what they kept.
    input.Consume(parser.consumed());
    parser.Reset();
    continue_sent_ = false;
  }
  // The rest of the input belongs to the new protocol.
  if (upgraded_) return;
  if (input.empty()) {
    input.ReleaseIfEmpty();
    ReleaseStateIfIdle(input);
    // Waiting for the next request. Without an idle timeout nothing else
    // would bound this silence: the head's time starts now.
    if (!awaiting_async_ && !conn.closing() && !request_timer_.valid() &&
        conn.idle_timeout() == absl::InfiniteDuration()) {
      ArmRequestTimer(conn, /*body=*/false);
    }
  }
  AccountMemory(conn, input);
  if (input_ended_ && !awaiting_async_) conn.Close(CloseReason::kPeerClosed);
}

RequestParser::Status HttpConnectionHandler::Parse(RequestParser& parser,
                                                   const Buffer& input) {
  if (body_sink_ == nullptr) return parser.Parse(input.view());
  return parser.Parse(input.view(), [this](absl::string_view piece) {
    body_sink_->OnBodyData(piece);
  });
}

bool HttpConnectionHandler::ChooseBodyDelivery(RequestParser& parser) {
  const Request& head = parser.request();
  const Router::Match match = router_.Find(head.method(), head.path());
  if (match.route == nullptr || match.route->stream_handler == nullptr) {
    parser.BufferBody();
    return true;
  }
  body_sink_ = match.route->stream_handler(head);
  if (body_sink_ == nullptr) return false;
  StartMeasuring(match.route, /*parsed=*/true, head.method());
  parser.StreamBody();
  return true;
}

void HttpConnectionHandler::AccountMemory(Connection& conn,
                                          const Buffer& input) {
  if (conn.closing()) return;  // OnClose gives it all back
  // Only a buffered body in progress is held back: a head is small and
  // bounded, a streamed body leaves as it arrives, and a request waiting
  // on its answer reads nothing anyway.
  const bool mid_body = state_ != nullptr && state_->parser.head_complete() &&
                        body_sink_ == nullptr;
  const size_t held =
      input.capacity() + (state_ != nullptr ? state_->parser.held_bytes() : 0);
  RequestMemoryBudget::ForThisThread().Update(
      budget_account_, conn, held, mid_body,
      options_.max_buffered_request_bytes);
}

void HttpConnectionHandler::Dispatch(Connection& conn, const Request& request) {
  ++requests_;
  http10_ = request.version() == Version::kHttp10;
  head_only_ = request.method() == "HEAD";
  keep_alive_ = request.keep_alive() && !stopping_ &&
                (options_.max_requests_per_connection == 0 ||
                 requests_ < options_.max_requests_per_connection);
  if (options_.access_log != nullptr) {
    state_->request_line = absl::StrCat(request.method(), " ", request.target(),
                                        http10_ ? " HTTP/1.0" : " HTTP/1.1");
  }
  if (body_sink_ != nullptr) {
    // Answered like an asynchronous route: later requests wait.
    awaiting_async_ = true;
    conn.PauseReading();
    std::unique_ptr<BodySink> sink = std::move(body_sink_);
    sink->OnBodyEnd(request, MakeResponder(conn));
    return;
  }
  Response& response = state_->response;
  response.Reset();
  const Router::Match match = router_.Find(request.method(), request.path());
  StartMeasuring(match.route, /*parsed=*/true, request.method());
  if (match.route == nullptr) {
    response.set_status(match.status);
    if (match.status == 405) response.AddHeader("Allow", match.allow);
    response.set_content_type("text/plain");
    response.set_body(
        absl::StrCat(match.status, " ", ReasonPhrase(match.status), "\n"));
    WriteResponse(conn, response);
    return;
  }
  if (match.route->async_handler != nullptr) {
    // Later requests wait (unparsed, reading paused) so that responses
    // leave in request order.
    awaiting_async_ = true;
    conn.PauseReading();
    match.route->async_handler(request, MakeResponder(conn));
    return;
  }
  match.route->handler(request, response);
  WriteResponse(conn, response);
}

Responder HttpConnectionHandler::MakeResponder(Connection& conn) {
  if (async_target_ == nullptr) {
    async_target_ = std::make_shared<HttpConnectionHandler*>(this);
  }
  return Responder(
      conn.ref(),
      [target = async_target_, sequence = ++async_sequence_](
          Connection& conn, Response response,
          std::shared_ptr<StreamChannel> stream) {
        if (*target != nullptr) {
          (*target)->CompleteAsync(conn, sequence, std::move(response),
                                   std::move(stream));
        } else if (stream != nullptr) {
          stream->MarkClosed(/*client_gone=*/true);
        }
      },
      conn.options().high_water_mark);
}

void HttpConnectionHandler::CompleteAsync(
    Connection& conn, uint64_t sequence, Response response,
    std::shared_ptr<StreamChannel> stream) {
  if (!awaiting_async_ || sequence != async_sequence_ || conn.closing()) {
    if (stream != nullptr) stream->MarkClosed(/*client_gone=*/true);
    return;
  }
  if (stream != nullptr) {
    StartStream(conn, response, std::move(stream));
    return;
  }
  awaiting_async_ = false;
  WriteResponse(conn, response);
  if (conn.closing() || upgraded_) return;
  conn.ResumeReading();
  ProcessInput(conn, conn.input());
}

void HttpConnectionHandler::RespondError(Connection& conn, int status,
                                         absl::string_view detail) {
  keep_alive_ = false;
  head_only_ = false;
  AcquireState();
  if (options_.access_log != nullptr) state_->request_line = "-";
  StartMeasuring(nullptr, /*parsed=*/false, {});
  Response& response = state_->response;
  response.Reset();
  response.set_status(status);
  response.set_content_type("text/plain");
  response.set_body(
      absl::StrCat(status, " ", ReasonPhrase(status), ": ", detail, "\n"));
  WriteResponse(conn, response);
}

void HttpConnectionHandler::DecideKeepAlive(const Connection& conn,
                                            const Response& response) {
  // The state is read per response (one atomic load) as well as noted by
  // OnDrain: a response written between Drain and this worker's OnDrain
  // says "close" too.
  if (response.close_connection() || stopping_ || ending_ ||
      conn.worker().server_state() == ServerState::kDraining) {
    keep_alive_ = false;
  }
}

void HttpConnectionHandler::StartHead(int status, std::string& head) {
  head.clear();
  absl::StrAppend(&head, "HTTP/1.1 ", status, " ", ReasonPhrase(status),
                  "\r\nServer: ", options_.server_name,
                  "\r\nDate: ", CurrentHttpDate(), "\r\n");
}

void HttpConnectionHandler::EndHead(const Response& response,
                                    std::string& head) {
  if (!keep_alive_) {
    head.append("Connection: close\r\n");
  } else if (http10_) {
    head.append("Connection: keep-alive\r\n");
  }
  head.append(response.header_block().data(), response.header_block().size());
  head.append("\r\n");
}

void HttpConnectionHandler::WriteResponse(Connection& conn,
                                          Response& response) {
  if (response.switching_protocols()) {
    SwitchProtocols(conn, response);
    return;
  }
  const int status = response.status();
  const bool no_body = StatusHasNoBody(status);
  DecideKeepAlive(conn, response);
  std::string& head = ScratchHead();
  StartHead(status, head);
  if (!no_body) {
    // A HEAD states the GET's length; 304 keeps no length of its own.
    absl::StrAppend(&head, "Content-Length: ", response.content_length(),
                    "\r\n");
  }
  EndHead(response, head);
  const bool send_body = !head_only_ && !no_body;
  if (send_body && !response.has_file() && response.body().size() <= 4096) {
    // Small bodies join the head: one append to the output, one write.
    head.append(response.body());
    conn.Send(head);
  } else {
    conn.Send(head);
    if (send_body) {
      if (response.has_file()) {
        const off_t offset = response.file_offset();
        const uint64_t length = response.content_length();
        conn.SendFile(response.TakeFile(), offset, length);
      } else {
        // Moved, not copied: the body leaves from its own memory in the
        // same sendmsg as the head.
        conn.Send(response.TakeBody());
      }
    }
  }
  FinishResponse(conn, status, head_only_ ? 0 : response.content_length());
}

void HttpConnectionHandler::SwitchProtocols(Connection& conn,
                                            Response& response) {
  std::string& head = ScratchHead();
  StartHead(101, head);
  head.append("Connection: Upgrade\r\n");
  head.append(response.header_block().data(), response.header_block().size());
  head.append("\r\n");
  conn.Send(head);
  upgraded_ = true;
  // The connection goes on under the new protocol whatever HTTP's
  // keep-alive rules would have said.
  keep_alive_ = true;
  FinishResponse(conn, 101, 0);
  conn.ReplaceHandler(response.TakeUpgrade());
}

void HttpConnectionHandler::StartStream(Connection& conn, Response& head,
                                        std::shared_ptr<StreamChannel> stream) {
  const int status = head.status();
  const bool no_body = StatusHasNoBody(status);
  DecideKeepAlive(conn, head);
  stream_has_body_ = !head_only_ && !no_body;
  // HTTP/1.0 has no chunked coding: the body ends when the connection does.
  stream_chunked_ = !http10_;
  if (!stream_chunked_ && !no_body && !head_only_) keep_alive_ = false;
  std::string& text = ScratchHead();
  StartHead(status, text);
  if (!no_body && stream_chunked_)
    text.append("Transfer-Encoding: chunked\r\n");
  EndHead(head, text);
  conn.Send(text);
  stream_status_ = status;
  streamed_bytes_ = 0;
  stream_ = std::move(stream);
  stream_->Attach(this);
}

void HttpConnectionHandler::WritePiece(Connection& conn, std::string piece) {
  stream_->Delivered(piece.size());
  if (stream_has_body_) {
    streamed_bytes_ += piece.size();
    if (!stream_chunked_) {
      conn.Send(std::move(piece));
    } else {
      // The size line fits a string's own buffer (no allocation); the piece
      // is copied into the output when small and moved when large.
      conn.Send(absl::StrCat(absl::Hex(piece.size()), "\r\n"));
      conn.Send(std::move(piece));
      conn.Send("\r\n");
    }
  }
  // Reading pauses at the mark too, and OnDrained says when it is below.
  if (conn.output_full()) stream_->SetOverHighWater(true);
  stream_->NotifyIfWritable();
}

void HttpConnectionHandler::FinishStream(Connection& conn, Trailers trailers) {
  if (stream_has_body_ && stream_chunked_) {
    std::string end = "0\r\n";
    for (const auto& [name, value] : trailers) {
      // A field that could break the framing is dropped, as in AddHeader.
      if (name.empty() || name.find_first_of(":\r\n") != std::string::npos ||
          value.find_first_of("\r\n") != std::string::npos) {
        continue;
      }
      absl::StrAppend(&end, name, ": ", value, "\r\n");
    }
    end.append("\r\n");
    conn.Send(std::move(end));
  }
  stream_->MarkClosed(/*client_gone=*/false);
  EndStream(conn);
}

void HttpConnectionHandler::AbandonStream(Connection& conn) {
  // Without the body's end the connection cannot carry another response.
  keep_alive_ = false;
  stream_->MarkClosed(/*client_gone=*/false);
  EndStream(conn);
}

void HttpConnectionHandler::EndStream(Connection& conn) {
  stream_.reset();
  awaiting_async_ = false;
  FinishResponse(conn, stream_status_, streamed_bytes_);
  if (conn.closing()) return;
  conn.ResumeReading();
  ProcessInput(conn, conn.input());
}

void HttpConnectionHandler::DropStream() {
  if (stream_ == nullptr) return;
  stream_->MarkClosed(/*client_gone=*/true);
  stream_.reset();
}

void HttpConnectionHandler::FinishResponse(Connection& conn, int status,
                                           uint64_t body_bytes) {
  if (options_.access_log != nullptr) {
    options_.access_log->Record(
        conn.loop(), conn.peer().host(),
        state_ != nullptr ? absl::string_view(state_->request_line) : "-",
        status, body_bytes);
  }
  if (metrics_ != nullptr && state_ != nullptr &&
      state_->metrics_route != nullptr) {
    metrics_->Finish(conn.worker_index(), *state_->metrics_route,
                     state_->metrics_method, status, state_->metrics_timed,
                     state_->dispatched);
    state_->metrics_route = nullptr;
  }
  if (!keep_alive_) conn.Close();
}

void HttpConnectionHandler::StartMeasuring(const Router::Route* route,
                                           bool parsed,
                                           absl::string_view method) {
  if (metrics_ == nullptr) return;
  const HttpMetrics::RouteSeries* series =
      parsed ? metrics_->ForRoute(route) : metrics_->for_errors();
  state_->metrics_route = series;
  state_->metrics_method = HttpMetrics::MethodIndex(*series, method);
  state_->metrics_timed = parsed;
  if (parsed) state_->dispatched = HttpMetrics::Now();
}

void HttpConnectionHandler::OnDrained(Connection& conn) {
  if (stream_ != nullptr) {
    stream_->SetOverHighWater(false);
    stream_->NotifyIfWritable();
  }
  ProcessInput(conn, conn.input());
}

void HttpConnectionHandler::OnInputEnd(Connection& conn) {
  input_ended_ = true;
  // An answer still owed (asynchronous route) is sent before closing.
  if (!awaiting_async_) conn.Close(CloseReason::kPeerClosed);
}

void HttpConnectionHandler::UpdateRequestTimer(Connection& conn,
                                               bool receiving) {
  const bool body = receiving && state_->parser.head_complete();
  if (request_timer_.valid() && (!receiving || body != timing_body_)) {
    conn.CancelTimer(request_timer_);
    request_timer_ = {};
  }
  if (!receiving || request_timer_.valid()) return;
  ArmRequestTimer(conn, body);
}

void HttpConnectionHandler::ArmRequestTimer(Connection& conn, bool body) {
  const absl::Duration limit =
      body ? options_.request_body_timeout : options_.request_head_timeout;
  if (limit == absl::InfiniteDuration()) return;
  timing_body_ = body;
  // A connection timer: it stops with the connection, and with this
  // handler when the connection switches protocol (ReplaceHandler).
  request_timer_ = conn.RunAfter(
      limit, [this](Connection& conn) { OnRequestTimeout(conn); });
}

void HttpConnectionHandler::OnRequestTimeout(Connection& conn) {
  request_timer_ = {};
  if (conn.closing()) return;
  if (!timing_body_ && conn.input().empty()) {
    // No byte of a request arrived. While the previous response is still
    // leaving, the wait has not really begun: look again a period later.
    if (conn.output_bytes() > 0) {
      ArmRequestTimer(conn, /*body=*/false);
      return;
    }
    // Nothing was asked, so nothing is answered (nginx closes silently too).
    conn.Close(CloseReason::kIdleTimeout);
    return;
  }
  // Whatever else arrives is not acted on: the connection closes.
  conn.input().ConsumeAll();
  RespondError(conn, 408,
               timing_body_ ? "the request body did not arrive in time"
                            : "the request head did not arrive in time");
}

void HttpConnectionHandler::OnClose(Connection& conn, CloseReason /*reason*/) {
  request_timer_ = {};  // connection timers end with the connection
  DropStream();
  body_sink_.reset();
  RequestMemoryBudget::ForThisThread().Leave(
      budget_account_, options_.max_buffered_request_bytes);
}

void HttpConnectionHandler::OnDrain(Connection& conn) { EndSoon(conn); }

void HttpConnectionHandler::OnMaxAge(Connection& conn) { EndSoon(conn); }

void HttpConnectionHandler::EndSoon(Connection& conn) {
  if (ending_) return;
  ending_ = true;
  // Not closed at once even when idle: the client may have sent its next
  // request already, and closing under it would lose it. A request that
  // comes within the grace is answered, with "Connection: close".
  ArmIdleGrace(conn);
}

void HttpConnectionHandler::ArmIdleGrace(Connection& conn) {
  conn.RunAfter(options_.drain_idle_grace,
                [this](Connection& conn) { CloseIfIdle(conn); });
}

void HttpConnectionHandler::CloseIfIdle(Connection& conn) {
  if (conn.closing() || !Idle(conn.input())) return;
  if (conn.output_bytes() > 0) {
    // A keep-alive response from before the drain is still leaving: its
    // client may send again once it has it.
    ArmIdleGrace(conn);
    return;
  }
  conn.Close(CloseReason::kLocalClose);
}

void HttpConnectionHandler::OnServerStopping(Connection& conn) {
  stopping_ = true;
  // A request in flight (being received or answered) finishes first, with
  // "Connection: close"; an idle keep-alive connection closes now.
  if (!Idle(conn.input())) return;
  // A connection opened but not yet read (Stop hands the listener's queue
  // to the workers just before this) may hold its request in the socket:
  // its readable edge is still to come, and closing now would lose it.
  char byte;
  if (::recv(conn.fd(), &byte, 1, MSG_PEEK | MSG_DONTWAIT) > 0) return;
  conn.Close(CloseReason::kServerStopping);
}

}  // namespace eddy::http
