#ifndef EDDY_CORE_TASK_QUEUE_H_
#define EDDY_CORE_TASK_QUEUE_H_

#include <atomic>
#include <mutex>
#include <vector>

#include "absl/functional/any_invocable.h"

namespace eddy {

// TaskQueue is the multi-producer, single-consumer queue behind
// EventLoop::Post. Producers append under a short lock; the consumer swaps the
// whole batch out and runs it without the lock, so a task may post more
// tasks (they run in the next batch).
//
// Push and HasPending may be called from any thread; RunAll only from the
// consumer (the loop thread).
class TaskQueue {
 public:
  using Task = absl::AnyInvocable<void() &&>;

  TaskQueue() = default;
  TaskQueue(const TaskQueue&) = delete;
  TaskQueue& operator=(const TaskQueue&) = delete;

  // Appends a task. The seq_cst store of the pending flag pairs with the
  // loop's seq_cst announcement that it goes to sleep (see WorkSource).
  void Push(Task task);

  // True when a task was pushed and not yet taken by RunAll. seq_cst load.
  bool HasPending() const { return pending_.load(std::memory_order_seq_cst); }

  // Runs the tasks queued so far, in push order. Returns how many ran.
  size_t RunAll();

 private:
  // std::mutex rather than absl::Mutex: Debian's Abseil is not built with
  // TSan annotations, so TSan could not see absl::Mutex's happens-before and
  // would report false races; pthread mutexes it intercepts.
  std::mutex mutex_;
  std::vector<Task> tasks_;    // guarded by mutex_
  std::vector<Task> running_;  // consumer-only scratch, keeps its capacity
  std::atomic<bool> pending_{false};
};

}  // namespace eddy

#endif  // EDDY_CORE_TASK_QUEUE_H_
