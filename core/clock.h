#ifndef EDDY_CORE_CLOCK_H_
#define EDDY_CORE_CLOCK_H_

#include <time.h>

#include <cstdint>

#include "absl/time/time.h"

namespace eddy {

// Milliseconds on CLOCK_MONOTONIC: never jumps with wall-clock changes, so
// timeouts measured with it stay correct across NTP steps. Thread-safe.
inline int64_t MonotonicMillis() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1000000;
}

// Converts a delay to whole milliseconds, rounding up so that a timer never
// fires before the delay it was given, and clamping negatives to zero.
inline int64_t DurationToMillisCeil(absl::Duration d) {
  if (d <= absl::ZeroDuration()) return 0;
  if (d == absl::InfiniteDuration()) return INT64_MAX / 4;
  return absl::ToInt64Milliseconds(absl::Ceil(d, absl::Milliseconds(1)));
}

}  // namespace eddy

#endif  // EDDY_CORE_CLOCK_H_
