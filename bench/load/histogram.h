#ifndef EDDY_BENCH_LOAD_HISTOGRAM_H_
#define EDDY_BENCH_LOAD_HISTOGRAM_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace eddy::load {

// Histogram records latencies in log-linear buckets, in the manner of an HDR
// histogram: 1 µs wide below 1024 µs, and above that 128 buckets per power of
// two, so any value is known to within 1/128 (0.8 %) of itself. Recording is
// a few shifts and an increment with no allocation, cheap enough for every
// response; the memory is fixed (about 40 KiB) whatever the value range.
//
// Each load thread keeps its own Histogram; they are merged at the end.
// Not thread-safe.
class Histogram {
 public:
  Histogram();

  // Records one latency. Negative values count as zero; values beyond
  // kMaxMicros count in the last bucket (max() still reports them exactly).
  void Record(int64_t nanos);
  void Merge(const Histogram& other);
  void Clear();

  uint64_t count() const { return count_; }
  // Exact: kept beside the buckets.
  int64_t min_nanos() const { return count_ == 0 ? 0 : min_nanos_; }
  int64_t max_nanos() const { return max_nanos_; }
  double mean_nanos() const;

  // The upper edge of the first bucket at which at least `percentile` % of
  // the values are counted, clamped to the exact max: an overestimate by at
  // most one bucket width. 0 when empty. `percentile` is in [0, 100].
  int64_t PercentileNanos(double percentile) const;

  // The largest value with its own bucket: about 2^40 µs (12 days).
  static constexpr int64_t kMaxMicros = (int64_t{1} << 40) - 1;

 private:
  static constexpr int kLinearBits = 10;  // 1 µs buckets up to 1024 µs
  static constexpr int kSubBucketBits = 7;
  static constexpr int kSubBuckets = 1 << kSubBucketBits;
  static constexpr int kMaxExponent = 40;

  static size_t BucketOf(int64_t micros);
  // The end (exclusive) of the range `bucket` covers, in nanoseconds.
  static int64_t UpperEdgeNanos(size_t bucket);

  std::vector<uint64_t> buckets_;
  uint64_t count_ = 0;
  int64_t min_nanos_ = 0;
  int64_t max_nanos_ = 0;
  // Sums in nanoseconds overflow only after ~290 years of recorded latency.
  int64_t sum_nanos_ = 0;
};

}  // namespace eddy::load

#endif  // EDDY_BENCH_LOAD_HISTOGRAM_H_
