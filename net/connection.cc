#include "eddy/net/connection.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "eddy/core/clock.h"
#include "eddy/core/log.h"
#include "eddy/net/internal/socket.h"
#include "eddy/net/internal/tls_transport.h"
#include "eddy/net/worker.h"

namespace eddy {
namespace {

// Ciphertext made ahead of the socket: enough for one sendmsg to carry a
// burst of pipelined answers, small enough that the plaintext behind it
// stays in the output queue, where the water marks count it.
constexpr size_t kCiphertextBatch = 64 * 1024;

// What nginx answers too: a browser pointed at http:// on an https port
// learns why instead of seeing a reset.
constexpr absl::string_view kPlainHttpResponse =
    "HTTP/1.1 400 Bad Request\r\n"
    "Content-Type: text/plain\r\n"
    "Content-Length: 38\r\n"
    "Connection: close\r\n"
    "\r\n"
    "plain HTTP request sent to a TLS port\n";

}  // namespace

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
  Dispatch([this] { StartTransport(); });
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
  // A loop timer, not a user one (RunAfter): a protocol switch cancels the
  // old handler's timers, but the connection keeps its age, and the new
  // handler (a WebSocket after its upgrade) gets OnMaxAge.
  max_age_timer_ = loop_->RunAfter(age, [this] {
    max_age_timer_ = {};
    Dispatch([this] {
      if (!closing()) handler_->OnMaxAge(*this);
    });
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
  if (tls_ != nullptr) {
    // What followed the header is the TLS handshake's first ciphertext.
    tls_->ciphertext_in().Append(std::move(input_));
    StartTransport();
    if (phase_ == Phase::kOpen && !tls_->ciphertext_in().empty()) {
      ProcessTlsInput();
    }
    return;
  }
  StartTransport();
  if (phase_ == Phase::kOpen && !input_.empty()) {
    handler_->OnData(*this, input_);
    AdoptReplacementHandler();
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

void Connection::StartTransport() {
  if (!Has(kAwaitingHandshake)) {
    StartHandler();
    return;
  }
  worker_->HandshakeStarted();
  // Counted from the accept (or the PROXY header): a slowloris that trickles
  // its hello is closed at the deadline whatever it sends.
  ArmHandshakeDeadline();
  // OnOpen waits for the handshake; a client speaks first.
  if (!tls_->context().is_server()) ProcessTlsInput();
}

absl::Status Connection::BeginTls(const TlsStart& start) {
  absl::StatusOr<std::unique_ptr<TlsTransport>> transport =
      TlsTransport::Create(start.context, start.server_name);
  if (!transport.ok()) return transport.status();
  tls_ = *std::move(transport);
  Set(kAwaitingHandshake);
  return absl::OkStatus();
}

absl::Status Connection::StartTls(std::shared_ptr<const TlsContext> context,
                                  absl::string_view server_name) {
  if (tls_ != nullptr) {
    return absl::FailedPreconditionError("TLS is already on");
  }
  if (phase_ != Phase::kOpen || Has(kShutdownRequested)) {
    return absl::FailedPreconditionError("the connection is closing");
  }
  if (output_.files() != 0) {
    return absl::FailedPreconditionError(
        "files are queued; StartTls after they were sent");
  }
  absl::StatusOr<std::unique_ptr<TlsTransport>> transport =
      TlsTransport::Create(std::move(context), server_name);
  if (!transport.ok()) return transport.status();
  tls_ = *std::move(transport);
  // The answer that agreed to the upgrade leaves in plaintext, ahead of
  // the handshake.
  iovec iov[OutputQueue::kMaxIovecs];
  while (!output_.empty()) {
    const size_t count = output_.Gather(absl::MakeSpan(iov));
    size_t taken = 0;
    for (size_t i = 0; i < count; ++i) {
      tls_->ciphertext_out().Append(iov[i].iov_base, iov[i].iov_len);
      taken += iov[i].iov_len;
    }
    output_.Consume(taken);
  }
  tls_->ciphertext_in().Append(std::move(input_));
  // The handshake has the same deadline as on a connection that began
  // with TLS.
  ArmHandshakeDeadline();
  // A client's hello, or the server's answer to a hello already read, goes
  // out from the ready list (no callback may run inside this call).
  Set(kReadPending);
  loop_->MarkReady(this);
  return absl::OkStatus();
}

const TlsInfo* Connection::tls() const {
  return tls_ != nullptr && tls_->handshake_done() ? &tls_->info() : nullptr;
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
  Dispatch([this] {
    // Its handler never opened (PROXY header or TLS handshake still
    // awaited): there is nothing to finish.
    if (Has(kAwaitingProxy | kAwaitingHandshake)) {
      Abort(CloseReason::kServerStopping);
    } else {
      handler_->OnServerStopping(*this);
    }
  });
}

void Connection::NotifyDraining() {
  // A connection still awaiting its PROXY header or TLS handshake has no
  // open handler yet; StartHandler tells it.
  if (phase_ != Phase::kOpen || Has(kAwaitingProxy | kAwaitingHandshake)) {
    return;
  }
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
    // Adopted while draining: told at once, after OnOpen, as a connection
    // accepted then is (the old handler's OnDrain does not reach it).
    if (replacement_ == nullptr && phase_ == Phase::kOpen &&
        worker_->draining()) {
      handler_->OnDrain(*this);
    }
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
  Dispatch([this] {
    if (Has(kAwaitingHandshake)) {
      Abort(CloseReason::kIdleTimeout);
    } else {
      handler_->OnIdleTimeout(*this);
    }
  });
}

void Connection::ArmLingerTimer() {
  if (linger_timer_.valid() ||
      options_.close_linger == absl::InfiniteDuration()) {
    return;
  }
  linger_timer_ = loop_->RunAfter(options_.close_linger, [this] {
    linger_timer_ = {};
    Dispatch([this] {
      Abort(!OutputFlushed() ? CloseReason::kWriteTimeout : close_reason_);
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
  if (tls_ != nullptr) text += " tls";
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
      {kAwaitingHandshake, "awaiting-handshake"},
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
  // Ciphertext a StartTls took over from the plaintext input comes first.
  if (tls_ != nullptr && !tls_->ciphertext_in().empty() &&
      phase_ == Phase::kOpen && !reading_paused()) {
    ProcessTlsInput();
  }
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
    // The budget counts what the socket delivered: ciphertext under TLS.
    // Until the PROXY header is consumed the bytes are the header's, read
    // as they are; then TLS takes the ciphertext.
    Buffer& target = tls_ != nullptr && !Has(kAwaitingProxy)
                         ? tls_->ciphertext_in()
                         : input_;
    const size_t want =
        std::min(budget, target.writable_bytes() + Buffer::kSpillSize);
    const ssize_t n = target.ReadFromFd(fd_.get(), want);
    if (n > 0) {
      const size_t got = static_cast<size_t>(n);
      budget -= got;
      worker_->CountBytesIn(got);
      Touch();
      if (discarding) {
        Set(kHadUnreadInput);
        target.ConsumeAll();
      } else if (Has(kAwaitingProxy)) {
        ConsumeProxyHeader();
      } else if (tls_ != nullptr) {
        ProcessTlsInput();
      } else {
        handler_->OnData(*this, input_);
        AdoptReplacementHandler();
        // The handler may have called StartTls with ciphertext buffered.
        if (tls_ != nullptr && phase_ == Phase::kOpen) ProcessTlsInput();
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
      if (Has(kAwaitingProxy | kAwaitingHandshake)) {
        // The peer left before the PROXY header or the handshake was whole.
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

void Connection::ProcessTlsInput() {
  if (!tls_->handshake_done()) {
    const TlsTransport::Progress progress = tls_->Handshake();
    if (progress == TlsTransport::Progress::kFailed) {
      FailTls();
      return;
    }
    if (!tls_->handshake_done()) return;
    loop_->Cancel(tls_->handshake_timer);
    tls_->handshake_timer = {};
    if (Has(kAwaitingHandshake)) {
      Clear(kAwaitingHandshake);
      worker_->HandshakeEnded();
      tls_failure_callback_ = nullptr;
      StartHandler();
    }
    if (phase_ != Phase::kOpen) return;
  }
  const size_t before = input_.readable_bytes();
  const TlsTransport::Progress progress = tls_->Decrypt(input_);
  // An idle TLS connection holds no ciphertext buffer either.
  tls_->ciphertext_in().ReleaseIfEmpty();
  if (input_.readable_bytes() > before && phase_ == Phase::kOpen) {
    handler_->OnData(*this, input_);
    AdoptReplacementHandler();
  }
  if (progress == TlsTransport::Progress::kFailed) {
    FailTls();
  } else if (progress == TlsTransport::Progress::kPeerClosed &&
             !Has(kInputEnded) && phase_ == Phase::kOpen) {
    // close_notify: the peer's end of input, as a FIN is in plaintext.
    Set(kInputEnded);
    Clear(kReadPending);
    handler_->OnInputEnd(*this);
  }
}

void Connection::FailTls() {
  worker_->CountTlsFailure(tls_->failure());
  if (tls_->failure() == TlsFailure::kPlainHttp) {
    tls_->ciphertext_in().ConsumeAll();
    tls_->ciphertext_out().Append(kPlainHttpResponse);
    Close(CloseReason::kError);
    return;
  }
  // The alert OpenSSL queued tells the peer why, if the socket takes it now.
  Buffer& alert = tls_->ciphertext_out();
  if (!alert.empty()) {
    (void)::send(fd_.get(), alert.data(), alert.readable_bytes(), MSG_NOSIGNAL);
  }
  CloseNow(CloseReason::kError);
}

void Connection::ArmHandshakeDeadline() {
  tls_->handshake_timer = loop_->RunAfter(tls_->context().handshake_timeout(),
                                          [this] { OnHandshakeTimeout(); });
}

void Connection::OnHandshakeTimeout() {
  tls_->handshake_timer = {};
  if (phase_ == Phase::kClosed || tls_->handshake_done()) return;
  worker_->CountTlsFailure(TlsFailure::kHandshakeTimeout);
  tls_->FailHandshakeTimeout();
  Dispatch([this] { Abort(CloseReason::kIdleTimeout); });
}

void Connection::FlushTls() {
  while (Has(kWritable) && phase_ != Phase::kClosed) {
    if (tls_->handshake_done() && !output_.empty()) {
      if (absl::Status s = tls_->Encrypt(output_, kCiphertextBatch); !s.ok()) {
        // A queued file failed: the framing is broken, as in FlushOutput.
        (void)SetLingerZero(fd_.get());
        CloseNow(CloseReason::kError);
        return;
      }
    }
    Buffer& out = tls_->ciphertext_out();
    if (out.empty()) return;
    const size_t want = out.readable_bytes();
    const ssize_t n = ::send(fd_.get(), out.data(), want, MSG_NOSIGNAL);
    worker_->CountWrites(1);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        Clear(kWritable);
      } else {
        HandleWriteError(errno);
      }
      return;
    }
    out.Consume(static_cast<size_t>(n));
    OnOutputConsumed(static_cast<size_t>(n));
    if (static_cast<size_t>(n) < want) {
      // The next EPOLLOUT edge says when the socket drains.
      Clear(kWritable);
      return;
    }
    // Kept while plaintext remains: a large response is encrypted in
    // kCiphertextBatch pieces, and releasing the buffer after each one made
    // every piece map, fault in and unmap a fresh 128 KiB block.
    if (output_.empty()) out.ReleaseIfEmpty();
  }
}

bool Connection::OutputFlushed() const {
  return output_.empty() && (tls_ == nullptr || tls_->ciphertext_out().empty());
}

bool Connection::CloseNotifyPending() {
  if (tls_ == nullptr || !tls_->handshake_done()) return false;
  if (!tls_->close_notify_sent()) {
    tls_->SendCloseNotify();
    FlushTls();
  }
  return phase_ != Phase::kClosed && !OutputFlushed();
}

void Connection::FlushOutput() {
  if (tls_ != nullptr) {
    FlushTls();
  } else if (Has(kWritable) && !output_.empty() && phase_ != Phase::kClosed) {
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
  if (output_.empty()) output_.ReleaseIfEmpty();
  if (!OutputFlushed() && !write_timer_.valid() && phase_ != Phase::kClosed &&
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
  if (phase_ == Phase::kClosed || OutputFlushed()) return;
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
  if (phase_ == Phase::kClosed || !OutputFlushed()) return;
  if (Has(kShutdownRequested) && !Has(kShutdownDone)) {
    if (CloseNotifyPending()) return;
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
  // A TLS peer learns that the close is intended, not a truncation.
  if (!Has(kShutdownDone) && CloseNotifyPending()) return;
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
  if (max_age_timer_.valid()) loop_->Cancel(max_age_timer_);
  idle_timer_ = linger_timer_ = write_timer_ = proxy_timer_ = {};
  max_age_timer_ = {};
  CancelUserTimers();
  if (tls_ != nullptr && tls_->handshake_timer.valid()) {
    loop_->Cancel(tls_->handshake_timer);
    tls_->handshake_timer = {};
  }
  if (Has(kAwaitingProxy)) {
    // Never opened (its PROXY header was awaited): no handler callback, and
    // no handshake had started.
  } else if (Has(kAwaitingHandshake)) {
    // Never opened: no handler callback; a client's Connect hears why.
    worker_->HandshakeEnded();
    if (tls_failure_callback_) {
      absl::Status why = tls_->error();
      if (why.ok()) {
        why = absl::UnavailableError(
            absl::StrCat("the connection closed during the TLS handshake (",
                         CloseReasonName(reason), ")"));
      }
      std::move(tls_failure_callback_)(std::move(why));
    }
  } else if (handler_ != nullptr) {
    handler_->OnClose(*this, reason);
  }
  fd_.reset();
  output_.Clear();
  worker_->Release(this, reason);
}

}  // namespace eddy
