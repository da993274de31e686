#include "eddy/core/metrics.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "absl/strings/str_cat.h"

namespace eddy {
namespace {

bool IsNameChar(char c, bool first, bool colon_ok) {
  const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                      c == '_' || (colon_ok && c == ':');
  return letter || (!first && c >= '0' && c <= '9');
}

bool IsValidName(absl::string_view name, bool colon_ok) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    if (!IsNameChar(name[i], i == 0, colon_ok)) return false;
  }
  return true;
}

// A misuse of the registry is a bug in the program, found at its setup.
[[noreturn]] void Misuse(const std::string& what) {
  std::fprintf(stderr, "eddy metrics: %s\n", what.c_str());
  std::abort();
}

std::string LabelKey(const MetricLabels& labels) {
  std::string key;
  for (const auto& [name, value] : labels) {
    // Lengths first, so that no value can forge another label set.
    absl::StrAppend(&key, name.size(), ":", name, value.size(), ":", value);
  }
  return key;
}

}  // namespace

MetricsCallback::MetricsCallback(MetricsCallback&& other) noexcept
    : registry_(std::exchange(other.registry_, nullptr)),
      series_(std::exchange(other.series_, nullptr)) {}

MetricsCallback& MetricsCallback::operator=(MetricsCallback&& other) noexcept {
  if (this != &other) {
    Reset();
    registry_ = std::exchange(other.registry_, nullptr);
    series_ = std::exchange(other.series_, nullptr);
  }
  return *this;
}

MetricsCallback::~MetricsCallback() { Reset(); }

void MetricsCallback::Reset() {
  if (registry_ != nullptr) registry_->RemoveSeries(series_);
  registry_ = nullptr;
  series_ = nullptr;
}

MetricsRegistry::MetricsRegistry(size_t writers)
    : writers_(std::max<size_t>(writers, 1)) {}

MetricsRegistry::~MetricsRegistry() = default;

metrics_internal::Series& MetricsRegistry::FindOrAddSeries(
    MetricType type, absl::string_view name, absl::string_view help,
    const MetricLabels& labels, const std::vector<double>& bounds) {
  if (!IsValidName(name, /*colon_ok=*/true)) {
    Misuse(absl::StrCat("'", name, "' is not a valid metric name"));
  }
  std::vector<std::string> label_names;
  for (const auto& [label, value] : labels) {
    if (!IsValidName(label, /*colon_ok=*/false) || label.rfind("__", 0) == 0 ||
        label == "le") {
      Misuse(
          absl::StrCat("'", label, "' is not a valid label name (", name, ")"));
    }
    if (std::find(label_names.begin(), label_names.end(), label) !=
        label_names.end()) {
      Misuse(absl::StrCat("label '", label, "' given twice (", name, ")"));
    }
    label_names.push_back(label);
  }
  std::unique_ptr<Family>& slot = families_[name];
  if (slot == nullptr) {
    slot = std::make_unique<Family>(Family{std::string(name),
                                           std::string(help),
                                           type,
                                           label_names,
                                           bounds,
                                           {},
                                           {}});
  } else if (slot->type != type || slot->label_names != label_names ||
             slot->bounds != bounds) {
    Misuse(absl::StrCat("'", name,
                        "' was registered before with another type, other "
                        "label names or other buckets"));
  }
  Family& family = *slot;
  metrics_internal::Series*& series = family.by_labels[LabelKey(labels)];
  if (series == nullptr) {
    auto made = std::make_unique<metrics_internal::Series>();
    made->labels = labels;
    series = made.get();
    family.series.push_back(std::move(made));
  }
  return *series;
}

Counter MetricsRegistry::GetCounter(absl::string_view name,
                                    absl::string_view help,
                                    const MetricLabels& labels) {
  std::lock_guard<std::mutex> lock(mutex_);
  metrics_internal::Series& series =
      FindOrAddSeries(MetricType::kCounter, name, help, labels, {});
  if (series.callback != nullptr) {
    Misuse(absl::StrCat("'", name, "' with these labels is a callback"));
  }
  if (series.cells == nullptr) {
    series.cells = std::make_unique<metrics_internal::Cell[]>(writers_);
  }
  return Counter(series.cells.get());
}

Gauge MetricsRegistry::GetGauge(absl::string_view name, absl::string_view help,
                                const MetricLabels& labels) {
  std::lock_guard<std::mutex> lock(mutex_);
  metrics_internal::Series& series =
      FindOrAddSeries(MetricType::kGauge, name, help, labels, {});
  if (series.callback != nullptr) {
    Misuse(absl::StrCat("'", name, "' with these labels is a callback"));
  }
  if (series.cells == nullptr) {
    series.cells = std::make_unique<metrics_internal::Cell[]>(writers_);
  }
  return Gauge(series.cells.get());
}

Histogram MetricsRegistry::GetHistogram(absl::string_view name,
                                        absl::string_view help,
                                        std::vector<double> bounds,
                                        const MetricLabels& labels) {
  if (bounds.empty() || !std::is_sorted(bounds.begin(), bounds.end()) ||
      std::adjacent_find(bounds.begin(), bounds.end()) != bounds.end()) {
    Misuse(absl::StrCat("'", name, "' needs strictly increasing bounds"));
  }
  std::lock_guard<std::mutex> lock(mutex_);
  metrics_internal::Series& series =
      FindOrAddSeries(MetricType::kHistogram, name, help, labels, bounds);
  if (series.histogram.empty()) {
    for (size_t i = 0; i < writers_; ++i) {
      series.histogram.push_back(
          std::make_unique<HistogramCells>(bounds.size()));
    }
  }
  return Histogram(&families_[name]->bounds, series.histogram.data());
}

MetricsCallback MetricsRegistry::AddCallback(
    MetricType type, absl::string_view name, absl::string_view help,
    const MetricLabels& labels, absl::AnyInvocable<double() const> callback) {
  if (type == MetricType::kHistogram) {
    Misuse(absl::StrCat("'", name, "': a callback is a counter or a gauge"));
  }
  std::lock_guard<std::mutex> lock(mutex_);
  metrics_internal::Series& series =
      FindOrAddSeries(type, name, help, labels, {});
  if (series.cells != nullptr || series.callback != nullptr) {
    Misuse(absl::StrCat("'", name, "' with these labels exists already"));
  }
  series.callback = std::move(callback);
  return MetricsCallback(this, &series);
}

void MetricsRegistry::RemoveSeries(metrics_internal::Series* series) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto it = families_.begin(); it != families_.end(); ++it) {
    Family& family = *it->second;
    auto found = std::find_if(
        family.series.begin(), family.series.end(),
        [series](const auto& owned) { return owned.get() == series; });
    if (found == family.series.end()) continue;
    family.by_labels.erase(LabelKey(series->labels));
    family.series.erase(found);
    if (family.series.empty()) families_.erase(it);
    return;
  }
}

std::vector<MetricFamilySnapshot> MetricsRegistry::Snapshot() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<MetricFamilySnapshot> snapshot;
  snapshot.reserve(families_.size());
  for (const auto& [name, family] : families_) {
    MetricFamilySnapshot& out = snapshot.emplace_back();
    out.name = family->name;
    out.help = family->help;
    out.type = family->type;
    out.bounds = family->bounds;
    for (const auto& series : family->series) {
      MetricSample& sample = out.samples.emplace_back();
      sample.labels = series->labels;
      if (series->callback != nullptr) {
        sample.value = series->callback();
      } else if (series->cells != nullptr) {
        int64_t total = 0;
        for (size_t w = 0; w < writers_; ++w) {
          total += series->cells[w].value.load(std::memory_order_relaxed);
        }
        sample.value = static_cast<double>(total);
      } else {
        sample.cumulative_counts.assign(family->bounds.size() + 1, 0);
        for (const auto& cells : series->histogram) {
          uint64_t running = 0;
          for (size_t i = 0; i < cells->size(); ++i) {
            running += cells->count(i);
            sample.cumulative_counts[i] += running;
          }
          sample.sum += cells->sum();
        }
      }
    }
    std::sort(out.samples.begin(), out.samples.end(),
              [](const MetricSample& a, const MetricSample& b) {
                return a.labels < b.labels;
              });
  }
  std::sort(snapshot.begin(), snapshot.end(),
            [](const MetricFamilySnapshot& a, const MetricFamilySnapshot& b) {
              return a.name < b.name;
            });
  return snapshot;
}

}  // namespace eddy
