// The metrics switch (WEFT_METRICS) and what it compiles out: the worker-private
// metric counter and the busy-time clock read.
#pragma once

#include <cstdint>

#include "weft/platform/platform.hpp"

// WEFT_METRICS=0 (CMake WEFT_METRICS=OFF) compiles the per-worker metric updates
// out, to measure what they cost the hot path. Benchmark builds only: the
// simulator's checks and the metric tests need them.
#ifndef WEFT_METRICS
#define WEFT_METRICS 1
#endif

WEFT_NS_BEGIN
namespace detail {

inline constexpr bool kMetrics = WEFT_METRICS != 0;

// MetricCount is a worker-private metric counter, published to the shared
// counters by the scheduler; every update is a no-op without kMetrics.
class MetricCount {
 public:
  MetricCount& operator++() {
    if constexpr (kMetrics) ++v_;
    return *this;
  }
  MetricCount& operator+=(std::uint64_t n) {
    if constexpr (kMetrics) v_ += n;
    return *this;
  }
  std::uint64_t get() const { return v_; }

 private:
  std::uint64_t v_ = 0;
};

// metrics_now_ns reads the clock for busy-time metrics; 0 without kMetrics.
inline std::uint64_t metrics_now_ns() {
  if constexpr (kMetrics) return Platform::now_ns();
  return 0;
}

}  // namespace detail
WEFT_NS_END
