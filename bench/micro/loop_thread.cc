#include "bench/micro/loop_thread.h"

#include <utility>

namespace eddy {

LoopThread::LoopThread(std::unique_ptr<EventLoop> loop)
    : loop_(std::move(loop)) {
  std::atomic<int64_t> started{0};
  loop_->Post([&started] { started.store(1, std::memory_order_release); });
  thread_ = std::thread([this] { loop_->Run(); });
  SpinUntil(started, 1);
}

LoopThread::~LoopThread() {
  loop_->Stop();
  thread_.join();
}

}  // namespace eddy
