#ifndef EDDY_CORE_TIMER_WHEEL_H_
#define EDDY_CORE_TIMER_WHEEL_H_

#include <array>
#include <cstdint>
#include <vector>

#include "absl/functional/any_invocable.h"

namespace eddy {

// Identifies one scheduled timer. Stays safe to use after the timer fired or
// was cancelled: Cancel on a stale id is a no-op. Default-constructed ids
// refer to no timer.
struct TimerId {
  uint32_t index = 0;  // slot in the node table plus one; 0 means none
  uint32_t generation = 0;
  bool valid() const { return index != 0; }
  friend bool operator==(TimerId, TimerId) = default;
};

// TimerWheel is a hashed timing wheel with a resolution of one millisecond:
// Schedule and Cancel are O(1), and Advance touches only the slots between
// the previous and the current time. A two-level occupancy bitmap lets the
// owner find the next slot holding a timer without scanning, so an event loop
// sleeps until a timer can be due instead of ticking.
//
// Timers due in the same Advance run in deadline order, ties in the order
// they were scheduled. Callbacks may schedule and cancel timers, including
// themselves.
//
// Not thread-safe: owned by one EventLoop and used only on its thread.
class TimerWheel {
 public:
  using Callback = absl::AnyInvocable<void()>;

  static constexpr int64_t kSlots = 1 << 15;  // 32.8 s per revolution

  explicit TimerWheel(int64_t now_ms);
  TimerWheel(const TimerWheel&) = delete;
  TimerWheel& operator=(const TimerWheel&) = delete;

  // Runs `callback` at the first Advance whose time is >= `deadline_ms`. With
  // `period_ms` > 0 the timer repeats every period until cancelled.
  TimerId Schedule(int64_t deadline_ms, Callback callback,
                   int64_t period_ms = 0);

  // Cancels the timer; returns false if it already fired (one-shot), was
  // cancelled, or the id is stale. A periodic timer may cancel itself from
  // its own callback.
  bool Cancel(TimerId id);

  // Runs every timer due at `now_ms`. Returns how many ran.
  size_t Advance(int64_t now_ms);

  // Milliseconds from `now_ms` until the earliest slot that holds a timer (0
  // if one may be due already), or -1 when no timer is scheduled. The slot may
  // hold only timers for later revolutions, so this is a lower bound: the
  // owner wakes, Advance runs nothing, and it asks again.
  int64_t MillisUntilNextSlot(int64_t now_ms) const;

  size_t size() const { return active_; }
  bool empty() const { return active_ == 0; }

 private:
  static constexpr uint32_t kNil = UINT32_MAX;
  static constexpr int64_t kWords = kSlots / 64;

  enum class State : uint8_t { kFree, kScheduled, kDue, kRunning };

  struct Node {
    int64_t deadline = 0;
    int64_t period = 0;
    uint64_t sequence = 0;
    Callback callback;
    uint32_t prev = kNil;
    uint32_t next = kNil;
    uint32_t generation = 1;
    State state = State::kFree;
    bool cancelled = false;
  };

  static size_t SlotOf(int64_t tick) {
    return static_cast<size_t>(tick) & (kSlots - 1);
  }
  void Link(uint32_t index);
  void Unlink(uint32_t index);
  void FreeNode(uint32_t index);
  void CollectDue(size_t slot, int64_t now_ms);
  int64_t FindNextOccupied(size_t from_slot) const;  // slot index or -1

  std::vector<Node> nodes_;
  std::vector<uint32_t> free_nodes_;
  std::vector<uint32_t> heads_;  // kSlots list heads
  std::array<uint64_t, kWords> occupied_{};
  std::array<uint64_t, kWords / 64> occupied_words_{};
  std::vector<uint32_t> due_;
  int64_t current_ms_;  // every timer with deadline <= current_ms_ has run
  uint64_t next_sequence_ = 0;
  size_t active_ = 0;
};

}  // namespace eddy

#endif  // EDDY_CORE_TIMER_WHEEL_H_
