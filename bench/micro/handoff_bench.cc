// The acceptor-to-worker hand-off: an fd pushed into a worker's
// boost::lockfree::spsc_queue, then EventLoop::Wake, drained by the worker's
// loop through a WorkSource. Plain ints stand in for accepted sockets, so
// the figures are the hand-off alone, without accept4 or epoll_ctl.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>

#include "bench/micro/loop_thread.h"
#include "benchmark/benchmark.h"
#include "boost/lockfree/spsc_queue.hpp"
#include "eddy/core/event_loop.h"

namespace eddy {
namespace {

int64_t SteadyNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The worker's side of the hand-off, with the same lost-wakeup protocol as
// net/worker: the producer pushes, stores `pending_` seq_cst, then wakes the
// loop; the loop, after announcing that it sleeps, loads `pending_` seq_cst.
// The queue's own indices are only acquire/release, so they cannot take
// part in that protocol.
class Inbox final : public WorkSource {
 public:
  explicit Inbox(size_t depth) : queue_(depth) {}

  // Producer thread.
  bool HandOff(int fd, EventLoop& loop) {
    if (!queue_.push(fd)) return false;
    pending_.store(true, std::memory_order_seq_cst);
    loop.Wake();
    return true;
  }

  // Any thread: how many fds the worker has taken, and when it took the
  // last one (steady clock, nanoseconds).
  const std::atomic<int64_t>& seen() const { return seen_; }
  int64_t last_seen_ns() const {
    return last_seen_ns_.load(std::memory_order_relaxed);
  }

  bool HasPendingWork() const override {
    return pending_.load(std::memory_order_seq_cst);
  }

  void RunPendingWork() override {
    // Cleared before draining: a push that lands during the drain sets it
    // again, so the loop polls once more instead of sleeping on it.
    pending_.store(false, std::memory_order_seq_cst);
    int64_t taken = 0;
    int last_fd = -1;
    queue_.consume_all([&](int fd) {
      last_fd = fd;
      ++taken;
    });
    if (taken == 0) return;
    benchmark::DoNotOptimize(last_fd);
    last_seen_ns_.store(SteadyNanos(), std::memory_order_relaxed);
    seen_.store(seen_.load(std::memory_order_relaxed) + taken,
                std::memory_order_release);
  }

 private:
  boost::lockfree::spsc_queue<int> queue_;
  std::atomic<bool> pending_{false};
  std::atomic<int64_t> seen_{0};
  std::atomic<int64_t> last_seen_ns_{0};
};

// Time from the push until the worker's loop holds the fd, with the worker
// asleep in epoll_wait beforehand as an idle worker is. Timed manually: the
// clock is read by the producer before the push and by the worker when it
// takes the fd, so the producer's wait for the answer is not counted.
void BM_HandOffLatency(benchmark::State& state) {
  absl::StatusOr<std::unique_ptr<EventLoop>> loop = EventLoop::Create();
  if (!loop.ok()) {
    state.SkipWithError(loop.status().ToString().c_str());
    return;
  }
  Inbox inbox(4096);
  (*loop)->AddWorkSource(&inbox);
  LoopThread worker(std::move(*loop));
  int64_t pushed = 0;
  for (auto _ : state) {
    const int64_t start_ns = SteadyNanos();
    if (!inbox.HandOff(static_cast<int>(pushed & 0xffff), worker.loop())) {
      state.SkipWithError("inbox full");
      break;
    }
    SpinUntil(inbox.seen(), ++pushed);
    state.SetIterationTime(
        static_cast<double>(inbox.last_seen_ns() - start_ns) * 1e-9);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HandOffLatency)->UseManualTime();

// A burst of accepted fds, as the acceptor produces when it accepts until
// EAGAIN: the Wake of the first push is the only eventfd write, and the
// worker drains the rest in one pass.
void BM_HandOffBurst(benchmark::State& state) {
  const int64_t burst = state.range(0);
  absl::StatusOr<std::unique_ptr<EventLoop>> loop = EventLoop::Create();
  if (!loop.ok()) {
    state.SkipWithError(loop.status().ToString().c_str());
    return;
  }
  Inbox inbox(static_cast<size_t>(burst));
  (*loop)->AddWorkSource(&inbox);
  LoopThread worker(std::move(*loop));
  int64_t pushed = 0;
  for (auto _ : state) {
    for (int64_t i = 0; i < burst; ++i) {
      while (!inbox.HandOff(static_cast<int>(i), worker.loop())) {
      }
    }
    pushed += burst;
    SpinUntil(inbox.seen(), pushed);
  }
  state.SetItemsProcessed(state.iterations() * burst);
}
BENCHMARK(BM_HandOffBurst)->Arg(64)->Arg(1024)->UseRealTime();

}  // namespace
}  // namespace eddy
