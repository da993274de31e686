#ifndef EDDY_NET_CONNECTION_H_
#define EDDY_NET_CONNECTION_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "eddy/core/buffer.h"
#include "eddy/core/event_loop.h"
#include "eddy/core/timer_wheel.h"
#include "eddy/core/unique_fd.h"
#include "eddy/net/address.h"
#include "eddy/net/connection_ref.h"
#include "eddy/net/output_queue.h"
#include "eddy/net/protocol.h"

namespace eddy {

class Worker;

// Per-connection limits and behaviour; part of ServerOptions.
struct ConnectionOptions {
  // Reading pauses while more than this many output bytes are queued...
  size_t high_water_mark = 4 * 1024 * 1024;
  // ...and resumes (with Handler::OnDrained) once it falls below this.
  size_t low_water_mark = 1024 * 1024;
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
  // An accepted connection is read at once, before it is registered with
  // epoll, because its first bytes are most likely there already (set by
  // Server from ServerOptions::defer_accept). Where they are not, it costs
  // one read that says EAGAIN.
  bool read_on_accept = false;
};

// Connection is one accepted TCP connection, owned by the worker (and its
// EventLoop) it was handed to. It is registered with epoll once, for
// IN|OUT|RDHUP in edge-triggered mode, and never modified: writability is
// tracked here, so the hot path makes no epoll_ctl calls.
//
// Reading: bytes are read until EAGAIN (or the read budget, after which the
// connection waits on the loop's ready list) and passed to Handler::OnData.
// Writing: Send appends to the output; inside a handler callback the output
// is flushed once when the callback returns (one write for all the
// responses of a read burst), outside it is flushed at once. What the socket
// does not take waits for the next EPOLLOUT edge.
//
// Threading: every member function must be called on the owning loop's
// thread (inside handler callbacks, loop tasks or timers), except ref(),
// whose result may be copied to and used from any thread.
class Connection final : public IoHandler {
 public:
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
  void Close(CloseReason reason = CloseReason::kLocalClose);
  // Hard close: discard the output and reset the connection (RST).
  void Abort(CloseReason reason = CloseReason::kAborted);

  // Pause or resume reading, e.g. while a request is processed
  // asynchronously. Independent of the automatic water-mark pause.
  void PauseReading();
  void ResumeReading();

  // Closes (Handler::OnIdleTimeout) after `timeout` without reading or
  // writing a byte; InfiniteDuration disables. Re-arming is free: the timer
  // is lazily pushed back when it fires early.
  void SetIdleTimeout(absl::Duration timeout);

  // The received bytes no handler has consumed yet: for a handler that
  // resumes processing outside OnData (e.g. after an asynchronous answer).
  Buffer& input() { return input_; }

  // Bytes queued and not yet accepted by the kernel.
  size_t output_bytes() const { return output_.size(); }
  bool reading_paused() const { return paused_by_user_ || paused_by_water_; }
  // True once Close/Abort was called or the connection ended.
  bool closing() const { return state_ != State::kOpen; }
  bool write_shutdown() const { return shutdown_requested_; }

  // The peer's address (one getpeername on the first call).
  const SocketAddress& peer();
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

  // IoHandler; called by the EventLoop only.
  void HandleIo(uint32_t events) override;
  void HandleReady() override;

  ~Connection();

 private:
  friend class Worker;

  enum class State : uint8_t { kOpen, kClosing, kClosed };

  Connection(Worker* worker, EventLoop* loop, UniqueFd fd, uint32_t slot,
             uint32_t generation, uint64_t id,
             const ConnectionOptions& options);
  void Open(std::unique_ptr<Handler> handler);

  void ReadInput(uint32_t events);
  void Dispatch();
  void EndDispatch();
  void FlushOutput();
  void OnOutputConsumed(size_t n);
  void UpdateWaterMarks();
  void MaybeFinishClosing();
  void CloseNow(CloseReason reason);
  void HandleWriteError(int error);
  void ArmIdleTimer(int64_t delay_ms);
  void OnIdleTimer();
  void ArmLingerTimer();
  void ArmWriteTimer(int64_t delay_ms);
  void OnWriteTimer();
  void Touch() { last_activity_ms_ = loop_->now_ms(); }

  Worker* const worker_;
  EventLoop* const loop_;
  const ConnectionOptions& options_;
  UniqueFd fd_;
  std::unique_ptr<Handler> handler_;
  Buffer input_;
  OutputQueue output_;
  std::optional<SocketAddress> peer_;
  const uint64_t id_;
  const uint32_t slot_;
  const uint32_t generation_;
  int64_t last_activity_ms_ = 0;
  int64_t idle_timeout_ms_ = -1;
  TimerId idle_timer_;
  TimerId linger_timer_;
  TimerId write_timer_;
  int64_t last_write_ms_ = 0;  // the last time output made progress
  CloseReason close_reason_ = CloseReason::kLocalClose;
  State state_ = State::kOpen;
  bool writable_ = true;  // until a write says EAGAIN
  bool in_dispatch_ = false;
  bool read_pending_ = false;  // bytes may wait: no EAGAIN seen since pause
  bool input_ended_ = false;
  bool paused_by_user_ = false;
  bool paused_by_water_ = false;
  bool shutdown_requested_ = false;
  bool shutdown_done_ = false;
  bool abort_requested_ = false;
  bool had_unread_input_ = false;
  bool hangup_seen_ = false;  // RDHUP/HUP/ERR reported: read to EOF
};

}  // namespace eddy

#endif  // EDDY_NET_CONNECTION_H_
