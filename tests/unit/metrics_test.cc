#include "eddy/core/metrics.h"

#include <string>
#include <thread>
#include <vector>

#include "eddy/core/histogram.h"
#include "eddy/core/prometheus_text.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace eddy {
namespace {

using ::testing::HasSubstr;

const MetricFamilySnapshot* FindFamily(
    const std::vector<MetricFamilySnapshot>& families,
    const std::string& name) {
  for (const MetricFamilySnapshot& family : families) {
    if (family.name == name) return &family;
  }
  return nullptr;
}

TEST(MetricsRegistry, ConcurrentWritersAreSummedAtScrape) {
  constexpr size_t kWriters = 4;
  constexpr uint64_t kPerWriter = 100000;
  MetricsRegistry registry(kWriters);
  const Counter counter = registry.GetCounter("test_events_total", "Events.");
  const Gauge gauge = registry.GetGauge("test_level", "Level.");
  const Histogram histogram = registry.GetHistogram(
      "test_seconds", "Seconds.", HistogramBuckets::Exponential(1, 2, 4));
  std::vector<std::thread> threads;
  for (size_t w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      for (uint64_t i = 0; i < kPerWriter; ++i) {
        counter.Add(w);
        gauge.Add(w, 2);
        histogram.Observe(w, 3);
      }
      gauge.Add(w, -1);
    });
  }
  // Scrapes run while the writers write: they must see no torn state.
  for (int i = 0; i < 20; ++i) (void)registry.Snapshot();
  for (std::thread& thread : threads) thread.join();

  const std::vector<MetricFamilySnapshot> families = registry.Snapshot();
  ASSERT_NE(FindFamily(families, "test_events_total"), nullptr);
  EXPECT_EQ(FindFamily(families, "test_events_total")->samples.at(0).value,
            kWriters * kPerWriter);
  EXPECT_EQ(FindFamily(families, "test_level")->samples.at(0).value,
            kWriters * (2 * kPerWriter - 1));
  const MetricSample& seconds =
      FindFamily(families, "test_seconds")->samples.at(0);
  EXPECT_EQ(seconds.cumulative_counts.back(), kWriters * kPerWriter);
  EXPECT_EQ(seconds.sum, 3.0 * kWriters * kPerWriter);
}

TEST(MetricsRegistry, SameNameAndLabelsGiveTheSameSeries) {
  MetricsRegistry registry(1);
  registry.GetCounter("test_total", "T.", {{"kind", "a"}}).Add(0, 2);
  registry.GetCounter("test_total", "T.", {{"kind", "a"}}).Add(0, 3);
  registry.GetCounter("test_total", "T.", {{"kind", "b"}}).Add(0, 7);
  const std::vector<MetricFamilySnapshot> families = registry.Snapshot();
  ASSERT_EQ(families.size(), 1u);
  ASSERT_EQ(families[0].samples.size(), 2u);
  EXPECT_EQ(families[0].samples[0].value, 5);
  EXPECT_EQ(families[0].samples[1].value, 7);
}

TEST(MetricsRegistry, ValueOnABoundGoesToThatBucket) {
  MetricsRegistry registry(1);
  const Histogram histogram =
      registry.GetHistogram("test_size", "Size.", {1, 10, 100});
  for (double value : {0.5, 1.0, 1.0001, 10.0, 100.0, 100.5, 1e9}) {
    histogram.Observe(0, value);
  }
  const std::vector<MetricFamilySnapshot> families = registry.Snapshot();
  const MetricSample& sample = families.at(0).samples.at(0);
  // Cumulative: le=1 holds 0.5 and 1; le=10 adds 1.0001 and 10; le=100 adds
  // 100; +Inf adds 100.5 and 1e9.
  EXPECT_THAT(sample.cumulative_counts, ::testing::ElementsAre(2, 4, 5, 7));
}

TEST(MetricsRegistry, WeightedObservationCountsEveryOne) {
  MetricsRegistry registry(1);
  registry.GetHistogram("test_seconds", "S.", {1, 2}).Observe(0, 1.5, 3);
  const std::vector<MetricFamilySnapshot> families = registry.Snapshot();
  const MetricSample& sample = families.at(0).samples.at(0);
  EXPECT_THAT(sample.cumulative_counts, ::testing::ElementsAre(0, 3, 3));
  EXPECT_EQ(sample.sum, 4.5);
}

TEST(HistogramBuckets, ExponentialBoundsAreLogSpaced) {
  EXPECT_THAT(HistogramBuckets::Exponential(0.5, 4, 4),
              ::testing::ElementsAre(0.5, 2, 8, 32));
  const std::vector<double> latency = HistogramBuckets::LatencySeconds();
  ASSERT_EQ(latency.size(), 17u);
  EXPECT_DOUBLE_EQ(latency.front(), 0.0001);
  EXPECT_DOUBLE_EQ(latency[1] / latency[0], 2);
}

TEST(MetricsRegistry, CallbackSeriesIsReadAtScrapeAndGoneWhenReleased) {
  MetricsRegistry registry(1);
  double depth = 3;
  {
    MetricsCallback callback =
        registry.AddCallback(MetricType::kGauge, "test_depth", "Depth.",
                             {{"queue", "in"}}, [&depth] { return depth; });
    depth = 9;
    const std::vector<MetricFamilySnapshot> families = registry.Snapshot();
    ASSERT_EQ(families.size(), 1u);
    EXPECT_EQ(families[0].samples.at(0).value, 9);
  }
  EXPECT_TRUE(registry.Snapshot().empty());
}

TEST(PrometheusText, EscapesLabelValues) {
  EXPECT_EQ(EscapeLabelValue("plain"), "plain");
  EXPECT_EQ(EscapeLabelValue("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
}

TEST(PrometheusText, WritesCountersGaugesAndHistograms) {
  MetricsRegistry registry(2);
  registry
      .GetCounter("test_requests_total", "Requests served.",
                  {{"route", "/a\"b"}})
      .Add(1, 4);
  registry.GetGauge("test_open", "Open now.\nSecond line.").Set(0, -2);
  const Histogram histogram =
      registry.GetHistogram("test_latency_seconds", "Latency.", {0.001, 0.01});
  histogram.Observe(0, 0.0005);
  histogram.Observe(1, 0.5);
  EXPECT_EQ(PrometheusText(registry),
            "# HELP test_latency_seconds Latency.\n"
            "# TYPE test_latency_seconds histogram\n"
            "test_latency_seconds_bucket{le=\"0.001\"} 1\n"
            "test_latency_seconds_bucket{le=\"0.01\"} 1\n"
            "test_latency_seconds_bucket{le=\"+Inf\"} 2\n"
            "test_latency_seconds_sum 0.5005\n"
            "test_latency_seconds_count 2\n"
            "# HELP test_open Open now.\\nSecond line.\n"
            "# TYPE test_open gauge\n"
            "test_open -2\n"
            "# HELP test_requests_total Requests served.\n"
            "# TYPE test_requests_total counter\n"
            "test_requests_total{route=\"/a\\\"b\"} 4\n");
}

TEST(PrometheusText, HistogramLabelsComeBeforeLe) {
  MetricsRegistry registry(1);
  registry.GetHistogram("test_seconds", "S.", {1}, {{"route", "/"}})
      .Observe(0, 2);
  EXPECT_THAT(PrometheusText(registry),
              HasSubstr("test_seconds_bucket{route=\"/\",le=\"+Inf\"} 1\n"));
}

TEST(MetricsRegistryDeathTest, RejectsANameClash) {
  MetricsRegistry registry(1);
  registry.GetCounter("test_total", "T.");
  EXPECT_DEATH(registry.GetGauge("test_total", "T."), "another type");
  EXPECT_DEATH(registry.GetCounter("bad-name", "T."), "not a valid");
  EXPECT_DEATH(registry.GetCounter("test_total", "T.", {{"a", "1"}}),
               "another type");
  EXPECT_DEATH(
      registry.GetCounter("other_total", "T.", {{"a", "1"}, {"a", "2"}}),
      "given twice");
}

}  // namespace
}  // namespace eddy
