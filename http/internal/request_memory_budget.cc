#include "eddy/http/internal/request_memory_budget.h"

#include <algorithm>

#include "eddy/core/buffer.h"

namespace eddy::http {
namespace {

// What a resumed connection may read before it reports again: one read
// (Buffer::ReadFromFd takes at most the spill beyond the buffer's room).
constexpr size_t kResumeGrant = Buffer::kSpillSize;

}  // namespace

RequestMemoryBudget& RequestMemoryBudget::ForThisThread() {
  thread_local RequestMemoryBudget budget;
  return budget;
}

bool RequestMemoryBudget::Update(Account& account, Connection& conn,
                                 size_t bytes, bool mid_body, size_t limit) {
  total_ = total_ - account.held_ + bytes;
  account.held_ = bytes;
  if (!mid_body && runner_ == &account) runner_ = nullptr;
  if (mid_body && total_ > limit && total_ > bytes) {
    // Bodies held back hold the budget themselves and free it only by
    // completing: one of them (the first refused) must go on, or all would
    // wait for each other until their timeouts.
    if (runner_ == nullptr) runner_ = &account;
    if (runner_ != &account && !account.waiting()) {
      conn.PauseReading();
      account.connection_ = &conn;
      account.position_ = waiting_.insert(waiting_.end(), &account);
    }
    return account.waiting();
  }
  if (account.waiting()) {
    Dequeue(account);
    conn.ResumeReading();
  }
  ResumeWaiting(limit);
  return false;
}

void RequestMemoryBudget::Leave(Account& account, size_t limit) {
  Dequeue(account);
  if (runner_ == &account) runner_ = nullptr;
  total_ -= account.held_;
  account.held_ = 0;
  ResumeWaiting(limit);
}

void RequestMemoryBudget::Dequeue(Account& account) {
  if (!account.waiting()) return;
  waiting_.erase(account.position_);
  account.connection_ = nullptr;
}

void RequestMemoryBudget::ResumeWaiting(size_t limit) {
  if (runner_ == nullptr && !waiting_.empty()) {
    // The longest waiter goes on whatever the total, so the queue moves
    // even while held bodies fill the budget.
    Account& next = *waiting_.front();
    Connection& conn = *next.connection_;
    Dequeue(next);
    runner_ = &next;
    conn.ResumeReading();
  }
  size_t room = total_ < limit ? limit - total_ : 0;
  while (room > 0 && !waiting_.empty()) {
    Account& next = *waiting_.front();
    Connection& conn = *next.connection_;
    Dequeue(next);
    // Outside that connection's own dispatch this only puts it on the
    // loop's ready list, so no handler runs inside this call.
    conn.ResumeReading();
    room -= std::min(room, kResumeGrant);
  }
}

}  // namespace eddy::http
