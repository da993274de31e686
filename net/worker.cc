#include "eddy/net/worker.h"

#include <unistd.h>

#include <utility>

namespace eddy {

Worker::Worker(size_t index, EventLoop& loop, ProtocolFactory* factory,
               const ConnectionOptions& options, size_t inbox_depth,
               std::atomic<int64_t>& open_connections)
    : index_(index),
      loop_(loop),
      factory_(factory),
      options_(options),
      open_connections_(open_connections),
      inbox_(inbox_depth),
      chunks_(new std::atomic<Chunk*>[kMaxChunks]) {
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

bool Worker::QueueHandOff(int fd) {
  if (!inbox_.push(fd)) return false;
  inbox_pending_.store(true, std::memory_order_seq_cst);
  return true;
}

void Worker::CountShed() { shed_.Add(); }

WorkerStats Worker::stats() const {
  WorkerStats stats;
  stats.accepted = accepted_.value();
  stats.closed = closed_.value();
  stats.active =
      stats.accepted >= stats.closed ? stats.accepted - stats.closed : 0;
  stats.shed = shed_.value();
  stats.bytes_in = bytes_in_.value();
  stats.bytes_out = bytes_out_.value();
  return stats;
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

bool Worker::HasPendingWork() const {
  return inbox_pending_.load(std::memory_order_seq_cst);
}

void Worker::RunPendingWork() {
  // Clear first: a push that lands during the drain sets it again.
  inbox_pending_.store(false, std::memory_order_seq_cst);
  inbox_.consume_all([this](int fd) {
    OpenConnection(UniqueFd(fd), nullptr, /*registered=*/false);
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

void Worker::Adopt(UniqueFd fd, std::unique_ptr<Handler> handler,
                   bool registered) {
  open_connections_.fetch_add(1, std::memory_order_relaxed);
  OpenConnection(std::move(fd), std::move(handler), registered);
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

void Worker::OpenConnection(UniqueFd owned, std::unique_ptr<Handler> handler,
                            bool registered) {
  uint32_t slot;
  if (!AllocateSlot(&slot)) {
    open_connections_.fetch_sub(1, std::memory_order_relaxed);
    shed_.Add();
    return;
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
  accepted_.Add();
  const bool accepted = handler == nullptr;
  if (accepted) handler = factory_->NewHandler(*raw);
  if (accepted && options_.read_on_accept) {
    // Serve the bytes already waiting first, then register: a connection
    // that closes with its first answer is never registered at all. Until
    // then the socket is writable (nothing was sent yet), and epoll_ctl(ADD)
    // reports whatever arrived or drained after the read.
    raw->Open(std::move(handler));
    raw->HandleReady();
    if (raw->state_ != Connection::State::kClosed) {
      Register(raw, /*already_watched=*/false);
    }
    return;
  }
  // Register before OnOpen so that a Send in OnOpen can complete normally;
  // the edge for bytes that arrived before registration is reported anyway,
  // because epoll_ctl(ADD) and (MOD) check the current readiness.
  if (!Register(raw, registered)) return;
  raw->Open(std::move(handler));
}

bool Worker::Register(Connection* conn, bool already_watched) {
  constexpr uint32_t kEvents = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
  const absl::Status watched = already_watched
                                   ? loop_.Rewatch(conn->fd(), kEvents, conn)
                                   : loop_.Watch(conn->fd(), kEvents, conn);
  if (!watched.ok()) {
    conn->CloseNow(CloseReason::kError);
    return false;
  }
  return true;
}

void Worker::Release(Connection* conn, CloseReason /*reason*/) {
  const uint32_t slot = conn->slot_;
  Chunk* chunk = chunks_[slot >> kChunkBits].load(std::memory_order_relaxed);
  const uint32_t offset = slot & (kChunkSize - 1);
  chunk->generation[offset].fetch_add(1, std::memory_order_release);
  --open_;
  closed_.Add();
  open_connections_.fetch_sub(1, std::memory_order_relaxed);
  // Events of this iteration may still name the connection: free it, and
  // its slot, once the iteration is over.
  loop_.RunAfterIteration([this, chunk, offset, slot] {
    chunk->connection[offset].reset();
    free_slots_.push_back(slot);
  });
}

void Worker::BeginShutdown() {
  shutting_down_ = true;
  // Cancelled connects are forgotten here, not through RemovePending, and
  // none can start once shutting_down_ is set.
  std::vector<PendingConnection*> pending;
  pending.swap(pending_);
  for (PendingConnection* connect : pending) connect->CancelForShutdown();
  for (uint32_t slot = 0; slot < next_unused_slot_; ++slot) {
    Chunk* chunk = chunks_[slot >> kChunkBits].load(std::memory_order_relaxed);
    Connection* conn = chunk->connection[slot & (kChunkSize - 1)].get();
    if (conn == nullptr || conn->closing()) continue;
    conn->in_dispatch_ = true;
    conn->handler_->OnServerStopping(*conn);
    conn->EndDispatch();
  }
}

void Worker::AbortAll(CloseReason reason) {
  for (uint32_t slot = 0; slot < next_unused_slot_; ++slot) {
    Chunk* chunk = chunks_[slot >> kChunkBits].load(std::memory_order_relaxed);
    Connection* conn = chunk->connection[slot & (kChunkSize - 1)].get();
    if (conn != nullptr && conn->state_ != Connection::State::kClosed) {
      conn->Abort(reason);
    }
  }
}

void Worker::CloseQueuedFds() {
  inbox_.consume_all([this](int fd) {
    ::close(fd);
    open_connections_.fetch_sub(1, std::memory_order_relaxed);
  });
}

}  // namespace eddy
