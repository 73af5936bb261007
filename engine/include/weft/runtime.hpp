// The runtime API: Builder, Runtime, Handle, spawn, block_on, spawn_blocking and
// the basic metrics.
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "weft/config.hpp"
#include "weft/dump.hpp"
#include "weft/platform/platform.hpp"
#include "weft/task.hpp"

WEFT_NS_BEGIN

// WorkerMetrics are one worker's counters, as last published by that worker.
struct WorkerMetrics {
  std::uint64_t poll_count = 0;  // LIFO follow-on polls included
  std::uint64_t steal_count = 0;
  std::uint64_t steal_operations = 0;
  std::uint64_t park_count = 0;
  std::uint64_t park_unpark_count = 0;
  std::uint64_t noop_count = 0;
  std::uint64_t local_schedule_count = 0;
  std::uint64_t overflow_count = 0;
  std::uint64_t local_queue_depth = 0;
  std::uint64_t busy_duration_ns = 0;
  std::uint64_t mean_poll_time_ns = 0;  // busy time over polls
  std::vector<std::uint64_t> poll_time_histogram;  // empty unless enabled
};

struct RuntimeMetrics {
  std::uint32_t num_workers = 0;
  std::uint64_t num_alive_tasks = 0;
  std::uint64_t spawned_tasks_count = 0;
  std::uint64_t injection_queue_depth = 0;
  std::uint64_t remote_schedule_count = 0;
  std::uint64_t budget_forced_yield_count = 0;
  std::uint64_t num_blocking_threads = 0;
  std::uint64_t num_idle_blocking_threads = 0;
  std::uint64_t blocking_queue_depth = 0;
};

namespace detail {

// RuntimeCore is the scheduler-independent part of a runtime: owned tasks, timers,
// the blocking pool. Both schedulers derive from it.
class RuntimeCore : public Scheduler, public std::enable_shared_from_this<RuntimeCore> {
 public:
  // Counted for the leak check (Held::allocation): a runtime core that outlives its
  // run is held by a reference nobody dropped.
  RuntimeCore() { Platform::note_hold(Held::allocation, sizeof(RuntimeCore)); }
  ~RuntimeCore() override { Platform::note_release(Held::allocation, sizeof(RuntimeCore)); }
  RuntimeCore(const RuntimeCore&) = delete;
  RuntimeCore& operator=(const RuntimeCore&) = delete;
  // bind registers a new task; false if the runtime is shut down (the task has been cancelled).
  virtual TaskHeader* bind_new(TaskHeader* t) = 0;
  // spawn_task takes a freshly bound task and schedules it.
  virtual void spawn_task(TaskHeader* t) = 0;
  virtual void spawn_blocking_task(TaskHeader* t) = 0;
  virtual void shutdown() = 0;
  // wait_on runs the block_on loop for a root header until it completes.
  virtual void block_on_root(TaskHeader* root) = 0;
  virtual RuntimeMetrics metrics() const = 0;
  virtual WorkerMetrics worker_metrics(std::uint32_t i) const = 0;
  virtual std::uint64_t next_task_id() = 0;
  virtual const Config& config() const = 0;
  // timers
  // register_timer stores `w` in the entry and makes the entry reachable to the
  // workers that fire and cancel timers.
  virtual void register_timer(struct TimerEntry* e, Waker w) = 0;
  virtual void cancel_timer(struct TimerEntry* e) = 0;
  virtual std::uint64_t now_ns() const = 0;
  // dump_async takes a dump from a task; dump_sync from any other thread.
  virtual Task<Dump> dump_async(std::uint64_t timeout_ns) = 0;
  virtual Dump dump_sync(std::uint64_t timeout_ns) = 0;
  // metrics_json renders every runtime and worker metric as one JSON object.
  std::string metrics_json() const;
  // has_pending_work says whether some queue or LIFO slot holds a runnable task.
  // Unsynchronised: for the simulator's lost-wake-up probe, which runs while every
  // simulated thread is stopped.
  virtual bool has_pending_work() const = 0;
  // has_stalled_work says whether the runtime sleeps on work it could run: a
  // parked worker (or parked current-thread driver) whose own LIFO slot, defer
  // list or local queue holds a task, or (every worker parked) a task in the
  // injection queue or (current-thread) a woken root. A worker inside a poll or
  // held by a dump is busy, not asleep: work only it can reach waits for it.
  // Unsynchronised and not a seam operation: for the simulator's stall probe,
  // which runs while every simulated thread is stopped.
  virtual bool has_stalled_work() const = 0;
  // IdleView is what the lost-parallelism check reads of the idle protocol
  // (multi_thread/idle.cpp) at one moment.
  struct IdleView {
    std::uint32_t sleeping = 0;   // workers parked on the sleeper list, less one firing timers
    std::uint64_t searching = 0;  // searchers, counting the workers being woken (step 4 counts them)
                                  // and those on the list still re-checking (step 3)
    std::uint64_t spare = 0;      // stealable tasks no awake owner takes next (see idle_view)
    std::uint64_t spare_of = 0;   // of them, in the local queue of the worker asked about
    std::uint64_t injected = 0;   // of them, in the injection queue
    // behind_poll counts (with the truth only) the tasks in the LIFO slot of a
    // worker inside a poll: they wait for that poll to end. Not spare while polls
    // are short (the owner runs them next); across virtual time they are, since the
    // LIFO watch takes them. behind_poll_key names which (the slot's task and the
    // task its owner polls, mixed), so that a check can tell one wait from the next.
    std::uint64_t behind_poll = 0, behind_poll_key = 0;
    // For messages: the LIFO watcher (-1: none), whether it sleeps without a
    // deadline, and the workers on the sleeper list (bit i: worker i < 64).
    std::int64_t watcher = -1;
    bool watch_deep = false;
    std::uint64_t listed = 0, watching = 0;  // watching: inside the watch loop
    bool shut_down = false;       // shutdown began: queued work is dropped, not run
  };
  // IdleTruth is what the caller saw of each worker itself, from the events the
  // worker emits at fixed places (bit i: worker i, for i < 64), so that the view
  // need not trust the counters and the sleeper list it is checking.
  struct IdleTruth {
    std::uint64_t polling = 0;  // between its poll_start and poll_end
    std::uint64_t parked = 0;   // between its park and unpark events (inside park_once)
  };
  // idle_view reads the idle state for the lost-parallelism check: `spare` counts
  // the injection queue and each local queue's stealable tasks, less the one an
  // awake owner with an empty LIFO slot pops next (a LIFO slot's task runs next on
  // its worker; only the watch takes it, behind a long poll: `behind_poll`);
  // `spare_of` those of worker `worker` (none for -1). With `truth`, who sleeps and
  // how many may search are taken from it where the engine's own state could lie
  // (multi_thread/idle.cpp says how).
  // Unsynchronised, like has_stalled_work: the caller stops every simulated thread
  // and reads without decisions. The current-thread runtime has nothing to lose.
  virtual IdleView idle_view(std::int32_t worker, const IdleTruth* truth) const {
    (void)worker;
    (void)truth;
    return {};
  }
  // TaskPlace names a place where a scheduler keeps a task that is not running:
  // the blocking pool's queue holds spawn_blocking tasks no pool thread has taken.
  enum class TaskPlace : std::uint8_t { lifo_slot, local_queue, defer_list, injection_queue, blocking_queue };
  // place_tasks calls visit(task id, place) for every task in a LIFO slot, a local
  // queue, a defer list, the injection queue or the blocking pool's queue (for the
  // harness's property that shuts down, dumps and aborts with tasks in every place).
  // Unsynchronised, like has_stalled_work: the caller stops every simulated thread
  // and reads without decisions.
  virtual void place_tasks(const std::function<void(std::uint64_t, TaskPlace)>& visit) const = 0;
};

std::shared_ptr<RuntimeCore> make_multi_thread(Config cfg);
std::shared_ptr<RuntimeCore> make_current_thread(Config cfg);

// current_runtime is the runtime this thread works for, or null.
inline RuntimeCore* current_runtime() noexcept {
  ThreadContext* cx = current_context();
  return cx ? static_cast<RuntimeCore*>(cx->scheduler) : nullptr;
}

// emit_spawn traces the spawn of t (who spawned it, on which worker; blocking:
// it runs on the blocking pool, polled outside any worker). Out of line and
// called only when a trace sink is installed: without one a spawn pays one
// predictable branch for its trace.
[[gnu::noinline]] void emit_spawn(const TaskHeader* t, bool blocking = false);

template <class T>
JoinHandle<T> spawn_on(RuntimeCore& rt, Task<T>&& task) {
  WEFT_CHECK(task.valid());
  TaskHeader* t = make_header(std::move(task), &rt, rt.next_task_id());
  if (rt.bind_new(t) != nullptr) {
    // Traced once bound: a spawn refused by a closed runtime never existed.
    if (event_sink() != nullptr) [[unlikely]] emit_spawn(t);
    rt.spawn_task(t);
  }
  return JoinHandle<T>(t);
}

template <class F>
auto blocking_body(F f) -> Task<std::invoke_result_t<F&>> {
  co_return f();
}

// run_root drives a root coroutine to completion on the calling thread.
void run_root(RuntimeCore* rt, TaskHeader* root);

template <class T>
T block_on_impl(RuntimeCore* rt, Task<T>&& task) {
  TaskHeader* t = make_header(std::move(task), nullptr, 0);
  t->set_block_on();
  struct Drop {  // also when a platform unwind leaves run_root (drive_root)
    TaskHeader* t;
    ~Drop() { task_ops::ref_dec(t); }
  } drop{t};
  run_root(rt, t);  // returns once complete
  // acquire: the root completed in a poll on this thread (run_root drives it here): it orders
  // nothing (harmless).
  std::uint64_t s = t->state_.load(Order::acquire);
  WEFT_ASSERT(s & state::kComplete);
  return take_output<T>(t);
}

struct HandleAccess;  // weft/runtime_hooks.hpp

}  // namespace detail

// Handle is a cheap, copyable reference to a runtime, usable from any thread.
class Handle {
 public:
  Handle() = default;
  explicit Handle(std::shared_ptr<detail::RuntimeCore> rt) : rt_(std::move(rt)) {}

  // spawn schedules task on this runtime and returns its JoinHandle.
  template <class T>
  JoinHandle<T> spawn(Task<T> task) const {
    return detail::spawn_on(*rt_, std::move(task));
  }
  // spawn_blocking runs f on the blocking pool; the JoinHandle gives its result.
  template <class F>
  auto spawn_blocking(F f) const -> JoinHandle<std::invoke_result_t<F&>> {
    using R = std::invoke_result_t<F&>;
    TaskHeader* t = detail::make_header(detail::blocking_body(std::move(f)), rt_.get(), rt_->next_task_id());
    if (rt_->bind_new(t) != nullptr) {
      if (event_sink() != nullptr) [[unlikely]] detail::emit_spawn(t, true);
      rt_->spawn_blocking_task(t);
    }
    return JoinHandle<R>(t);
  }
  // block_on runs task to completion on the calling thread and returns its value.
  template <class T>
  T block_on(Task<T> task) const {
    return detail::block_on_impl(rt_.get(), std::move(task));
  }

  RuntimeMetrics metrics() const { return rt_->metrics(); }
  // metrics_compiled_in is false in a -DWEFT_METRICS=OFF build (benchmark-only),
  // where the counting metrics read 0.
  static bool metrics_compiled_in() noexcept;
  std::uint32_t num_workers() const { return rt_->metrics().num_workers; }
  std::uint64_t num_alive_tasks() const { return rt_->metrics().num_alive_tasks; }
  std::uint64_t injection_queue_depth() const { return rt_->metrics().injection_queue_depth; }
  WorkerMetrics worker_metrics(std::uint32_t i) const { return rt_->worker_metrics(i); }
  // metrics_json renders every runtime and per-worker metric as one JSON object.
  std::string metrics_json() const { return rt_->metrics_json(); }
  // dump snapshots every live task and worker; co_await it from a task. Workers
  // that miss the rendezvous within timeout_ns are reported, not waited for.
  Task<Dump> dump(std::uint64_t timeout_ns = 0) const {
    return rt_->dump_async(timeout_ns ? timeout_ns : rt_->config().dump_timeout_ns);
  }
  // dump_blocking takes a dump from a thread that is not a worker of this runtime.
  Dump dump_blocking(std::uint64_t timeout_ns = 0) const {
    return rt_->dump_sync(timeout_ns ? timeout_ns : rt_->config().dump_timeout_ns);
  }
  const Config& config() const { return rt_->config(); }
  bool valid() const noexcept { return static_cast<bool>(rt_); }

  // current returns the handle of the runtime this thread works for.
  static Handle current();

 private:
  // The runtime's core is reached only through weft/runtime_hooks.hpp (the
  // simulator's probes, the benchmarks, Runtime itself), never by applications.
  friend struct detail::HandleAccess;
  detail::RuntimeCore* core() const noexcept { return rt_.get(); }

  std::shared_ptr<detail::RuntimeCore> rt_;
};

// Runtime owns a scheduler; destroying it shuts the scheduler down.
class Runtime {
 public:
  explicit Runtime(Config cfg);
  Runtime(Runtime&&) noexcept = default;
  Runtime& operator=(Runtime&&) noexcept = default;
  ~Runtime();

  Handle handle() const { return handle_; }
  template <class T>
  JoinHandle<T> spawn(Task<T> task) const {
    return handle_.spawn(std::move(task));
  }
  template <class T>
  T block_on(Task<T> task) const {
    return handle_.block_on(std::move(task));
  }
  // shutdown cancels every task, joins every thread and frees every task the
  // runtime still owns. Idempotent.
  void shutdown();

 private:
  Handle handle_;
};

// Builder configures and builds a Runtime.
class Builder {
 public:
  static Builder multi_thread() { return Builder(Flavor::multi_thread); }
  static Builder current_thread() { return Builder(Flavor::current_thread); }

  Builder& worker_threads(std::uint32_t n) { cfg_.worker_threads = n; return *this; }
  Builder& local_queue_capacity(std::uint32_t n) { cfg_.local_queue_capacity = n; return *this; }
  Builder& global_queue_interval(std::uint32_t n) { cfg_.global_queue_interval = n; return *this; }
  Builder& event_interval(std::uint32_t n) { cfg_.event_interval = n; return *this; }
  Builder& max_lifo_polls(std::uint32_t n) { cfg_.max_lifo_polls = n; return *this; }
  Builder& disable_lifo_slot() { cfg_.lifo_enabled = false; return *this; }
  Builder& budget(std::uint32_t n) { cfg_.budget = n; return *this; }
  Builder& seed(std::uint64_t s) { cfg_.has_seed = true; cfg_.seed = s; return *this; }
  Builder& max_blocking_threads(std::uint32_t n) { cfg_.max_blocking_threads = n; return *this; }
  Builder& blocking_keep_alive_ns(std::uint64_t ns) { cfg_.blocking_keep_alive_ns = ns; return *this; }
  Builder& spin_before_park(std::uint32_t n) { cfg_.spin_before_park = n; return *this; }
  Builder& on_thread_start(std::function<void()> f) { cfg_.on_thread_start = std::move(f); return *this; }
  Builder& on_thread_stop(std::function<void()> f) { cfg_.on_thread_stop = std::move(f); return *this; }
  Builder& unhandled_exception(std::function<void(std::exception_ptr)> f) {
    cfg_.unhandled_exception = std::move(f);
    return *this;
  }
  Builder& thread_name(std::string n) { cfg_.thread_name = std::move(n); return *this; }
  Builder& dump_timeout_ns(std::uint64_t ns) { cfg_.dump_timeout_ns = ns; return *this; }
  Builder& enable_poll_time_histogram(std::uint32_t buckets = kDefaultHistogramBuckets,
                                      std::uint64_t width_ns = kDefaultHistogramBucketWidthNs) {
    cfg_.poll_time_histogram = true;
    cfg_.histogram_buckets = buckets;
    cfg_.histogram_bucket_width_ns = width_ns;
    return *this;
  }
  const Config& config() const { return cfg_; }
  Runtime build() const { return Runtime(cfg_); }

 private:
  explicit Builder(Flavor f) { cfg_.flavor = f; }
  Config cfg_;
};

// spawn schedules task on the runtime the calling thread works for.
template <class T>
JoinHandle<T> spawn(Task<T> task) {
  detail::RuntimeCore* rt = detail::current_runtime();
  WEFT_CHECK(rt != nullptr);  // weft::spawn called outside a runtime
  return detail::spawn_on(*rt, std::move(task));
}

// spawn_blocking runs f on the current runtime's blocking pool.
template <class F>
auto spawn_blocking(F f) {
  return Handle::current().spawn_blocking(std::move(f));
}

// block_on_here drives task on the calling thread with no runtime (timers and
// spawns unavailable); useful to await a JoinHandle from a plain thread.
template <class T>
T block_on_here(Task<T> task) {
  return detail::block_on_impl(nullptr, std::move(task));
}

WEFT_NS_END
