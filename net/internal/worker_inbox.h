#ifndef EDDY_NET_INTERNAL_WORKER_INBOX_H_
#define EDDY_NET_INTERNAL_WORKER_INBOX_H_

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "boost/lockfree/spsc_queue.hpp"
#include "eddy/core/single_writer_counter.h"

namespace eddy {

// WorkerInbox carries accepted fds from the acceptor thread (the single
// producer) to one worker's loop (the single consumer). Internal: it is the
// one place Boost.Lockfree appears, so no public header pulls it in.
//
// The pending flag, not the queue, is what the loop reads on its side of
// the lost-wakeup protocol (core/event_loop.h, WorkSource): the queue's
// indices are only acquire/release, the flag is seq_cst.
class WorkerInbox {
 public:
  explicit WorkerInbox(size_t depth) : queue_(depth) {}

  // Producer: false when full (the caller keeps the fd).
  bool Push(int fd) {
    if (!queue_.push(fd)) return false;
    pushed_.Add();
    pending_.store(true, std::memory_order_seq_cst);
    return true;
  }

  // Consumer.
  bool pending() const { return pending_.load(std::memory_order_seq_cst); }

  // Consumer: clears the flag first (a push during the drain sets it
  // again), then calls `fn(fd)` for every queued fd.
  template <typename Fn>
  void Drain(Fn&& fn) {
    pending_.store(false, std::memory_order_seq_cst);
    // Counted before `fn` opens the connection: a scrape served by that
    // connection must not find it still queued.
    queue_.consume_all([this, &fn](int fd) {
      popped_.Add();
      fn(fd);
    });
  }

  // Any thread: fds queued now, about (the two sides count separately, so
  // a reading may be one burst behind).
  uint64_t depth() const {
    const uint64_t popped = popped_.value();
    const uint64_t pushed = pushed_.value();
    return pushed > popped ? pushed - popped : 0;
  }

 private:
  boost::lockfree::spsc_queue<int> queue_;
  std::atomic<bool> pending_{false};
  SingleWriterCounter pushed_;  // written by the producer
  SingleWriterCounter popped_;  // written by the consumer
};

}  // namespace eddy

#endif  // EDDY_NET_INTERNAL_WORKER_INBOX_H_
