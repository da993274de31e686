#ifndef EDDY_BENCH_LOAD_MONOTONIC_NANOS_H_
#define EDDY_BENCH_LOAD_MONOTONIC_NANOS_H_

#include <time.h>

#include <cstdint>

namespace eddy::load {

// Nanoseconds on CLOCK_MONOTONIC. Latencies are microseconds on loopback,
// finer than the event loop's millisecond clock; the vDSO makes this about
// 20 ns, cheap enough per request. The same clock on every thread, so send
// and receive times from different calls compare.
inline int64_t MonotonicNanos() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

}  // namespace eddy::load

#endif  // EDDY_BENCH_LOAD_MONOTONIC_NANOS_H_
