#include "eddy/net/connection.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "eddy/core/clock.h"
#include "eddy/core/log.h"
#include "eddy/net/internal/socket.h"
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

void Connection::Open(std::unique_ptr<Handler> handler, bool accepted) {
  handler_ = std::move(handler);
  Touch();
  if (accepted && options_.proxy_protocol != ProxyProtocolMode::kOff) {
    Dispatch([this] { AwaitProxyHeader(); });
    return;
  }
  Dispatch([this] { StartHandler(); });
}

void Connection::StartHandler() {
  if (options_.idle_timeout != absl::InfiniteDuration()) {
    SetIdleTimeout(options_.idle_timeout);
  }
  handler_->OnOpen(*this);
  if (options_.max_age != absl::InfiniteDuration()) ArmMaxAgeTimer();
  // Accepted while draining (or the drain began while the PROXY header was
  // awaited): told at once, after OnOpen, as the others were.
  if (worker_->draining() && phase_ == Phase::kOpen) handler_->OnDrain(*this);
}

void Connection::ArmMaxAgeTimer() {
  // The spread comes from a hash of the id (Fibonacci hashing), not a random
  // generator: stateless, and distinct for the connections of one burst.
  const uint64_t mixed = id_ * 0x9E3779B97F4A7C15ull;
  const double unit = static_cast<double>(mixed >> 11) * 0x1.0p-53;
  const double jitter = std::max(0.0, options_.max_age_jitter);
  const absl::Duration age = options_.max_age * (1.0 + jitter * unit);
  RunAfter(age, [](Connection& conn) {
    if (!conn.closing()) conn.handler_->OnMaxAge(conn);
  });
}

void Connection::AwaitProxyHeader() {
  const SocketAddress& source = transport_peer();
  // A Unix socket's clients are vetted by the file's permissions, and have
  // no network address to match.
  const std::vector<Cidr>* networks = options_.proxy_trusted;
  const bool trusted = networks == nullptr || networks->empty() ||
                       source.is_unix() || AnyContains(*networks, source);
  if (!trusted && options_.proxy_protocol == ProxyProtocolMode::kRequired) {
    RejectProxyHeader(
        "a PROXY header is required, and the source is not in "
        "proxy_trusted",
        CloseReason::kError);
    return;
  }
  // An untrusted source on an optional server is served as it is, but its
  // first bytes are still screened: a header from it would be a forgery.
  Set(kAwaitingProxy | (trusted ? 0 : kUntrustedSource));
  proxy_timer_ = loop_->RunAfter(options_.proxy_header_timeout, [this] {
    proxy_timer_ = {};
    Dispatch([this] {
      RejectProxyHeader(
          "no PROXY header (or first bytes) within "
          "proxy_header_timeout",
          CloseReason::kIdleTimeout);
    });
  });
}

void Connection::ConsumeProxyHeader() {
  ProxyParseResult parsed = ParseProxyHeader(input_.view());
  switch (parsed.kind) {
    case ProxyParseResult::Kind::kNeedMore:
      return;  // bounded by the parser's size limit and the deadline
    case ProxyParseResult::Kind::kNotProxy:
      if (options_.proxy_protocol == ProxyProtocolMode::kRequired) {
        RejectProxyHeader(
            "the connection does not start with the required "
            "PROXY header",
            CloseReason::kError);
        return;
      }
      FinishProxyHeader(nullptr);
      return;
    case ProxyParseResult::Kind::kError:
      RejectProxyHeader(parsed.error.message(), CloseReason::kError);
      return;
    case ProxyParseResult::Kind::kDone:
      if (Has(kUntrustedSource)) {
        RejectProxyHeader("a PROXY header from a source not in proxy_trusted",
                          CloseReason::kError);
        return;
      }
      input_.Consume(parsed.consumed);
      FinishProxyHeader(std::make_unique<ProxyInfo>(std::move(parsed.info)));
      return;
  }
}

void Connection::FinishProxyHeader(std::unique_ptr<ProxyInfo> info) {
  Clear(kAwaitingProxy | kUntrustedSource);
  if (proxy_timer_.valid()) loop_->Cancel(proxy_timer_);
  proxy_timer_ = {};
  proxy_info_ = std::move(info);
  StartHandler();
  if (phase_ == Phase::kOpen && !input_.empty()) {
    handler_->OnData(*this, input_);
  }
}

void Connection::RejectProxyHeader(absl::string_view why, CloseReason reason) {
  worker_->CountProxyRejected();
  if (LogEnabled(LogSeverity::kWarning)) {
    const std::string peer = transport_peer().ToString();
    LogEvent event;
    event.severity = LogSeverity::kWarning;
    event.kind = "proxy.rejected";
    event.worker = static_cast<int>(worker_->index());
    event.connection = id_;
    event.peer = peer;
    event.message = why;
    Log(event);
  }
  Abort(reason);
}

void Connection::ReadBeforeRegistering() {
  Set(kReadPending);
  HandleReady();
}

absl::Status Connection::Register(bool already_watched) {
  constexpr uint32_t kEvents = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
  IoHandler* io = this;
  return already_watched ? loop_->Rewatch(fd_.get(), kEvents, io)
                         : loop_->Watch(fd_.get(), kEvents, io);
}

void Connection::NotifyServerStopping() {
  if (phase_ != Phase::kOpen) return;
  // Its handler never opened: there is nothing to finish.
  if (Has(kAwaitingProxy)) {
    ForceClose(CloseReason::kServerStopping);
    return;
  }
  Dispatch([this] { handler_->OnServerStopping(*this); });
}

void Connection::NotifyDraining() {
  // A connection still awaiting its PROXY header has no open handler yet;
  // StartHandler tells it.
  if (phase_ != Phase::kOpen || Has(kAwaitingProxy)) return;
  Dispatch([this] { handler_->OnDrain(*this); });
}

void Connection::ForceClose(CloseReason reason) {
  Dispatch([this, reason] { Abort(reason); });
}

void Connection::DiscardUnopened() {
  phase_ = Phase::kClosed;
  fd_.reset();
  worker_->ReleaseSlot(this);
}

ConnectionRef Connection::ref() const {
  return ConnectionRef(worker_, slot_, generation_);
}

size_t Connection::worker_index() const { return worker_->index(); }

const SocketAddress& Connection::peer() {
  if (proxy_info_ != nullptr && !proxy_info_->local) {
    return proxy_info_->source;
  }
  return transport_peer();
}

const SocketAddress& Connection::transport_peer() {
  if (transport_peer_ == nullptr) {
    absl::StatusOr<SocketAddress> address = SocketAddress::PeerOf(fd_.get());
    transport_peer_ = std::make_unique<SocketAddress>(
        address.ok() ? *address : SocketAddress());
  }
  return *transport_peer_;
}

std::optional<PeerCredentials> Connection::peer_credentials() {
  if (!transport_peer().is_unix()) return std::nullopt;
  ucred credentials{};
  socklen_t length = sizeof(credentials);
  if (::getsockopt(fd_.get(), SOL_SOCKET, SO_PEERCRED, &credentials, &length) !=
      0) {
    return std::nullopt;
  }
  return PeerCredentials{credentials.pid, credentials.uid, credentials.gid};
}

template <typename Fn>
void Connection::Dispatch(Fn&& fn) {
  if (phase_ == Phase::kClosed) return;
  if (Has(kInDispatch)) {
    fn();
    return;
  }
  Set(kInDispatch);
  fn();
  EndDispatch();
}

void Connection::RunTask(absl::AnyInvocable<void(Connection&) &&> task) {
  Dispatch([this, &task] { std::move(task)(*this); });
}

void Connection::ScheduleFlush() {
  if (Has(kInDispatch | kFlushScheduled) || phase_ == Phase::kClosed) return;
  Set(kFlushScheduled);
  loop_->MarkReady(this);
}

void Connection::Send(absl::string_view data) {
  if (phase_ != Phase::kOpen || Has(kShutdownRequested) || data.empty()) {
    return;
  }
  output_.Append(data);
  ScheduleFlush();
}

void Connection::Send(std::string&& data) {
  if (phase_ != Phase::kOpen || Has(kShutdownRequested) || data.empty()) {
    return;
  }
  output_.Append(std::move(data));
  ScheduleFlush();
}

void Connection::Send(Buffer&& data) {
  if (phase_ != Phase::kOpen || Has(kShutdownRequested) || data.empty()) {
    data.ConsumeAll();
    return;
  }
  output_.Append(std::move(data));
  ScheduleFlush();
}

void Connection::SendFile(UniqueFd file, off_t offset, size_t length) {
  if (phase_ != Phase::kOpen || Has(kShutdownRequested) || length == 0) {
    return;
  }
  output_.AppendFile(std::move(file), offset, length);
  ScheduleFlush();
}

void Connection::ShutdownWrite() {
  if (phase_ != Phase::kOpen || Has(kShutdownRequested)) return;
  Set(kShutdownRequested);
  ScheduleFlush();
}

void Connection::Close(CloseReason reason) {
  if (phase_ != Phase::kOpen) return;
  phase_ = Phase::kClosing;
  close_reason_ = reason;
  ArmLingerTimer();
  ScheduleFlush();
}

void Connection::Abort(CloseReason reason) {
  if (phase_ == Phase::kClosed || phase_ == Phase::kAborting) return;
  close_reason_ = reason;
  phase_ = Phase::kAborting;
  ScheduleFlush();
}

void Connection::ReplaceHandler(std::unique_ptr<Handler> handler) {
  loop_->AssertInLoopThread();
  if (phase_ != Phase::kOpen || handler == nullptr) return;
  replacement_ = std::move(handler);
}

bool Connection::AdoptReplacementHandler() {
  bool adopted = false;
  // A new handler may switch again from its OnOpen or OnData.
  while (replacement_ != nullptr) {
    std::unique_ptr<Handler> next = std::move(replacement_);
    if (phase_ != Phase::kOpen) break;
    // The old protocol's timers and pause must not act on the new one.
    CancelUserTimers();
    Clear(kPausedByUser);
    SetIdleTimeout(options_.idle_timeout);
    retired_handlers_.push_back(std::exchange(handler_, std::move(next)));
    adopted = true;
    handler_->OnOpen(*this);
    if (replacement_ != nullptr || phase_ != Phase::kOpen) continue;
    if (!input_.empty()) handler_->OnData(*this, input_);
    if (Has(kInputEnded) && replacement_ == nullptr && phase_ == Phase::kOpen) {
      handler_->OnInputEnd(*this);
    }
  }
  return adopted;
}

void Connection::PauseReading() { Set(kPausedByUser); }

void Connection::ResumeReading() {
  if (!Has(kPausedByUser)) return;
  Clear(kPausedByUser);
  if (Has(kReadPending) && !reading_paused() && phase_ == Phase::kOpen) {
    loop_->MarkReady(this);
  }
}

absl::Duration Connection::idle_timeout() const {
  return idle_timeout_ms_ < 0 ? absl::InfiniteDuration()
                              : absl::Milliseconds(idle_timeout_ms_);
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
  if (phase_ != Phase::kOpen || idle_timeout_ms_ < 0) return;
  // Activity only moves last_activity_ms_; the timer is pushed back here,
  // lazily, instead of being re-armed on every read and write.
  const int64_t idle_for = loop_->now_ms() - last_activity_ms_;
  if (idle_for < idle_timeout_ms_) {
    ArmIdleTimer(idle_timeout_ms_ - idle_for);
    return;
  }
  Dispatch([this] { handler_->OnIdleTimeout(*this); });
}

void Connection::ArmLingerTimer() {
  if (linger_timer_.valid() ||
      options_.close_linger == absl::InfiniteDuration()) {
    return;
  }
  linger_timer_ = loop_->RunAfter(options_.close_linger, [this] {
    linger_timer_ = {};
    Dispatch([this] {
      Abort(!output_.empty() ? CloseReason::kWriteTimeout : close_reason_);
    });
  });
}

TimerId Connection::RunAfter(absl::Duration delay, TimerCallback callback) {
  return AddUserTimer(delay, absl::ZeroDuration(), std::move(callback));
}

TimerId Connection::RunEvery(absl::Duration interval, TimerCallback callback) {
  return AddUserTimer(interval, interval, std::move(callback));
}

TimerId Connection::AddUserTimer(absl::Duration delay, absl::Duration period,
                                 TimerCallback callback) {
  if (phase_ == Phase::kClosed) return {};
  const bool repeating = period > absl::ZeroDuration();
  // The wheel's id is known only once scheduled, so a one-shot timer finds
  // its entry by a key of its own when it fires.
  const uint64_t key = next_timer_key_++;
  auto fire = [this, key, repeating, callback = std::move(callback)]() mutable {
    if (!repeating) ForgetUserTimer(key);
    Dispatch([this, &callback] { callback(*this); });
  };
  const TimerId id = repeating ? loop_->RunEvery(period, std::move(fire))
                               : loop_->RunAfter(delay, std::move(fire));
  user_timers_.push_back(UserTimer{key, id});
  return id;
}

void Connection::ForgetUserTimer(uint64_t key) {
  for (size_t i = 0; i < user_timers_.size(); ++i) {
    if (user_timers_[i].key == key) {
      user_timers_[i] = user_timers_.back();
      user_timers_.pop_back();
      return;
    }
  }
}

bool Connection::CancelTimer(TimerId id) {
  for (size_t i = 0; i < user_timers_.size(); ++i) {
    if (user_timers_[i].id == id) {
      user_timers_[i] = user_timers_.back();
      user_timers_.pop_back();
      return loop_->Cancel(id);
    }
  }
  return false;
}

void Connection::CancelUserTimers() {
  for (const UserTimer& timer : user_timers_) loop_->Cancel(timer.id);
  user_timers_.clear();
}

void Connection::Post(absl::AnyInvocable<void(Connection&) &&> task) {
  ref().Post(std::move(task));
}

std::string Connection::DebugState() const {
  static constexpr absl::string_view kPhases[] = {"open", "closing", "aborting",
                                                  "closed"};
  std::string text(kPhases[static_cast<int>(phase_)]);
  static constexpr std::pair<Flag, absl::string_view> kNames[] = {
      {kWritable, "writable"},
      {kInDispatch, "in-dispatch"},
      {kFlushScheduled, "flush-scheduled"},
      {kReadPending, "read-pending"},
      {kInputEnded, "input-ended"},
      {kHangupSeen, "hangup-seen"},
      {kPausedByUser, "paused-by-user"},
      {kPausedByWater, "paused-by-water"},
      {kShutdownRequested, "shutdown-requested"},
      {kShutdownDone, "shutdown-done"},
      {kHadUnreadInput, "had-unread-input"},
      {kAwaitingProxy, "awaiting-proxy-header"},
      {kUntrustedSource, "untrusted-source"},
  };
  for (const auto& [flag, name] : kNames) {
    if (Has(flag)) absl::StrAppend(&text, " ", name);
  }
  absl::StrAppend(&text, " output=", output_.size());
  return text;
}

void Connection::HandleIo(uint32_t events) {
  Dispatch([this, events] {
    if (events & EPOLLOUT) Set(kWritable);
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
      ReadInput(events);
    }
  });
}

void Connection::HandleReady() {
  Dispatch([this] {
    Clear(kFlushScheduled);
    if (Has(kReadPending)) ReadInput(0);
  });
}

void Connection::ReadInput(uint32_t events) {
  // After a hang-up the socket may hold data and then EOF: read to the end
  // instead of trusting a short read to mean "drained".
  // The hang-up edge may have come while reading was paused (and so been
  // consumed without a read): remember it until EOF is read.
  if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) Set(kHangupSeen);
  const bool hangup = Has(kHangupSeen);
  size_t budget = options_.read_budget;
  while ((phase_ == Phase::kOpen || phase_ == Phase::kClosing) &&
         !Has(kInputEnded)) {
    const bool discarding = phase_ == Phase::kClosing;
    if (!discarding && reading_paused()) {
      Set(kReadPending);
      // A paused connection reads nothing, so a reset would stay unseen
      // until reading resumes, which may be never when the handler waits on
      // another connection that waits on this one (a proxy under
      // backpressure). The peer is gone: nothing either way can be
      // delivered any more.
      if (events & EPOLLERR) {
        const int error = TakeSocketError(fd_.get());
        if (error != 0) {
          CloseNow(error == ECONNRESET || error == EPIPE ? CloseReason::kReset
                                                         : CloseReason::kError);
        }
      }
      return;
    }
    if (budget == 0) {
      // Fairness: leave the rest for the next iteration. No edge will come
      // for bytes already waiting, hence the ready list.
      worker_->CountReadBudgetExhausted();
      Set(kReadPending);
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
        Set(kHadUnreadInput);
        input_.ConsumeAll();
      } else if (Has(kAwaitingProxy)) {
        ConsumeProxyHeader();
      } else {
        handler_->OnData(*this, input_);
        AdoptReplacementHandler();
      }
      if (got < want && !hangup) {
        Clear(kReadPending);
        return;
      }
      continue;
    }
    if (n == 0) {
      Set(kInputEnded);
      Clear(kReadPending);
      if (Has(kAwaitingProxy)) {
        // The peer left before the header (or the first bytes) were whole.
        CloseNow(CloseReason::kPeerClosed);
      } else if (!discarding) {
        handler_->OnInputEnd(*this);
        AdoptReplacementHandler();
      }
      return;
    }
    switch (errno) {
      case EAGAIN:
        Clear(kReadPending);
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
  // The bracket stays open while the water-mark callbacks run, so what they
  // queue is flushed here too. The marks are checked on what was queued
  // before each flush: a handler that stopped at a mark (pipelined answers
  // held back) is owed OnDrained even when the socket then takes everything
  // at once. A handler that refills the output from OnDrained as fast as
  // the socket drains it is bounded to a few rounds per turn; the rest goes
  // on from the ready list, after other connections had their turn.
  constexpr int kMaxWaterMarkRounds = 4;
  for (int round = 0; phase_ != Phase::kClosed; ++round) {
    // A switch asked for by any callback (a timer, a task, OnOpen, the
    // water marks) happens here, before the output is flushed.
    AdoptReplacementHandler();
    if (phase_ == Phase::kAborting) {
      (void)SetLingerZero(fd_.get());
      CloseNow(close_reason_);
      break;
    }
    bool called_back = PauseIfOutputFull();
    if (phase_ == Phase::kClosed) break;
    FlushOutput();
    if (phase_ == Phase::kClosed) break;
    if (round + 1 == kMaxWaterMarkRounds && CanResume()) {
      // Still paused by the marks here, so reading waits as it should.
      Clear(kInDispatch);
      ScheduleFlush();
      return;
    }
    called_back |= ResumeIfDrained();
    if (phase_ == Phase::kClosed || !called_back) break;
  }
  // Reading resumes from the ready list: no edge will announce the bytes
  // that waited while paused.
  if (Has(kReadPending) && !reading_paused() && phase_ == Phase::kOpen) {
    loop_->MarkReady(this);
  }
  MaybeFinishClosing();
  Clear(kInDispatch);
  replacement_.reset();
  retired_handlers_.clear();
}

void Connection::FlushOutput() {
  if (Has(kWritable) && !output_.empty() && phase_ != Phase::kClosed) {
    const OutputQueue::WriteResult result = output_.WriteTo(fd_.get());
    worker_->CountWrites(result.syscalls);
    if (result.written > 0) OnOutputConsumed(result.written);
    switch (result.stop) {
      case OutputQueue::WriteStop::kDrained:
        break;
      case OutputQueue::WriteStop::kSocketFull:
        // The next EPOLLOUT edge says when it drains.
        Clear(kWritable);
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
  } else if (!write_timer_.valid() && phase_ != Phase::kClosed &&
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
  if (phase_ == Phase::kClosed || output_.empty()) return;
  // Progress only moves last_write_ms_; the timer is pushed back lazily.
  const int64_t timeout = DurationToMillisCeil(options_.write_timeout);
  const int64_t stalled_for = loop_->now_ms() - last_write_ms_;
  if (stalled_for < timeout) {
    ArmWriteTimer(timeout - stalled_for);
    return;
  }
  Dispatch([this] { Abort(CloseReason::kWriteTimeout); });
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

bool Connection::output_full() const {
  return output_.size() > options_.high_water_mark ||
         output_.files() >= options_.max_queued_files;
}

bool Connection::PauseIfOutputFull() {
  if (Has(kPausedByWater) || !output_full()) return false;
  Set(kPausedByWater);
  handler_->OnHighWater(*this);
  return true;
}

bool Connection::CanResume() const {
  return Has(kPausedByWater) && output_.size() <= options_.low_water_mark &&
         output_.files() <= options_.max_queued_files / 2;
}

bool Connection::ResumeIfDrained() {
  if (!CanResume()) return false;
  Clear(kPausedByWater);
  handler_->OnDrained(*this);
  return true;
}

void Connection::MaybeFinishClosing() {
  if (phase_ == Phase::kClosed || !output_.empty()) return;
  if (Has(kShutdownRequested) && !Has(kShutdownDone)) {
    ::shutdown(fd_.get(), SHUT_WR);
    Set(kShutdownDone);
  }
  if (phase_ == Phase::kOpen) {
    // Both directions finished: nothing more can happen on it.
    if (Has(kShutdownDone) && Has(kInputEnded)) {
      CloseNow(CloseReason::kPeerClosed);
    }
    return;
  }
  // Closing with the output flushed. If the peer may still be sending,
  // closing now would turn its next bytes into an RST that can destroy the
  // response it has not read yet: send FIN, discard input until its EOF (or
  // the linger timer), then close.
  if (!input_.empty() || Has(kReadPending)) Set(kHadUnreadInput);
  input_.ConsumeAll();
  input_.ReleaseIfEmpty();
  if (Has(kInputEnded) || !Has(kHadUnreadInput)) {
    CloseNow(close_reason_);
    return;
  }
  if (!Has(kShutdownDone)) {
    ::shutdown(fd_.get(), SHUT_WR);
    Set(kShutdownDone);
  }
  if (Has(kReadPending)) loop_->MarkReady(this);
}

void Connection::CloseNow(CloseReason reason) {
  if (phase_ == Phase::kClosed) return;
  phase_ = Phase::kClosed;
  loop_->UnmarkReady(this);
  if (idle_timer_.valid()) loop_->Cancel(idle_timer_);
  if (linger_timer_.valid()) loop_->Cancel(linger_timer_);
  if (write_timer_.valid()) loop_->Cancel(write_timer_);
  if (proxy_timer_.valid()) loop_->Cancel(proxy_timer_);
  idle_timer_ = linger_timer_ = write_timer_ = proxy_timer_ = {};
  CancelUserTimers();
  // A handler still waiting for the PROXY header never saw OnOpen.
  if (handler_ != nullptr && !Has(kAwaitingProxy)) {
    handler_->OnClose(*this, reason);
  }
  fd_.reset();
  output_.Clear();
  worker_->Release(this, reason);
}

}  // namespace eddy
