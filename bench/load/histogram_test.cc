#include "bench/load/histogram.h"

#include <cstdint>

#include "gtest/gtest.h"

namespace eddy::load {
namespace {

constexpr int64_t kMicro = 1000;
constexpr int64_t kMilli = 1000 * kMicro;

TEST(Histogram, EmptyReportsZero) {
  Histogram histogram;
  EXPECT_EQ(histogram.count(), 0u);
  EXPECT_EQ(histogram.PercentileNanos(50), 0);
  EXPECT_EQ(histogram.max_nanos(), 0);
  EXPECT_EQ(histogram.mean_nanos(), 0.0);
}

TEST(Histogram, MicrosecondResolutionBelowOneMillisecond) {
  Histogram histogram;
  for (int64_t us = 1; us <= 100; ++us) histogram.Record(us * kMicro + 300);
  // The 50th of 100 values lies in the bucket [50 µs, 51 µs).
  EXPECT_EQ(histogram.PercentileNanos(50), 51 * kMicro);
  EXPECT_EQ(histogram.PercentileNanos(100), 100 * kMicro + 300);
  EXPECT_EQ(histogram.min_nanos(), 1 * kMicro + 300);
}

TEST(Histogram, RelativeErrorStaysUnderOnePercentAboveOneMillisecond) {
  for (int64_t value = kMilli; value < 100000 * kMilli; value += value / 7) {
    Histogram histogram;
    histogram.Record(value);
    histogram.Record(value * 4);  // keeps the max above the first value
    const int64_t reported = histogram.PercentileNanos(50);
    EXPECT_GE(reported, value);
    EXPECT_LE(static_cast<double>(reported - value),
              0.01 * static_cast<double>(value))
        << value;
  }
}

TEST(Histogram, PercentilesOfAUniformSpread) {
  Histogram histogram;
  for (int64_t i = 1; i <= 10000; ++i) histogram.Record(i * kMicro);
  EXPECT_NEAR(static_cast<double>(histogram.PercentileNanos(90)),
              9000.0 * kMicro, 0.01 * 9000.0 * kMicro);
  EXPECT_NEAR(static_cast<double>(histogram.PercentileNanos(99.9)),
              9990.0 * kMicro, 0.01 * 9990.0 * kMicro);
  EXPECT_EQ(histogram.max_nanos(), 10000 * kMicro);
  EXPECT_DOUBLE_EQ(histogram.mean_nanos(), 5000.5 * kMicro);
}

TEST(Histogram, MergeEqualsRecordingEverythingInOne) {
  Histogram a;
  Histogram b;
  Histogram both;
  for (int64_t i = 0; i < 1000; ++i) {
    const int64_t value = (i * 7919) % 5000 * kMicro;
    (i % 2 == 0 ? a : b).Record(value);
    both.Record(value);
  }
  a.Merge(b);
  EXPECT_EQ(a.count(), both.count());
  EXPECT_EQ(a.min_nanos(), both.min_nanos());
  EXPECT_EQ(a.max_nanos(), both.max_nanos());
  EXPECT_DOUBLE_EQ(a.mean_nanos(), both.mean_nanos());
  for (double p : {1.0, 50.0, 90.0, 99.0, 99.9}) {
    EXPECT_EQ(a.PercentileNanos(p), both.PercentileNanos(p)) << p;
  }
}

TEST(Histogram, HugeAndNegativeValuesAreClamped) {
  Histogram histogram;
  histogram.Record(-5);
  histogram.Record(INT64_MAX / 2);
  EXPECT_EQ(histogram.count(), 2u);
  EXPECT_EQ(histogram.min_nanos(), 0);
  EXPECT_EQ(histogram.max_nanos(), INT64_MAX / 2);
  EXPECT_EQ(histogram.PercentileNanos(100), INT64_MAX / 2);
}

}  // namespace
}  // namespace eddy::load
