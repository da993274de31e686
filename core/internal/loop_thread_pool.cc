#include "eddy/core/internal/loop_thread_pool.h"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <latch>
#include <utility>

#include "absl/strings/str_cat.h"

namespace eddy {

absl::StatusOr<std::unique_ptr<LoopThreadPool>> LoopThreadPool::Create(
    Options options) {
  if (options.threads == 0) {
    options.threads = std::max(1u, std::thread::hardware_concurrency());
  }
  std::unique_ptr<LoopThreadPool> pool(new LoopThreadPool(std::move(options)));
  for (size_t i = 0; i < pool->options_.threads; ++i) {
    absl::StatusOr<std::unique_ptr<EventLoop>> loop =
        EventLoop::Create(pool->options_.clock);
    if (!loop.ok()) return loop.status();
    pool->loops_.push_back(*std::move(loop));
  }
  return pool;
}

LoopThreadPool::~LoopThreadPool() { Stop(); }

absl::Status LoopThreadPool::Start() {
  if (!threads_.empty()) {
    return absl::FailedPreconditionError("LoopThreadPool::Start called twice");
  }
  const unsigned cpus = std::max(1u, std::thread::hardware_concurrency());
  std::latch running(static_cast<std::ptrdiff_t>(loops_.size()));
  std::atomic<int> unpinned_worker{-1};
  for (size_t i = 0; i < loops_.size(); ++i) {
    EventLoop* loop = loops_[i].get();
    // Announce readiness from inside the loop, so Start returns only once
    // every loop has taken ownership of its thread.
    loop->Post([&running] { running.count_down(); });
    const bool pin = options_.pin_threads;
    threads_.emplace_back([loop, i, cpus, pin, &unpinned_worker] {
      if (pin) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(i % cpus, &set);
        if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set) != 0) {
          unpinned_worker.store(static_cast<int>(i));
        }
      }
      loop->Run();
    });
    const std::string name = absl::StrCat(options_.name, "-", i).substr(0, 15);
    pthread_setname_np(threads_.back().native_handle(), name.c_str());
  }
  running.wait();
  if (const int worker = unpinned_worker.load(); worker >= 0) {
    return absl::InternalError(absl::StrCat(
        "could not pin worker ", worker, " to CPU ", worker % cpus,
        "; run without pinning or check the process's CPU affinity mask"));
  }
  return absl::OkStatus();
}

void LoopThreadPool::Stop() {
  for (auto& loop : loops_) loop->Stop();
  for (std::thread& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
  threads_.clear();
}

}  // namespace eddy
