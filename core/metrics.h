#ifndef EDDY_CORE_METRICS_H_
#define EDDY_CORE_METRICS_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/strings/string_view.h"
#include "eddy/core/histogram.h"

namespace eddy {

// A series' labels, in the order they are exported: {{"method", "GET"}}.
using MetricLabels = std::vector<std::pair<std::string, std::string>>;

enum class MetricType { kCounter, kGauge, kHistogram };

namespace metrics_internal {

// One writer's share of a counter or gauge, alone on its cache line so that
// writers never contend for it.
struct alignas(64) Cell {
  std::atomic<int64_t> value{0};
};

struct Series {
  MetricLabels labels;
  std::unique_ptr<Cell[]> cells;  // counters and gauges
  std::vector<std::unique_ptr<HistogramCells>> histogram;  // one per writer
  absl::AnyInvocable<double() const> callback;             // callback series
};

}  // namespace metrics_internal

// A monotonically increasing count, one single-writer cell per writer,
// summed when scraped. A copyable handle, valid while its registry lives.
//
// Threading: Add for writer `w` from one thread at a time (the thread that
// owns `w`, e.g. worker `w`'s loop thread); never an atomic
// read-modify-write.
class Counter {
 public:
  void Add(size_t writer, uint64_t n = 1) const {
    std::atomic<int64_t>& cell = cells_[writer].value;
    cell.store(cell.load(std::memory_order_relaxed) + static_cast<int64_t>(n),
               std::memory_order_relaxed);
  }

 private:
  friend class MetricsRegistry;
  explicit Counter(metrics_internal::Cell* cells) : cells_(cells) {}
  metrics_internal::Cell* cells_;
};

// A value that goes up and down; the exported value is the sum of every
// writer's share (e.g. each worker's open connections).
//
// Threading: Add and Set for writer `w` from one thread at a time.
class Gauge {
 public:
  void Add(size_t writer, int64_t delta) const {
    std::atomic<int64_t>& cell = cells_[writer].value;
    cell.store(cell.load(std::memory_order_relaxed) + delta,
               std::memory_order_relaxed);
  }
  void Set(size_t writer, int64_t value) const {
    cells_[writer].value.store(value, std::memory_order_relaxed);
  }

 private:
  friend class MetricsRegistry;
  explicit Gauge(metrics_internal::Cell* cells) : cells_(cells) {}
  metrics_internal::Cell* cells_;
};

// A distribution over fixed buckets (see HistogramBuckets), one set of
// single-writer buckets per writer.
//
// Threading: Observe for writer `w` from one thread at a time.
class Histogram {
 public:
  // `count` observations of `value`, e.g. the requests of one burst that
  // share a latency.
  void Observe(size_t writer, double value, uint64_t count = 1) const {
    cells_[writer]->Observe(*bounds_, value, count);
  }

 private:
  friend class MetricsRegistry;
  Histogram(const std::vector<double>* bounds,
            const std::unique_ptr<HistogramCells>* cells)
      : bounds_(bounds), cells_(cells) {}
  const std::vector<double>* bounds_;
  const std::unique_ptr<HistogramCells>* cells_;
};

// A series whose value a callback computes at scrape time, e.g. a length
// read from the kernel. Unregistered when destroyed: after the destructor
// returns the callback never runs again. Its registry must outlive it.
//
// Threading: destroy from any thread, but not from inside a callback.
class MetricsCallback {
 public:
  MetricsCallback() = default;
  MetricsCallback(MetricsCallback&& other) noexcept;
  MetricsCallback& operator=(MetricsCallback&& other) noexcept;
  ~MetricsCallback();

 private:
  friend class MetricsRegistry;
  MetricsCallback(class MetricsRegistry* registry,
                  metrics_internal::Series* series)
      : registry_(registry), series_(series) {}
  void Reset();
  class MetricsRegistry* registry_ = nullptr;
  metrics_internal::Series* series_ = nullptr;
};

// What one family held at a scrape: values summed over writers.
struct MetricSample {
  MetricLabels labels;
  double value = 0;  // counters and gauges
  // Histograms: cumulative counts per bound, then the +Inf bucket (== count).
  std::vector<uint64_t> cumulative_counts;
  double sum = 0;
};

struct MetricFamilySnapshot {
  std::string name;
  std::string help;
  MetricType type = MetricType::kCounter;
  std::vector<double> bounds;  // histograms
  std::vector<MetricSample> samples;
};

// MetricsRegistry holds named families of counters, gauges and histograms,
// each family a set of series told apart by their labels. Updates on the hot
// path go to a writer's own cells (a relaxed load and store, no lock, no
// atomic read-modify-write); a scrape sums the cells of every writer.
// Writers are numbered 0..writers()-1; a server's worker `i` writes as
// writer `i`, and each number must be used by one thread at a time.
//
// Series are found or created by name and labels: the same name and labels
// give the same series, so protocols may ask for their handles in every
// connection's setup, though asking once and keeping the handle is cheaper.
// A name must keep one type, label names (in one order) and buckets, and
// keeps the help text it was first given; breaking that, a label given
// twice, or a name Prometheus rejects, is a programming error and aborts.
//
// Threading: every member function may be called from any thread; Get*
// and Add*Callback take a lock, so call them at setup, not per update.
class MetricsRegistry {
 public:
  explicit MetricsRegistry(size_t writers);
  ~MetricsRegistry();
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  size_t writers() const { return writers_; }

  Counter GetCounter(absl::string_view name, absl::string_view help,
                     const MetricLabels& labels = {});
  Gauge GetGauge(absl::string_view name, absl::string_view help,
                 const MetricLabels& labels = {});
  // `bounds` are the buckets' inclusive upper bounds, increasing (e.g.
  // HistogramBuckets::Exponential); every series of a family shares them.
  Histogram GetHistogram(absl::string_view name, absl::string_view help,
                         std::vector<double> bounds,
                         const MetricLabels& labels = {});

  // A counter or gauge series whose value `callback` returns at scrape
  // time, under the registry's lock: it must not call the registry.
  [[nodiscard]] MetricsCallback AddCallback(
      MetricType type, absl::string_view name, absl::string_view help,
      const MetricLabels& labels, absl::AnyInvocable<double() const> callback);

  // Every family, sorted by name, each series summed over writers.
  std::vector<MetricFamilySnapshot> Snapshot() const;

 private:
  friend class MetricsCallback;

  struct Family {
    std::string name;
    std::string help;
    MetricType type;
    std::vector<std::string> label_names;
    std::vector<double> bounds;
    std::vector<std::unique_ptr<metrics_internal::Series>> series;
    absl::flat_hash_map<std::string, metrics_internal::Series*> by_labels;
  };

  // With mutex_ held.
  metrics_internal::Series& FindOrAddSeries(MetricType type,
                                            absl::string_view name,
                                            absl::string_view help,
                                            const MetricLabels& labels,
                                            const std::vector<double>& bounds);
  void RemoveSeries(metrics_internal::Series* series);

  const size_t writers_;
  // Registration, removal and scrapes meet here; a std::mutex, not
  // absl::Mutex, because Debian's Abseil has no TSan annotations.
  mutable std::mutex mutex_;
  absl::flat_hash_map<std::string, std::unique_ptr<Family>>
      families_;  // guarded by mutex_
};

}  // namespace eddy

#endif  // EDDY_CORE_METRICS_H_
