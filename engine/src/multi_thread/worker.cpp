// The multi-thread scheduler's worker loop: construction, the loop and its
// task sources (LIFO slot, local queue, injection queue, stealing), scheduling a
// woken task, maintenance, and shutdown. The types are in multi_thread.hpp.
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
#include "multi_thread.hpp"

WEFT_NS_BEGIN
namespace detail {

// cfg is resolved (weft::resolve, called by Runtime): no field means "the default" any more.
MultiThread::MultiThread(Config cfg)
    : CoreBase(cfg, cfg.worker_threads * policy::kOwnedShardsPerWorker),
      n_(cfg.worker_threads),
      idle_state_(static_cast<std::uint64_t>(cfg.worker_threads) << policy::kUnparkShift),
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
    auto core = std::make_unique<Core>(cfg_.lifo_enabled, n_ >= 2);  // L4: one worker, no thief
    core->index = i;
    core->rand = rng::FastRand(rng::splitmix64(seed));
    core->watch_seen.resize(n_);
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
  // L4 (queues.hpp): with one worker the LIFO slot is a plain cell.
  if constexpr (kMetrics) {
    if (stats_[i].histogram) {
      if (n_ >= 2) work_loop<true, true>(core); else work_loop<true, false>(core);
    } else {
      if (n_ >= 2) work_loop<false, true>(core); else work_loop<false, false>(core);
    }
  } else {
    if (n_ >= 2) work_loop<false, true>(core); else work_loop<false, false>(core);
  }
  pre_shutdown(core);
  if (cfg_.on_thread_stop) cfg_.on_thread_stop();
}

template <bool kHist, bool kShared>
void MultiThread::work_loop(Core& core) {
  while (!core.is_shutdown) {
    ++core.tick;
    if (rv_.pending(core.index)) {
      dump_rendezvous(core, false);
      announce_behind_slot(core);  // Step C3
    }
    if (core.tick % cfg_.event_interval == 0) {
      maintenance(core);
      announce_behind_slot(core);  // Step C3
    }
    if (TaskHeader* t = next_task<kShared>(core)) {
      run_task<kHist, kShared>(core, t);
      continue;
    }
    if (core.has_deferred()) {
      // Nothing else to run here: the yielded tasks go next.
      wake_deferred(core);
      continue;
    }
    if (TaskHeader* t = steal_work(core)) {
      run_task<kHist, kShared>(core, t);
      continue;
    }
    park(core);
  }
}

template <bool kShared>
inline TaskHeader* MultiThread::next_local(Core& core) {
  if (TaskHeader* t = core.lifo.take_as<kShared>()) return t;
  return remotes_[core.index]->queue.pop();
}

template <bool kShared>
inline TaskHeader* MultiThread::next_task(Core& core) {
  if ((core.tick % cfg_.global_queue_interval == 0) != WEFT_BUG(inject_every_tick)) {
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
    return next_local<kShared>(core);
  }
  if (TaskHeader* t = next_local<kShared>(core)) return t;
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

template <bool kHist, bool kShared>
void MultiThread::run_task(Core& core, TaskHeader* t) {
  const auto w = static_cast<std::int32_t>(core.index);
  transition_from_searching(core);
  ThreadContext* cx = current_context();
  cx->budget = cfg_.budget;
  cx->budget_active = true;
  if (poll_one<kHist>(core, t)) ++core.polls;
  // The LIFO chain, Steps C1 and C2 (above announce_behind_slot).
  for (std::uint32_t lifo_polls = 0;;) {
    TaskHeader* next = core.lifo.take_as<kShared>();
    if (!next) break;
    if (WEFT_BUG(lifo_cap_removed)) lifo_polls = 0;  // Tokio 7.7: the chain runs to the budget
    if (cx->budget == 0 || lifo_polls >= cfg_.max_lifo_polls) {  // Step C2
      const Mark why = cx->budget == 0 ? Mark::budget_exhausted : Mark::lifo_cap;
      emit(EventKind::mark, w, next->id_, static_cast<std::uint64_t>(why));
      LocalQueue& q = remotes_[core.index]->queue;
      q.push_back_or_overflow(next, *this, w);
      if (q.len() > 1) notify_parked();  // behind other tasks, or half the queue overflowed with it
      break;
    }
    ++lifo_polls;  // Step C1
    const bool polled = poll_one<kHist>(core, next);
    if (WEFT_BUG(lifo_polls_uncounted)) continue;  // Tokio 7.11: poll_count misses the LIFO chain
    if (polled) ++core.polls;
  }
  cx->budget_active = false;
}

// The LIFO chain (run_task), Tokio's 7.7 cap without the wake-up Tokio pays for it:
//   C1. After a task's poll the worker polls the task its LIFO slot holds, again
//       and again, under the same budget, up to max_lifo_polls such polls: a task
//       woken by the one running runs next, while what it was sent is in cache.
//   C2. A task found in the slot past the cap, or with the budget spent, goes to
//       the back of the local queue, so two tasks waking each other cannot keep
//       the worker from the tasks queued before them (fairness). It is announced
//       (notify_parked) only when it does not go first: other tasks ahead of it,
//       or an overflow that moved it to the injection queue with half the local
//       one. Going first, it is not: the worker takes it at once, so a sleeper
//       woken for it would find nothing to steal (chained_spawn on two workers
//       woke one per three spawns), and while it sat in the slot behind a poll
//       the LIFO watch covered it (idle.cpp, W4).
//   C3. Between the chain and the worker's next task, the dump rendezvous and
//       maintenance may put a task in the slot (its requester woken, a timer
//       fired), which runs before the queue: if the queue holds a task then (C2
//       may have left it unannounced), it is announced.
// A task that wakes while the slot is full displaces the slot's task to the
// queue, announced.
// announce_behind_slot is Step C3.
void MultiThread::announce_behind_slot(Core& core) {
  if (!core.is_searching.get() && !core.lifo.empty() && remotes_[core.index]->queue.len() > 0) notify_parked();
}

void MultiThread::schedule(TaskHeader* t, bool is_yield) {
  ThreadContext* cx = current_context();
  if (cx != nullptr && cx->scheduler == this && cx->core != nullptr) {
    schedule_local(*static_cast<Core*>(cx->core), t, is_yield);
    return;
  }
  if constexpr (kMetrics) remote_schedule_count_.add(1);
  push_remote(t);
  // (zoo: "a worker drives the timers, it will see the task at its deadline")
  if (WEFT_BUG(remote_push_trusts_driver) && driver_.load(Order::seq_cst) >= 0 && has_timers()) return;
  notify_parked();
}

inline void MultiThread::schedule_local(Core& core, TaskHeader* t, bool is_yield) {
  const auto w = static_cast<std::int32_t>(core.index);
  ++core.local_schedules;
  LocalQueue& q = remotes_[core.index]->queue;
  bool should_notify;
  if (is_yield || !core.lifo.accepts()) {
    q.push_back_or_overflow(t, *this, w);
    should_notify = true;
  } else {
    // Emit first: once in a stealable slot, the LIFO watch may take, run and free t (L3).
    emit(EventKind::lifo_push, w, t->id_);
    TaskHeader* prev = core.lifo.replace(t);
    should_notify = prev != nullptr;
    if (WEFT_BUG(lifo_displaced_unannounced)) should_notify = false;  // "it stays on this worker anyway"
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
  core.defer.with_mut([&](std::vector<TaskHeader*>& d) { batch.swap(d); });
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
  core.defer.with_mut([&](std::vector<TaskHeader*>& d) {
    if (d.empty()) d.swap(batch);  // keep the capacity
  });
  if (!core.is_searching.get() && remotes_[core.index]->queue.len() > 1) notify_parked();
}

void MultiThread::maintenance(Core& core) {
  submit_metrics(core);
  if (core.has_deferred()) wake_deferred(core);
  if (has_timers()) {
    core.in_driver = true;
    std::size_t fired = fire_timers(static_cast<std::int32_t>(core.index));
    core.in_driver = false;
    if (fired > 0 && !core.is_searching.get() && remotes_[core.index]->queue.len() > 1) notify_parked();
  }
  if (!core.is_shutdown) core.is_shutdown = inject_closed();
}

// ---- shutdown ----

// pre_shutdown is shutdown step 2, on each worker leaving its loop.
void MultiThread::pre_shutdown(Core& core) {
  const auto w = static_cast<std::int32_t>(core.index);
  close_owned_and_cancel(core.index, w);
  if (TaskHeader* t = core.lifo.take()) task_ops::drop_notified(t);
  remotes_[core.index]->queue.drain([](TaskHeader* t) { task_ops::drop_notified(t); });
  core.defer.with_mut([](std::vector<TaskHeader*>& d) {
    for (TaskHeader* t : d) {
      if (WEFT_BUG(shutdown_defer_ref_kept)) continue;  // the task cell is never freed
      task_ops::ref_dec(t);
    }
    d.clear();
  });
  // Last: a task freed above can run a destructor that schedules (and so counts)
  // on this worker.
  submit_metrics(core);
}

void MultiThread::shutdown() {
  // acq_rel: one caller wins the shutdown; the release pairs with the acquire loads of shut_ in the dump
  // paths (dump.cpp).
  if (shut_.exchange(1, Order::acq_rel) != 0) {
    // A second call during a teardown: the first was left by the unwind that
    // brought us here (the Runtime's destructor), before its drains.
    if (Platform::unwinding()) release_leftovers();
    return;
  }
  emit(EventKind::shutdown, -1, 0);
  // Step 1: close the injection queue and the owned list, unpark every worker.
  {
    std::scoped_lock lock(mu_);
    inject_.close_locked();
  }
  rv_.shutdown();  // a round in flight ends its gathering; its waiters wake
  dump_done_.notify_waiters();
  owned_.close();
  for (auto& r : remotes_) r->parker.unpark();
  // Step 3: join the workers, then shut the blocking pool down.
  for (Thread& t : threads_) t.join();
  blocking_.shutdown();
  // Cancel what the blocking pool or a late wake left, then drop queued entries.
  release_leftovers();
  WEFT_ASSERT(!kMetrics || owned_.alive() == 0);
}

// release_leftovers is shutdown's last step: it cancels what the blocking pool
// or a late wake left and drops every reference the queues still hold. After the
// workers' pre_shutdown the deferred lists are empty. They are not when a run is
// torn down (the simulator unwinds a failed run's fibers): a worker unwound
// before its pre_shutdown leaves its LIFO slot, local queue and deferred list
// filled, and a shutdown an unwind passed through stopped before this step.
void MultiThread::release_leftovers() {
  close_owned_and_cancel(0, -1);
  for (std::uint32_t i = 0; i < n_; ++i) {
    if (TaskHeader* t = cores_[i]->lifo.take()) task_ops::drop_notified(t);
    remotes_[i]->queue.drain([](TaskHeader* t) { task_ops::drop_notified(t); });
    cores_[i]->defer.with_mut([](std::vector<TaskHeader*>& d) {
      for (TaskHeader* t : d) task_ops::ref_dec(t);
      d.clear();
    });
  }
  std::scoped_lock lock(mu_);
  while (TaskHeader* t = inject_.pop_locked()) task_ops::drop_notified(t);
}

// ---- block_on from a non-worker thread ----

void MultiThread::block_on_root(TaskHeader* root) {
  // The root is not a task of this runtime: it runs on the calling thread, and
  // its spawns go through the injection queue.
  drive_root(root, this);
}

std::shared_ptr<RuntimeCore> make_multi_thread(Config cfg) { return std::make_shared<MultiThread>(std::move(cfg)); }

}  // namespace detail
WEFT_NS_END
