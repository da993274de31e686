#include "eddy/net/worker.h"

#include <unistd.h>

#include <utility>

#include "eddy/core/clock.h"
#include "eddy/net/internal/tls_transport.h"
#include "eddy/net/internal/worker_access.h"
#include "eddy/net/internal/worker_inbox.h"

namespace eddy {

Worker::Worker(size_t index, EventLoop& loop, ProtocolFactory* factory,
               const ConnectionOptions& options, size_t inbox_depth,
               std::atomic<int64_t>& open_connections,
               const std::atomic<ServerState>& server_state)
    : index_(index),
      loop_(loop),
      factory_(factory),
      options_(options),
      open_connections_(open_connections),
      inbox_(std::make_unique<WorkerInbox>(inbox_depth)),
      chunks_(new std::atomic<Chunk*>[kMaxChunks]),
      server_state_(server_state) {
  for (uint32_t i = 0; i < kMaxChunks; ++i) chunks_[i].store(nullptr);
}

Worker::~Worker() {
  CloseQueuedFds();
  for (uint32_t i = 0; i < kMaxChunks; ++i) delete chunks_[i].load();
}

bool Worker::HandOff(int fd) {
  if (!QueueHandOff(fd)) return false;
  WakeForHandOffs();
  return true;
}

bool Worker::QueueHandOff(int fd) { return inbox_->Push(fd); }

void Worker::CountShedByAcceptor() { shed_by_acceptor_.Add(); }

WorkerStats Worker::stats() const {
  WorkerStats stats;
  stats.accepted = accepted_.value();
  stats.closed = closed_.value();
  stats.active =
      stats.accepted >= stats.closed ? stats.accepted - stats.closed : 0;
  stats.shed = shed_by_acceptor_.value() + shed_by_worker_.value();
  stats.bytes_in = bytes_in_.value();
  stats.bytes_out = bytes_out_.value();
  stats.writes = writes_.value();
  for (size_t i = 0; i < kCloseReasonCount; ++i) {
    stats.closed_by_reason[i] = closed_by_reason_[i].value();
  }
  stats.read_budget_exhausted = read_budget_exhausted_.value();
  stats.inbox_depth = inbox_->depth();
  stats.proxy_rejected = proxy_rejected_.value();
  for (size_t i = 0; i < kTlsFailureCount; ++i) {
    stats.tls_failures[i] = tls_failures_[i].value();
  }
  return stats;
}

void Worker::SetTlsContext(std::shared_ptr<const TlsContext> context) {
  std::lock_guard<std::mutex> lock(tls_mutex_);
  has_tls_.store(context != nullptr, std::memory_order_relaxed);
  tls_context_ = std::move(context);
}

std::shared_ptr<const TlsContext> Worker::tls_context() const {
  if (!has_tls_.load(std::memory_order_relaxed)) return nullptr;
  std::lock_guard<std::mutex> lock(tls_mutex_);
  return tls_context_;
}

bool Worker::IsAlive(uint32_t slot, uint32_t generation) const {
  const uint32_t chunk_index = slot >> kChunkBits;
  if (chunk_index >= kMaxChunks) return false;
  const Chunk* chunk = chunks_[chunk_index].load(std::memory_order_acquire);
  return chunk != nullptr && chunk->generation[slot & (kChunkSize - 1)].load(
                                 std::memory_order_acquire) == generation;
}

Connection* Worker::Find(uint32_t slot, uint32_t generation) const {
  if (!IsAlive(slot, generation)) return nullptr;
  Chunk* chunk = chunks_[slot >> kChunkBits].load(std::memory_order_relaxed);
  Connection* conn = chunk->connection[slot & (kChunkSize - 1)].get();
  return conn != nullptr && !conn->closing() ? conn : nullptr;
}

bool Worker::HasPendingWork() const { return inbox_->pending(); }

void Worker::RunPendingWork() {
  inbox_->Drain([this](int fd) {
    // A failure is counted as shed inside; the fd is closed with it.
    (void)OpenConnection(UniqueFd(fd), nullptr, /*registered=*/false);
  });
}

bool Worker::AllocateSlot(uint32_t* slot) {
  if (!free_slots_.empty()) {
    *slot = free_slots_.back();
    free_slots_.pop_back();
    return true;
  }
  const uint32_t chunk_index = next_unused_slot_ >> kChunkBits;
  if (chunk_index >= kMaxChunks) return false;
  if (chunks_[chunk_index].load(std::memory_order_relaxed) == nullptr) {
    chunks_[chunk_index].store(new Chunk, std::memory_order_release);
  }
  *slot = next_unused_slot_++;
  return true;
}

absl::Status Worker::Adopt(UniqueFd fd, std::unique_ptr<Handler> handler) {
  return OpenConnection(std::move(fd), std::move(handler),
                        /*registered=*/false);
}

void Worker::AddPending(PendingConnection* pending) {
  pending->pending_index_ = pending_.size();
  pending_.push_back(pending);
}

void Worker::RemovePending(PendingConnection* pending) {
  const size_t index = pending->pending_index_;
  pending_[index] = pending_.back();
  pending_[index]->pending_index_ = index;
  pending_.pop_back();
}

absl::Status Worker::OpenConnection(UniqueFd owned,
                                    std::unique_ptr<Handler> handler,
                                    bool registered, TlsStart* tls) {
  const bool handed_off = handler == nullptr;
  // Handed-off fds were counted by the acceptor when it took them.
  if (!handed_off) open_connections_.fetch_add(1, std::memory_order_relaxed);
  TlsStart server_tls;
  if (handed_off) server_tls.context = tls_context();
  if (server_tls.context != nullptr) {
    // A handshake costs far more CPU than a request: above the cap a new
    // connection is dropped unread, so that the established ones keep
    // their latency through a reconnect storm.
    if (handshakes_ >= server_tls.context->max_handshakes_per_worker()) {
      open_connections_.fetch_sub(1, std::memory_order_relaxed);
      shed_by_worker_.Add();
      CountTlsFailure(TlsFailure::kShedAtCap);
      return absl::ResourceExhaustedError(
          "too many TLS handshakes in progress on this worker");
    }
    tls = &server_tls;
  }
  uint32_t slot;
  if (shutting_down_ || !AllocateSlot(&slot)) {
    open_connections_.fetch_sub(1, std::memory_order_relaxed);
    shed_by_worker_.Add();
    return shutting_down_ ? absl::CancelledError("the worker is shutting down")
                          : absl::ResourceExhaustedError(
                                "the worker has no free connection slot");
  }
  Chunk* chunk = chunks_[slot >> kChunkBits].load(std::memory_order_relaxed);
  const uint32_t offset = slot & (kChunkSize - 1);
  const uint32_t generation =
      chunk->generation[offset].load(std::memory_order_relaxed) + 1;
  auto conn = std::unique_ptr<Connection>(new Connection(
      this, &loop_, std::move(owned), slot, generation, next_id_++, options_));
  Connection* raw = conn.get();
  chunk->connection[offset] = std::move(conn);
  chunk->generation[offset].store(generation, std::memory_order_release);
  ++open_;
  if (tls != nullptr) {
    if (absl::Status started = raw->BeginTls(*tls); !started.ok()) {
      shed_by_worker_.Add();
      open_connections_.fetch_sub(1, std::memory_order_relaxed);
      raw->DiscardUnopened();
      return started;
    }
  }
  if (handed_off && options_.read_on_accept) {
    // Serve the bytes already waiting first, then register: a connection
    // that closes with its first answer is never registered at all. Until
    // then the socket is writable (nothing was sent yet), and epoll_ctl(ADD)
    // reports whatever arrived or drained after the read.
    accepted_.Add();
    raw->Open(factory_->NewHandler(*raw), /*accepted=*/true);
    raw->ReadBeforeRegistering();
    if (!raw->closed()) {
      if (absl::Status watched = raw->Register(false); !watched.ok()) {
        raw->ForceClose(CloseReason::kError);
      }
    }
    return absl::OkStatus();
  }
  // Register before OnOpen so that a Send in OnOpen can complete normally;
  // the edge for bytes that arrived before registration is reported anyway,
  // because epoll_ctl(ADD) and (MOD) check the current readiness.
  if (absl::Status watched = raw->Register(registered); !watched.ok()) {
    // Never opened: no callback runs, and it was never counted as accepted.
    shed_by_worker_.Add();
    open_connections_.fetch_sub(1, std::memory_order_relaxed);
    raw->DiscardUnopened();
    return watched;
  }
  accepted_.Add();
  // Taken only now: a connection that failed to open leaves the failure
  // callback with the caller, who reports the failure itself.
  if (tls != nullptr) raw->tls_failure_callback_ = std::move(tls->on_failure);
  raw->Open(handed_off ? factory_->NewHandler(*raw) : std::move(handler),
            handed_off);
  return absl::OkStatus();
}

void Worker::Release(Connection* conn, CloseReason reason) {
  closed_.Add();
  closed_by_reason_[static_cast<size_t>(reason)].Add();
  open_connections_.fetch_sub(1, std::memory_order_relaxed);
  ReleaseSlot(conn);
}

void Worker::ReleaseSlot(Connection* conn) {
  const uint32_t slot = conn->slot_;
  Chunk* chunk = chunks_[slot >> kChunkBits].load(std::memory_order_relaxed);
  const uint32_t offset = slot & (kChunkSize - 1);
  chunk->generation[offset].fetch_add(1, std::memory_order_release);
  --open_;
  // Events of this iteration may still name the connection: free it, and
  // its slot, once the iteration is over.
  loop_.RunAfterIteration([this, chunk, offset, slot] {
    chunk->connection[offset].reset();
    free_slots_.push_back(slot);
  });
}

template <typename Fn>
void Worker::ForEachConnection(Fn fn) {
  for (uint32_t slot = 0; slot < next_unused_slot_; ++slot) {
    Chunk* chunk = chunks_[slot >> kChunkBits].load(std::memory_order_relaxed);
    Connection* conn = chunk->connection[slot & (kChunkSize - 1)].get();
    if (conn != nullptr && !conn->closed()) fn(*conn);
  }
}

void Worker::BeginShutdown() {
  shutting_down_ = true;
  // Cancelled connects are forgotten here, not through RemovePending, and
  // none can start once shutting_down_ is set.
  std::vector<PendingConnection*> pending;
  pending.swap(pending_);
  for (PendingConnection* connect : pending) connect->CancelForShutdown();
  ForEachConnection([](Connection& conn) { conn.NotifyServerStopping(); });
}

void Worker::BeginDrain() {
  if (draining_) return;
  draining_ = true;
  ForEachConnection([](Connection& conn) { conn.NotifyDraining(); });
}

void Worker::Heartbeat() {
  last_heartbeat_ms_.store(MonotonicMillis(), std::memory_order_relaxed);
}

void Worker::AbortAll(CloseReason reason) {
  ForEachConnection([reason](Connection& conn) { conn.ForceClose(reason); });
}

void Worker::CloseQueuedFds() {
  inbox_->Drain([this](int fd) {
    ::close(fd);
    open_connections_.fetch_sub(1, std::memory_order_relaxed);
  });
}

}  // namespace eddy
