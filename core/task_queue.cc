#include "eddy/core/task_queue.h"

#include <utility>

namespace eddy {

void TaskQueue::Push(Task task) {
  std::lock_guard lock(mutex_);
  tasks_.push_back(std::move(task));
  pending_.store(true, std::memory_order_seq_cst);
}

size_t TaskQueue::RunAll() {
  if (!pending_.load(std::memory_order_acquire)) return 0;
  {
    std::lock_guard lock(mutex_);
    running_.swap(tasks_);
    pending_.store(false, std::memory_order_relaxed);
  }
  const size_t count = running_.size();
  for (Task& task : running_) std::move(task)();
  running_.clear();
  return count;
}

}  // namespace eddy
