// The multi-thread scheduler's metrics: each worker publishes its private batch
// (at maintenance and before parking) to its WorkerStats, which readers read.
#include "multi_thread.hpp"

WEFT_NS_BEGIN
namespace detail {

void MultiThread::submit_metrics(Core& core) {
  if constexpr (!kMetrics) return;
  WorkerStats& s = stats_[core.index];
  s.poll_count.set(core.polls.get());
  s.steal_count.set(core.steals.get());
  s.steal_operations.set(core.steal_ops.get());
  s.park_count.set(core.parks.get());
  s.park_unpark_count.set(core.parks.get() + core.unparks.get());
  s.noop_count.set(core.noops.get());
  s.local_schedule_count.set(core.local_schedules.get());
  s.overflow_count.set(core.overflows.get());
  s.busy_ns.set(core.busy_ns.get());
}

RuntimeMetrics MultiThread::metrics() const { return runtime_metrics(n_, inject_); }

WorkerMetrics MultiThread::worker_metrics(std::uint32_t i) const {
  WEFT_CHECK(i < n_);
  const WorkerStats& s = stats_[i];
  WorkerMetrics m;
  m.poll_count = s.poll_count.get();
  m.steal_count = s.steal_count.get();
  m.steal_operations = s.steal_operations.get();
  m.park_count = s.park_count.get();
  m.park_unpark_count = s.park_unpark_count.get();
  m.noop_count = s.noop_count.get();
  m.local_schedule_count = s.local_schedule_count.get();
  m.overflow_count = s.overflow_count.get();
  m.busy_duration_ns = s.busy_ns.get();
  m.local_queue_depth = remotes_[i]->queue.stealable_len();
  m.mean_poll_time_ns = m.poll_count ? m.busy_duration_ns / m.poll_count : 0;
  if (s.histogram) {
    for (std::uint32_t b = 0; b < cfg_.histogram_buckets; ++b) m.poll_time_histogram.push_back(s.histogram[b].get());
  }
  return m;
}

}  // namespace detail
WEFT_NS_END
