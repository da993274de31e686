#include "bench/load/client_slot.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "bench/load/monotonic_nanos.h"
#include "eddy/net/connector.h"

namespace eddy::load {

// The Handler of one socket: forwards its events to the slot, which
// outlives it.
class ClientSlot::SocketHandler final : public Handler {
 public:
  explicit SocketHandler(ClientSlot& slot) : slot_(slot) {}

  void OnOpen(Connection& conn) override { slot_.OnOpen(conn); }
  void OnData(Connection&, Buffer& input) override { slot_.OnData(input); }
  void OnInputEnd(Connection&) override { slot_.OnInputEnd(); }
  void OnServerStopping(Connection&) override { slot_.OnStopping(); }
  void OnClose(Connection& conn, CloseReason reason) override {
    slot_.OnClose(conn, reason);
  }

 private:
  ClientSlot& slot_;
};

ClientSlot::ClientSlot(ClientContext& context)
    : context_(context), plan_(*context.plan), sent_ns_(plan_.depth) {}

void ClientSlot::Start() { ConnectOrRetire(); }

void ClientSlot::ConnectOrRetire() {
  if (context_.budget != nullptr && context_.budget->spent()) {
    Retire();
    return;
  }
  state_ = State::kConnecting;
  Connect(
      *context_.worker, plan_.address, context_.connect_options,
      [this] { return std::make_unique<SocketHandler>(*this); },
      [this](absl::Status status) { OnConnectFailed(status); },
      [this](const absl::Status&) {
        Count(ErrorKind::kConnect);
        // Nothing is left to send: stop trying and retire.
        return context_.budget == nullptr || !context_.budget->spent();
      });
}

void ClientSlot::OnConnectFailed(const absl::Status& status) {
  if (status.code() == absl::StatusCode::kCancelled) {
    state_ = State::kStopped;
    return;
  }
  // Connect retries TCP failures itself and gives up only once the budget
  // is spent, so a failure with budget left is the TLS handshake's: the
  // server answered and refused (or shed) it. Count it and try again.
  if (context_.connect_options.tls != nullptr &&
      (context_.budget == nullptr || !context_.budget->spent())) {
    Count(ErrorKind::kTls);
    if (context_.measuring && !context_.tls_failure_reported) {
      context_.tls_failure_reported = true;
      std::fprintf(stderr, "eddy-load: TLS handshake failed: %s\n",
                   std::string(status.message()).c_str());
    }
    ConnectOrRetire();
    return;
  }
  Retire();
}

void ClientSlot::OnOpen(Connection& conn) {
  context_.busy_poll->Touch();
  conn_ = &conn;
  state_ = State::kOpen;
  unconsumed_ = 0;
  ++context_.stats.connections_opened;
  if (const TlsInfo* tls = conn.tls(); tls != nullptr && context_.measuring) {
    ++context_.stats.tls_handshakes;
    if (tls->resumed) ++context_.stats.tls_resumed;
  }
  SendMore();
}

void ClientSlot::OnStopping() {
  state_ = State::kStopped;
  conn_->Abort(CloseReason::kServerStopping);
}

void ClientSlot::OnClose(Connection& conn, CloseReason reason) {
  if (state_ == State::kOpen || state_ == State::kAwaitingClose) {
    // The socket ended without our asking: an I/O error. Output still
    // queued means the requests could not be sent; otherwise the responses
    // could not be read.
    switch (reason) {
      case CloseReason::kReset:
      case CloseReason::kError:
        Count(conn.output_bytes() > 0 ? ErrorKind::kWrite : ErrorKind::kRead);
        break;
      case CloseReason::kWriteTimeout:
        Count(ErrorKind::kWrite);
        break;
      default:
        break;
    }
  }
  conn_ = nullptr;
  ResetSocketState();
  if (state_ == State::kRetired || state_ == State::kStopped) return;
  ConnectOrRetire();
}

void ClientSlot::ResetSocketState() {
  parser_.Reset();
  AbandonInFlight();
  echo_received_ = 0;
  unconsumed_ = 0;
}

void ClientSlot::Fail(ErrorKind kind) {
  Count(kind);
  state_ = State::kClosing;
  conn_->Abort();
}

void ClientSlot::Reconnect() {
  state_ = State::kClosing;
  conn_->Close();
}

void ClientSlot::Retire() {
  state_ = State::kRetired;
  if (conn_ != nullptr) conn_->Close();
  if (--context_.active_slots == 0) {
    context_.finished_ns = MonotonicNanos();
    context_.finished.store(true, std::memory_order_release);
  }
}

void ClientSlot::AbandonInFlight() {
  const size_t budgeted = in_flight_ - unbudgeted_in_flight_;
  if (context_.budget != nullptr && budgeted > 0) {
    context_.budget->Return(static_cast<int64_t>(budgeted));
  }
  in_flight_ = 0;
  unbudgeted_in_flight_ = 0;
  sent_head_ = 0;
}

void ClientSlot::Count(ErrorKind kind) {
  if (context_.measuring) context_.stats.Count(kind);
}

void ClientSlot::CheckTimeout(int64_t now_ns) {
  switch (state_) {
    case State::kOpen:
      if (in_flight_ > 0 && now_ns - sent_ns_[sent_head_] > plan_.timeout_ns) {
        Fail(ErrorKind::kTimeout);
      }
      break;
    case State::kAwaitingClose:
      if (now_ns - await_close_from_ns_ > plan_.timeout_ns) {
        Fail(ErrorKind::kTimeout);
      }
      break;
    case State::kConnecting:
    case State::kClosing:
    case State::kRetired:
    case State::kStopped:
      break;
  }
}

void ClientSlot::SendMore() {
  // The previous send must be out first: a batch is one send.
  if (state_ != State::kOpen || conn_->output_bytes() > 0) return;
  const size_t room = plan_.depth - in_flight_;
  if (room == 0) return;
  const int64_t now = MonotonicNanos();
  size_t count = room;
  if (context_.budget != nullptr) {
    // The same test that decides whether the response is recorded, so the
    // budget counts exactly the recorded responses.
    if (now >= plan_.measure_from_ns) {
      count = static_cast<size_t>(
          context_.budget->Take(static_cast<int64_t>(room)));
      if (count == 0) {
        if (in_flight_ == 0) Retire();
        return;
      }
    } else {
      unbudgeted_in_flight_ += count;
    }
  }
  for (size_t i = 0; i < count; ++i) {
    sent_ns_[(sent_head_ + in_flight_ + i) % plan_.depth] = now;
  }
  in_flight_ += count;
  if (plan_.mode == LoadMode::kEcho) {
    echo_expected_ =
        plan_.payload.data() + echo_messages_ % LoadPlan::kEchoPeriod;
    ++echo_messages_;
    echo_received_ = 0;
    conn_->Send(absl::string_view(echo_expected_, plan_.request_bytes));
  } else {
    conn_->Send(
        absl::string_view(plan_.payload.data(), count * plan_.request_bytes));
  }
}

void ClientSlot::OnData(Buffer& input) {
  context_.busy_poll->Touch();
  if (context_.measuring) {
    context_.stats.bytes_read += input.readable_bytes() - unconsumed_;
  }
  if (state_ == State::kAwaitingClose) {
    input.ConsumeAll();
  } else if (plan_.mode == LoadMode::kEcho) {
    ProcessEcho(input);
  } else {
    ProcessHttp(input);
  }
  unconsumed_ = input.readable_bytes();
  SendMore();
}

void ClientSlot::ProcessHttp(Buffer& input) {
  int64_t now = 0;  // read once per burst: its responses completed together
  while (!input.empty() && state_ == State::kOpen) {
    size_t consumed = 0;
    const http::ResponseParser::Status status =
        parser_.Feed(input.view(), &consumed);
    input.Consume(consumed);
    if (status == http::ResponseParser::Status::kIncomplete) return;
    if (status == http::ResponseParser::Status::kError || in_flight_ == 0) {
      Fail(ErrorKind::kInvalid);
      return;
    }
    if (now == 0) now = MonotonicNanos();
    CompleteRequest(now, parser_.status_code());
    if (!parser_.keep_alive()) {
      AwaitClose(now, input);
    } else if (plan_.mode == LoadMode::kHttp10) {
      // The server kept an HTTP/1.0 connection open; the mode wants a new
      // connection per request all the same.
      Reconnect();
    }
  }
}

void ClientSlot::ProcessEcho(Buffer& input) {
  int64_t now = 0;
  while (!input.empty() && state_ == State::kOpen) {
    if (in_flight_ == 0) {
      Fail(ErrorKind::kMismatch);  // more bytes came back than were sent
      return;
    }
    const size_t take =
        std::min(input.readable_bytes(), plan_.request_bytes - echo_received_);
    if (std::memcmp(input.data(), echo_expected_ + echo_received_, take) != 0) {
      Fail(ErrorKind::kMismatch);
      return;
    }
    input.Consume(take);
    echo_received_ += take;
    if (echo_received_ == plan_.request_bytes) {
      if (now == 0) now = MonotonicNanos();
      echo_received_ = 0;
      CompleteRequest(now, 200);
    }
  }
}

void ClientSlot::OnInputEnd() {
  if (state_ == State::kAwaitingClose) {
    Reconnect();
    return;
  }
  if (plan_.mode != LoadMode::kEcho && parser_.in_response()) {
    // A body delimited by the close ends here; anything else was cut off.
    if (parser_.Finish() == http::ResponseParser::Status::kComplete &&
        in_flight_ > 0) {
      CompleteRequest(MonotonicNanos(), parser_.status_code());
      Reconnect();
      return;
    }
    Fail(ErrorKind::kClosedEarly);
    return;
  }
  if (in_flight_ > 0) {
    Fail(ErrorKind::kClosedEarly);
    return;
  }
  // An idle keep-alive connection the server timed out: not an error.
  Reconnect();
}

void ClientSlot::CompleteRequest(int64_t now_ns, int status_code) {
  const int64_t sent_ns = sent_ns_[sent_head_];
  if (++sent_head_ == plan_.depth) sent_head_ = 0;
  --in_flight_;
  if (unbudgeted_in_flight_ > 0) --unbudgeted_in_flight_;
  context_.completed.store(
      context_.completed.load(std::memory_order_relaxed) + 1,
      std::memory_order_relaxed);
  if (sent_ns < plan_.measure_from_ns) return;
  LoadStats& stats = context_.stats;
  ++stats.responses;
  stats.latency.Record(now_ns - sent_ns);
  if (status_code >= 300) {
    stats.Count(status_code < 400   ? ErrorKind::kStatus3xx
                : status_code < 500 ? ErrorKind::kStatus4xx
                : status_code < 600 ? ErrorKind::kStatus5xx
                                    : ErrorKind::kInvalid);
  }
}

void ClientSlot::AwaitClose(int64_t now_ns, Buffer& input) {
  // Requests sent after the one answered with "close" get no answer: the
  // server stops reading. They were the server's choice, not failures.
  AbandonInFlight();
  input.ConsumeAll();
  state_ = State::kAwaitingClose;
  await_close_from_ns_ = now_ns;
}

}  // namespace eddy::load
