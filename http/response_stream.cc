#include "eddy/http/response_stream.h"

#include <utility>

#include "eddy/http/internal/stream_channel.h"
#include "eddy/net/connection.h"

namespace eddy::http {

void StreamChannel::SetOnWritable(absl::AnyInvocable<void() &&> callback) {
  std::lock_guard lock(mutex_);
  on_writable_ = std::move(callback);
}

void StreamChannel::SetOnClientGone(absl::AnyInvocable<void() &&> callback) {
  {
    std::lock_guard lock(mutex_);
    if (!closed()) {
      on_client_gone_ = std::move(callback);
      return;
    }
  }
  std::move(callback)();
}

void StreamChannel::NotifyIfWritable() {
  absl::AnyInvocable<void() &&> callback;
  {
    std::lock_guard lock(mutex_);
    if (on_writable_ == nullptr || full() || closed()) return;
    callback = std::move(on_writable_);
    on_writable_ = nullptr;
  }
  std::move(callback)();
}

void StreamChannel::MarkClosed(bool client_gone) {
  target_ = nullptr;
  absl::AnyInvocable<void() &&> callback;
  {
    std::lock_guard lock(mutex_);
    closed_.store(true, std::memory_order_release);
    on_writable_ = nullptr;
    if (client_gone) callback = std::move(on_client_gone_);
    on_client_gone_ = nullptr;
  }
  if (callback != nullptr) std::move(callback)();
}

ResponseStream::ResponseStream(std::shared_ptr<StreamChannel> channel)
    : channel_(std::move(channel)) {}

ResponseStream& ResponseStream::operator=(ResponseStream&& other) noexcept {
  if (this != &other) {
    Abandon();
    channel_ = std::move(other.channel_);
    finished_ = std::exchange(other.finished_, true);
  }
  return *this;
}

ResponseStream::~ResponseStream() { Abandon(); }

void ResponseStream::Abandon() {
  if (channel_ == nullptr || finished_) return;
  finished_ = true;
  channel_->connection().Post([channel = channel_](Connection& conn) {
    if (StreamTarget* target = channel->target()) target->AbandonStream(conn);
  });
}

bool ResponseStream::Write(std::string piece) {
  if (channel_ == nullptr || finished_ || channel_->closed()) return false;
  if (piece.empty()) return true;
  channel_->AddInFlight(piece.size());
  return channel_->connection().Post(
      [channel = channel_, piece = std::move(piece)](Connection& conn) mutable {
        if (StreamTarget* target = channel->target()) {
          target->WritePiece(conn, std::move(piece));
        }
      });
}

bool ResponseStream::Finish(Trailers trailers) {
  if (channel_ == nullptr || finished_ || channel_->closed()) return false;
  finished_ = true;
  return channel_->connection().Post(
      [channel = channel_,
       trailers = std::move(trailers)](Connection& conn) mutable {
        if (StreamTarget* target = channel->target()) {
          target->FinishStream(conn, std::move(trailers));
        }
      });
}

bool ResponseStream::is_full() const {
  return channel_ != nullptr && channel_->full();
}

bool ResponseStream::closed() const {
  return channel_ == nullptr || finished_ || channel_->closed();
}

void ResponseStream::OnWritable(absl::AnyInvocable<void() &&> callback) {
  if (channel_ == nullptr) return;
  channel_->SetOnWritable(std::move(callback));
  channel_->connection().Post(
      [channel = channel_](Connection&) { channel->NotifyIfWritable(); });
}

void ResponseStream::OnClientGone(absl::AnyInvocable<void() &&> callback) {
  if (channel_ == nullptr) return;
  channel_->SetOnClientGone(std::move(callback));
}

ConnectionRef ResponseStream::connection() const {
  return channel_ != nullptr ? channel_->connection() : ConnectionRef();
}

}  // namespace eddy::http
