// The shared runtime core: CoreBase, the metrics JSON, Config resolution and the
// Runtime/Handle entry points (owned tasks, timers, the blocking pool and
// block_on are in the .cpp files of those names).
#include "runtime_core.hpp"

#include "weft/runtime_hooks.hpp"
#include "policy.hpp"
#include "queues.hpp"

#include <algorithm>
#include <cstdio>
#include <exception>
#include <nlohmann/json.hpp>

WEFT_NS_BEGIN
namespace detail {

namespace {
std::uint32_t next_pow2(std::uint32_t v) {
  std::uint32_t p = 1;
  while (p < v) p <<= 1;
  return p;
}
}  // namespace

CoreBase::CoreBase(Config cfg, std::uint32_t owned_shards)
    : cfg_(std::move(cfg)),
      owned_(next_pow2(owned_shards)),
      blocking_(this, cfg_.max_blocking_threads, cfg_.blocking_keep_alive_ns) {}

CoreBase::~CoreBase() = default;

void CoreBase::unhandled(std::exception_ptr ex) {
  if (cfg_.unhandled_exception) {
    cfg_.unhandled_exception(ex);
    return;
  }
  try {
    std::rethrow_exception(ex);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "weft: unhandled exception in a detached task: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "weft: unhandled exception in a detached task\n");
  }
}

// ---- metrics ----

RuntimeMetrics CoreBase::runtime_metrics(std::uint32_t workers, const InjectQueue& inject) const {
  RuntimeMetrics m;
  m.num_workers = workers;
  m.num_alive_tasks = owned_.alive();
  m.spawned_tasks_count = owned_.added();
  m.injection_queue_depth = inject.len();
  m.remote_schedule_count = remote_schedule_count_.get();
  m.budget_forced_yield_count = budget_forced_yields_.get();
  m.num_blocking_threads = blocking_.num_threads();
  m.num_idle_blocking_threads = blocking_.num_idle();
  m.blocking_queue_depth = blocking_.queue_depth();
  return m;
}

std::string RuntimeCore::metrics_json() const {
  nlohmann::ordered_json j;
  RuntimeMetrics m = metrics();
  j["num_workers"] = m.num_workers;
  j["num_alive_tasks"] = m.num_alive_tasks;
  j["spawned_tasks_count"] = m.spawned_tasks_count;
  j["injection_queue_depth"] = m.injection_queue_depth;
  j["remote_schedule_count"] = m.remote_schedule_count;
  j["budget_forced_yield_count"] = m.budget_forced_yield_count;
  j["num_blocking_threads"] = m.num_blocking_threads;
  j["num_idle_blocking_threads"] = m.num_idle_blocking_threads;
  j["blocking_queue_depth"] = m.blocking_queue_depth;
  auto& ws = j["workers"] = nlohmann::ordered_json::array();
  for (std::uint32_t i = 0; i < m.num_workers; ++i) {
    WorkerMetrics w = worker_metrics(i);
    nlohmann::ordered_json o;
    o["poll_count"] = w.poll_count;
    o["steal_count"] = w.steal_count;
    o["steal_operations"] = w.steal_operations;
    o["park_count"] = w.park_count;
    o["park_unpark_count"] = w.park_unpark_count;
    o["noop_count"] = w.noop_count;
    o["local_schedule_count"] = w.local_schedule_count;
    o["overflow_count"] = w.overflow_count;
    o["local_queue_depth"] = w.local_queue_depth;
    o["busy_duration_ns"] = w.busy_duration_ns;
    o["mean_poll_time_ns"] = w.mean_poll_time_ns;
    if (!w.poll_time_histogram.empty()) o["poll_time_histogram"] = w.poll_time_histogram;
    ws.push_back(std::move(o));
  }
  return j.dump();
}

}  // namespace detail

Config resolve(Config cfg) {
  const bool multi = cfg.flavor == Flavor::multi_thread;
  if (!multi) {
    cfg.worker_threads = 1;  // the thread calling block_on
  } else if (cfg.worker_threads == 0) {
    cfg.worker_threads = Platform::available_parallelism();
  }
  if (cfg.global_queue_interval == 0) {
    cfg.global_queue_interval =
        multi ? kDefaultGlobalQueueIntervalMultiThread : kDefaultGlobalQueueIntervalCurrentThread;
  }
  if (cfg.event_interval == 0) cfg.event_interval = kDefaultEventInterval;
  // Spinning pays only while every worker has a core to spin on; the current-thread
  // driver never spins (nobody else could hand it work meanwhile but a wake).
  if (multi && cfg.spin_before_park == 0 && cfg.worker_threads <= Platform::available_parallelism()) {
    cfg.spin_before_park = Platform::kParkSpins;
  }
  if (cfg.poll_time_histogram) {
    WEFT_CHECK(cfg.histogram_buckets >= 1 && cfg.histogram_buckets <= detail::policy::kHistogramBucketsMax);
  }
  return cfg;
}

Runtime::Runtime(Config cfg) {
  cfg = resolve(std::move(cfg));  // once: the schedulers read only resolved values
  if (cfg.flavor == Flavor::current_thread) {
    handle_ = Handle(detail::make_current_thread(std::move(cfg)));
  } else {
    handle_ = Handle(detail::make_multi_thread(std::move(cfg)));
  }
}

Runtime::~Runtime() {
  if (handle_.valid()) shutdown();
}

void Runtime::shutdown() {
  if (handle_.valid()) detail::HandleAccess::core(handle_)->shutdown();
}

Handle Handle::current() {
  detail::RuntimeCore* rt = detail::current_runtime();
  WEFT_CHECK(rt != nullptr);  // Handle::current called outside a runtime
  return Handle(rt->shared_from_this());
}

bool Handle::metrics_compiled_in() noexcept { return detail::kMetrics; }

namespace detail {
void emit_spawn(const TaskHeader* t, bool blocking) {
  emit(EventKind::spawn, current_context() ? current_context()->worker_index : -1, t->id_,
       current_task() ? current_task()->id_ : 0, blocking ? 1 : 0);
}
}  // namespace detail

WEFT_NS_END
