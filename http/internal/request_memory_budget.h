#ifndef EDDY_HTTP_INTERNAL_REQUEST_MEMORY_BUDGET_H_
#define EDDY_HTTP_INTERNAL_REQUEST_MEMORY_BUDGET_H_

#include <cstddef>
#include <list>

#include "eddy/net/connection.h"

namespace eddy::http {

// RequestMemoryBudget bounds the memory one worker's HTTP connections hold
// for requests in progress (HttpOptions::max_buffered_request_bytes). Each
// connection reports what it holds now; while the worker's total is above
// the budget, a connection in the middle of a body stops being read and
// queues. As the total falls below the budget again, queued connections are
// resumed first come, first served, each granted room for one read; those
// that stay queued meet the body timeout. Held bodies free the budget only
// by completing, so one of them, the runner (the first refused, then the
// longest waiter), goes on regardless; its own max_body bounds it. The
// worker's total thus stays within the budget plus one request's limits
// plus a read per connection. Internal to the HTTP protocol.
//
// Threading: one per worker thread (ForThisThread); every function runs on
// that thread, inside the dispatch of some connection of that worker.
class RequestMemoryBudget {
 public:
  // A connection's place in the budget; owned by its handler, which must
  // Leave before the connection goes.
  class Account {
   public:
    size_t held() const { return held_; }
    bool waiting() const { return connection_ != nullptr; }

   private:
    friend class RequestMemoryBudget;
    size_t held_ = 0;
    Connection* connection_ = nullptr;  // set while queued
    std::list<Account*>::iterator position_;
  };

  static RequestMemoryBudget& ForThisThread();

  // Records that `account` holds `bytes` now. Returns true if its
  // connection must stop reading: `mid_body`, the worker's total above
  // `limit`, someone else holding part of it (a lone request always
  // proceeds, bounded by its own limits), and not the runner. The
  // connection is then paused and queued until the budget has room.
  bool Update(Account& account, Connection& conn, size_t bytes, bool mid_body,
              size_t limit);
  // The connection goes: its bytes are freed and its place in the queue is
  // given up.
  void Leave(Account& account, size_t limit);

  size_t total() const { return total_; }
  size_t waiting() const { return waiting_.size(); }

 private:
  void Dequeue(Account& account);
  void ResumeWaiting(size_t limit);

  size_t total_ = 0;
  Account* runner_ = nullptr;    // goes on over the budget; null: none
  std::list<Account*> waiting_;  // oldest first
};

}  // namespace eddy::http

#endif  // EDDY_HTTP_INTERNAL_REQUEST_MEMORY_BUDGET_H_
