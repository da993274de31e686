#include "eddy/http/client.h"

#include <algorithm>
#include <deque>
#include <mutex>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "eddy/core/buffer.h"
#include "eddy/core/event_loop.h"
#include "eddy/http/response_parser.h"
#include "eddy/http/url.h"
#include "eddy/net/connection.h"
#include "eddy/net/connector.h"
#include "eddy/net/protocol.h"
#include "eddy/net/tls_context.h"

namespace eddy::http {

std::optional<absl::string_view> ClientResponse::FindHeader(
    absl::string_view name) const {
  for (const auto& [field, value] : headers) {
    if (absl::EqualsIgnoreCase(field, name)) return value;
  }
  return std::nullopt;
}

namespace internal_client {
namespace {

bool IsIdempotent(absl::string_view method) {
  return method == "GET" || method == "HEAD" || method == "PUT" ||
         method == "DELETE" || method == "OPTIONS";
}

// A copy of `status` with a representation of its own. The callback's
// status often goes to another thread while eddy's copies are released on
// the worker; the shared count is atomic, but inside Debian's Abseil, which
// TSan cannot see, so a shared one looks like a race.
absl::Status Unshared(const absl::Status& status) {
  return absl::Status(status.code(), status.message());
}

bool HasLineBreak(absl::string_view text) {
  return text.find_first_of("\r\n") != absl::string_view::npos;
}

}  // namespace

class HostPool;
class PooledConnection;

// One request and its answer in the making. Lives in a pool's queue or on
// a connection's in-flight list, and only on its worker's thread.
struct Exchange {
  std::string wire;  // the serialized request
  bool https = false;
  std::string host_port;
  std::string pool_key;  // "http://host:port" or "https://host:port"
  bool head = false;
  bool idempotent = false;
  absl::AnyInvocable<void(absl::string_view)> on_body;
  Client::Callback callback;
  ClientResponse response;
  size_t held_bytes = 0;  // counted against max_response_bytes
  bool response_started = false;
  int sends = 0;
  TimerId total_timer;
  HostPool* pool = nullptr;
  PooledConnection* connection = nullptr;  // null while queued
};

// The context of every https:// connection of one client, shared by its
// workers (and so is its session cache), built when the first https://
// request needs it: loading a CA store costs milliseconds a client that
// speaks only http:// should not pay. HTTP/1.1 is offered by ALPN, so a
// server that speaks more knows which this is.
class SharedTlsContext {
 public:
  explicit SharedTlsContext(const ClientOptions& options) {
    options_.ca_file = options.ca_file;
    options_.verify_peer = options.verify_peer;
    options_.alpn = {"http/1.1"};
    options_.handshake_timeout = options.tls_handshake_timeout;
  }

  // Any thread.
  const absl::StatusOr<std::shared_ptr<const TlsContext>>& Get() {
    std::call_once(built_, [this] {
      context_ = TlsContext::ForClient(options_);
      if (!context_.ok()) {
        context_ = absl::Status(context_.status().code(),
                                absl::StrCat("https:// cannot be used: ",
                                             context_.status().message()));
      }
    });
    return context_;
  }

 private:
  TlsClientOptions options_;
  std::once_flag built_;
  absl::StatusOr<std::shared_ptr<const TlsContext>> context_;
};

// A worker's side of the client: its pools, one per scheme and host:port.
// Shared with the connections' handlers, which may outlive the Client (they
// close on the loop after it is gone) and then find it detached.
class WorkerState : public std::enable_shared_from_this<WorkerState> {
 public:
  WorkerState(Worker& worker, const ClientOptions& options,
              std::shared_ptr<SharedTlsContext> tls)
      : worker_(worker), options_(options), tls_(std::move(tls)) {}

  Worker& worker() { return worker_; }
  EventLoop& loop() { return worker_.loop(); }
  const ClientOptions& options() const { return options_; }
  // The context of https:// connections, or why there is none.
  const absl::StatusOr<std::shared_ptr<const TlsContext>>& tls() {
    return tls_->Get();
  }
  bool detached() const { return detached_; }

  // Loop thread.
  void Submit(std::unique_ptr<Exchange> exchange);
  void Detach();
  void Finish(Exchange* exchange, absl::StatusOr<ClientResponse> result);

  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> connections_opened{0};
  std::atomic<uint64_t> retries{0};
  std::atomic<uint64_t> tls_resumed{0};

  static void Count(std::atomic<uint64_t>& counter) {
    // Single writer (this worker's thread): no read-modify-write needed.
    counter.store(counter.load(std::memory_order_relaxed) + 1,
                  std::memory_order_relaxed);
  }

 private:
  Worker& worker_;
  const ClientOptions options_;
  const std::shared_ptr<SharedTlsContext> tls_;
  absl::flat_hash_map<std::string, std::unique_ptr<HostPool>> pools_;
  bool detached_ = false;
};

// The connections of one worker to one host:port and the requests waiting
// for them.
class HostPool {
 public:
  HostPool(WorkerState& state, bool https, std::string host_port)
      : state_(state), https_(https), host_port_(std::move(host_port)) {}

  WorkerState& state() { return state_; }

  void Enqueue(std::unique_ptr<Exchange> exchange, bool front) {
    exchange->connection = nullptr;
    if (front) {
      queue_.push_front(std::move(exchange));
    } else {
      queue_.push_back(std::move(exchange));
    }
  }
  std::unique_ptr<Exchange> Unqueue(Exchange* exchange);
  // Hands queued requests to connections that can take them, and opens
  // connections (up to the cap) for the rest.
  void Pump();
  void Opened(PooledConnection* connection);
  void Closed(PooledConnection* connection);
  void ConnectFailed(absl::Status status);
  // Drops everything (the client is going away).
  void Detach();

 private:
  void OpenConnection();

  WorkerState& state_;
  const bool https_;
  const std::string host_port_;
  std::deque<std::unique_ptr<Exchange>> queue_;
  std::vector<PooledConnection*> connections_;
  size_t connecting_ = 0;
};

// The handler of one pooled connection: writes requests, parses responses
// in order, and hands what is left to the pool when it closes.
class PooledConnection final : public Handler,
                               private ResponseParser::Observer {
 public:
  PooledConnection(std::shared_ptr<WorkerState> state, HostPool& pool)
      : state_(std::move(state)), pool_(pool), parser_(this) {}

  bool idle() const { return in_flight_.empty(); }
  bool CanTake(const Exchange& exchange) const {
    if (conn_ == nullptr || conn_->closing()) return false;
    if (in_flight_.empty()) return true;
    const ClientOptions& options = state_->options();
    return options.pipelining && exchange.idempotent &&
           in_flight_.size() < options.max_pipelined &&
           in_flight_.back()->idempotent;
  }

  void Start(std::unique_ptr<Exchange> exchange) {
    exchange->connection = this;
    ++exchange->sends;
    WorkerState::Count(state_->requests);
    conn_->SetIdleTimeout(absl::InfiniteDuration());
    conn_->Send(absl::string_view(exchange->wire));
    in_flight_.push_back(std::move(exchange));
    if (in_flight_.size() == 1) BeginFront();
  }

  // The total deadline of `exchange`, which is on this connection, passed.
  void Expire(Exchange* exchange) {
    for (auto it = in_flight_.begin(); it != in_flight_.end(); ++it) {
      if (it->get() != exchange) continue;
      std::unique_ptr<Exchange> expired = std::move(*it);
      in_flight_.erase(it);
      const absl::Duration total = state_->options().total_timeout;
      state_->Finish(expired.get(),
                     absl::DeadlineExceededError(absl::StrCat(
                         "no complete response within the total timeout (",
                         absl::FormatDuration(total), ")")));
      break;
    }
    // A response cut short leaves the stream unusable.
    conn_->Abort();
  }

  // The client is going away: drop the requests without calling back.
  void Abandon() {
    CancelFirstByteTimer();
    for (auto& exchange : in_flight_) {
      if (exchange->total_timer.valid()) {
        state_->loop().Cancel(exchange->total_timer);
      }
    }
    in_flight_.clear();
    conn_->Abort();
  }

  void OnOpen(Connection& conn) override {
    conn_ = &conn;
    if (state_->detached()) {
      conn.Close();
      return;
    }
    WorkerState::Count(state_->connections_opened);
    if (conn.tls() != nullptr && conn.tls()->resumed) {
      WorkerState::Count(state_->tls_resumed);
    }
    pool_.Opened(this);
  }

  void OnData(Connection& conn, Buffer& input) override {
    while (input.readable_bytes() > 0) {
      if (in_flight_.empty()) {
        // Bytes nobody asked for: the stream cannot be trusted.
        conn.Abort();
        input.ConsumeAll();
        return;
      }
      Exchange& exchange = *in_flight_.front();
      size_t consumed = 0;
      body_streamed_ = 0;
      const ResponseParser::Status status =
          parser_.Feed(input.view(), &consumed);
      input.Consume(consumed);
      if (consumed > 0 && !exchange.response_started) {
        exchange.response_started = true;
        CancelFirstByteTimer();
      }
      exchange.held_bytes += consumed - body_streamed_;
      if (exchange.held_bytes > state_->options().max_response_bytes) {
        FailFront(absl::ResourceExhaustedError(
            absl::StrCat("the response is larger than max_response_bytes (",
                         state_->options().max_response_bytes,
                         " bytes); raise it or stream the body with on_body")));
        return;
      }
      if (status == ResponseParser::Status::kError) {
        FailFront(absl::DataLossError(
            absl::StrCat("bad HTTP response: ", parser_.error())));
        return;
      }
      if (status == ResponseParser::Status::kIncomplete) return;
      CompleteFront(conn);
    }
  }

  void OnInputEnd(Connection& conn) override {
    if (!in_flight_.empty() &&
        parser_.Finish() == ResponseParser::Status::kComplete) {
      CompleteFront(conn);
    }
    conn.Close();
  }

  void OnClose(Connection&, CloseReason reason) override {
    CancelFirstByteTimer();
    if (state_->detached()) return;
    std::deque<std::unique_ptr<Exchange>> orphans = std::move(in_flight_);
    in_flight_.clear();
    // Back to the queue in their order: retried first.
    for (auto it = orphans.rbegin(); it != orphans.rend(); ++it) {
      std::unique_ptr<Exchange>& exchange = *it;
      if (!exchange->response_started && exchange->idempotent &&
          exchange->sends <= state_->options().max_retries) {
        WorkerState::Count(state_->retries);
        pool_.Enqueue(std::move(exchange), /*front=*/true);
      } else {
        state_->Finish(
            exchange.get(),
            absl::UnavailableError(absl::StrCat(
                "the connection closed (", CloseReasonName(reason),
                ") before the response ",
                exchange->response_started ? "was complete" : "began",
                exchange->idempotent ? "" : "; not retried: not idempotent")));
      }
    }
    pool_.Closed(this);
  }

 private:
  // The front exchange is the one whose response comes next.
  void BeginFront() {
    Exchange& front = *in_flight_.front();
    if (front.head) parser_.ExpectNoBody();
    if (!front.response_started) {
      first_byte_timer_ = conn_->RunAfter(
          state_->options().first_byte_timeout, [this](Connection&) {
            first_byte_timer_ = {};
            FailFront(absl::DeadlineExceededError(absl::StrCat(
                "no response byte within first_byte_timeout (",
                absl::FormatDuration(state_->options().first_byte_timeout),
                ")")));
          });
    }
  }

  void CancelFirstByteTimer() {
    if (first_byte_timer_.valid() && conn_ != nullptr) {
      conn_->CancelTimer(first_byte_timer_);
    }
    first_byte_timer_ = {};
  }

  void FailFront(absl::Status status) {
    CancelFirstByteTimer();
    std::unique_ptr<Exchange> failed = std::move(in_flight_.front());
    in_flight_.pop_front();
    state_->Finish(failed.get(), std::move(status));
    conn_->Abort();
  }

  void CompleteFront(Connection& conn) {
    CancelFirstByteTimer();
    std::unique_ptr<Exchange> done = std::move(in_flight_.front());
    in_flight_.pop_front();
    const bool reusable = parser_.keep_alive();
    if (!reusable) conn.Close();
    state_->Finish(done.get(), std::move(done->response));
    if (!reusable || conn.closing()) return;
    if (!in_flight_.empty()) {
      BeginFront();
      return;
    }
    conn.SetIdleTimeout(state_->options().idle_timeout);
    pool_.Pump();
  }

  void OnResponseHead(int status_code, absl::string_view reason,
                      absl::Span<const Header> headers) override {
    ClientResponse& response = in_flight_.front()->response;
    response.status = status_code;
    response.reason = std::string(reason);
    response.headers.clear();
    for (const Header& header : headers) {
      response.headers.emplace_back(std::string(header.name),
                                    std::string(header.value));
    }
  }

  void OnResponseBody(absl::string_view piece) override {
    Exchange& exchange = *in_flight_.front();
    if (exchange.on_body) {
      body_streamed_ += piece.size();
      exchange.on_body(piece);
    } else {
      exchange.response.body.append(piece.data(), piece.size());
    }
  }

  const std::shared_ptr<WorkerState> state_;
  HostPool& pool_;
  Connection* conn_ = nullptr;
  ResponseParser parser_;
  std::deque<std::unique_ptr<Exchange>> in_flight_;
  TimerId first_byte_timer_;
  size_t body_streamed_ = 0;  // of the bytes the current Feed consumed
};

std::unique_ptr<Exchange> HostPool::Unqueue(Exchange* exchange) {
  for (auto it = queue_.begin(); it != queue_.end(); ++it) {
    if (it->get() != exchange) continue;
    std::unique_ptr<Exchange> found = std::move(*it);
    queue_.erase(it);
    return found;
  }
  return nullptr;
}

void HostPool::Pump() {
  while (!queue_.empty()) {
    PooledConnection* chosen = nullptr;
    for (PooledConnection* connection : connections_) {
      if (!connection->CanTake(*queue_.front())) continue;
      chosen = connection;
      if (connection->idle()) break;  // an idle one before pipelining
    }
    if (chosen == nullptr) break;
    std::unique_ptr<Exchange> exchange = std::move(queue_.front());
    queue_.pop_front();
    chosen->Start(std::move(exchange));
  }
  while (connecting_ < queue_.size() &&
         connections_.size() + connecting_ <
             state_.options().max_connections_per_host) {
    OpenConnection();
  }
}

void HostPool::OpenConnection() {
  ++connecting_;
  const ClientOptions& options = state_.options();
  ConnectOptions connect;
  connect.timeout = options.connect_timeout;
  connect.resolve_timeout = options.resolve_timeout;
  connect.resolver = options.resolver;
  // SNI and the name verified: the URL's host (Connect's default).
  if (https_) connect.tls = *state_.tls();
  std::shared_ptr<WorkerState> state = state_.shared_from_this();
  Connect(
      state_.worker(), host_port_, connect,
      [state, this]() -> std::unique_ptr<Handler> {
        return std::make_unique<PooledConnection>(state, *this);
      },
      [state, this](absl::Status status) {
        if (state->detached()) return;
        ConnectFailed(std::move(status));
      });
}

void HostPool::Opened(PooledConnection* connection) {
  --connecting_;
  connections_.push_back(connection);
  Pump();
}

void HostPool::Closed(PooledConnection* connection) {
  connections_.erase(
      std::remove(connections_.begin(), connections_.end(), connection),
      connections_.end());
  Pump();
}

void HostPool::ConnectFailed(absl::Status status) {
  --connecting_;
  if (connections_.empty() && connecting_ == 0) {
    // Nothing left that could carry the queued requests.
    std::deque<std::unique_ptr<Exchange>> failed = std::move(queue_);
    queue_.clear();
    for (auto& exchange : failed) state_.Finish(exchange.get(), status);
    return;
  }
  Pump();
}

void HostPool::Detach() {
  for (auto& exchange : queue_) {
    if (exchange->total_timer.valid()) {
      state_.loop().Cancel(exchange->total_timer);
    }
  }
  queue_.clear();
  for (PooledConnection* connection : connections_) connection->Abandon();
  connections_.clear();
}

void WorkerState::Submit(std::unique_ptr<Exchange> exchange) {
  if (detached_) return;
  if (exchange->https && !tls().ok()) {
    Finish(exchange.get(), Unshared(tls().status()));
    return;
  }
  std::unique_ptr<HostPool>& pool = pools_[exchange->pool_key];
  if (pool == nullptr) {
    pool =
        std::make_unique<HostPool>(*this, exchange->https, exchange->host_port);
  }
  exchange->pool = pool.get();
  Exchange* raw = exchange.get();
  raw->total_timer = loop().RunAfter(options_.total_timeout, [this, raw] {
    raw->total_timer = {};
    if (raw->connection != nullptr) {
      raw->connection->Expire(raw);
      return;
    }
    std::unique_ptr<Exchange> expired = raw->pool->Unqueue(raw);
    Finish(expired.get(),
           absl::DeadlineExceededError(absl::StrCat(
               "no connection to ", expired->host_port,
               " within the total timeout (",
               absl::FormatDuration(options_.total_timeout), ")")));
  });
  pool->Enqueue(std::move(exchange), /*front=*/false);
  pool->Pump();
}

void WorkerState::Finish(Exchange* exchange,
                         absl::StatusOr<ClientResponse> result) {
  if (exchange->total_timer.valid()) loop().Cancel(exchange->total_timer);
  exchange->total_timer = {};
  Client::Callback callback = std::move(exchange->callback);
  if (!result.ok()) result = Unshared(result.status());
  callback(std::move(result));
}

void WorkerState::Detach() {
  detached_ = true;
  for (auto& [host_port, pool] : pools_) pool->Detach();
}

}  // namespace internal_client

using internal_client::Exchange;
using internal_client::WorkerState;

Client::Client(std::vector<Worker*> workers, ClientOptions options)
    : workers_(std::move(workers)) {
  auto tls = std::make_shared<internal_client::SharedTlsContext>(options);
  states_.reserve(workers_.size());
  for (Worker* worker : workers_) {
    states_.push_back(std::make_shared<WorkerState>(*worker, options, tls));
  }
}

Client::~Client() {
  for (const auto& state : states_) {
    // The pooled connections close on their own loop; their handlers hold
    // the state and find it detached.
    state->loop().Post([state] { state->Detach(); });
  }
}

size_t Client::CallerWorker() const {
  for (size_t i = 0; i < workers_.size(); ++i) {
    if (workers_[i]->loop().IsInLoopThread()) return i;
  }
  return workers_.size();
}

void Client::Get(absl::string_view url, Callback callback) {
  ClientRequest request;
  request.url = std::string(url);
  Send(std::move(request), std::move(callback));
}

namespace {

absl::StatusOr<std::unique_ptr<Exchange>> MakeExchange(ClientRequest request) {
  absl::StatusOr<Url> url = ParseUrl(request.url);
  if (!url.ok()) return url.status();
  if (request.method.empty() ||
      request.method.find_first_of(" \r\n\t") != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", request.method, "' is not an HTTP method"));
  }
  auto exchange = std::make_unique<Exchange>();
  exchange->https = url->https;
  exchange->host_port = url->host_port;
  exchange->pool_key =
      absl::StrCat(url->https ? "https://" : "http://", url->host_port);
  exchange->head = request.method == "HEAD";
  exchange->idempotent = internal_client::IsIdempotent(request.method);
  exchange->on_body = std::move(request.on_body);
  std::string& wire = exchange->wire;
  absl::StrAppend(&wire, request.method, " ", url->target,
                  " HTTP/1.1\r\nHost: ", url->authority, "\r\n");
  for (const auto& [name, value] : request.headers) {
    if (name.empty() || internal_client::HasLineBreak(name) ||
        internal_client::HasLineBreak(value) ||
        name.find(':') != std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("header '", name, "' is not a valid field"));
    }
    absl::StrAppend(&wire, name, ": ", value, "\r\n");
  }
  if (!request.body.empty() || request.method == "POST" ||
      request.method == "PUT" || request.method == "PATCH") {
    absl::StrAppend(&wire, "Content-Length: ", request.body.size(), "\r\n");
  }
  absl::StrAppend(&wire, "\r\n", request.body);
  return exchange;
}

}  // namespace

void Client::Send(ClientRequest request, Callback callback) {
  if (workers_.empty()) {
    // No loop to answer on: the one answer given inside the call.
    callback(absl::FailedPreconditionError(
        "http::Client has no workers: start the WorkerGroup or Server "
        "before creating the client"));
    return;
  }
  size_t index = CallerWorker();
  if (index == workers_.size()) {
    index =
        next_worker_.fetch_add(1, std::memory_order_relaxed) % workers_.size();
  }
  std::shared_ptr<WorkerState> state = states_[index];
  absl::StatusOr<std::unique_ptr<Exchange>> exchange =
      MakeExchange(std::move(request));
  // Even an error is answered on the worker, never inside this call.
  state->loop().Post([state, exchange = std::move(exchange),
                      callback = std::move(callback)]() mutable {
    if (!exchange.ok()) {
      if (!state->detached()) {
        callback(internal_client::Unshared(exchange.status()));
      }
      return;
    }
    (*exchange)->callback = std::move(callback);
    state->Submit(std::move(*exchange));
  });
}

ClientStats Client::stats() const {
  ClientStats total;
  for (const auto& state : states_) {
    total.requests += state->requests.load(std::memory_order_relaxed);
    total.connections_opened +=
        state->connections_opened.load(std::memory_order_relaxed);
    total.retries += state->retries.load(std::memory_order_relaxed);
    total.tls_resumed += state->tls_resumed.load(std::memory_order_relaxed);
  }
  return total;
}

}  // namespace eddy::http
