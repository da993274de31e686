#include "eddy/core/timer_wheel.h"

#include <algorithm>
#include <cassert>
#include <utility>

namespace eddy {

TimerWheel::TimerWheel(int64_t now_ms)
    : heads_(kSlots, kNil), current_ms_(now_ms) {}

TimerId TimerWheel::Schedule(int64_t deadline_ms, Callback callback,
                             int64_t period_ms) {
  uint32_t index;
  if (!free_nodes_.empty()) {
    index = free_nodes_.back();
    free_nodes_.pop_back();
  } else {
    index = static_cast<uint32_t>(nodes_.size());
    nodes_.emplace_back();
  }
  Node& node = nodes_[index];
  // A deadline already passed still has to wait for the next Advance: the
  // slots up to current_ms_ have been visited.
  node.deadline = std::max(deadline_ms, current_ms_ + 1);
  node.period = std::max<int64_t>(period_ms, 0);
  node.sequence = next_sequence_++;
  node.callback = std::move(callback);
  node.state = State::kScheduled;
  node.cancelled = false;
  Link(index);
  ++active_;
  return TimerId{index + 1, node.generation};
}

bool TimerWheel::Cancel(TimerId id) {
  if (!id.valid() || id.index > nodes_.size()) return false;
  const uint32_t index = id.index - 1;
  Node& node = nodes_[index];
  if (node.generation != id.generation || node.cancelled) return false;
  switch (node.state) {
    case State::kFree:
      return false;
    case State::kScheduled:
      Unlink(index);
      FreeNode(index);
      return true;
    case State::kDue:
      // Already collected by the running Advance; it frees the node.
      node.cancelled = true;
      return true;
    case State::kRunning:
      if (node.period == 0) return false;
      node.cancelled = true;
      return true;
  }
  return false;
}

size_t TimerWheel::Advance(int64_t now_ms) {
  if (now_ms <= current_ms_) return 0;
  const int64_t first_tick = current_ms_ + 1;
  const int64_t span = std::min<int64_t>(now_ms - current_ms_, kSlots);
  int64_t visited = 0;
  while (visited < span) {
    const size_t slot = SlotOf(first_tick + visited);
    const int64_t next = FindNextOccupied(slot);
    if (next < 0) break;
    const int64_t distance = (next - static_cast<int64_t>(slot)) & (kSlots - 1);
    if (visited + distance >= span) break;
    CollectDue(static_cast<size_t>(next), now_ms);
    visited += distance + 1;
  }
  current_ms_ = now_ms;
  // Callbacks may schedule timers, so run from a detached list; its capacity
  // is handed back afterwards.
  std::vector<uint32_t> due;
  due.swap(due_);
  std::sort(due.begin(), due.end(), [this](uint32_t a, uint32_t b) {
    const Node& x = nodes_[a];
    const Node& y = nodes_[b];
    return x.deadline != y.deadline ? x.deadline < y.deadline
                                    : x.sequence < y.sequence;
  });

  size_t ran = 0;
  for (uint32_t index : due) {
    if (nodes_[index].cancelled) {
      FreeNode(index);
      continue;
    }
    nodes_[index].state = State::kRunning;
    Callback callback = std::move(nodes_[index].callback);
    callback();  // may grow nodes_: no references held across the call
    ++ran;
    Node& node = nodes_[index];
    if (node.period > 0 && !node.cancelled) {
      node.deadline += node.period;
      if (node.deadline <= now_ms) node.deadline = now_ms + node.period;
      node.callback = std::move(callback);
      node.state = State::kScheduled;
      Link(index);
    } else {
      FreeNode(index);
    }
  }
  due.clear();
  due_.swap(due);
  return ran;
}

int64_t TimerWheel::MillisUntilNextSlot(int64_t now_ms) const {
  if (active_ == 0) return -1;
  const int64_t first_tick = current_ms_ + 1;
  const size_t first_slot = SlotOf(first_tick);
  const int64_t next = FindNextOccupied(first_slot);
  if (next < 0) return 0;
  const int64_t distance =
      (next - static_cast<int64_t>(first_slot)) & (kSlots - 1);
  return std::max<int64_t>(0, first_tick + distance - now_ms);
}

void TimerWheel::Link(uint32_t index) {
  Node& node = nodes_[index];
  const size_t slot = SlotOf(node.deadline);
  node.prev = kNil;
  node.next = heads_[slot];
  if (node.next != kNil) nodes_[node.next].prev = index;
  heads_[slot] = index;
  occupied_[slot / 64] |= uint64_t{1} << (slot % 64);
  occupied_words_[slot / 4096] |= uint64_t{1} << ((slot / 64) % 64);
}

void TimerWheel::Unlink(uint32_t index) {
  Node& node = nodes_[index];
  const size_t slot = SlotOf(node.deadline);
  if (node.prev != kNil) {
    nodes_[node.prev].next = node.next;
  } else {
    heads_[slot] = node.next;
  }
  if (node.next != kNil) nodes_[node.next].prev = node.prev;
  node.prev = node.next = kNil;
  if (heads_[slot] == kNil) {
    uint64_t& word = occupied_[slot / 64];
    word &= ~(uint64_t{1} << (slot % 64));
    if (word == 0) {
      occupied_words_[slot / 4096] &= ~(uint64_t{1} << ((slot / 64) % 64));
    }
  }
}

void TimerWheel::FreeNode(uint32_t index) {
  Node& node = nodes_[index];
  node.callback = nullptr;
  node.state = State::kFree;
  node.cancelled = false;
  ++node.generation;
  free_nodes_.push_back(index);
  --active_;
}

void TimerWheel::CollectDue(size_t slot, int64_t now_ms) {
  uint32_t index = heads_[slot];
  while (index != kNil) {
    const uint32_t next = nodes_[index].next;
    if (nodes_[index].deadline <= now_ms) {
      Unlink(index);
      nodes_[index].state = State::kDue;
      due_.push_back(index);
    }
    index = next;
  }
}

int64_t TimerWheel::FindNextOccupied(size_t from_slot) const {
  const size_t word = from_slot / 64;
  const uint64_t bits = occupied_[word] & (~uint64_t{0} << (from_slot % 64));
  if (bits != 0) return static_cast<int64_t>(word * 64 + __builtin_ctzll(bits));
  // The words after `word`, then wrapping around from word 0 up to `word`
  // itself (whose low bits lie before from_slot).
  for (int pass = 0; pass < 2; ++pass) {
    const size_t first = pass == 0 ? word + 1 : 0;
    const size_t last = pass == 0 ? kWords - 1 : word;
    if (first > last) continue;
    size_t summary = first / 64;
    uint64_t summary_bits =
        occupied_words_[summary] & (~uint64_t{0} << (first % 64));
    while (true) {
      if (summary_bits != 0) {
        const size_t found = summary * 64 + __builtin_ctzll(summary_bits);
        if (found > last) break;
        return static_cast<int64_t>(found * 64 +
                                    __builtin_ctzll(occupied_[found]));
      }
      if (++summary > last / 64) break;
      summary_bits = occupied_words_[summary];
    }
  }
  return -1;
}

}  // namespace eddy
