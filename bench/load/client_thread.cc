#include "bench/load/client_thread.h"

#include <algorithm>
#include <utility>

#include "absl/time/time.h"
#include "bench/load/monotonic_nanos.h"

namespace eddy::load {

absl::StatusOr<std::unique_ptr<ClientThread>> ClientThread::Create(
    const LoadPlan& plan, size_t connections, RequestBudget* budget,
    absl::Duration busy_poll) {
  absl::StatusOr<std::unique_ptr<EventLoop>> loop = EventLoop::Create();
  if (!loop.ok()) return loop.status();
  std::unique_ptr<ClientThread> thread(new ClientThread());
  thread->loop_ = std::move(*loop);
  thread->busy_poll_ = std::make_unique<BusyPoll>(*thread->loop_, busy_poll);
  thread->context_.loop = thread->loop_.get();
  thread->context_.busy_poll = thread->busy_poll_.get();
  thread->context_.plan = &plan;
  thread->context_.budget = budget;
  thread->context_.active_connections = connections;
  thread->connections_.reserve(connections);
  for (size_t i = 0; i < connections; ++i) {
    thread->connections_.push_back(
        std::make_unique<ClientConnection>(thread->context_));
  }
  return thread;
}

ClientThread::~ClientThread() {
  Stop();
  Join();
}

void ClientThread::Start() {
  // Posted before Run: it runs in the loop's first iteration, on its thread.
  loop_->Post([this] { Begin(); });
  thread_ = std::thread([this] {
    loop_->Run();
    finished_.store(true, std::memory_order_release);
  });
}

void ClientThread::Stop() { loop_->Stop(); }

void ClientThread::Join() {
  if (thread_.joinable()) thread_.join();
}

void ClientThread::Begin() {
  const int64_t now = MonotonicNanos();
  const int64_t warmup_ns = context_.plan->measure_from_ns - now;
  if (warmup_ns <= 0) {
    context_.measuring = true;
  } else {
    loop_->RunAfter(absl::Nanoseconds(warmup_ns),
                    [this] { context_.measuring = true; });
  }
  // Timeouts are checked by one sweep, not a timer per request: a request
  // costs no timer work, and a timeout is noticed within an eighth of it.
  const absl::Duration sweep =
      std::clamp(absl::Nanoseconds(context_.plan->timeout_ns) / 8,
                 absl::Milliseconds(10), absl::Milliseconds(250));
  loop_->RunEvery(sweep, [this] { SweepTimeouts(); });
  for (const std::unique_ptr<ClientConnection>& connection : connections_) {
    connection->Start();
  }
}

void ClientThread::SweepTimeouts() {
  const int64_t now = MonotonicNanos();
  for (const std::unique_ptr<ClientConnection>& connection : connections_) {
    connection->CheckTimeout(now);
  }
}

}  // namespace eddy::load
