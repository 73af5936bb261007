// The multi-thread work-stealing scheduler: its types, shared by the files that
// implement it.
//
// Each worker owns a Core: a bounded local queue (stealable), a LIFO slot (taken
// only by the LIFO watch, behind a long poll: queues.hpp, idle.cpp), and its batch
// of metrics. MultiThread itself holds what every worker touches:
// the injection queue and the sleeper list under one lock (the idle protocol
// relies on that lock for ordering), the packed idle counters, and the remotes.
//
// Where each part lives, with its protocol written at the top of its file:
//   worker.cpp   the worker loop, scheduling, the LIFO chain, and the shutdown protocol
//   idle.cpp     the idle protocol (searching, parking, waking) and timer driving
//   dump.cpp     what a dump collects; the rendezvous is ../dump/rendezvous.hpp
//   metrics.cpp  publishing and reading the per-worker metrics
// Functions on the per-poll path are defined in worker.cpp or inline here (the
// searching transitions, steps 1 and 2 of the idle protocol), so the worker loop's
// compiler sees them.
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include "../dump/collect.hpp"
#include "../dump/rendezvous.hpp"
#include "../policy.hpp"
#include "../queues.hpp"
#include "../runtime_core.hpp"
#include "weft/rand.hpp"
#include "weft/sync.hpp"

WEFT_NS_BEGIN
namespace detail {

struct alignas(128) WorkerStats {
  // Published at maintenance and parking; read by metrics readers.
  Counter poll_count, steal_count, steal_operations, park_count, park_unpark_count, noop_count,
      local_schedule_count, overflow_count, busy_ns;
  std::unique_ptr<Counter[]> histogram;  // before publication: poll-time buckets, when enabled
  // Written around every poll: on its own line, so a metrics reader does not pull
  // it out of the worker's cache.
  alignas(128) Counter running_task;  // id of the task being polled, 0 between polls (for dumps)
};

// Core is one worker's private state: only its own thread touches it, except a dump
// leader, which reads a Core while its owner is held in the rendezvous, and the
// LIFO watcher, which reads and may empty its LIFO slot (queues.hpp, L3).
struct Core {
  Core(bool lifo_enabled, bool lifo_stealable) : lifo(lifo_enabled, lifo_stealable) {}
  std::uint32_t index = 0;  // before publication
  std::uint32_t tick = 0;   // owner only
  LifoSlot lifo;
  // defer holds yielded tasks, one reference each; a Cell: a dump's leader reads it
  // while the owner is held.
  Cell<std::vector<TaskHeader*>> defer;
  // is_searching is a Cell: a dump's leader reads it while the owner is held.
  Cell<bool> is_searching{false};
  bool is_shutdown = false;  // owner only
  bool parked = false;       // owner only: inside park(); the stall probe reads it outside the schedule
  bool in_driver = false;    // owner only: firing timers, local wakes must not notify yet
  rng::FastRand rand;        // owner only
  // Metrics batch, published at maintenance and before parking.
  MetricCount polls, steals, steal_ops, parks, unparks, noops, local_schedules, overflows, busy_ns;  // owner only
  std::uint64_t polls_at_last_park = 0;  // owner only
  std::uint64_t busy_start = 0;         // owner only
  // The LIFO watch (idle.cpp, W1 to W6): the interval to the next look, and what
  // the last look saw at each other worker (the task it polled, its slot's task).
  struct Seen {
    std::uint64_t running = 0;
    const TaskHeader* slot = nullptr;
  };
  std::uint64_t watch_ns = policy::kLifoWatchFirstNs;  // owner only
  bool watching = false;                               // owner only: inside watch() (W1 to W6); probes read it
  std::vector<Seen> watch_seen;                        // owner only

  bool has_deferred() const {
    return defer.with([](const std::vector<TaskHeader*>& d) { return !d.empty(); });
  }
  bool has_tasks(const LocalQueue& q) const { return !lifo.empty() || has_deferred() || q.has_tasks(); }
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
      if (!cores_[i]->lifo.empty() || cores_[i]->has_deferred() || !remotes_[i]->queue.is_empty_for_stealers())
        return true;
    }
    return false;
  }
  bool has_stalled_work() const override {
    bool all_parked = true;
    for (std::uint32_t i = 0; i < n_; ++i) {
      const Core& c = *cores_[i];
      if (!c.parked) {
        all_parked = false;
      } else if (!c.lifo.empty() || c.has_deferred() || !remotes_[i]->queue.is_empty_for_stealers()) {
        return true;  // asleep on its own work
      }
    }
    return all_parked && !inject_.is_empty();
  }
  IdleView idle_view(std::int32_t worker, const IdleTruth* truth) const override;
  void place_tasks(const std::function<void(std::uint64_t, TaskPlace)>& visit) const override;

 private:
  // OverflowSink, called by the owner of a full local queue; each call is one overflow.
  void push_one(TaskHeader* t, std::int32_t worker) override {
    ++cores_[static_cast<std::uint32_t>(worker)]->overflows;
    push_remote(t);
  }
  void push_batch(TaskHeader* first, TaskHeader* last, std::uint64_t n, std::int32_t worker) override {
    ++cores_[static_cast<std::uint32_t>(worker)]->overflows;
    std::scoped_lock lock(mu_);
    // Overflow step 5 (queues.hpp): the event under the lock, so batches enter the
    // queue in the order of their events; before the push, since once pushed a
    // worker may run and free the tasks.
    emit(EventKind::overflow, worker, last->id_, n);
    emit(EventKind::mark, worker, 0, static_cast<std::uint64_t>(Mark::overflow));
    inject_.push_batch_locked(first, last, n);
  }

  void start();
  void run_worker(std::uint32_t i);
  // The worker loop is instantiated with and without the poll-time histogram, and
  // for a stealable LIFO slot (two or more workers) or a plain one, so each choice
  // is made once per worker and not once per poll.
  template <bool kHist, bool kShared>
  void work_loop(Core& core);
  template <bool kHist, bool kShared>
  void run_task(Core& core, TaskHeader* t);
  // announce_behind_slot wakes a sleeper when a task put in the slot outside a
  // poll stands before a queued one (Step C3, worker.cpp).
  void announce_behind_slot(Core& core);
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
  template <bool kShared>
  [[gnu::always_inline]] TaskHeader* next_task(Core& core);
  template <bool kShared>
  TaskHeader* next_local(Core& core);
  TaskHeader* pop_inject_batch(Core& core);
  TaskHeader* steal_work(Core& core);
  void schedule_local(Core& core, TaskHeader* t, bool is_yield);
  void push_remote(TaskHeader* t);
  void maintenance(Core& core);
  void wake_deferred(Core& core);
  void park(Core& core);
  void park_once(Core& core);
  // driver_leave is the timer driver's Step D4 and what follows it.
  void driver_leave(Core& core);
  // The LIFO watch (idle.cpp, Steps W1 to W6).
  bool claim_watch(Core& core);
  void watch(Core& core, bool drives);
  TaskHeader* watch_look(Core& core);
  void wake_deep_watcher();
  void hand_watch_on(std::uint32_t self);
  std::uint32_t watch_heir_locked(std::uint32_t self);  // mu_ held
  void submit_metrics(Core& core);
  void pre_shutdown(Core& core);
  void release_leftovers();

  // Idle protocol (idle.cpp; the searching transitions are inline below).
  bool transition_to_searching(Core& core);
  void transition_from_searching(Core& core);
  bool transition_to_parked(Core& core);
  bool transition_from_parked(Core& core);
  // notify_parked wakes one sleeper if nobody searches (step 4); it returns the
  // worker it woke, or kNoWorker. The check is inline (every spawn from outside
  // and every new local task asks it), the wake out of line.
  std::uint32_t notify_parked() {
    if (!notify_should_wakeup()) return kNoWorker;
    return notify_parked_locked();
  }
  std::uint32_t notify_parked_locked();
  // notify_if_work_pending is step 3's re-check; it returns the worker it woke, or kNoWorker.
  std::uint32_t notify_if_work_pending();
  static constexpr std::uint32_t kNoWorker = 0xffffffffu;
  bool notify_should_wakeup() {
    if (WEFT_BUG(wake_check_relaxed)) return zoo::should_wakeup_by_load(idle_state_, n_);  // "a load is enough to look"
    std::uint64_t s = idle_state_.fetch_add(0, Order::seq_cst);
    return (s & policy::kSearchMask) == 0 && (s >> policy::kUnparkShift) < n_;
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
  // False when it left without waiting: answering a round gave core work.
  template <class Wait>
  bool wait_idle(Core& core, Wait wait) {
    return rv_.wait_blocked(
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
  std::vector<std::unique_ptr<Remote>> remotes_;  // before publication: the vector; each Remote is shared
  std::vector<std::unique_ptr<Core>> cores_;  // before publication: the vector; each Core is shared
  std::unique_ptr<WorkerStats[]> stats_;  // before publication: the array; its counters are seam Counters
  Mutex mu_;                        // guards inject_ list and sleepers_
  InjectQueue inject_;              // guarded by mu_ (len readable without)
  std::vector<std::uint32_t> sleepers_;  // guarded by mu_
  Atomic<std::uint64_t> idle_state_;
  Atomic<std::int32_t> driver_{-1};  // worker index driving timers, or -1
  Atomic<std::uint32_t> lifo_watch_{kNoWorker};  // the LIFO watcher (W1), or kNoWorker
  Atomic<std::uint32_t> watch_deep_{0};          // 1: the watcher sleeps until woken (W2, W3)
  std::vector<Thread> threads_;  // owner only: the runtime's owner starts them and its shutdown joins them
  Atomic<std::uint32_t> shut_{0};
  AsyncMutex dump_lock_;             // one dump at a time
  Notify dump_done_;                 // wakes a task requester
  Rendezvous rv_;
};

// ---- idle protocol steps 1 and 2 (idle.cpp): on every poll, so inline ----

inline bool MultiThread::transition_to_searching(Core& core) {
  if (core.is_searching.get()) return true;
  if (WEFT_BUG(search_cap_count_kept)) return zoo::count_then_cap(idle_state_, n_, core.is_searching);
  std::uint64_t s = idle_state_.load(Order::seq_cst);
  if (policy::searching_cap_reached(s & policy::kSearchMask, n_)) return false;
  idle_state_.fetch_add(1, Order::seq_cst);
  core.is_searching.set(true);
  return true;
}

inline void MultiThread::transition_from_searching(Core& core) {
  if (!core.is_searching.get()) return;
  core.is_searching.set(false);
  std::uint64_t prev = idle_state_.fetch_sub(1, Order::seq_cst);
  WEFT_ASSERT((prev & policy::kSearchMask) > 0);
  // (zoo: "whoever pushed the work has notified already")
  if ((prev & policy::kSearchMask) == 1 && !WEFT_BUG(searcher_leaves_unchained)) notify_parked();  // step 2: chain the search
}

}  // namespace detail
WEFT_NS_END
