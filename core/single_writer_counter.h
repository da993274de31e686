#ifndef EDDY_CORE_SINGLE_WRITER_COUNTER_H_
#define EDDY_CORE_SINGLE_WRITER_COUNTER_H_

#include <atomic>
#include <cstdint>

namespace eddy {

// SingleWriterCounter is a statistic written by one thread and read by any:
// the writer does a relaxed load and store (no locked read-modify-write on
// the hot path), readers get a recent value. Counters are per worker and
// summed on read, so each has exactly one writer.
//
// Threading: Add and Subtract from the one writing thread only; value()
// from any thread.
class SingleWriterCounter {
 public:
  void Add(uint64_t n = 1) {
    value_.store(value_.load(std::memory_order_relaxed) + n,
                 std::memory_order_relaxed);
  }
  void Subtract(uint64_t n = 1) {
    value_.store(value_.load(std::memory_order_relaxed) - n,
                 std::memory_order_relaxed);
  }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

}  // namespace eddy

#endif  // EDDY_CORE_SINGLE_WRITER_COUNTER_H_
