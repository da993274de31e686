#ifndef EDDY_CORE_HISTOGRAM_H_
#define EDDY_CORE_HISTOGRAM_H_

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace eddy {

// Bucket bounds for histograms (see MetricsRegistry::GetHistogram).
struct HistogramBuckets {
  // `count` log-spaced upper bounds: start, start*factor, start*factor^2...
  // Log spacing keeps the relative error of every bucket the same, from a
  // 100 us cache hit to a 5 s upstream timeout, with few buckets.
  static std::vector<double> Exponential(double start, double factor,
                                         size_t count);
  // Request latencies in seconds: 100 us to ~6.6 s, doubling (17 buckets).
  static std::vector<double> LatencySeconds();
};

// One writer's buckets of one histogram series: a count per bound, one for
// values above every bound (+Inf), and the sum of the values. Aligned to a
// cache line so that writers never share one.
//
// Threading: Observe from one thread at a time (the writer); the readers
// (count(i), sum()) from any thread.
class alignas(64) HistogramCells {
 public:
  explicit HistogramCells(size_t bound_count)
      : counts_(new std::atomic<uint64_t>[bound_count + 1]),
        size_(bound_count + 1) {
    for (size_t i = 0; i < size_; ++i) counts_[i].store(0);
  }

  // `count` observations of `value`. `bounds` must be the ones this was
  // made for. A value equal to a bound goes to that bound's bucket
  // (Prometheus' "le").
  void Observe(const std::vector<double>& bounds, double value,
               uint64_t count = 1) {
    const size_t bucket = static_cast<size_t>(
        std::lower_bound(bounds.begin(), bounds.end(), value) - bounds.begin());
    std::atomic<uint64_t>& cell = counts_[bucket];
    cell.store(cell.load(std::memory_order_relaxed) + count,
               std::memory_order_relaxed);
    sum_.store(sum_.load(std::memory_order_relaxed) +
                   value * static_cast<double>(count),
               std::memory_order_relaxed);
  }

  // Bucket `i` alone (not cumulative); i == bound count is +Inf.
  uint64_t count(size_t i) const {
    return counts_[i].load(std::memory_order_relaxed);
  }
  double sum() const { return sum_.load(std::memory_order_relaxed); }
  size_t size() const { return size_; }

 private:
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;
  const size_t size_;
  std::atomic<double> sum_{0};
};

}  // namespace eddy

#endif  // EDDY_CORE_HISTOGRAM_H_
