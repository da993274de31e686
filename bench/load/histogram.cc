#include "bench/load/histogram.h"

#include <algorithm>
#include <cmath>

namespace eddy::load {
namespace {

constexpr int64_t kNanosPerMicro = 1000;

}  // namespace

Histogram::Histogram()
    : buckets_((1 << kLinearBits) +
               (kMaxExponent - kLinearBits) * kSubBuckets) {}

size_t Histogram::BucketOf(int64_t micros) {
  if (micros < (1 << kLinearBits)) return static_cast<size_t>(micros);
  micros = std::min(micros, kMaxMicros);
  const int exponent = 63 - __builtin_clzll(static_cast<uint64_t>(micros));
  const int shift = exponent - kSubBucketBits;
  const int64_t sub = (micros >> shift) - kSubBuckets;
  return static_cast<size_t>((1 << kLinearBits) +
                             (exponent - kLinearBits) * kSubBuckets + sub);
}

int64_t Histogram::UpperEdgeNanos(size_t bucket) {
  constexpr size_t kLinear = size_t{1} << kLinearBits;
  if (bucket < kLinear) {
    return (static_cast<int64_t>(bucket) + 1) * kNanosPerMicro;
  }
  const size_t log_index = bucket - kLinear;
  const int exponent = kLinearBits + static_cast<int>(log_index / kSubBuckets);
  const int64_t sub = static_cast<int64_t>(log_index % kSubBuckets);
  return ((kSubBuckets + sub + 1) << (exponent - kSubBucketBits)) *
         kNanosPerMicro;
}

void Histogram::Record(int64_t nanos) {
  nanos = std::max<int64_t>(nanos, 0);
  ++buckets_[BucketOf(nanos / kNanosPerMicro)];
  if (count_ == 0 || nanos < min_nanos_) min_nanos_ = nanos;
  max_nanos_ = std::max(max_nanos_, nanos);
  sum_nanos_ += nanos;
  ++count_;
}

void Histogram::Merge(const Histogram& other) {
  if (other.count_ == 0) return;
  for (size_t i = 0; i < buckets_.size(); ++i) buckets_[i] += other.buckets_[i];
  min_nanos_ =
      count_ == 0 ? other.min_nanos_ : std::min(min_nanos_, other.min_nanos_);
  max_nanos_ = std::max(max_nanos_, other.max_nanos_);
  sum_nanos_ += other.sum_nanos_;
  count_ += other.count_;
}

void Histogram::Clear() {
  std::fill(buckets_.begin(), buckets_.end(), 0);
  count_ = 0;
  min_nanos_ = max_nanos_ = sum_nanos_ = 0;
}

double Histogram::mean_nanos() const {
  return count_ == 0
             ? 0.0
             : static_cast<double>(sum_nanos_) / static_cast<double>(count_);
}

int64_t Histogram::PercentileNanos(double percentile) const {
  if (count_ == 0) return 0;
  const double clamped = std::clamp(percentile, 0.0, 100.0);
  // The rank of the value asked for, counted from 1: p99 of 1000 values is
  // the 990th.
  const uint64_t rank = std::max<uint64_t>(
      1, static_cast<uint64_t>(
             std::ceil(clamped / 100.0 * static_cast<double>(count_))));
  uint64_t seen = 0;
  for (size_t i = 0; i < buckets_.size(); ++i) {
    seen += buckets_[i];
    if (seen < rank) continue;
    // The last bucket also holds the clamped values beyond kMaxMicros.
    if (i + 1 == buckets_.size()) return max_nanos_;
    return std::min(UpperEdgeNanos(i), max_nanos_);
  }
  return max_nanos_;
}

}  // namespace eddy::load
