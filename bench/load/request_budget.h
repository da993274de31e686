#ifndef EDDY_BENCH_LOAD_REQUEST_BUDGET_H_
#define EDDY_BENCH_LOAD_REQUEST_BUDGET_H_

#include <algorithm>
#include <atomic>
#include <cstdint>

namespace eddy::load {

// RequestBudget is the --requests count, shared by every load thread: a
// connection takes from it before each send, and retires once it is spent.
// Requests that get no answer (an error ended the connection, or the server
// closed it first) are given back and sent again, so a run ends with
// exactly that many responses unless --duration cuts it short. One atomic
// per send (a batch, when pipelining), not per response.
//
// Thread-safe.
class RequestBudget {
 public:
  explicit RequestBudget(int64_t total) : remaining_(total) {}
  RequestBudget(const RequestBudget&) = delete;
  RequestBudget& operator=(const RequestBudget&) = delete;

  // Takes up to `want` requests; returns how many were granted, 0 once the
  // budget is spent.
  int64_t Take(int64_t want) {
    int64_t left = remaining_.load(std::memory_order_relaxed);
    while (left > 0) {
      const int64_t grant = std::min(want, left);
      if (remaining_.compare_exchange_weak(left, left - grant,
                                           std::memory_order_relaxed)) {
        return grant;
      }
    }
    return 0;
  }

  // Gives back `n` requests taken but never answered.
  void Return(int64_t n) { remaining_.fetch_add(n, std::memory_order_relaxed); }

  bool spent() const { return remaining_.load(std::memory_order_relaxed) <= 0; }

 private:
  std::atomic<int64_t> remaining_;
};

}  // namespace eddy::load

#endif  // EDDY_BENCH_LOAD_REQUEST_BUDGET_H_
