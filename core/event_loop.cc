#include "eddy/core/event_loop.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <climits>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace eddy {

// Drains the eventfd counter. The pending flag is cleared only after the
// read, so a producer that still sees it set knows the loop is awake and
// will re-check its queues before sleeping again.
class EventLoop::WakeupHandler final : public IoHandler {
 public:
  explicit WakeupHandler(EventLoop* loop) : loop_(loop) {}
  void HandleIo(uint32_t /*events*/) override {
    // One read takes the whole counter (no EFD_SEMAPHORE) and resets it;
    // a second would only say EAGAIN.
    uint64_t count;
    [[maybe_unused]] ssize_t n =
        ::read(loop_->wake_fd_.get(), &count, sizeof(count));
    loop_->wakeup_pending_.store(false, std::memory_order_seq_cst);
  }

 private:
  EventLoop* loop_;
};

absl::StatusOr<std::unique_ptr<EventLoop>> EventLoop::Create(Clock* clock) {
  UniqueFd epoll_fd(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll_fd) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "epoll_create1 failed: ", std::strerror(errno),
        "; raise the open-file limit (ulimit -n) or the epoll instance limit"));
  }
  UniqueFd wake_fd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!wake_fd) {
    return absl::ResourceExhaustedError(
        absl::StrCat("eventfd failed: ", std::strerror(errno),
                     "; raise the open-file limit (ulimit -n)"));
  }
  std::unique_ptr<EventLoop> loop(
      new EventLoop(std::move(epoll_fd), std::move(wake_fd),
                    clock != nullptr ? clock : SystemClock::Get()));
  absl::Status status =
      loop->Watch(loop->wake_fd_.get(), EPOLLIN, loop->wakeup_handler_.get());
  if (!status.ok()) return status;
  return loop;
}

EventLoop::EventLoop(UniqueFd epoll_fd, UniqueFd wake_fd, Clock* clock)
    : clock_(clock),
      clock_moves_by_itself_(clock->MovesByItself()),
      epoll_fd_(std::move(epoll_fd)),
      wake_fd_(std::move(wake_fd)),
      wakeup_handler_(std::make_unique<WakeupHandler>(this)),
      timers_(clock->NowMillis()),
      events_(256),
      now_ms_(clock->NowMillis()) {
  clock_->AddLoop(this);
}

EventLoop::~EventLoop() {
  assert(!running_.load());
  clock_->RemoveLoop(this);
}

void EventLoop::Run() {
  loop_thread_.store(std::this_thread::get_id(), std::memory_order_relaxed);
  running_.store(true);
  UpdateTime();
  while (!stop_requested_.load(std::memory_order_acquire)) {
    ++iterations_;
    tasks_.RunAll();
    for (WorkSource* source : work_sources_) {
      if (source->HasPendingWork()) source->RunPendingWork();
    }
    int timeout_ms = ComputeTimeoutMs();
    if (timeout_ms != 0) {
      sleeping_.store(true, std::memory_order_seq_cst);
      if (tasks_.HasPending() || HasExternalWork() || ClockMovedSinceUpdate() ||
          stop_requested_.load(std::memory_order_seq_cst)) {
        timeout_ms = 0;
      }
    }
    const int n = ::epoll_wait(epoll_fd_.get(), events_.data(),
                               static_cast<int>(events_.size()), timeout_ms);
    sleeping_.store(false, std::memory_order_relaxed);
    UpdateTime();
    for (int i = 0; i < n; ++i) {
      static_cast<IoHandler*>(events_[i].data.ptr)->HandleIo(events_[i].events);
    }
    if (n == static_cast<int>(events_.size()))
      events_.resize(events_.size() * 2);
    RunReadyList();
    timers_.Advance(now_ms_);
    RunDeferred();
  }
  // Work posted before Stop still runs, as promised to posters.
  tasks_.RunAll();
  RunDeferred();
  running_.store(false);
  loop_thread_.store(std::thread::id(), std::memory_order_relaxed);
  stop_requested_.store(false);
}

void EventLoop::Stop() {
  stop_requested_.store(true, std::memory_order_seq_cst);
  Wake();
}

void EventLoop::Post(Task task) {
  tasks_.Push(std::move(task));
  Wake();
}

void EventLoop::RunInLoop(Task task) {
  if (IsInLoopThread()) {
    std::move(task)();
  } else {
    Post(std::move(task));
  }
}

void EventLoop::Wake() {
  if (!sleeping_.load(std::memory_order_seq_cst)) return;
  if (wakeup_pending_.exchange(true, std::memory_order_acq_rel)) return;
  const uint64_t one = 1;
  // A full counter (EAGAIN) still leaves the eventfd readable: nothing lost.
  [[maybe_unused]] ssize_t written = ::write(wake_fd_.get(), &one, sizeof(one));
  wakeup_writes_.fetch_add(1, std::memory_order_relaxed);
}

TimerId EventLoop::RunAfter(absl::Duration delay, TimerCallback callback) {
  AssertInLoopThread();
  return timers_.Schedule(clock_->NowMillis() + DurationToMillisCeil(delay),
                          std::move(callback));
}

TimerId EventLoop::RunEvery(absl::Duration interval, TimerCallback callback) {
  AssertInLoopThread();
  const int64_t period = std::max<int64_t>(1, DurationToMillisCeil(interval));
  return timers_.Schedule(clock_->NowMillis() + period, std::move(callback),
                          period);
}

bool EventLoop::Cancel(TimerId id) {
  AssertInLoopThread();
  return timers_.Cancel(id);
}

absl::Status EventLoop::Watch(int fd, uint32_t events, IoHandler* handler) {
  return Control(EPOLL_CTL_ADD, fd, events, handler);
}

absl::Status EventLoop::Rewatch(int fd, uint32_t events, IoHandler* handler) {
  return Control(EPOLL_CTL_MOD, fd, events, handler);
}

absl::Status EventLoop::Control(int operation, int fd, uint32_t events,
                                IoHandler* handler) {
  AssertInLoopThread();
  epoll_event event{};
  event.events = events | EPOLLET;
  event.data.ptr = handler;
  if (::epoll_ctl(epoll_fd_.get(), operation, fd, &event) != 0) {
    return absl::InternalError(
        absl::StrCat("epoll_ctl(", operation == EPOLL_CTL_ADD ? "ADD" : "MOD",
                     ", fd ", fd, ") failed: ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

void EventLoop::Unwatch(int fd) {
  AssertInLoopThread();
  ::epoll_ctl(epoll_fd_.get(), EPOLL_CTL_DEL, fd, nullptr);
}

void EventLoop::MarkReady(IoHandler* handler) {
  AssertInLoopThread();
  if (handler->on_ready_list_) return;
  handler->on_ready_list_ = true;
  ready_.push_back(handler);
}

void EventLoop::UnmarkReady(IoHandler* handler) {
  AssertInLoopThread();
  if (!handler->on_ready_list_) return;
  handler->on_ready_list_ = false;
  std::erase(ready_, handler);
  // It may sit in the batch being served right now.
  std::replace(ready_running_.begin(), ready_running_.end(), handler,
               static_cast<IoHandler*>(nullptr));
}

void EventLoop::RunAfterIteration(Task fn) {
  AssertInLoopThread();
  deferred_.push_back(std::move(fn));
}

void EventLoop::AddWorkSource(WorkSource* source) {
  assert(!running_.load());
  work_sources_.push_back(source);
}

void EventLoop::AssertInLoopThread() const {
  assert(!running_.load(std::memory_order_relaxed) || IsInLoopThread());
}

int EventLoop::ComputeTimeoutMs() {
  if (!ready_.empty() || !deferred_.empty()) return 0;
  // No timer can fall due before the clock moves, and when it moves it
  // wakes the loop.
  if (!clock_moves_by_itself_) return -1;
  const int64_t until_timer = timers_.MillisUntilNextSlot(now_ms_);
  if (until_timer < 0) return -1;
  return static_cast<int>(std::min<int64_t>(until_timer, INT_MAX));
}

bool EventLoop::HasExternalWork() const {
  for (const WorkSource* source : work_sources_) {
    if (source->HasPendingWork()) return true;
  }
  return false;
}

// The loop's half of the protocol of a clock that does not move by itself
// (see Clock::MovesByItself): called after sleeping_ was stored.
bool EventLoop::ClockMovedSinceUpdate() const {
  return !clock_moves_by_itself_ && clock_->NowMillis() != now_ms_;
}

void EventLoop::RunReadyList() {
  if (ready_.empty()) return;
  ready_running_.swap(ready_);
  for (size_t i = 0; i < ready_running_.size(); ++i) {
    IoHandler* handler = ready_running_[i];
    if (handler == nullptr) continue;
    handler->on_ready_list_ = false;
    handler->HandleReady();
  }
  ready_running_.clear();
}

void EventLoop::RunDeferred() {
  while (!deferred_.empty()) {
    deferred_running_.swap(deferred_);
    for (Task& fn : deferred_running_) std::move(fn)();
    deferred_running_.clear();
  }
}

void EventLoop::UpdateTime() { now_ms_ = clock_->NowMillis(); }

}  // namespace eddy
