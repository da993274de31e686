#include "eddy/core/histogram.h"

namespace eddy {

std::vector<double> HistogramBuckets::Exponential(double start, double factor,
                                                  size_t count) {
  std::vector<double> bounds;
  bounds.reserve(count);
  double bound = start;
  for (size_t i = 0; i < count; ++i) {
    bounds.push_back(bound);
    bound *= factor;
  }
  return bounds;
}

std::vector<double> HistogramBuckets::LatencySeconds() {
  return Exponential(0.0001, 2, 17);
}

}  // namespace eddy
