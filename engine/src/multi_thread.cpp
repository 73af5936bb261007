// The multi-thread work-stealing scheduler.
//
// Each worker owns a Core: a bounded local queue (stealable), a LIFO slot (not
// stealable), and its batch of metrics. Shared holds what every worker touches:
// the injection queue and the sleeper list under one lock (the idle protocol
// relies on that lock for ordering), the packed idle counters, and the remotes.
//
// Idle protocol (num_unparked << kUnparkShift | num_searching, every access
// seq_cst; the constants and the searching cap are in policy.hpp):
//   1. A worker with no local work tries to become a searcher; it is refused when
//      half the workers already search.
//   2. A searcher that finds work leaves the searching state; if it was the last
//      searcher it wakes one parked worker, which chains the search.
//   3. A worker parks: under the lock it decrements num_unparked (and
//      num_searching if it searched) and joins the sleepers. If it was the last
//      searcher, it re-checks every local queue and the injection queue and wakes
//      a worker if any has work: no wake-up is lost between "nothing found" and "parked".
//   4. Whoever makes work available (remote push, a local push that leaves spare
//      work) wakes a sleeper only when nobody searches (a seq_cst RMW read pairs
//      with step 2's decrement); the woken worker is counted as a searcher.
//   5. A woken worker that finds itself still on the sleeper list was woken
//      spuriously and parks again.
//
// Timer driving: a worker that parks while timers are pending tries to become the
// driver (one at a time) and parks only until the earliest deadline, then fires
// what is due. A new earliest timer wakes the driver, or a sleeper when nobody
// drives. Every worker also fires due timers at maintenance, so a driver stuck in
// a long poll cannot stop time for the others.
//
// Dump: the rendezvous of engine/src/dump/rendezvous.hpp with every worker a
// participant; requests are serialised by dump_lock_. This file supplies only how
// to collect (MultiThread::collect): held workers' LIFO slots, local queues and
// defer lists, the injection queue and the blocking pool under their locks, and
// every owned task. A complete dump reads every suspended task's backtrace; a
// partial dump reads only tasks it can claim (idle ones, marked RUNNING for the
// read) or that no missed worker can reach.
//
// Shutdown:
//   1. shutdown() closes the injection queue under the lock, closes the owned list,
//      and unparks every worker.
//   2. Each worker sees the closed queue at maintenance or after a park, leaves its
//      loop, cancels owned tasks (all workers share the work), then drops the tasks
//      left in its own LIFO slot and local queue.
//   3. shutdown() joins the workers, shuts the blocking pool down, drops whatever is
//      left in the injection queue, and checks that no task is left alive.
#include <algorithm>
#include <memory>
#include <mutex>
#include <vector>

#include "bug_hooks.hpp"
#include "dump/collect.hpp"
#include "dump/rendezvous.hpp"
#include "policy.hpp"
#include "queues.hpp"
#include "runtime_core.hpp"
#include "weft/rand.hpp"
#include "weft/sync.hpp"

WEFT_NS_BEGIN
namespace detail {
namespace {

using policy::kSearchMask;
using policy::kUnparkShift;

struct alignas(128) WorkerStats {
  // Published at maintenance and parking; read by metrics readers.
  Counter poll_count, steal_count, steal_operations, park_count, park_unpark_count, noop_count,
      local_schedule_count, overflow_count, busy_ns;
  std::unique_ptr<Counter[]> histogram;  // poll-time buckets, when enabled
  // Written around every poll: on its own line, so a metrics reader does not pull
  // it out of the worker's cache.
  alignas(128) Counter running_task;  // id of the task being polled, 0 between polls (for dumps)
};

// Core is one worker's private state; only its own thread touches it.
struct Core {
  explicit Core(bool lifo_enabled) : lifo(lifo_enabled) {}
  std::uint32_t index = 0;
  std::uint32_t tick = 0;
  LifoSlot lifo;
  std::vector<TaskHeader*> defer;  // yielded tasks, one reference each
  bool is_searching = false;
  bool is_shutdown = false;
  bool in_driver = false;  // firing timers: local wakes must not notify yet
  rng::FastRand rand;
  // Metrics batch, published at maintenance and before parking.
  MetricCount polls, steals, steal_ops, parks, unparks, noops, local_schedules, overflows, busy_ns;
  std::uint64_t polls_at_last_park = 0;
  std::uint64_t busy_start = 0;

  bool has_tasks(const LocalQueue& q) const { return !lifo.empty() || !defer.empty() || q.has_tasks(); }
};

struct alignas(128) Remote {
  explicit Remote(std::uint32_t cap) : queue(cap) {}
  LocalQueue queue;
  Parker parker;
};

class MultiThread final : public CoreBase, private OverflowSink, private DumpCollector {
 public:
  explicit MultiThread(Config cfg);
  ~MultiThread() override;

  void schedule(TaskHeader* t, bool is_yield) override;
  void spawn_task(TaskHeader* t) override { schedule(t, false); }
  void shutdown() override;
  void block_on_root(TaskHeader* root) override;
  RuntimeMetrics metrics() const override;
  WorkerMetrics worker_metrics(std::uint32_t i) const override;
  Task<Dump> dump_async(std::uint64_t timeout_ns) override;
  Dump dump_sync(std::uint64_t timeout_ns) override;
  bool has_pending_work() const override {
    if (!inject_.is_empty()) return true;
    for (std::uint32_t i = 0; i < n_; ++i) {
      if (!cores_[i]->lifo.empty() || !cores_[i]->defer.empty() || !remotes_[i]->queue.is_empty_for_stealers())
        return true;
    }
    return false;
  }

 private:
  // OverflowSink, called by the owner of a full local queue; each call is one overflow.
  void push_one(TaskHeader* t, std::int32_t worker) override {
    ++cores_[static_cast<std::uint32_t>(worker)]->overflows;
    push_remote(t);
  }
  void push_batch(TaskHeader* first, TaskHeader* last, std::uint64_t n, std::int32_t worker) override {
    ++cores_[static_cast<std::uint32_t>(worker)]->overflows;
    std::scoped_lock lock(mu_);
    inject_.push_batch_locked(first, last, n);
  }

  void start();
  void run_worker(std::uint32_t i);
  // The worker loop is instantiated twice, with and without the poll-time
  // histogram, so the choice is made once per worker and not once per poll.
  template <bool kHist>
  void work_loop(Core& core);
  template <bool kHist>
  void run_task(Core& core, TaskHeader* t);
  // poll_one polls t, noting it for dumps and timing it when the histogram is on.
  template <bool kHist>
  bool poll_one(Core& core, TaskHeader* t) {
    WorkerStats& st = stats_[core.index];
    st.running_task.set(t->id_);
    bool polled;
    if constexpr (kHist) {
      std::uint64_t t0 = Platform::now_ns();
      polled = task_ops::poll(t, static_cast<std::int32_t>(core.index));
      std::uint64_t b = (Platform::now_ns() - t0) / cfg_.histogram_bucket_width_ns;
      if (polled) st.histogram[b < cfg_.histogram_buckets ? b : cfg_.histogram_buckets - 1].add(1);
    } else {
      polled = task_ops::poll(t, static_cast<std::int32_t>(core.index));
    }
    st.running_task.set(0);
    return polled;
  }
  // Inlined into both loop instantiations, so neither pays a call per task.
  [[gnu::always_inline]] TaskHeader* next_task(Core& core);
  TaskHeader* next_local(Core& core);
  TaskHeader* pop_inject_batch(Core& core);
  TaskHeader* steal_work(Core& core);
  void schedule_local(Core& core, TaskHeader* t, bool is_yield);
  void push_remote(TaskHeader* t);
  void maintenance(Core& core);
  void wake_deferred(Core& core);
  void park(Core& core);
  void park_once(Core& core);
  void submit_metrics(Core& core);
  void pre_shutdown(Core& core);

  // Idle protocol.
  bool transition_to_searching(Core& core);
  void transition_from_searching(Core& core);
  bool transition_to_parked(Core& core);
  bool transition_from_parked(Core& core);
  void notify_parked();
  void notify_if_work_pending();
  bool notify_should_wakeup() {
    std::uint64_t s = idle_state_.fetch_add(0, Order::seq_cst);
    return (s & kSearchMask) == 0 && (s >> kUnparkShift) < n_;
  }
  bool inject_closed() {
    std::scoped_lock lock(mu_);
    return inject_.closed_locked();
  }
  void on_new_earliest_timer() override;

  // Dump (the rendezvous at the top of dump/rendezvous.hpp).
  // dump_rendezvous answers the pending round for core's worker (rendezvous steps
  // 3 to 5), keeping the time held out of its busy time.
  void dump_rendezvous(Core& core, bool parked);
  // wait_idle runs wait (a wait on the idle parker) through the rendezvous's step 1,
  // so a dump arrives for this worker instead of waking it.
  template <class Wait>
  void wait_idle(Core& core, Wait wait) {
    rv_.wait_blocked(
        core.index, wait, [&] { dump_rendezvous(core, true); },
        // Leading, it woke the requesting task onto this core: run it, not wait.
        [&] { return core.has_tasks(remotes_[core.index]->queue); });
  }
  // DumpCollector: collect reads the held workers' cores and every queue (rendezvous
  // step 6); published wakes a task requester.
  Dump collect(std::uint64_t r, const DumpArrivals& arrivals) override;
  void published() override { dump_done_.notify_one(); }
  // describe_worker says what the dump shows of worker i, and places the tasks
  // queued on its core when it arrived.
  DumpWorker describe_worker(std::uint32_t i, const DumpArrivals& arrivals, DumpPlaces& where);
  // judge decides what the dump reads of t (state s, place: null when in no queue).
  DumpVerdict judge(TaskHeader* t, std::uint64_t s, const DumpPlace* place, bool all_arrived,
                    const std::vector<std::uint64_t>& missed_running);

  const std::uint32_t n_;
  std::vector<std::unique_ptr<Remote>> remotes_;
  std::vector<std::unique_ptr<Core>> cores_;
  std::unique_ptr<WorkerStats[]> stats_;
  Mutex mu_;                        // guards inject_ list and sleepers_
  InjectQueue inject_;              // guarded by mu_ (len readable without)
  std::vector<std::uint32_t> sleepers_;  // guarded by mu_
  Atomic<std::uint64_t> idle_state_;
  Atomic<std::int32_t> driver_{-1};  // worker index driving timers, or -1
  std::vector<Thread> threads_;
  Atomic<std::uint32_t> shut_{0};
  AsyncMutex dump_lock_;             // one dump at a time
  Notify dump_done_;                 // wakes a task requester
  Rendezvous rv_;
};

// cfg is resolved (weft::resolve, called by Runtime): no field means "the default" any more.
MultiThread::MultiThread(Config cfg)
    : CoreBase(cfg, cfg.worker_threads * policy::kOwnedShardsPerWorker),
      n_(cfg.worker_threads),
      idle_state_(static_cast<std::uint64_t>(cfg.worker_threads) << kUnparkShift),
      rv_(n_, shut_, *this, OnShutdown::kLeadPartial, policy::kDumpCollectSliceNs) {
  WEFT_CHECK(n_ >= 1 && n_ <= policy::kWorkersMax);
  WEFT_CHECK(cfg_.global_queue_interval > 0 && cfg_.event_interval > 0);
  std::uint64_t seed = cfg_.has_seed ? cfg_.seed : Platform::entropy();
  stats_.reset(new WorkerStats[n_]);
  if (cfg_.poll_time_histogram) {
    for (std::uint32_t i = 0; i < n_; ++i) stats_[i].histogram.reset(new Counter[cfg_.histogram_buckets]);
  }
  for (std::uint32_t i = 0; i < n_; ++i) {
    remotes_.push_back(std::make_unique<Remote>(cfg_.local_queue_capacity));
    auto core = std::make_unique<Core>(cfg_.lifo_enabled);
    core->index = i;
    core->rand = rng::FastRand(rng::splitmix64(seed));
    cores_.push_back(std::move(core));
  }
  sleepers_.reserve(n_);
  start();
}

MultiThread::~MultiThread() { shutdown(); }

void MultiThread::start() {
  threads_.reserve(n_);
  for (std::uint32_t i = 0; i < n_; ++i) {
    threads_.emplace_back(cfg_.thread_name + "-" + std::to_string(i), [this, i] { run_worker(i); });
  }
}

// ---- worker loop ----

void MultiThread::run_worker(std::uint32_t i) {
  Core& core = *cores_[i];
  ThreadContext cx;
  cx.scheduler = this;
  cx.core = &core;
  cx.worker_index = static_cast<std::int32_t>(i);
  cx.forced_yields = &budget_forced_yields_;
  cx.defer = &core.defer;
  ContextGuard guard(&cx);
  if (cfg_.on_thread_start) cfg_.on_thread_start();
  core.busy_start = metrics_now_ns();
  if constexpr (kMetrics) {
    if (stats_[i].histogram) work_loop<true>(core); else work_loop<false>(core);
  } else {
    work_loop<false>(core);
  }
  pre_shutdown(core);
  if (cfg_.on_thread_stop) cfg_.on_thread_stop();
}

template <bool kHist>
void MultiThread::work_loop(Core& core) {
  while (!core.is_shutdown) {
    ++core.tick;
    if (rv_.pending(core.index)) dump_rendezvous(core, false);
    if (core.tick % cfg_.event_interval == 0) maintenance(core);
    if (TaskHeader* t = next_task(core)) {
      run_task<kHist>(core, t);
      continue;
    }
    if (!core.defer.empty()) {
      // Nothing else to run here: the yielded tasks go next.
      wake_deferred(core);
      continue;
    }
    if (TaskHeader* t = steal_work(core)) {
      run_task<kHist>(core, t);
      continue;
    }
    park(core);
  }
}

TaskHeader* MultiThread::next_local(Core& core) {
  if (TaskHeader* t = core.lifo.take()) return t;
  return remotes_[core.index]->queue.pop();
}

inline TaskHeader* MultiThread::next_task(Core& core) {
  if (core.tick % cfg_.global_queue_interval == 0) {
    // Fairness: look at the injection queue first now and then.
    if (!inject_.is_empty()) {
      TaskHeader* t;
      {
        std::scoped_lock lock(mu_);
        t = inject_.pop_locked();
      }
      if (t) {
        emit(EventKind::inject_pop, static_cast<std::int32_t>(core.index), t->id_, 1);
        return t;
      }
    }
    return next_local(core);
  }
  if (TaskHeader* t = next_local(core)) return t;
  if (inject_.is_empty()) return nullptr;
  return pop_inject_batch(core);
}

// pop_inject_batch moves a fair share of the injection queue to the local queue
// and returns the first task. The cap keeps injected batches within half the
// queue, so they cannot trigger an overflow that would bounce them back.
TaskHeader* MultiThread::pop_inject_batch(Core& core) {
  LocalQueue& q = remotes_[core.index]->queue;
  std::uint32_t cap = std::min(q.remaining_slots(), policy::inject_batch_max(q.capacity()));
  if (cap == 0) return nullptr;
  std::uint64_t want = policy::inject_batch_share(inject_.len(), n_);
  std::uint32_t n = static_cast<std::uint32_t>(std::max<std::uint64_t>(1, std::min<std::uint64_t>(want, cap)));
  TaskHeader* first = nullptr;
  std::uint32_t got = 0;
  {
    std::scoped_lock lock(mu_);
    first = inject_.pop_locked();
    if (!first) return nullptr;
    got = 1;
    while (got < n) {
      TaskHeader* t = inject_.pop_locked();
      if (!t) break;
      q.push_back_fits(t);
      ++got;
    }
  }
  emit(EventKind::inject_pop, static_cast<std::int32_t>(core.index), first->id_, got);
  if (got > 1) emit(EventKind::mark, static_cast<std::int32_t>(core.index), 0, static_cast<std::uint64_t>(Mark::inject_batch));
  return first;
}

TaskHeader* MultiThread::steal_work(Core& core) {
  if (!transition_to_searching(core)) return nullptr;
  std::uint32_t start = core.rand.next_n(n_);
  for (std::uint32_t k = 0; k < n_; ++k) {
    std::uint32_t v = (start + k) % n_;
    if (v == core.index) continue;
    std::uint32_t stolen = 0;
    TaskHeader* t = remotes_[v]->queue.steal_into(remotes_[core.index]->queue, stolen,
                                                   static_cast<std::int32_t>(core.index), static_cast<std::int32_t>(v));
    if (t) {
      core.steals += stolen;
      core.steal_ops += 1;
      return t;
    }
  }
  // Fall back to the injection queue.
  if (!inject_.is_empty()) {
    std::scoped_lock lock(mu_);
    if (TaskHeader* t = inject_.pop_locked()) {
      emit(EventKind::inject_pop, static_cast<std::int32_t>(core.index), t->id_, 1);
      return t;
    }
  }
  return nullptr;
}

template <bool kHist>
void MultiThread::run_task(Core& core, TaskHeader* t) {
  const auto w = static_cast<std::int32_t>(core.index);
  transition_from_searching(core);
  ThreadContext* cx = current_context();
  cx->budget = cfg_.budget;
  cx->budget_active = true;
  if (poll_one<kHist>(core, t)) ++core.polls;
  // Run the LIFO chain under the same budget.
  for (std::uint32_t lifo_polls = 0;;) {
    TaskHeader* next = core.lifo.take();
    if (!next) {
      core.lifo.end_chain();
      break;
    }
    if (cx->budget == 0) {
      emit(EventKind::mark, w, next->id_, static_cast<std::uint64_t>(Mark::budget_exhausted));
      remotes_[core.index]->queue.push_back_or_overflow(next, *this, w);
      break;
    }
    if (WEFT_BUG(lifo_cap_removed)) lifo_polls = 0;  // Tokio 7.7: the chain runs to the budget
    if (++lifo_polls >= cfg_.max_lifo_polls) {
      if (core.lifo.disable()) emit(EventKind::mark, w, next->id_, static_cast<std::uint64_t>(Mark::lifo_cap));
    }
    const bool polled = poll_one<kHist>(core, next);
    if (WEFT_BUG(lifo_polls_uncounted)) continue;  // Tokio 7.11: poll_count misses the LIFO chain
    if (polled) ++core.polls;
  }
  cx->budget_active = false;
}

void MultiThread::schedule(TaskHeader* t, bool is_yield) {
  ThreadContext* cx = current_context();
  if (cx != nullptr && cx->scheduler == this && cx->core != nullptr) {
    schedule_local(*static_cast<Core*>(cx->core), t, is_yield);
    return;
  }
  if constexpr (kMetrics) remote_schedule_count_.add(1);
  push_remote(t);
  notify_parked();
}

void MultiThread::schedule_local(Core& core, TaskHeader* t, bool is_yield) {
  const auto w = static_cast<std::int32_t>(core.index);
  ++core.local_schedules;
  LocalQueue& q = remotes_[core.index]->queue;
  bool should_notify;
  if (is_yield || !core.lifo.accepts()) {
    q.push_back_or_overflow(t, *this, w);
    should_notify = true;
  } else {
    TaskHeader* prev = core.lifo.replace(t);
    emit(EventKind::lifo_push, w, t->id_);
    should_notify = prev != nullptr;
    if (prev) q.push_back_or_overflow(prev, *this, w);
  }
  if (should_notify && !core.in_driver) notify_parked();
}

void MultiThread::push_remote(TaskHeader* t) {
  std::scoped_lock lock(mu_);
  // Emit under the lock: once pushed, a worker may run and free the task.
  if (!inject_.closed_locked()) emit(EventKind::inject_push, -1, t->id_);
  inject_.push_locked(t);
}

// wake_deferred moves the yielded tasks to the back of the local queue, oldest
// first, and wakes one other worker if that leaves spare work.
void MultiThread::wake_deferred(Core& core) {
  const auto w = static_cast<std::int32_t>(core.index);
  std::vector<TaskHeader*> batch;
  batch.swap(core.defer);
  std::size_t dropped = 0;
  for (TaskHeader* t : batch) {
    // The defer reference becomes the queue entry's, or is dropped if the task
    // was woken (or completed) meanwhile.
    if (!task_ops::mark_deferred_wake(t)) {
      task_ops::ref_dec(t);  // running, complete or already notified: handled there
      ++dropped;
      continue;
    }
    emit(EventKind::wake, w, t->id_);
    remotes_[core.index]->queue.push_back_or_overflow(t, *this, w);
  }
  core.local_schedules += batch.size() - dropped;  // once per batch, not per task
  batch.clear();
  if (core.defer.empty()) core.defer.swap(batch);  // keep the capacity
  if (!core.is_searching && remotes_[core.index]->queue.len() > 1) notify_parked();
}

void MultiThread::maintenance(Core& core) {
  submit_metrics(core);
  if (!core.defer.empty()) wake_deferred(core);
  if (has_timers()) {
    core.in_driver = true;
    std::size_t fired = fire_timers(static_cast<std::int32_t>(core.index));
    core.in_driver = false;
    if (fired > 0 && !core.is_searching && remotes_[core.index]->queue.len() > 1) notify_parked();
  }
  if (!core.is_shutdown) core.is_shutdown = inject_closed();
}

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

// ---- parking ----

void MultiThread::park(Core& core) {
  if (!transition_to_parked(core)) return;
  const auto w = static_cast<std::int32_t>(core.index);
  core.busy_ns += metrics_now_ns() - core.busy_start;
  while (!core.is_shutdown) {
    ++core.parks;
    if (core.polls.get() == core.polls_at_last_park) ++core.noops;
    core.polls_at_last_park = core.polls.get();
    submit_metrics(core);
    emit(EventKind::park, w, 0);
    park_once(core);
    ++core.unparks;
    emit(EventKind::unpark, w, 0);
    if (!core.is_shutdown) core.is_shutdown = inject_closed();
    if (transition_from_parked(core)) break;
    emit(EventKind::mark, w, 0, static_cast<std::uint64_t>(Mark::spurious_wake));
  }
  core.busy_start = metrics_now_ns();
}

void MultiThread::park_once(Core& core) {
  Parker& parker = remotes_[core.index]->parker;
  const auto w = static_cast<std::int32_t>(core.index);
  if (has_timers()) {
    std::int32_t none = -1;
    if (driver_.compare_exchange(none, w, Order::seq_cst, Order::seq_cst)) {
      // We drive time: sleep until the earliest deadline at most.
      std::uint64_t deadline = next_timer_deadline();
      wait_idle(core, [&] {
        std::uint64_t now = Platform::now_ns();
        if (deadline <= now) return;
        if (deadline == UINT64_MAX) parker.park(); else parker.park_for(deadline - now);
      });
      core.in_driver = true;
      fire_timers(w);
      core.in_driver = false;
      driver_.store(-1, Order::seq_cst);
      // Timers still pending and we are about to run: hand the driver on.
      if (core.has_tasks(remotes_[core.index]->queue) && has_timers()) {
        emit(EventKind::mark, w, 0, static_cast<std::uint64_t>(Mark::timer_driver_handoff));
        notify_parked();
      }
      // Tasks the timers woke sit in our queue; share them if there are several.
      if (!core.is_searching && remotes_[core.index]->queue.len() + (core.lifo.empty() ? 0 : 1) > 1) notify_parked();
      return;
    }
  }
  // Spin briefly first when the workers fit the cores: a kernel park and wake
  // costs microseconds, a wake-up that arrives during the spin costs nothing.
  wait_idle(core, [&] {
    for (std::uint32_t i = 0; i < cfg_.spin_before_park; ++i) {
      if (parker.try_park()) return;
      Platform::spin_hint();
    }
    parker.park();
  });
}

void MultiThread::on_new_earliest_timer() {
  std::int32_t d = driver_.load(Order::seq_cst);
  if (d >= 0) {
    remotes_[static_cast<std::uint32_t>(d)]->parker.unpark();
  } else {
    notify_parked();
  }
}

// ---- idle protocol ----

bool MultiThread::transition_to_searching(Core& core) {
  if (core.is_searching) return true;
  std::uint64_t s = idle_state_.load(Order::seq_cst);
  if (policy::searching_cap_reached(s & kSearchMask, n_)) return false;
  idle_state_.fetch_add(1, Order::seq_cst);
  core.is_searching = true;
  return true;
}

void MultiThread::transition_from_searching(Core& core) {
  if (!core.is_searching) return;
  core.is_searching = false;
  std::uint64_t prev = idle_state_.fetch_sub(1, Order::seq_cst);
  WEFT_ASSERT((prev & kSearchMask) > 0);
  if ((prev & kSearchMask) == 1) notify_parked();  // step 2: chain the search
}

bool MultiThread::transition_to_parked(Core& core) {
  if (core.has_tasks(remotes_[core.index]->queue)) return false;
  bool last_searcher;
  {
    std::scoped_lock lock(mu_);
    std::uint64_t dec = (1ull << kUnparkShift) + (core.is_searching ? 1 : 0);
    std::uint64_t prev = idle_state_.fetch_sub(dec, Order::seq_cst);
    WEFT_ASSERT((prev >> kUnparkShift) > 0);
    last_searcher = core.is_searching && (prev & kSearchMask) == 1;
    WEFT_ASSERT(std::find(sleepers_.begin(), sleepers_.end(), core.index) == sleepers_.end());
    sleepers_.push_back(core.index);
    WEFT_ASSERT(sleepers_.size() <= n_);
  }
  core.is_searching = false;
  if (WEFT_BUG(last_searcher_parks_blind)) last_searcher = false;  // skips step 3's re-check
  if (last_searcher) notify_if_work_pending();  // step 3
  return true;
}

bool MultiThread::transition_from_parked(Core& core) {
  if (core.has_tasks(remotes_[core.index]->queue)) {
    // Woken with work (timers fired into our queue): leave the sleepers if still there.
    bool removed = false;
    {
      std::scoped_lock lock(mu_);
      auto it = std::find(sleepers_.begin(), sleepers_.end(), core.index);
      if (WEFT_BUG(from_parked_stays_sleeper)) it = sleepers_.end();  // forgets to leave the list
      if (it != sleepers_.end()) {
        *it = sleepers_.back();
        sleepers_.pop_back();
        idle_state_.fetch_add(1ull << kUnparkShift, Order::seq_cst);
        removed = true;
      }
    }
    core.is_searching = !removed;
    return true;
  }
  bool still_sleeping;
  {
    std::scoped_lock lock(mu_);
    still_sleeping = std::find(sleepers_.begin(), sleepers_.end(), core.index) != sleepers_.end();
  }
  if (still_sleeping) {
    if (core.is_shutdown) {
      // Leaving for shutdown: take ourselves off the sleepers.
      std::scoped_lock lock(mu_);
      auto it = std::find(sleepers_.begin(), sleepers_.end(), core.index);
      if (it != sleepers_.end()) {
        *it = sleepers_.back();
        sleepers_.pop_back();
        idle_state_.fetch_add(1ull << kUnparkShift, Order::seq_cst);
      }
      return true;
    }
    return false;  // step 5: spurious
  }
  core.is_searching = true;  // a notifier counted us as a searcher
  return true;
}

void MultiThread::notify_parked() {
  if (!notify_should_wakeup()) return;
  std::uint32_t idx;
  {
    std::scoped_lock lock(mu_);
    if (!notify_should_wakeup() || sleepers_.empty()) return;
    idle_state_.fetch_add((1ull << kUnparkShift) | 1, Order::seq_cst);
    idx = sleepers_.back();
    sleepers_.pop_back();
  }
  remotes_[idx]->parker.unpark();
}

void MultiThread::notify_if_work_pending() {
  for (std::uint32_t i = 0; i < n_; ++i) {
    if (!remotes_[i]->queue.is_empty_for_stealers()) {
      emit(EventKind::mark, -1, 0, static_cast<std::uint64_t>(Mark::last_searcher_notify));
      notify_parked();
      return;
    }
  }
  if (!inject_.is_empty()) {
    emit(EventKind::mark, -1, 0, static_cast<std::uint64_t>(Mark::last_searcher_notify));
    notify_parked();
  }
}

// ---- shutdown ----

void MultiThread::pre_shutdown(Core& core) {
  const auto w = static_cast<std::int32_t>(core.index);
  close_owned_and_cancel(core.index, w);
  if (TaskHeader* t = core.lifo.take()) task_ops::drop_notified(t);
  remotes_[core.index]->queue.drain([](TaskHeader* t) { task_ops::drop_notified(t); });
  for (TaskHeader* t : core.defer) task_ops::ref_dec(t);
  core.defer.clear();
  // Last: a task freed above can run a destructor that schedules (and so counts)
  // on this worker.
  submit_metrics(core);
}

void MultiThread::shutdown() {
  if (shut_.exchange(1, Order::acq_rel) != 0) return;
  emit(EventKind::shutdown, -1, 0);
  {
    std::scoped_lock lock(mu_);
    inject_.close_locked();
  }
  rv_.shutdown();  // a round in flight ends its gathering; its waiters wake
  dump_done_.notify_waiters();
  owned_.close();
  for (auto& r : remotes_) r->parker.unpark();
  for (Thread& t : threads_) t.join();
  blocking_.shutdown();
  // Cancel what the blocking pool or a late wake left, then drop queued entries.
  close_owned_and_cancel(0, -1);
  for (std::uint32_t i = 0; i < n_; ++i) {
    if (TaskHeader* t = cores_[i]->lifo.take()) task_ops::drop_notified(t);
    remotes_[i]->queue.drain([](TaskHeader* t) { task_ops::drop_notified(t); });
  }
  {
    std::scoped_lock lock(mu_);
    while (TaskHeader* t = inject_.pop_locked()) task_ops::drop_notified(t);
  }
  WEFT_ASSERT(!kMetrics || owned_.alive() == 0);
}

// ---- block_on from a non-worker thread ----

void MultiThread::block_on_root(TaskHeader* root) {
  // The root is not a task of this runtime: it runs on the calling thread, and
  // its spawns go through the injection queue.
  drive_root(root, this);
}

// ---- dump ----

void MultiThread::dump_rendezvous(Core& core, bool parked) {
  const std::uint64_t r = rv_.see(core.index);
  const std::uint64_t held_from = metrics_now_ns();
  // Time held in the rendezvous is not work: keep busy time unskewed.
  if (rv_.arrive(core.index, r, parked) && !parked) core.busy_start += metrics_now_ns() - held_from;
}

DumpWorker MultiThread::describe_worker(std::uint32_t i, const DumpArrivals& arrivals, DumpPlaces& where) {
  DumpWorker dw;
  dw.index = i;
  dw.local_queue_depth = remotes_[i]->queue.stealable_len();
  if (!arrivals.arrived[i]) {
    dw.state = "missed";
    dw.captured = false;
    dw.running_task = stats_[i].running_task.get();
    dw.missed_reason = dw.running_task ? "did not reach the rendezvous in time: polling task " +
                                             std::to_string(dw.running_task)
                                       : "did not reach the rendezvous in time";
    return dw;
  }
  const Core& c = *cores_[i];  // its owner is held: stable
  const auto w = static_cast<std::int32_t>(i);
  const bool all_arrived = arrivals.all();
  dw.state = arrivals.parked[i] ? "parked" : (c.is_searching ? "searching" : "running");
  dw.lifo_task = c.lifo.empty() ? 0 : c.lifo.task()->id_;
  dw.deferred = c.defer.size();
  if (!c.lifo.empty()) where[c.lifo.task()] = {DumpLocation::lifo_slot, w, true};
  // Idle while deferred: another thread may wake it for a missed worker to run.
  for (TaskHeader* t : c.defer) where.emplace(t, DumpPlace{DumpLocation::defer_list, w, all_arrived});
  // Stealable: stable only when no worker is outside the rendezvous.
  remotes_[i]->queue.for_each_queued([&](TaskHeader* t) { where[t] = {DumpLocation::local_queue, w, all_arrived}; });
  return dw;
}

DumpVerdict MultiThread::judge(TaskHeader* t, std::uint64_t s, const DumpPlace* place, bool all_arrived,
                               const std::vector<std::uint64_t>& missed_running) {
  const bool running = (s & state::kRunning) != 0;
  const bool finished = (s & state::kComplete) != 0;
  std::int32_t on_missed = -1;
  for (std::uint32_t i = 0; i < n_; ++i) {
    if (missed_running[i] == t->id_) on_missed = static_cast<std::int32_t>(i);
  }
  DumpVerdict v;
  if (!place && on_missed >= 0) {
    v.location = DumpLocation::running_on_worker;
    v.worker = on_missed;
  }
  if (place && place->location == DumpLocation::blocking_queue) {
    // A blocking thread may run it now: located, but its frame is not read.
  } else if (!running && !finished) {
    if (all_arrived || (place && place->stable)) {
      v.read = true;  // nobody can resume it: every worker is held, or none reaches it
    } else if (!place && task_ops::try_claim(t)) {
      v.read = v.claimed = true;
    } else {
      v.not_captured = "queued where a worker outside the rendezvous could take it";
    }
  } else if (running && on_missed >= 0) {
    v.not_captured = "running on worker " + std::to_string(on_missed) + ", which missed the rendezvous";
  } else if (running && !place) {
    v.not_captured = "running outside the rendezvous";
  }
  return v;
}

Dump MultiThread::collect(std::uint64_t, const DumpArrivals& arrivals) {
  Dump d;
  d.now_ns = Platform::now_ns();
  // Owned tasks first (with references), so every address below is a live task.
  std::vector<TaskHeader*> owned;
  owned_.snapshot(owned);
  DumpPlaces where;
  std::vector<std::uint64_t> missed_running(n_, 0);
  const bool all_arrived = arrivals.all();
  for (std::uint32_t i = 0; i < n_; ++i) {
    d.workers.push_back(describe_worker(i, arrivals, where));
    if (arrivals.arrived[i]) continue;
    d.missed_workers.push_back(i);
    missed_running[i] = d.workers.back().running_task;
  }
  {
    std::scoped_lock lock(mu_);
    d.injection_queue_depth = inject_.len();
    inject_.for_each_locked([&](TaskHeader* t) { where[t] = {DumpLocation::injection_queue, -1, all_arrived}; });
  }
  place_blocking(blocking_, where);
  d.complete = all_arrived;
  collect_tasks(d, owned, where, [&](TaskHeader* t, std::uint64_t s, const DumpPlace* place) {
    return judge(t, s, place, all_arrived, missed_running);
  });
  return d;
}

Task<Dump> MultiThread::dump_async(std::uint64_t timeout_ns) {
  ThreadContext* cx = current_context();
  if (cx == nullptr || cx->scheduler != this || cx->core == nullptr) {
    // Not on a worker (a block_on root, another runtime): this thread may wait,
    // and then leads the round itself if no worker does by the deadline.
    co_return dump_sync(timeout_ns);
  }
  auto guard = co_await dump_lock_.lock();
  if (shut_.load(Order::acquire) != 0) throw DumpError("weft: dump requested while the runtime shuts down");
  bool leads = false;
  const std::uint64_t r = rv_.open(timeout_ns, nullptr, -1, leads);
  if (r == 0) throw DumpError("weft: dump requested while the runtime shuts down");
  WEFT_ASSERT(!leads);  // this worker runs the request: it is not blocked
  // Workers (including the one that ran this task) answer and elect a leader;
  // the result arrives through dump_done_, which keeps a permit.
  for (std::uint32_t i = 0; !rv_.done(r); ++i) {
    WEFT_ASSERT(i < 1'000'000);
    if (shut_.load(Order::acquire) != 0) throw DumpError("weft: the runtime shut down during the dump");
    co_await dump_done_.notified();
  }
  co_return rv_.result();
}

Dump MultiThread::dump_sync(std::uint64_t timeout_ns) {
  ThreadContext* cx = current_context();
  WEFT_CHECK(!(cx && cx->scheduler == this && cx->core));  // a worker must co_await dump()
  ContextGuard outside(nullptr);  // the wait below runs as a plain thread
  return block_on_here([](MultiThread* self, std::uint64_t timeout_ns) -> Task<Dump> {
    auto guard = co_await self->dump_lock_.lock();
    if (self->shut_.load(Order::acquire) != 0) throw DumpError("weft: dump requested while the runtime shuts down");
    Parker parker;
    bool leads = false;
    const std::uint64_t r = self->rv_.open(timeout_ns, &parker, -1, leads);
    if (r == 0) throw DumpError("weft: dump requested while the runtime shuts down");
    if (leads) self->rv_.lead(r, -1, false);  // every worker was blocked
    // No worker leads before the deadline (all stuck, or shutting down): we lead.
    self->rv_.wait_done(r, parker);
    co_return self->rv_.take_result();
  }(this, timeout_ns));
}

// ---- metrics ----

RuntimeMetrics MultiThread::metrics() const {
  RuntimeMetrics m;
  m.num_workers = n_;
  m.num_alive_tasks = owned_.alive();
  m.spawned_tasks_count = owned_.added();
  m.injection_queue_depth = inject_.len();
  m.remote_schedule_count = remote_schedule_count_.get();
  m.budget_forced_yield_count = budget_forced_yields_.get();
  m.num_blocking_threads = blocking_.num_threads();
  m.num_idle_blocking_threads = blocking_.num_idle();
  m.blocking_queue_depth = blocking_.queue_depth();
  return m;
}

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

}  // namespace

std::shared_ptr<RuntimeCore> make_multi_thread(Config cfg) { return std::make_shared<MultiThread>(std::move(cfg)); }

}  // namespace detail
WEFT_NS_END
