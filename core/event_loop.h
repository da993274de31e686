#ifndef EDDY_CORE_EVENT_LOOP_H_
#define EDDY_CORE_EVENT_LOOP_H_

#include <sys/epoll.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "eddy/core/clock.h"
#include "eddy/core/task_queue.h"
#include "eddy/core/timer_wheel.h"
#include "eddy/core/unique_fd.h"

namespace eddy {

class EventLoop;

// IoHandler receives the readiness events of one file descriptor watched by
// an EventLoop. Its functions run on the loop's thread only.
class IoHandler {
 public:
  // `events` is the epoll event mask (EPOLLIN, EPOLLOUT, EPOLLRDHUP, ...).
  virtual void HandleIo(uint32_t events) = 0;
  // Called for a handler put on the ready list with EventLoop::MarkReady: it
  // stopped reading before EAGAIN, so no new edge will announce the bytes
  // that are still waiting.
  virtual void HandleReady() {}

 protected:
  ~IoHandler() = default;

 private:
  friend class EventLoop;
  bool on_ready_list_ = false;
};

// WorkSource is work that reaches a loop from outside its own task queue (for
// example the acceptor's fd inbox). The loop polls it every iteration and
// asks HasPendingWork, after announcing that it is about to sleep, so that a
// producer that skipped the wakeup because the loop was awake is never lost.
//
// The protocol, with no fences (TSan cannot check those): a producer
// publishes its work, stores a "pending" flag with memory_order_seq_cst, then
// calls EventLoop::Wake (a seq_cst load of the loop's sleeping flag). The
// loop stores its sleeping flag seq_cst, then calls HasPendingWork, which
// must load that pending flag seq_cst. In the single total order of seq_cst
// operations one side sees the other: the loop does not sleep, or the
// producer writes the eventfd.
class WorkSource {
 public:
  // Runs on the loop thread; a seq_cst load of the pending flag. Cheap.
  virtual bool HasPendingWork() const = 0;
  // Runs on the loop thread.
  virtual void RunPendingWork() = 0;

 protected:
  ~WorkSource() = default;
};

// EventLoop is one reactor: an epoll instance in edge-triggered mode, an
// eventfd for wakeups, a task queue for work posted from other threads, a
// timing wheel, and a ready list for handlers that must read again without a
// new edge.
//
// Threading: the thread that calls Run() owns the loop. Post, Stop, Wake and
// IsInLoopThread may be called from any thread; everything else only from
// the owning thread (or from any single thread before Run starts). Debug
// builds assert this.
//
// Each iteration: run posted tasks and work sources, sleep in epoll_wait
// (not at all when work is pending; otherwise until the next timer slot, or,
// on a clock that does not move by itself, until woken), dispatch events,
// serve the ready list, expire timers, then run the functions deferred with
// RunAfterIteration.
//
// Time (now_ms() and the timers) comes from the Clock given to Create: the
// SystemClock unless a test passes a ManualClock (core/manual_clock.h).
class EventLoop {
 public:
  using Task = absl::AnyInvocable<void() &&>;
  using TimerCallback = absl::AnyInvocable<void()>;

  // `clock` (null: SystemClock::Get()) must outlive the loop.
  static absl::StatusOr<std::unique_ptr<EventLoop>> Create(
      Clock* clock = nullptr);
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Runs until Stop(). The calling thread becomes the loop thread.
  void Run();

  // Makes Run return after the current iteration. Any thread. Tasks already
  // posted run before Run returns.
  void Stop();

  // Queues `task` to run on the loop thread. Any thread; never blocks on the
  // loop. Tasks posted before Run starts run in its first iteration.
  void Post(Task task);

  // Runs `task` now when called on the loop thread, else posts it.
  void RunInLoop(Task task);

  // Wakes the loop from epoll_wait if it is asleep (or about to sleep); a
  // no-op syscall-wise when it is awake or a wakeup is already pending. Any
  // thread; call it after publishing work the loop will find.
  void Wake();

  // Timers. Loop thread only. Callbacks run on the loop thread.
  TimerId RunAfter(absl::Duration delay, TimerCallback callback);
  TimerId RunEvery(absl::Duration interval, TimerCallback callback);
  bool Cancel(TimerId id);

  // Registers `fd` with `events` | EPOLLET. `handler` must outlive the
  // registration. Loop thread only.
  absl::Status Watch(int fd, uint32_t events, IoHandler* handler);
  // Changes the events and the handler of a watched `fd` (epoll_ctl MOD),
  // e.g. to hand a registration over to a new owner. The current readiness
  // is reported again, as after Watch. Loop thread only.
  absl::Status Rewatch(int fd, uint32_t events, IoHandler* handler);
  // Removes `fd` (before closing it, if it may have been dup'ed).
  void Unwatch(int fd);

  // Puts `handler` on the ready list: HandleReady runs in this iteration or
  // the next, and the loop does not sleep before. Loop thread only.
  void MarkReady(IoHandler* handler);
  // Removes `handler` from the ready list; call before destroying it.
  void UnmarkReady(IoHandler* handler);

  // Runs `fn` after this iteration's events, ready list and timers: the
  // place to free objects that events of this iteration may still name.
  // Loop thread only.
  void RunAfterIteration(Task fn);

  // Registers a work source polled every iteration. Before Run only.
  void AddWorkSource(WorkSource* source);

  bool IsInLoopThread() const {
    return loop_thread_.load(std::memory_order_relaxed) ==
           std::this_thread::get_id();
  }
  void AssertInLoopThread() const;

  // Milliseconds on the loop's clock, read once per iteration. Loop thread
  // only.
  int64_t now_ms() const { return now_ms_; }

  // Loop statistics; loop thread only.
  uint64_t iterations() const { return iterations_; }
  size_t timer_count() const { return timers_.size(); }
  uint64_t wakeup_writes() const {
    return wakeup_writes_.load(std::memory_order_relaxed);
  }

 private:
  EventLoop(UniqueFd epoll_fd, UniqueFd wake_fd, Clock* clock);

  class WakeupHandler;

  // epoll_ctl ADD or MOD of `fd` for `events` | EPOLLET.
  absl::Status Control(int operation, int fd, uint32_t events,
                       IoHandler* handler);
  int ComputeTimeoutMs();
  bool HasExternalWork() const;
  bool ClockMovedSinceUpdate() const;
  void RunReadyList();
  void RunDeferred();
  void UpdateTime();

  Clock* const clock_;
  // Cached clock_->MovesByItself(): asked twice per iteration.
  const bool clock_moves_by_itself_;
  UniqueFd epoll_fd_;
  UniqueFd wake_fd_;
  std::unique_ptr<WakeupHandler> wakeup_handler_;
  std::atomic<std::thread::id> loop_thread_{};
  std::atomic<bool> running_{false};
  std::atomic<bool> stop_requested_{false};
  // The lost-wakeup protocol (see WorkSource): the loop stores sleeping_
  // and then loads its queues' pending flags; a producer stores a pending
  // flag and then loads sleeping_; all four are seq_cst.
  std::atomic<bool> sleeping_{false};
  std::atomic<bool> wakeup_pending_{false};
  std::atomic<uint64_t> wakeup_writes_{0};
  TaskQueue tasks_;
  TimerWheel timers_;
  std::vector<WorkSource*> work_sources_;
  std::vector<IoHandler*> ready_;
  std::vector<IoHandler*> ready_running_;
  std::vector<Task> deferred_;
  std::vector<Task> deferred_running_;
  std::vector<epoll_event> events_;
  int64_t now_ms_;
  uint64_t iterations_ = 0;
};

}  // namespace eddy

#endif  // EDDY_CORE_EVENT_LOOP_H_
