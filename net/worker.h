#ifndef EDDY_NET_WORKER_H_
#define EDDY_NET_WORKER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "absl/status/status.h"
#include "eddy/core/event_loop.h"
#include "eddy/core/single_writer_counter.h"
#include "eddy/core/unique_fd.h"
#include "eddy/net/connection.h"
#include "eddy/net/connection_ref.h"
#include "eddy/net/protocol.h"
#include "eddy/net/server_state.h"
#include "eddy/net/tls_context.h"

namespace eddy {

class PendingConnection;
struct TlsStart;
class WorkerInbox;

// Counters of one worker. Each counter has a single writer thread, so
// updates are plain relaxed stores, not atomic read-modify-writes; readers on
// other threads get a consistent-enough snapshot, summed over workers by the
// WorkerGroup.
struct WorkerStats {
  uint64_t accepted = 0;  // connections opened on this worker
  uint64_t active = 0;    // open now
  uint64_t closed = 0;
  // Dropped before they opened: every inbox was full (counted by the
  // acceptor), or this worker could not take the connection (no slot, or
  // epoll refused it; counted by the worker).
  uint64_t shed = 0;
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  // Write system calls (sendmsg, sendfile) made for the connections' output:
  // with bytes_out and the request count, the cost of one write per burst.
  uint64_t writes = 0;
  // Connections closed, by CloseReason (indexed by its value).
  uint64_t closed_by_reason[kCloseReasonCount] = {};
  // Reads that stopped at ConnectionOptions::read_budget with bytes left,
  // for fairness: a sign of a connection that floods its worker.
  uint64_t read_budget_exhausted = 0;
  // Handed-off fds the worker has not opened yet.
  uint64_t inbox_depth = 0;
  // Connections closed before their handler opened because of the PROXY
  // protocol step: a malformed, forged (untrusted source), missing
  // (required) or late header.
  uint64_t proxy_rejected = 0;
  // TLS connections that failed, by TlsFailure (indexed by its value).
  uint64_t tls_failures[kTlsFailureCount] = {};
};

// Worker is the net-layer side of one worker thread of a WorkerGroup: it
// owns the connections opened on that thread, whether handed over by the
// acceptor or opened with Connect / Adopt, and counts what they do. It runs
// on its EventLoop, and only there are its connections touched.
//
// Threading: index(), loop(), stats() and server_state() may be called from
// any thread; Adopt, open_count(), shutting_down() and draining() on the
// worker's loop thread only.
// The acceptor's hand-off and the group's shutdown steps are eddy's own and
// not part of this interface.
class Worker final : private WorkSource {
 public:
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Any thread.
  WorkerStats stats() const;
  size_t index() const { return index_; }
  EventLoop& loop() const { return loop_; }
  // Any thread: the lifecycle of the server (or WorkerGroup) this worker
  // belongs to; one atomic load, cheap enough to read per request (e.g. to
  // answer "Connection: close" while draining).
  ServerState server_state() const {
    return server_state_.load(std::memory_order_acquire);
  }

  // Loop thread: makes `fd` (a connected, non-blocking socket) one of this
  // worker's connections, served by `handler`: the handler's OnOpen runs
  // before this returns. On an error (no slot is free, epoll refused the
  // fd, the worker is shutting down) the fd is closed and `handler` is
  // destroyed without any callback, as it never opened. Connect
  // (net/connector.h) uses this for outgoing connections.
  absl::Status Adopt(UniqueFd fd, std::unique_ptr<Handler> handler);

  // Loop thread: connections open on this worker now.
  size_t open_count() const { return open_; }
  // Loop thread: true once the group began stopping; no connection opens.
  bool shutting_down() const { return shutting_down_; }
  // Loop thread: true once this worker began draining (every connection
  // open then got Handler::OnDrain; later ones get it after OnOpen).
  bool draining() const { return draining_; }

 private:
  friend class Connection;
  friend class ConnectionRef;
  friend class WorkerGroup;
  friend class WorkerAccess;

  static constexpr uint32_t kChunkBits = 10;
  static constexpr uint32_t kChunkSize = 1u << kChunkBits;
  static constexpr uint32_t kMaxChunks = 4096;  // 4 Mi connections

  // Slots live in chunks that are never freed or moved, so other threads
  // can read a slot's generation without a lock. An odd generation means
  // the slot holds an open connection.
  struct Chunk {
    std::atomic<uint32_t> generation[kChunkSize] = {};
    std::unique_ptr<Connection> connection[kChunkSize];
  };

  // `factory` makes the handlers of handed-off fds; it may be null when
  // nothing is ever handed off (every connection is Adopted).
  Worker(size_t index, EventLoop& loop, ProtocolFactory* factory,
         const ConnectionOptions& options, size_t inbox_depth,
         std::atomic<int64_t>& open_connections,
         const std::atomic<ServerState>& server_state);

  // Acceptor thread (the inbox's single producer): queues `fd` and wakes
  // the worker if it sleeps. False (the caller keeps `fd`) when full.
  bool HandOff(int fd);
  // HandOff without the wake-up, for a burst of accepts that ends with one
  // WakeForHandOffs().
  bool QueueHandOff(int fd);
  void WakeForHandOffs() { loop_.Wake(); }
  // Acceptor thread: a connection meant for this worker was dropped.
  void CountShedByAcceptor();

  // Any thread: whether `slot` still holds generation `generation`.
  bool IsAlive(uint32_t slot, uint32_t generation) const;
  // Loop thread: the open connection in `slot` if its generation matches.
  Connection* Find(uint32_t slot, uint32_t generation) const;

  // Loop thread: `pending` runs until RemovePending or shutdown (then its
  // CancelForShutdown is called).
  void AddPending(PendingConnection* pending);
  void RemovePending(PendingConnection* pending);
  // Loop thread: cancels the connects in progress and asks every handler
  // to finish (Handler::OnServerStopping).
  void BeginShutdown();
  // Loop thread: calls Handler::OnDrain on every open connection, and on
  // every connection opened from now on.
  void BeginDrain();
  // Loop thread: notes that the loop turned now (see WorkerGroup::Live).
  void Heartbeat();
  // Any thread: MonotonicMillis of the last Heartbeat.
  int64_t last_heartbeat_ms() const {
    return last_heartbeat_ms_.load(std::memory_order_relaxed);
  }
  // Loop thread: aborts every connection still open.
  void AbortAll(CloseReason reason);
  // Owner thread, after the loop has stopped: closes fds still queued.
  void CloseQueuedFds();

  // WorkSource, on the loop thread: opens the handed-off fds.
  bool HasPendingWork() const override;
  void RunPendingWork() override;

  // `handler` null: the factory makes one (a handed-off fd). With
  // `registered`, `fd` is watched by this loop already (for the connect)
  // and the registration is handed over: one epoll_ctl(MOD). With `tls`
  // (a Connect's), the connection starts with a client handshake; a
  // handed-off fd gets the server's context, if any.
  absl::Status OpenConnection(UniqueFd fd, std::unique_ptr<Handler> handler,
                              bool registered, TlsStart* tls = nullptr);
  // Any thread (Server): the context of the TLS connections opened from
  // now on; null: plaintext.
  void SetTlsContext(std::shared_ptr<const TlsContext> context);
  // Loop thread: the current context, or null (one relaxed load when TLS
  // was never set).
  std::shared_ptr<const TlsContext> tls_context() const;
  void CountTlsFailure(TlsFailure failure) {
    tls_failures_[static_cast<size_t>(failure)].Add();
  }
  bool AllocateSlot(uint32_t* slot);
  // Called by Connection on the loop thread.
  void CountBytesIn(size_t n) { bytes_in_.Add(n); }
  void CountBytesOut(size_t n) { bytes_out_.Add(n); }
  void CountWrites(size_t n) { writes_.Add(n); }
  void CountReadBudgetExhausted() { read_budget_exhausted_.Add(); }
  void CountProxyRejected() { proxy_rejected_.Add(); }
  // Handshakes in progress on this worker (for the cap).
  void HandshakeStarted() { ++handshakes_; }
  void HandshakeEnded() { --handshakes_; }
  // A connection closed (after OnClose) for `reason`: count it and free its
  // slot.
  void Release(Connection* conn, CloseReason reason);
  // Frees the slot of `conn` once this loop iteration is over.
  void ReleaseSlot(Connection* conn);
  template <typename Fn>
  void ForEachConnection(Fn fn);

  const size_t index_;
  EventLoop& loop_;
  ProtocolFactory* const factory_;
  const ConnectionOptions& options_;
  std::atomic<int64_t>& open_connections_;  // group-wide, for the cap
  // The acceptor-to-worker queue (Boost.Lockfree, behind the line: see
  // net/internal/worker_inbox.h).
  const std::unique_ptr<WorkerInbox> inbox_;
  std::unique_ptr<std::atomic<Chunk*>[]> chunks_;
  std::vector<uint32_t> free_slots_;
  std::vector<PendingConnection*> pending_;
  const std::atomic<ServerState>& server_state_;
  std::atomic<int64_t> last_heartbeat_ms_{0};
  bool shutting_down_ = false;
  bool draining_ = false;
  uint32_t next_unused_slot_ = 0;
  size_t open_ = 0;
  uint64_t next_id_ = 1;
  SingleWriterCounter accepted_;
  SingleWriterCounter closed_;
  SingleWriterCounter shed_by_acceptor_;  // written by the acceptor thread
  SingleWriterCounter shed_by_worker_;    // written by the loop thread
  SingleWriterCounter bytes_in_;
  SingleWriterCounter bytes_out_;
  SingleWriterCounter writes_;
  SingleWriterCounter closed_by_reason_[kCloseReasonCount];
  SingleWriterCounter read_budget_exhausted_;
  SingleWriterCounter proxy_rejected_;
  SingleWriterCounter tls_failures_[kTlsFailureCount];
  // Set by the server from any thread (start, reload), read at each accept:
  // a lock there costs nothing beside a handshake.
  std::atomic<bool> has_tls_{false};
  mutable std::mutex tls_mutex_;
  std::shared_ptr<const TlsContext> tls_context_;  // guarded by tls_mutex_
  size_t handshakes_ = 0;                          // in progress on this worker
};

}  // namespace eddy

#endif  // EDDY_NET_WORKER_H_
