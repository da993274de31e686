#include "eddy/net/connection.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "eddy/core/clock.h"
#include "eddy/net/socket.h"
#include "eddy/net/worker.h"

namespace eddy {

Connection::Connection(Worker* worker, EventLoop* loop, UniqueFd fd,
                       uint32_t slot, uint32_t generation, uint64_t id,
                       const ConnectionOptions& options)
    : worker_(worker),
      loop_(loop),
      options_(options),
      fd_(std::move(fd)),
      id_(id),
      slot_(slot),
      generation_(generation) {}

Connection::~Connection() = default;

void Connection::Open(std::unique_ptr<Handler> handler) {
  handler_ = std::move(handler);
  Touch();
  if (options_.idle_timeout != absl::InfiniteDuration()) {
    SetIdleTimeout(options_.idle_timeout);
  }
  in_dispatch_ = true;
  handler_->OnOpen(*this);
  EndDispatch();
}

ConnectionRef Connection::ref() const {
  return ConnectionRef(worker_, slot_, generation_);
}

size_t Connection::worker_index() const { return worker_->index(); }

const SocketAddress& Connection::peer() {
  if (!peer_.has_value()) {
    absl::StatusOr<SocketAddress> address = SocketAddress::PeerOf(fd_.get());
    peer_ = address.ok() ? *address : SocketAddress();
  }
  return *peer_;
}

void Connection::Send(absl::string_view data) {
  if (state_ != State::kOpen || shutdown_requested_ || data.empty()) return;
  output_.Append(data);
  if (!in_dispatch_) EndDispatch();
}

void Connection::Send(std::string&& data) {
  if (state_ != State::kOpen || shutdown_requested_ || data.empty()) return;
  output_.Append(std::move(data));
  if (!in_dispatch_) EndDispatch();
}

void Connection::Send(Buffer&& data) {
  if (state_ != State::kOpen || shutdown_requested_ || data.empty()) {
    data.ConsumeAll();
    return;
  }
  output_.Append(std::move(data));
  if (!in_dispatch_) EndDispatch();
}

void Connection::SendFile(UniqueFd file, off_t offset, size_t length) {
  if (state_ != State::kOpen || shutdown_requested_ || length == 0) return;
  output_.AppendFile(std::move(file), offset, length);
  if (!in_dispatch_) EndDispatch();
}

void Connection::ShutdownWrite() {
  if (state_ != State::kOpen || shutdown_requested_) return;
  shutdown_requested_ = true;
  if (!in_dispatch_) EndDispatch();
}

void Connection::Close(CloseReason reason) {
  if (state_ != State::kOpen) return;
  state_ = State::kClosing;
  close_reason_ = reason;
  ArmLingerTimer();
  if (!in_dispatch_) EndDispatch();
}

void Connection::Abort(CloseReason reason) {
  if (state_ == State::kClosed) return;
  close_reason_ = reason;
  abort_requested_ = true;
  state_ = State::kClosing;
  if (!in_dispatch_) EndDispatch();
}

void Connection::PauseReading() { paused_by_user_ = true; }

void Connection::ResumeReading() {
  if (!paused_by_user_) return;
  paused_by_user_ = false;
  if (read_pending_ && !reading_paused() && state_ == State::kOpen) {
    loop_->MarkReady(this);
  }
}

void Connection::SetIdleTimeout(absl::Duration timeout) {
  if (idle_timer_.valid()) {
    loop_->Cancel(idle_timer_);
    idle_timer_ = {};
  }
  if (timeout == absl::InfiniteDuration()) {
    idle_timeout_ms_ = -1;
    return;
  }
  idle_timeout_ms_ = std::max<int64_t>(1, DurationToMillisCeil(timeout));
  Touch();
  ArmIdleTimer(idle_timeout_ms_);
}

void Connection::ArmIdleTimer(int64_t delay_ms) {
  idle_timer_ =
      loop_->RunAfter(absl::Milliseconds(delay_ms), [this] { OnIdleTimer(); });
}

void Connection::OnIdleTimer() {
  idle_timer_ = {};
  if (state_ != State::kOpen || idle_timeout_ms_ < 0) return;
  // Activity only moves last_activity_ms_; the timer is pushed back here,
  // lazily, instead of being re-armed on every read and write.
  const int64_t idle_for = loop_->now_ms() - last_activity_ms_;
  if (idle_for < idle_timeout_ms_) {
    ArmIdleTimer(idle_timeout_ms_ - idle_for);
    return;
  }
  in_dispatch_ = true;
  handler_->OnIdleTimeout(*this);
  EndDispatch();
}

void Connection::ArmLingerTimer() {
  if (linger_timer_.valid() ||
      options_.close_linger == absl::InfiniteDuration()) {
    return;
  }
  linger_timer_ = loop_->RunAfter(options_.close_linger, [this] {
    linger_timer_ = {};
    if (state_ == State::kClosed) return;
    Abort(!output_.empty() ? CloseReason::kWriteTimeout : close_reason_);
  });
}

void Connection::HandleIo(uint32_t events) {
  if (state_ == State::kClosed) return;
  in_dispatch_ = true;
  if (events & EPOLLOUT) writable_ = true;
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) ReadInput(events);
  EndDispatch();
}

void Connection::HandleReady() {
  if (state_ == State::kClosed) return;
  in_dispatch_ = true;
  ReadInput(0);
  EndDispatch();
}

void Connection::ReadInput(uint32_t events) {
  // After a hang-up the socket may hold data and then EOF: read to the end
  // instead of trusting a short read to mean "drained".
  // The hang-up edge may have come while reading was paused (and so been
  // consumed without a read): remember it until EOF is read.
  if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) hangup_seen_ = true;
  const bool hangup = hangup_seen_;
  size_t budget = options_.read_budget;
  while (state_ != State::kClosed && !input_ended_ && !abort_requested_) {
    const bool discarding = state_ == State::kClosing;
    if (!discarding && reading_paused()) {
      read_pending_ = true;
      return;
    }
    if (budget == 0) {
      // Fairness: leave the rest for the next iteration. No edge will come
      // for bytes already waiting, hence the ready list.
      read_pending_ = true;
      loop_->MarkReady(this);
      return;
    }
    const size_t want =
        std::min(budget, input_.writable_bytes() + Buffer::kSpillSize);
    const ssize_t n = input_.ReadFromFd(fd_.get(), want);
    if (n > 0) {
      const size_t got = static_cast<size_t>(n);
      budget -= got;
      worker_->CountBytesIn(got);
      Touch();
      if (discarding) {
        had_unread_input_ = true;
        input_.ConsumeAll();
      } else {
        handler_->OnData(*this, input_);
      }
      if (got < want && !hangup) {
        read_pending_ = false;
        return;
      }
      continue;
    }
    if (n == 0) {
      input_ended_ = true;
      read_pending_ = false;
      if (!discarding) handler_->OnInputEnd(*this);
      return;
    }
    switch (errno) {
      case EAGAIN:
        read_pending_ = false;
        return;
      case EINTR:
        continue;
      case ECONNRESET:
        CloseNow(CloseReason::kReset);
        return;
      default:
        CloseNow(CloseReason::kError);
        return;
    }
  }
}

void Connection::EndDispatch() {
  in_dispatch_ = false;
  if (state_ == State::kClosed) return;
  if (abort_requested_) {
    (void)SetLingerZero(fd_.get());
    CloseNow(close_reason_);
    return;
  }
  FlushOutput();
  if (state_ == State::kClosed) return;
  UpdateWaterMarks();
  if (state_ == State::kClosed) return;
  MaybeFinishClosing();
}

void Connection::FlushOutput() {
  if (writable_ && !output_.empty() && state_ != State::kClosed) {
    const OutputQueue::WriteResult result = output_.WriteTo(fd_.get());
    if (result.written > 0) OnOutputConsumed(result.written);
    switch (result.stop) {
      case OutputQueue::WriteStop::kDrained:
        break;
      case OutputQueue::WriteStop::kSocketFull:
        // The next EPOLLOUT edge says when it drains.
        writable_ = false;
        break;
      case OutputQueue::WriteStop::kError:
        HandleWriteError(result.error);
        break;
      case OutputQueue::WriteStop::kFileShrank:
        // The file shrank after its length was promised: the framing is
        // broken, so the connection cannot continue.
        (void)SetLingerZero(fd_.get());
        CloseNow(CloseReason::kError);
        break;
    }
  }
  if (output_.empty()) {
    output_.ReleaseIfEmpty();
  } else if (!write_timer_.valid() && state_ != State::kClosed &&
             options_.write_timeout != absl::InfiniteDuration()) {
    // Output is stuck behind a full socket: bound how long it may stay so.
    last_write_ms_ = loop_->now_ms();
    ArmWriteTimer(DurationToMillisCeil(options_.write_timeout));
  }
}

void Connection::ArmWriteTimer(int64_t delay_ms) {
  write_timer_ =
      loop_->RunAfter(absl::Milliseconds(delay_ms), [this] { OnWriteTimer(); });
}

void Connection::OnWriteTimer() {
  write_timer_ = {};
  if (state_ == State::kClosed || output_.empty()) return;
  // Progress only moves last_write_ms_; the timer is pushed back lazily.
  const int64_t timeout = DurationToMillisCeil(options_.write_timeout);
  const int64_t stalled_for = loop_->now_ms() - last_write_ms_;
  if (stalled_for < timeout) {
    ArmWriteTimer(timeout - stalled_for);
    return;
  }
  Abort(CloseReason::kWriteTimeout);
}

void Connection::HandleWriteError(int error) {
  CloseNow(error == EPIPE || error == ECONNRESET ? CloseReason::kReset
                                                 : CloseReason::kError);
}

void Connection::OnOutputConsumed(size_t n) {
  last_write_ms_ = loop_->now_ms();
  worker_->CountBytesOut(n);
  Touch();
}

void Connection::UpdateWaterMarks() {
  if (!paused_by_water_ && output_.size() > options_.high_water_mark) {
    paused_by_water_ = true;
    in_dispatch_ = true;
    handler_->OnHighWater(*this);
    in_dispatch_ = false;
    return;
  }
  if (paused_by_water_ && output_.size() <= options_.low_water_mark) {
    paused_by_water_ = false;
    in_dispatch_ = true;
    handler_->OnDrained(*this);
    in_dispatch_ = false;
    // Whatever OnDrained queued is flushed by the next EPOLLOUT edge or the
    // next dispatch; reading resumes from the ready list because no edge
    // will announce the bytes that waited while paused.
    if (read_pending_ && !reading_paused() && state_ == State::kOpen) {
      loop_->MarkReady(this);
    }
    FlushOutput();
  }
}

void Connection::MaybeFinishClosing() {
  if (state_ == State::kClosed) return;
  if (abort_requested_) {
    (void)SetLingerZero(fd_.get());
    CloseNow(close_reason_);
    return;
  }
  if (!output_.empty()) return;
  if (shutdown_requested_ && !shutdown_done_) {
    ::shutdown(fd_.get(), SHUT_WR);
    shutdown_done_ = true;
  }
  if (state_ == State::kOpen) {
    // Both directions finished: nothing more can happen on it.
    if (shutdown_done_ && input_ended_) CloseNow(CloseReason::kPeerClosed);
    return;
  }
  // Closing with the output flushed. If the peer may still be sending,
  // closing now would turn its next bytes into an RST that can destroy the
  // response it has not read yet: send FIN, discard input until its EOF (or
  // the linger timer), then close.
  if (!input_.empty() || read_pending_) had_unread_input_ = true;
  input_.ConsumeAll();
  input_.ReleaseIfEmpty();
  if (input_ended_ || !had_unread_input_) {
    CloseNow(close_reason_);
    return;
  }
  if (!shutdown_done_) {
    ::shutdown(fd_.get(), SHUT_WR);
    shutdown_done_ = true;
  }
  if (read_pending_) loop_->MarkReady(this);
}

void Connection::CloseNow(CloseReason reason) {
  if (state_ == State::kClosed) return;
  state_ = State::kClosed;
  loop_->UnmarkReady(this);
  if (idle_timer_.valid()) loop_->Cancel(idle_timer_);
  if (linger_timer_.valid()) loop_->Cancel(linger_timer_);
  if (write_timer_.valid()) loop_->Cancel(write_timer_);
  idle_timer_ = linger_timer_ = write_timer_ = {};
  if (handler_ != nullptr) handler_->OnClose(*this, reason);
  fd_.reset();
  output_.Clear();
  worker_->Release(this, reason);
}

}  // namespace eddy
