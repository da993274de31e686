#ifndef EDDY_BENCH_LOAD_BUSY_POLL_H_
#define EDDY_BENCH_LOAD_BUSY_POLL_H_

#include <cstdint>

#include "absl/time/time.h"
#include "eddy/core/event_loop.h"

namespace eddy::load {

// BusyPoll keeps an EventLoop polling (epoll_wait with a zero timeout)
// instead of sleeping, for a short window after the last activity.
//
// Why a load generator wants this: the server pays to wake a client that
// sleeps in epoll_wait. Each response sent over loopback to a sleeping
// client costs the server's thread a wake-up of the client's (an IPI, a VM
// exit on virtual machines), and that cost caps the server's throughput. A
// client that stays awake while responses keep coming measures the server,
// not the wake-ups; once traffic stops for the window, it sleeps as usual.
//
// It works by staying on the loop's ready list, which makes the loop skip
// sleeping. Threading: the loop's thread only.
class BusyPoll final : public IoHandler {
 public:
  // A zero `window` disables it.
  BusyPoll(EventLoop& loop, absl::Duration window);
  ~BusyPoll();  // The loop must not be running.
  BusyPoll(const BusyPoll&) = delete;
  BusyPoll& operator=(const BusyPoll&) = delete;

  // Activity: keep polling for the window from now on. Cheap enough to call
  // on every event.
  void Touch() {
    touched_ = true;
    if (!polling_ && window_ns_ > 0) {
      polling_ = true;
      loop_.MarkReady(this);
    }
  }

  void HandleIo(uint32_t events) override {}
  void HandleReady() override;

 private:
  EventLoop& loop_;
  const int64_t window_ns_;
  int64_t last_activity_ns_ = 0;
  bool touched_ = false;
  bool polling_ = false;
};

}  // namespace eddy::load

#endif  // EDDY_BENCH_LOAD_BUSY_POLL_H_
