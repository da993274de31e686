// EventLoop::Post: how fast another thread can feed a running loop, and how
// long one task takes to get there and back.

#include <atomic>
#include <cstdint>
#include <memory>

#include "bench/micro/loop_thread.h"
#include "benchmark/benchmark.h"
#include "eddy/core/event_loop.h"

namespace eddy {
namespace {

// The loop thread is the only writer of `ran`; a plain store keeps the task
// as cheap as the work a real posted task would do at least.
void CountRun(std::atomic<int64_t>& ran) {
  ran.store(ran.load(std::memory_order_relaxed) + 1, std::memory_order_release);
}

// One producer posts a batch of tasks and waits until the loop ran them all,
// so the figure is end-to-end throughput, not the speed of filling a queue.
void BM_EventLoopPostThroughput(benchmark::State& state) {
  const int64_t batch = state.range(0);
  absl::StatusOr<std::unique_ptr<EventLoop>> loop = EventLoop::Create();
  if (!loop.ok()) {
    state.SkipWithError(loop.status().ToString().c_str());
    return;
  }
  LoopThread runner(std::move(*loop));
  std::atomic<int64_t> ran{0};
  int64_t posted = 0;
  for (auto _ : state) {
    for (int64_t i = 0; i < batch; ++i) {
      runner.loop().Post([&ran] { CountRun(ran); });
    }
    posted += batch;
    SpinUntil(ran, posted);
  }
  state.SetItemsProcessed(state.iterations() * batch);
}
BENCHMARK(BM_EventLoopPostThroughput)->Arg(1024)->UseRealTime();

// Post one task and wait for it to run: the loop usually sleeps in
// epoll_wait by then, so this includes the eventfd wakeup.
void BM_EventLoopPostRoundTrip(benchmark::State& state) {
  absl::StatusOr<std::unique_ptr<EventLoop>> loop = EventLoop::Create();
  if (!loop.ok()) {
    state.SkipWithError(loop.status().ToString().c_str());
    return;
  }
  LoopThread runner(std::move(*loop));
  std::atomic<int64_t> ran{0};
  int64_t posted = 0;
  for (auto _ : state) {
    runner.loop().Post([&ran] { CountRun(ran); });
    SpinUntil(ran, ++posted);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EventLoopPostRoundTrip)->UseRealTime();

}  // namespace
}  // namespace eddy
