#ifndef EDDY_NET_CONNECTION_H_
#define EDDY_NET_CONNECTION_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "eddy/core/buffer.h"
#include "eddy/core/event_loop.h"
#include "eddy/core/timer_wheel.h"
#include "eddy/core/unique_fd.h"
#include "eddy/net/address.h"
#include "eddy/net/cidr.h"
#include "eddy/net/connection_ref.h"
#include "eddy/net/output_queue.h"
#include "eddy/net/protocol.h"
#include "eddy/net/proxy_protocol.h"
#include "eddy/net/tls_context.h"

namespace eddy {

class TlsTransport;
class Worker;
struct TlsStart;

// Per-connection limits and behaviour; part of ServerOptions.
struct ConnectionOptions {
  // Reading pauses while more than this many output bytes are queued...
  size_t high_water_mark = 4 * 1024 * 1024;
  // ...and resumes (with Handler::OnDrained) once it falls below this.
  size_t low_water_mark = 1024 * 1024;
  // Reading also pauses while this many files (SendFile) are queued, since
  // each holds a descriptor however few bytes it sends, and resumes once at
  // most half of them are left. At least 1.
  size_t max_queued_files = 16;
  // The most bytes read from one connection per readiness event before the
  // loop serves other connections (fairness); the rest is read next
  // iteration from the ready list.
  size_t read_budget = 256 * 1024;
  // Closes a connection when no byte moves for this long (infinite: never).
  absl::Duration idle_timeout = absl::InfiniteDuration();
  // Output that makes no progress for this long (the peer stopped reading)
  // aborts the connection (CloseReason::kWriteTimeout); infinite: never.
  absl::Duration write_timeout = absl::Seconds(60);
  // A Close() whose output the peer does not read within this time becomes
  // an Abort(), so a stalled peer cannot hold a connection forever.
  absl::Duration close_linger = absl::Seconds(30);
  // A connection open this long gets Handler::OnMaxAge (by default a
  // graceful Close), so that long-lived clients reconnect and a fleet that
  // grew rebalances. Each connection's age limit is spread over
  // [max_age, max_age * (1 + max_age_jitter)] so that the connections of a
  // burst do not all end at once. Infinite: never.
  absl::Duration max_age = absl::InfiniteDuration();
  double max_age_jitter = 0.1;
  // An accepted connection is read at once, before it is registered with
  // epoll, because its first bytes are most likely there already (set by
  // Server from ServerOptions::defer_accept). Where they are not, it costs
  // one read that says EAGAIN.
  bool read_on_accept = false;
  // Whether accepted connections start with a PROXY protocol header, who
  // may send one (null or empty: any source), and how long it may take to
  // arrive. Set by Server from ServerOptions::proxy_protocol, proxy_trusted
  // (which it keeps for its lifetime) and proxy_header_timeout. (A pointer:
  // these options stay trivially copyable, which GCC 12's -O3 flow analysis
  // needs to not warn about every braced ServerOptions.)
  ProxyProtocolMode proxy_protocol = ProxyProtocolMode::kOff;
  const std::vector<Cidr>* proxy_trusted = nullptr;
  absl::Duration proxy_header_timeout = absl::Seconds(5);
};

// Who is at the other end of a Unix domain socket (SO_PEERCRED): the
// process that connected, as the kernel saw it then.
struct PeerCredentials {
  pid_t pid = 0;
  uid_t uid = 0;
  gid_t gid = 0;
};

// Connection is one TCP connection (accepted, or opened with Connect), owned
// by the worker (and its EventLoop) it belongs to. It is registered with
// epoll once, for IN|OUT|RDHUP in edge-triggered mode, and never modified:
// writability is tracked here, so the hot path makes no epoll_ctl calls.
//
// Reading: bytes are read until EAGAIN (or the read budget, after which the
// connection waits on the loop's ready list) and passed to Handler::OnData.
// Writing: Send appends to the output, which is flushed once when the
// current dispatch ends: one write for all the responses of a read burst,
// and for everything a posted task or a connection timer queued.
//
// Dispatch: every handler callback runs inside one bracket (reading, the
// ready list, connection timers, tasks posted with ConnectionRef::Post or
// Connection::Post, opening, shutdown), and the output queued inside it is
// flushed when the bracket closes. No handler callback ever runs inside a
// call to Send, Close, Abort, ShutdownWrite, PauseReading or ResumeReading,
// whoever makes it: a call made outside this connection's own dispatch (a
// plain loop task, another connection's callback) schedules the flush on
// the loop's ready list, where it runs in a dispatch of its own before the
// loop sleeps.
//
// Threading: every member function must be called on the owning loop's
// thread (inside handler callbacks, loop tasks or timers), except ref(),
// whose result may be copied to and used from any thread.
class Connection final : private IoHandler {
 public:
  using TimerCallback = absl::AnyInvocable<void(Connection&)>;

  // Queue bytes for sending (a copy). Never blocks. Ignored once Close/
  // Abort/ShutdownWrite was called; so are the other Send overloads.
  void Send(absl::string_view data);
  // A string literal would be ambiguous between the views and the moves.
  void Send(const char* data) { Send(absl::string_view(data)); }
  // Moves `data` to the output: from OutputQueue::kMoveThreshold bytes it is
  // sent from its own memory, uncopied, in the same sendmsg as the bytes
  // queued before it. An lvalue std::string binds to Send(string_view) and
  // is copied.
  void Send(std::string&& data);
  // Moves `data`'s bytes to the output without copying when the output is
  // empty or `data` is large; `data` ends empty.
  void Send(Buffer&& data);
  // Queues `length` bytes of `file` from `offset`, sent with sendfile(2)
  // after the bytes queued before it. The connection owns `file` until sent.
  void SendFile(UniqueFd file, off_t offset, size_t length);

  // Half-close: sends FIN once the queued output is flushed; reading goes on.
  void ShutdownWrite();
  // Graceful close: stop reading, flush the queued output, then close. A
  // peer that does not read within close_linger gets an RST instead.
  // Handler::OnClose runs when the dispatch ends, never inside this call.
  void Close(CloseReason reason = CloseReason::kLocalClose);
  // Hard close: discard the output and reset the connection (RST), when the
  // dispatch ends.
  void Abort(CloseReason reason = CloseReason::kAborted);

  // Pause or resume reading, e.g. while a request is processed
  // asynchronously. Independent of the automatic water-mark pause. A reset
  // by the peer still closes a paused connection (OnClose, kReset).
  void PauseReading();
  void ResumeReading();

  // Closes (Handler::OnIdleTimeout) after `timeout` without reading or
  // writing a byte; InfiniteDuration disables. Re-arming is free: the timer
  // is lazily pushed back when it fires early.
  void SetIdleTimeout(absl::Duration timeout);

  // Timers that belong to this connection: `callback` runs inside the
  // connection's dispatch (its output is flushed when it returns), and every
  // timer still scheduled is cancelled when the connection closes, so a
  // callback never runs for a closed connection and needs no bookkeeping in
  // OnClose. RunEvery repeats until cancelled or closed.
  TimerId RunAfter(absl::Duration delay, TimerCallback callback);
  TimerId RunEvery(absl::Duration interval, TimerCallback callback);
  // Cancels a timer of this connection; false if it already ran (one-shot),
  // was cancelled, or is not this connection's.
  bool CancelTimer(TimerId id);

  // Runs `task` inside this connection's dispatch on a later turn of the
  // loop, if the connection is still open then: e.g. to finish work after
  // the current callback without re-entering it.
  void Post(absl::AnyInvocable<void(Connection&) &&> task);

  // Hands the connection to `handler` (a protocol switch: HTTP Upgrade,
  // WebSocket, STARTTLS-like). Call it from inside one of this connection's
  // handler callbacks; the switch happens when that callback returns, still
  // inside the same dispatch: the old handler's connection timers are
  // cancelled, reading paused by PauseReading resumes, the idle timeout goes
  // back to ConnectionOptions::idle_timeout, the new handler's OnOpen runs
  // (followed by OnDrain if the server is draining), then its OnData with
  // the input not consumed so far (if any). The old
  // handler gets no further callbacks, not even OnClose, and is destroyed
  // when the dispatch ends, never while a callback of it is on the stack.
  // It must leave the input alone after the call: every byte it did not
  // consume goes to the new handler. Ignored once the connection is
  // closing; a second call before the switch replaces the first.
  void ReplaceHandler(std::unique_ptr<Handler> handler);

  // The received bytes no handler has consumed yet: for a handler that
  // resumes processing outside OnData (e.g. after an asynchronous answer).
  Buffer& input() { return input_; }

  // Bytes queued and not yet accepted by the kernel.
  size_t output_bytes() const { return output_.size(); }
  // Files queued with SendFile and not yet fully sent.
  size_t queued_files() const { return output_.files(); }
  // True while the output holds more than high_water_mark bytes or
  // max_queued_files files. Reading pauses then; a handler that answers
  // input it already holds (pipelined requests) stops too and continues
  // from OnDrained, which is owed to it even if the socket takes all the
  // output at once.
  bool output_full() const;
  // The current idle timeout (SetIdleTimeout); InfiniteDuration if none.
  absl::Duration idle_timeout() const;
  bool reading_paused() const { return Has(kPausedByUser | kPausedByWater); }
  // True once Close/Abort was called or the connection ended.
  bool closing() const { return phase_ != Phase::kOpen; }
  bool write_shutdown() const { return Has(kShutdownRequested); }

  // TLS: what the handshake negotiated, or null on a plaintext connection
  // (and while the handshake of a StartTls is still running). A connection
  // accepted by a TLS server (ServerOptions::tls) or opened with
  // ConnectOptions::tls is opened (Handler::OnOpen) only once its handshake
  // completed; from then on OnData sees plaintext, Send takes plaintext, and
  // output_bytes() and the water marks count plaintext.
  const TlsInfo* tls() const;
  // Upgrades this plaintext connection to TLS in place (STARTTLS): the
  // output queued so far leaves in plaintext first, then the handshake runs
  // as `context`'s side (server or client; `server_name` overrides a
  // client context's), and the input not consumed yet is fed to TLS as its
  // first ciphertext, so no byte is lost or read twice. Call it after
  // consuming the command that asked for it. Bytes read from then on reach
  // OnData decrypted; if the handshake fails the connection closes
  // (OnClose, kError). Fails if TLS is already on or files are queued.
  absl::Status StartTls(std::shared_ptr<const TlsContext> context,
                        absl::string_view server_name = {});

  // The client's address: the one a PROXY protocol header named (see
  // ServerOptions::proxy_protocol), else the socket's peer.
  const SocketAddress& peer();
  // The socket's own peer (one getpeername on the first call): behind a
  // balancer that sends PROXY headers, the balancer.
  const SocketAddress& transport_peer();
  // What the PROXY header said (addresses, ALPN, authority, SSL); null when
  // the connection came without one.
  const ProxyInfo* proxy_info() const { return proxy_info_.get(); }
  // The connecting process of a Unix domain socket; nullopt on TCP.
  std::optional<PeerCredentials> peer_credentials();
  // A handle usable from any thread (see ConnectionRef).
  ConnectionRef ref() const;
  EventLoop& loop() const { return *loop_; }
  // The worker that owns this connection, e.g. to Connect from it so that
  // both ends of a proxy share one thread.
  Worker& worker() const { return *worker_; }
  size_t worker_index() const;
  // Unique per worker for the life of the process.
  uint64_t id() const { return id_; }
  int fd() const { return fd_.get(); }
  Handler* handler() const { return handler_.get(); }
  const ConnectionOptions& options() const { return options_; }

  // The connection's state in one line, e.g. "open reading writable
  // paused-by-water", for logs and test failures.
  std::string DebugState() const;

  ~Connection();

 private:
  friend class Worker;
  friend class ConnectionRef;

  // Where the connection is in its life. Only forward moves happen:
  // kOpen -> kClosing (Close: flush, then close) -> kClosed, or
  // kOpen/kClosing -> kAborting (Abort: RST at the end of the dispatch) ->
  // kClosed.
  enum class Phase : uint8_t { kOpen, kClosing, kAborting, kClosed };

  // The rest of the state: independent facts about the two directions, one
  // bit each.
  enum Flag : uint16_t {
    kWritable = 1 << 0,            // no EAGAIN since the last EPOLLOUT edge
    kInDispatch = 1 << 1,          // inside the dispatch bracket
    kFlushScheduled = 1 << 2,      // on the ready list to flush output
    kReadPending = 1 << 3,         // bytes may wait: no EAGAIN since pause
    kInputEnded = 1 << 4,          // EOF read
    kHangupSeen = 1 << 5,          // RDHUP/HUP/ERR reported: read to EOF
    kPausedByUser = 1 << 6,        // PauseReading
    kPausedByWater = 1 << 7,       // output full: bytes or queued files
    kShutdownRequested = 1 << 8,   // ShutdownWrite (or closing) asked for FIN
    kShutdownDone = 1 << 9,        // FIN sent
    kHadUnreadInput = 1 << 10,     // input was discarded while closing
    kAwaitingProxy = 1 << 11,      // a PROXY header may come; not yet opened
    kUntrustedSource = 1 << 12,    // the transport peer is not proxy_trusted
    kAwaitingHandshake = 1 << 13,  // TLS: OnOpen waits for the handshake
  };

  Connection(Worker* worker, EventLoop* loop, UniqueFd fd, uint32_t slot,
             uint32_t generation, uint64_t id,
             const ConnectionOptions& options);

  // For the Worker: the steps of a connection's life that it starts.
  // Runs OnOpen (inside a dispatch). An `accepted` connection on a server
  // that expects PROXY headers runs it once the header was read instead.
  void Open(std::unique_ptr<Handler> handler, bool accepted);
  // Reads what already arrived before the connection is registered (see
  // ConnectionOptions::read_on_accept).
  void ReadBeforeRegistering();
  // Registers the fd with the loop (or takes over a registration made for
  // the connect); false if epoll refused it.
  absl::Status Register(bool already_watched);
  // Handler::OnServerStopping inside a dispatch.
  void NotifyServerStopping();
  // Handler::OnDrain inside a dispatch.
  void NotifyDraining();
  // Schedules Handler::OnMaxAge (ConnectionOptions::max_age).
  void ArmMaxAgeTimer();
  // Abort inside a dispatch: the connection is closed when this returns.
  void ForceClose(CloseReason reason);
  // Before Open: the connection begins with a TLS handshake, and is opened
  // (OnOpen) when it completes. Open starts the handshake's deadline.
  absl::Status BeginTls(const TlsStart& start);
  // Ends the connection without callbacks when it was never opened.
  void DiscardUnopened();
  bool closed() const { return phase_ == Phase::kClosed; }

  // IoHandler: called by the EventLoop only.
  void HandleIo(uint32_t events) override;
  void HandleReady() override;

  // The one dispatch path: runs `fn` (which may call handler callbacks)
  // inside the bracket; the outermost bracket ends with EndDispatch.
  template <typename Fn>
  void Dispatch(Fn&& fn);
  // Closes the bracket: flush, water marks, FIN, close, in that order.
  void EndDispatch();
  // For calls made outside a dispatch: flush later, from the ready list.
  void ScheduleFlush();
  // A task from ConnectionRef::Post, inside a dispatch.
  void RunTask(absl::AnyInvocable<void(Connection&) &&> task);

  void ReadInput(uint32_t events);
  // After the PROXY header (if any): the TLS handshake when there is one,
  // else StartHandler.
  void StartTransport();
  // The handler's first callbacks: the idle timer, then OnOpen.
  void StartHandler();
  // The PROXY protocol step, before the handler sees a byte: decides from
  // the transport peer whether a header may come and arms its deadline;
  // then consumes the header from the input as it arrives.
  void AwaitProxyHeader();
  void ConsumeProxyHeader();
  void FinishProxyHeader(std::unique_ptr<ProxyInfo> info);
  void RejectProxyHeader(absl::string_view why, CloseReason reason);
  void FlushOutput();
  // TLS: handshake and decrypt the ciphertext read; encrypt and send.
  void ProcessTlsInput();
  void FlushTls();
  void FailTls();
  void ArmHandshakeDeadline();
  void OnHandshakeTimeout();
  // Queues close_notify before a TLS connection's FIN; true while it still
  // waits to be sent.
  bool CloseNotifyPending();
  // Nothing queued: no plaintext, and no ciphertext waiting for the socket.
  bool OutputFlushed() const;
  void OnOutputConsumed(size_t n);
  // OnHighWater when the output just became full (bytes or files);
  // returns whether it was called.
  bool PauseIfOutputFull();
  // OnDrained when paused by the marks and the output is below the low
  // mark (and at most half the file cap); returns whether it was called.
  bool ResumeIfDrained();
  bool CanResume() const;
  void MaybeFinishClosing();
  void CloseNow(CloseReason reason);
  void HandleWriteError(int error);
  void ArmIdleTimer(int64_t delay_ms);
  void OnIdleTimer();
  void ArmLingerTimer();
  void ArmWriteTimer(int64_t delay_ms);
  void OnWriteTimer();
  TimerId AddUserTimer(absl::Duration delay, absl::Duration period,
                       TimerCallback callback);
  void ForgetUserTimer(uint64_t key);
  void CancelUserTimers();
  // Makes a handler given to ReplaceHandler the current one; returns
  // whether it did.
  bool AdoptReplacementHandler();
  void Touch() { last_activity_ms_ = loop_->now_ms(); }

  bool Has(uint16_t flags) const { return (flags_ & flags) != 0; }
  void Set(uint16_t flags) { flags_ |= flags; }
  void Clear(uint16_t flags) { flags_ &= static_cast<uint16_t>(~flags); }

  Worker* const worker_;
  EventLoop* const loop_;
  const ConnectionOptions& options_;
  UniqueFd fd_;
  std::unique_ptr<Handler> handler_;
  // ReplaceHandler's handler, until the callback that asked returns.
  std::unique_ptr<Handler> replacement_;
  // Handlers replaced during this dispatch; destroyed when it ends.
  std::vector<std::unique_ptr<Handler>> retired_handlers_;
  Buffer input_;
  OutputQueue output_;
  // Made on first use, since most connections never ask (a SocketAddress
  // with room for a Unix path is 116 bytes): an idle connection stays small.
  std::unique_ptr<SocketAddress> transport_peer_;
  std::unique_ptr<ProxyInfo> proxy_info_;
  std::unique_ptr<TlsTransport> tls_;  // null: plaintext
  // A client's (set by the Worker before Open): told why the handshake
  // failed, since the handler never opened.
  absl::AnyInvocable<void(absl::Status)> tls_failure_callback_;
  const uint64_t id_;
  const uint32_t slot_;
  const uint32_t generation_;
  int64_t last_activity_ms_ = 0;
  int64_t idle_timeout_ms_ = -1;
  TimerId idle_timer_;
  TimerId linger_timer_;
  TimerId write_timer_;
  TimerId proxy_timer_;
  TimerId max_age_timer_;
  // RunAfter/RunEvery timers still scheduled; a one-shot timer finds its
  // entry by key when it fires.
  struct UserTimer {
    uint64_t key;
    TimerId id;
  };
  std::vector<UserTimer> user_timers_;
  uint64_t next_timer_key_ = 0;
  int64_t last_write_ms_ = 0;  // the last time output made progress
  CloseReason close_reason_ = CloseReason::kLocalClose;
  Phase phase_ = Phase::kOpen;
  uint16_t flags_ = kWritable;
};

}  // namespace eddy

#endif  // EDDY_NET_CONNECTION_H_
