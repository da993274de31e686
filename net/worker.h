#ifndef EDDY_NET_WORKER_H_
#define EDDY_NET_WORKER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "boost/lockfree/spsc_queue.hpp"
#include "eddy/core/event_loop.h"
#include "eddy/core/single_writer_counter.h"
#include "eddy/net/connection.h"
#include "eddy/net/connection_ref.h"
#include "eddy/net/protocol.h"

namespace eddy {

// Counters of one worker. Each field has a single writer (the worker, or the
// acceptor for `shed`), so updates are plain relaxed stores, not atomic
// read-modify-writes; readers on other threads get a consistent-enough
// snapshot, summed over workers by the Server.
struct WorkerStats {
  uint64_t accepted = 0;  // connections opened on this worker
  uint64_t active = 0;    // open now
  uint64_t closed = 0;
  uint64_t shed = 0;  // dropped by the acceptor: every inbox was full
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
};

// A connect in progress on a worker (net/connector.cc), not yet a
// connection. The worker tracks it so that shutting down ends it: nothing
// may outlive the loop, and no connection may open once the drain began.
class PendingConnection {
 public:
  // Loop thread: give up at once; the connect's failure callback gets
  // absl::CancelledError. The worker has already forgotten it.
  virtual void CancelForShutdown() = 0;

 protected:
  ~PendingConnection() = default;

 private:
  friend class Worker;
  size_t pending_index_ = 0;
};

// Worker is the net-layer side of one worker thread: the inbox of accepted
// fds (a boost::lockfree::spsc_queue filled by the acceptor), the table of
// the connections it owns, the connects in progress, and its counters. It
// runs on one EventLoop of the WorkerGroup as a WorkSource.
//
// Threading: HandOff and CountShed are called only by the acceptor thread
// (the queue's single producer). stats(), IsAlive() and ConnectionRef calls
// are safe from any thread. Everything else runs on the worker's loop
// thread.
class Worker final : public WorkSource {
 public:
  // `factory` makes the handlers of handed-off fds; it may be null when
  // nothing is ever handed off (every connection is Adopted).
  Worker(size_t index, EventLoop& loop, ProtocolFactory* factory,
         const ConnectionOptions& options, size_t inbox_depth,
         std::atomic<int64_t>& open_connections);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Acceptor thread: queues `fd` for this worker and wakes it if it sleeps.
  // Returns false (and keeps ownership with the caller) when the inbox is
  // full.
  bool HandOff(int fd);
  // Acceptor thread: HandOff without the wake-up, for a burst of accepts
  // that ends with one WakeForHandOffs(). A worker that is awake anyway may
  // open the fd before that; a sleeping one is not woken for each fd.
  bool QueueHandOff(int fd);
  void WakeForHandOffs() { loop_.Wake(); }
  void CountShed();

  // Any thread.
  WorkerStats stats() const;
  size_t index() const { return index_; }
  EventLoop& loop() const { return loop_; }
  bool IsAlive(uint32_t slot, uint32_t generation) const;

  // Loop thread: the open connection in `slot` if its generation matches.
  Connection* Find(uint32_t slot, uint32_t generation) const;
  size_t open_count() const { return open_; }
  // Loop thread: makes `fd` (a connected, non-blocking socket) one of this
  // worker's connections, served by `handler` instead of the factory's.
  // Used by Connect (net/connector.h) for outgoing connections. With
  // `registered`, `fd` is already watched by this loop for
  // IN|OUT|RDHUP (edge-triggered) and the registration is handed over to
  // the connection: one epoll_ctl(MOD) instead of a DEL and an ADD.
  void Adopt(UniqueFd fd, std::unique_ptr<Handler> handler,
             bool registered = false);
  // Loop thread: `pending` runs until it calls RemovePending or the worker
  // shuts down (then its CancelForShutdown is called).
  void AddPending(PendingConnection* pending);
  void RemovePending(PendingConnection* pending);
  // Loop thread: true once BeginShutdown ran; no connection may open.
  bool shutting_down() const { return shutting_down_; }
  // Loop thread: cancels the connects in progress and asks every handler
  // to finish (Handler::OnServerStopping).
  void BeginShutdown();
  // Loop thread: aborts every connection still open.
  void AbortAll(CloseReason reason);

  // Owner thread, after the loop has stopped: closes fds still queued.
  void CloseQueuedFds();

  // WorkSource, on the loop thread.
  bool HasPendingWork() const override;
  void RunPendingWork() override;

  // Called by Connection on the loop thread.
  void CountBytesIn(size_t n) { bytes_in_.Add(n); }
  void CountBytesOut(size_t n) { bytes_out_.Add(n); }
  void Release(Connection* conn, CloseReason reason);

 private:
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

  // `handler` null: the factory makes one.
  void OpenConnection(UniqueFd fd, std::unique_ptr<Handler> handler,
                      bool registered);
  bool AllocateSlot(uint32_t* slot);
  // Registers `conn` with the loop's epoll (or, when its fd is watched
  // already, points the registration at it); closes it if that fails.
  bool Register(Connection* conn, bool already_watched);

  const size_t index_;
  EventLoop& loop_;
  ProtocolFactory* const factory_;
  const ConnectionOptions& options_;
  std::atomic<int64_t>& open_connections_;  // server-wide, for the cap
  boost::lockfree::spsc_queue<int> inbox_;
  // Set (seq_cst) by the acceptor after each push, cleared by the loop
  // before it drains: the loop's side of the lost-wakeup protocol reads this
  // flag, not the queue, because the queue's indices are only
  // acquire/release.
  std::atomic<bool> inbox_pending_{false};
  std::unique_ptr<std::atomic<Chunk*>[]> chunks_;
  std::vector<uint32_t> free_slots_;
  std::vector<PendingConnection*> pending_;
  bool shutting_down_ = false;
  uint32_t next_unused_slot_ = 0;
  size_t open_ = 0;
  uint64_t next_id_ = 1;
  SingleWriterCounter accepted_;
  SingleWriterCounter closed_;
  SingleWriterCounter shed_;
  SingleWriterCounter bytes_in_;
  SingleWriterCounter bytes_out_;
};

}  // namespace eddy

#endif  // EDDY_NET_WORKER_H_
