// The current-thread scheduler: block_on drives every task on the calling thread.
//
// Loop of block_on (one thread at a time holds the core):
//   1. If the root coroutine was woken, poll it; return when it completes.
//   2. Up to event_interval times: pick a task (the injection queue first every
//      global_queue_interval ticks, else the local queue first) and poll it under
//      a fresh budget. With nothing to run, park until the earliest timer.
//   3. Fire due timers and go back to 1.
// Tasks scheduled from other threads go through the injection queue and unpark
// the driving thread. A thread calling block_on while another holds the core
// drives only its own root, like any non-worker thread.
//
// Dump: the rendezvous of engine/src/dump/rendezvous.hpp with one participant,
// the thread holding the core (the driver). This file supplies how to collect
// and who holds the core; dumps from other threads are serialised by dump_serial_.
//   1. The driver answers a published round before every poll, and around its
//      park through the rendezvous's step 1. Answering can give it work (the
//      dump's last reference to a finished task frees it, and its destructors may
//      wake the root or a task, with no unpark: the driver does not unpark
//      itself), so after answering it re-checks before it waits.
//   2. A dump from a task on the driver collects at once (collect_alone): the
//      driver holds the only core, and nothing else runs while it collects.
//   3. The core is free (nobody drives): the waiting requester takes it
//      (stand_in), collects in place, gives it back and wakes a block_on waiting
//      for it (parker_wait_, not parker_). A driver leaving block_on gives the core
//      back, then nudges a requester whose round still gathers, which takes the
//      free core (a dump without timeout would otherwise wait for ever).
//   4. Shutdown refuses dumps (OnShutdown::kRefuse): a requester woken by it
//      abandons its round and refuses, whatever was collected; a driver of a shut
//      runtime answers nothing, but holds while a requester reads its core.
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

#include <algorithm>

#include "bug_hooks.hpp"
#include "dump/collect.hpp"
#include "dump/rendezvous.hpp"
#include "policy.hpp"
#include "queues.hpp"
#include "runtime_core.hpp"

WEFT_NS_BEGIN
namespace detail {
namespace {

class CurrentThread final : public CoreBase, private DumpCollector {
 public:
  // cfg is resolved (weft::resolve, called by Runtime): no field means "the default" any more.
  explicit CurrentThread(Config cfg)
      : CoreBase(cfg, policy::kOwnedShardsPerWorker), rv_(1, shut_, *this, OnShutdown::kRefuse, policy::kDumpAnswerSliceNs) {
    WEFT_CHECK(cfg_.global_queue_interval > 0 && cfg_.event_interval > 0);
    if (cfg_.poll_time_histogram) histogram_.reset(new Counter[cfg_.histogram_buckets]);
  }
  ~CurrentThread() override { shutdown(); }

  void schedule(TaskHeader* t, bool is_yield) override;
  void spawn_task(TaskHeader* t) override { schedule(t, false); }
  void shutdown() override;
  void block_on_root(TaskHeader* root) override;
  RuntimeMetrics metrics() const override;
  WorkerMetrics worker_metrics(std::uint32_t i) const override;
  Task<Dump> dump_async(std::uint64_t timeout_ns) override;
  Dump dump_sync(std::uint64_t timeout_ns) override;
  bool has_pending_work() const override {
    return !local_.empty() || has_deferred() || !inject_.is_empty() || root_woken_.unsync_load() != 0;
  }
  bool has_stalled_work() const override { return driver_parked_ && has_pending_work(); }
  void place_tasks(const std::function<void(std::uint64_t, TaskPlace)>& visit) const override {
    for (const TaskHeader* t : local_) visit(t->id(), TaskPlace::local_queue);
    defer_.with([&](const std::vector<TaskHeader*>& d) {
      for (const TaskHeader* t : d) visit(t->id(), TaskPlace::defer_list);
    });
    inject_.for_each_locked([&](const TaskHeader* t) { visit(t->id(), TaskPlace::injection_queue); });
    place_blocking_tasks(visit);
  }

 private:
  struct Core {};  // identity of the driving thread's context
  class RootSched final : public Scheduler {
   public:
    explicit RootSched(CurrentThread& rt) : rt_(rt) {}
    // schedule follows block_on.cpp's wake protocol (Steps W1-W5): it lives on
    // block_on_root's stack, which waits for wakes in flight before it returns.
    void schedule(TaskHeader*, bool) override {
      CurrentThread& rt = rt_;
      in_flight_.fetch_add(1, Order::relaxed);  // Step W1; relaxed: W2's release carries it to the driver
      // Step W2. release: pairs with the driver's acquire exchange/loads of root_woken_, so the root's
      // poll finds the NOTIFIED this wake set in its first load of the task state (to_running asserts it).
      rt.root_woken_.store(1, Order::release);
      // Step W3. The driver re-reads root_woken_ before it parks; a wake from the
      // driver itself (a timer it fired, a task it polled) needs no unpark, which
      // would only turn its next park into a no-op.
      if (!rt.on_driver()) rt.parker_.unpark();
      // Step W4. release: pairs with wait_for_wakers' acquire load; nothing of this scheduler is touched after.
      in_flight_.fetch_sub(1, Order::release);
    }
    bool release(TaskHeader*) override { return false; }
    // wait_for_wakers is Step W5.
    void wait_for_wakers() {
      // acquire: pairs with Step W4's release, so the waker's unpark is over before the frame dies.
      while (in_flight_.load(Order::acquire) != 0) Platform::yield_thread();
    }

   private:
    CurrentThread& rt_;
    Atomic<std::uint32_t> in_flight_{0};  // wakers between Steps W1 and W4
  };

  // on_driver says whether the calling thread holds the core and drives.
  bool on_driver() const {
    ThreadContext* cx = current_context();
    return cx != nullptr && cx->core == &core_;
  }
  // next_task is on the hot path twice in drive's loop: inlined, whatever
  // size the loop grows to (GCC stopped inlining it once metrics were counted).
  [[gnu::always_inline]] TaskHeader* next_task();
  // drive runs block_on's loop (the steps at the top of this file) until the root
  // completes. kTimed says whether the poll-time histogram is on: block_on reads it
  // once and picks the loop, so the untimed loop has no test around its polls. The
  // timed poll is out of line, so the timed loop keeps its registers too.
  template <bool kTimed>
  void drive(TaskHeader* root, ThreadContext& cx);
  // poll_timed polls t and adds its poll time to the histogram.
  [[gnu::noinline]] bool poll_timed(TaskHeader* t) {
    std::uint64_t t0 = Platform::now_ns();
    bool polled = task_ops::poll(t, 0);
    std::uint64_t b = (Platform::now_ns() - t0) / cfg_.histogram_bucket_width_ns;
    if (polled) histogram_[b < cfg_.histogram_buckets ? b : cfg_.histogram_buckets - 1].add(1);
    return polled;
  }
  void wake_deferred();
  void park();
  void submit_metrics();
  // The driver reads the earliest timer before it parks: only another thread's new
  // timer needs to wake it (an unpark from the driver itself would only leave a
  // token that turns its next park into a no-op).
  void on_new_earliest_timer() override {
    if (!on_driver()) parker_.unpark();
  }

  // Dumps (the protocol at the top of this file). DumpCollector: collect reads the
  // driver's queues when it arrived (or someone holds the core for it), the
  // injection queue and the blocking pool; stand_in takes the free core.
  Dump collect(std::uint64_t r, const DumpArrivals& arrivals) override;
  bool stand_in() override;
  // judge decides what the dump reads of t (state s, place: null when in no queue);
  // driver_held: nobody can run the driver's tasks meanwhile.
  DumpVerdict judge(TaskHeader* t, std::uint64_t s, const DumpPlace* place, bool driver_held,
                    TaskHeader* requester_task);
  // answer_dump answers the pending round on the driver, parked while it waits on
  // its idle parker, else running. Rare, so out of line: inlined into drive's loop
  // (GCC did when drive had one instantiation) it cost the loop its registers.
  [[gnu::noinline]] void answer_dump(bool parked) { (void)rv_.arrive(0, rv_.see(0), parked); }

  Core core_;
  Atomic<std::uint32_t> core_taken_{0};
  std::deque<TaskHeader*> local_;  // owner only: the thread holding the core
  // defer_ holds yielded tasks (core holder only), one reference each; a Cell: a
  // dump reads it while the driver is held.
  Cell<std::vector<TaskHeader*>> defer_;
  bool has_deferred() const {
    return defer_.with([](const std::vector<TaskHeader*>& d) { return !d.empty(); });
  }
  Mutex mu_;
  InjectQueue inject_;  // guarded by mu_
  Parker parker_;
  Parker parker_wait_;  // a block_on waiting for the core sleeps here
  bool driver_parked_ = false;  // owner only: the driver, in park(); the simulator's stall probe reads it between decisions
  Atomic<std::uint32_t> root_woken_{0};
  Atomic<std::uint32_t> shut_{0};
  std::uint32_t tick_ = 0;  // owner only: the core holder
  Mutex dump_serial_;  // one blocking dump at a time
  Rendezvous rv_;
  TaskHeader* requester_task_ = nullptr;  // owner only: the core holder; the task asking, during collect_alone
  bool stood_in_ = false;                 // owner only: the requester; it took the free core
  // Metrics batch (core holder) and published values.
  MetricCount polls_, parks_, noops_, local_schedules_, busy_ns_;  // owner only: the core holder
  std::uint64_t polls_at_park_ = 0;  // owner only: the core holder
  Counter poll_count_, park_count_, noop_count_, local_schedule_count_, busy_count_, queue_depth_;
  std::unique_ptr<Counter[]> histogram_;  // before publication: poll-time buckets, when enabled
};

void CurrentThread::schedule(TaskHeader* t, bool) {
  if (on_driver()) {
    local_.push_back(t);
    ++local_schedules_;
    emit(EventKind::local_push, 0, t->id_);
    return;
  }
  if constexpr (kMetrics) remote_schedule_count_.add(1);
  {
    std::scoped_lock lock(mu_);
    // Emit under the lock: once pushed, the driver may run and free the task.
    if (!inject_.closed_locked()) emit(EventKind::inject_push, -1, t->id_);
    if (!inject_.push_locked(t)) return;  // closed: dropped
  }
  if (WEFT_BUG(ct_push_trusts_timer) && has_timers()) return;  // "the driver wakes at its deadline anyway"
  parker_.unpark();
}

inline TaskHeader* CurrentThread::next_task() {
  auto pop_local = [this]() -> TaskHeader* {
    if (local_.empty()) return nullptr;
    TaskHeader* t = local_.front();
    local_.pop_front();
    return t;
  };
  auto pop_inject = [this]() -> TaskHeader* {
    if (inject_.is_empty()) return nullptr;
    std::scoped_lock lock(mu_);
    TaskHeader* t = inject_.pop_locked();
    if (t) emit(EventKind::inject_pop, 0, t->id_, 1);
    return t;
  };
  if (tick_ % cfg_.global_queue_interval == 0) {
    if (TaskHeader* t = pop_inject()) return t;
    return pop_local();
  }
  if (TaskHeader* t = pop_local()) return t;
  return pop_inject();
}

// wake_deferred moves yielded tasks to the back of the local queue, oldest first;
// a task woken meanwhile just drops the defer list's reference.
void CurrentThread::wake_deferred() {
  std::vector<TaskHeader*> batch;
  defer_.with_mut([&](std::vector<TaskHeader*>& d) { batch.swap(d); });
  // Counted by the tasks dropped (rare), not the ones scheduled: the common path
  // does no metric work; the batch's size minus the dropped is added once.
  std::uint64_t dropped = 0;
  for (TaskHeader* t : batch) {
    if (!task_ops::mark_deferred_wake(t)) [[unlikely]] {
      task_ops::ref_dec(t);
      ++dropped;
      continue;
    }
    emit(EventKind::wake, 0, t->id_);
    local_.push_back(t);
  }
  local_schedules_ += batch.size() - dropped;
  batch.clear();
  defer_.with_mut([&](std::vector<TaskHeader*>& d) {
    if (d.empty()) d.swap(batch);
  });
}

void CurrentThread::park() {
  ++parks_;
  if (polls_.get() == polls_at_park_) ++noops_;
  polls_at_park_ = polls_.get();
  submit_metrics();
  emit(EventKind::park, 0, 0);
  driver_parked_ = true;
  // Step 1: a round is answered for the waiting driver instead of waking it.
  const bool waited = rv_.wait_blocked(
      0,
      [&] {
        // The hint is enough here: a registrar on another thread unparks this driver (on_new_earliest_timer).
        std::uint64_t deadline = next_timer_deadline();
        if (deadline == UINT64_MAX) {
          parker_.park();
        } else {
          std::uint64_t now = Platform::now_ns();
          if (deadline > now) parker_.park_for(deadline - now);
        }
      },
      [&] { answer_dump(true); },
      // acquire: pairs with the waker's release store of root_woken_.
      [&] { return root_woken_.load(Order::acquire) != 0 || !local_.empty(); });
  driver_parked_ = false;
  emit(EventKind::unpark, 0, 0);
  if (waited) fire_timers(0);
}

template <bool kTimed>
void CurrentThread::drive(TaskHeader* root, ThreadContext& cx) {
  std::uint64_t busy_start = metrics_now_ns();
  // Polls are counted in a local, which stays in a register across the opaque poll
  // calls, and added to polls_ before each publication (park, submit_metrics), so
  // the published counts are what they would be with polls_ counted directly.
  std::uint64_t polls = 0;
  for (;;) {
    // acq_rel: the acquire pairs with RootSched::schedule's release store (Step W2); the release half
    // orders nothing (the clear precedes the next wake through the poll's release on the task state).
    if (root_woken_.exchange(0, Order::acq_rel) != 0 ) {
      // A woken root always holds one notified reference.
      cx.budget = cfg_.budget;
      cx.budget_active = true;
      task_ops::poll(root, -1);
      cx.budget_active = false;
      // acquire: the root completed in the poll just above, on this thread: it orders nothing (harmless).
      if (root->state_.load(Order::acquire) & state::kComplete) break;
    }
    bool parked = false;
    for (std::uint32_t i = 0; i < cfg_.event_interval; ++i) {
      ++tick_;
      if (rv_.pending_between_polls(0)) answer_dump(false);
      TaskHeader* t = next_task();
      // (zoo: "a timer is due soon, the loop wakes them after it" parks on them)
      if (t == nullptr && has_deferred() && !(WEFT_BUG(ct_parks_with_deferred) && has_timers())) {
        wake_deferred();  // nothing else to run: the yielded tasks go next
        t = next_task();
      }
      if (t == nullptr) {
        // acquire: pairs with RootSched::schedule's release store.
        if (root_woken_.load(Order::acquire) != 0) break;
        busy_ns_ += metrics_now_ns() - busy_start;
        polls_ += polls;
        polls = 0;
        park();
        busy_start = metrics_now_ns();
        parked = true;
        break;
      }
      cx.budget = cfg_.budget;
      cx.budget_active = !WEFT_BUG(ct_budget_not_armed);
      polls += static_cast<std::uint64_t>(kTimed ? poll_timed(t) : task_ops::poll(t, 0));
      cx.budget_active = false;
    }
    if (!parked) {
      polls_ += polls;
      polls = 0;
      submit_metrics();
      fire_timers(0);
      wake_deferred();
    }
  }
  polls_ += polls;  // published by block_on on its way out
}

void CurrentThread::block_on_root(TaskHeader* root) {
  std::uint32_t expected = 0;
  // acq_rel/acquire: taking the core pairs with the release store that gave it back (block_on_root,
  // shutdown, dump_sync), so the last holder's writes to the core are visible.
  bool got = core_taken_.compare_exchange(expected, 1, Order::acq_rel, Order::acquire);
  // The core may be held briefly (a blocking dump): wait a little for it.
  for (std::uint32_t i = 0; !got && i < policy::kCoreWaitTriesMax; ++i) {
    parker_wait_.park_for(policy::kCoreWaitNapNs);
    expected = 0;
    got = core_taken_.compare_exchange(expected, 1, Order::acq_rel, Order::acquire);  // as above
  }
  if (!got) {
    drive_root(root, this);  // another block_on drives the tasks: we drive only our root
    return;
  }
  RootSched sched(*this);
  root->scheduler_ = &sched;
  ThreadContext cx;
  cx.scheduler = this;
  cx.core = &core_;
  cx.worker_index = 0;
  cx.forced_yields = &budget_forced_yields_;
  cx.defer = &defer_;
  ContextGuard guard(&cx);
  // A platform unwind (RootUnwind) also gives the core back, as the normal end does.
  struct GiveBack {
    Atomic<std::uint32_t>* taken;
    ~GiveBack() {
      // release: as the normal end's; pairs with the acquire CAS of the next taker.
      if (taken != nullptr && Platform::unwinding()) taken->store(0, Order::release);
    }
  } give_back{&core_taken_};
  RootUnwind unwind{root};
  // relaxed: pairs with nothing; only this driver reads it (its acq_rel exchange),
  // so the root is polled once to start.
  root_woken_.store(1, Order::relaxed);
  if (kMetrics && histogram_ != nullptr) {
    drive<true>(root, cx);
  } else {
    drive<false>(root, cx);
  }
  sched.wait_for_wakers();  // Step W5
  unwind.root = nullptr;
  give_back.taken = nullptr;
  task_ops::ref_dec(root);  // the owned reference; a root is never bound
  submit_metrics();
  // release: gives the core back; pairs with the acquire CAS of the next taker.
  core_taken_.store(0, Order::release);
  rv_.nudge_requester();  // Step 3: a requester still waiting for us takes the free core
}

void CurrentThread::submit_metrics() {
  if constexpr (!kMetrics) return;
  poll_count_.set(polls_.get());
  park_count_.set(parks_.get());
  noop_count_.set(noops_.get());
  local_schedule_count_.set(local_schedules_.get());
  busy_count_.set(busy_ns_.get());
  queue_depth_.set(local_.size());
}

void CurrentThread::shutdown() {
  // 1. Mark the runtime shut: dumps asked for from now on are refused.
  // 2. Take the core. A blocking dump that holds it (it reads the queues) finishes
  //    first; it holds the core only while it collects, so the wait is short. A
  //    dump that takes the core after step 4 sees step 1 and refuses.
  //    A blocking dump waiting for the driver is woken (rendezvous step 8): it sees
  //    step 1 and refuses.
  // 3. Cancel every owned task, empty the queues, shut the blocking pool down.
  // 4. Give the core back.
  // acq_rel: one caller wins the shutdown; the release pairs with the acquire loads of shut_ in stand_in
  // and dump_sync.
  if (shut_.exchange(1, Order::acq_rel) != 0) return;
  emit(EventKind::shutdown, -1, 0);
  rv_.shutdown();
  const bool driving = on_driver();
  bool took_core = driving;
  Parker nap;  // our own: parker_wait_ belongs to a block_on waiting for the core
  for (std::uint32_t i = 0; !took_core; ++i) {
    std::uint32_t expected = 0;
    // acq_rel/acquire: pairs with the release store that gave the core back.
    took_core = core_taken_.compare_exchange(expected, 1, Order::acq_rel, Order::acquire);
    if (took_core) break;
    // A dump holds the core only while it collects. Held for a second: a block_on
    // on another thread drives, and shutting down under it is not supported.
    WEFT_CHECK(i < policy::kCoreShutdownTriesMax && "shutdown while another thread runs block_on on this runtime");
    nap.park_for(policy::kCoreWaitNapNs);
  }
  ThreadContext cx;
  cx.scheduler = this;
  cx.core = &core_;
  ContextGuard guard(&cx);
  close_owned_and_cancel(0, 0);
  defer_.with_mut([](std::vector<TaskHeader*>& d) {
    for (TaskHeader* t : d) task_ops::ref_dec(t);
    d.clear();
  });
  while (!local_.empty()) {
    TaskHeader* t = local_.front();
    local_.pop_front();
    task_ops::drop_notified(t);
  }
  {
    std::scoped_lock lock(mu_);
    inject_.close_locked();
    while (TaskHeader* t = inject_.pop_locked()) task_ops::drop_notified(t);
  }
  blocking_.shutdown();
  close_owned_and_cancel(0, 0);
  while (!local_.empty()) {
    TaskHeader* t = local_.front();
    local_.pop_front();
    task_ops::drop_notified(t);
  }
  {
    std::scoped_lock lock(mu_);
    while (TaskHeader* t = inject_.pop_locked()) task_ops::drop_notified(t);
  }
  WEFT_ASSERT(!kMetrics || owned_.alive() == 0);
  // release: gives the core back emptied; pairs with the acquire CAS of the next taker.
  if (!driving) core_taken_.store(0, Order::release);
}

Dump CurrentThread::collect(std::uint64_t, const DumpArrivals& arrivals) {
  const bool driver_held = arrivals.arrived[0] != 0;  // the driver arrived, or we hold the core
  // Read only while the core is held: the driver writes it in collect_alone.
  TaskHeader* const requester_task = driver_held ? requester_task_ : nullptr;
  Dump d;
  d.now_ns = Platform::now_ns();
  std::vector<TaskHeader*> owned;
  owned_.snapshot(owned);
  DumpPlaces where;
  DumpWorker dw;
  dw.index = 0;
  if (driver_held) {
    dw.state = arrivals.parked[0] ? "parked" : "running";
    dw.local_queue_depth = local_.size();
    dw.deferred = defer_.with([](const std::vector<TaskHeader*>& d) { return d.size(); });
    for (TaskHeader* t : local_) where.emplace(t, DumpPlace{DumpLocation::local_queue, 0});
    defer_.with([&](const std::vector<TaskHeader*>& d) {
      for (TaskHeader* t : d) where.emplace(t, DumpPlace{DumpLocation::defer_list, 0});
    });
  } else {
    dw.state = "missed";
    dw.captured = false;
    dw.missed_reason = "the driving thread did not reach the rendezvous in time";
    d.missed_workers.push_back(0);
  }
  d.workers.push_back(dw);
  {
    std::scoped_lock lock(mu_);
    d.injection_queue_depth = inject_.len();
    inject_.for_each_locked([&](TaskHeader* t) { where.emplace(t, DumpPlace{DumpLocation::injection_queue, -1}); });
  }
  place_blocking(blocking_, where);
  d.complete = driver_held;
  collect_tasks(d, owned, where, [&](TaskHeader* t, std::uint64_t s, const DumpPlace* place) {
    return judge(t, s, place, driver_held, requester_task);
  });
  return d;
}

DumpVerdict CurrentThread::judge(TaskHeader* t, std::uint64_t s, const DumpPlace* place, bool driver_held,
                                 TaskHeader* requester_task) {
  const bool running = (s & state::kRunning) != 0, finished = (s & state::kComplete) != 0;
  DumpVerdict v;
  if (t == requester_task) {
    // The task asking for the dump is running on this very thread.
    v.location = DumpLocation::running_requester;
    v.worker = 0;
  } else if (place && (place->location == DumpLocation::blocking_queue ||
                       place->location == DumpLocation::blocking_running)) {
    // A blocking thread runs it, or may at any moment (the driver being held does
    // not stop it): located, but its frame is not read.
  } else if (!running && !finished) {
    if (driver_held) {
      v.read = true;
    } else if (!place && task_ops::try_claim(t)) {
      v.read = v.claimed = true;
    } else if (!place || place->location != DumpLocation::injection_queue) {
      v.not_captured = "the driving thread may run it";
    } else {
      v.not_captured = "queued where the driving thread could take it";
    }
  } else if (running && !place && !driver_held) {
    v.not_captured = "running on the driving thread, which missed the rendezvous";
  }
  if (running && !finished && !place && driver_held && t != requester_task) v.location = DumpLocation::blocking_running;
  return v;
}

bool CurrentThread::stand_in() {
  std::uint32_t free_core = 0;
  // acq_rel/acquire: pairs with the release store that gave the core back.
  if (!core_taken_.compare_exchange(free_core, 1, Order::acq_rel, Order::acquire)) return false;
  // Holding the core, we are the only worker, unless shutdown already came and
  // went (it holds the core while it empties the queues): then give it back, and
  // the requester refuses.
  // acquire: pairs with shutdown's acq_rel exchange of shut_.
  if (shut_.load(Order::acquire) != 0) {
    core_taken_.store(0, Order::release);  // release: pairs with the next taker's acquire compare-exchange
    return false;
  }
  stood_in_ = true;
  return true;
}

Task<Dump> CurrentThread::dump_async(std::uint64_t timeout_ns) {
  ThreadContext* cx = current_context();
  if (cx != nullptr && cx->core == &core_) {
    // Step 2: on the driver, nothing else runs while we collect.
    requester_task_ = cx->current_task;
    struct Reset {
      TaskHeader*& task;
      ~Reset() { task = nullptr; }  // also when collecting throws: judge must not see a stale requester
    } reset{requester_task_};
    Dump d;
    const std::uint64_t r = rv_.collect_alone(0, d);
    if (r == 0) throw DumpError("weft: dump requested while the runtime shuts down");
    co_return d;
  }
  // Elsewhere: the caller's thread waits, at most the timeout.
  co_return dump_sync(timeout_ns);
}

Dump CurrentThread::dump_sync(std::uint64_t timeout_ns) {
  WEFT_CHECK(!on_driver());  // on the driver, co_await dump() instead
  // acquire (here and below): pairs with shutdown's acq_rel exchange of shut_.
  if (shut_.load(Order::acquire) != 0) throw DumpError("weft: dump requested while the runtime shuts down");
  std::scoped_lock serial(dump_serial_);
  // Checked again: the runtime may have shut down while an earlier dump held the lock.
  if (shut_.load(Order::acquire) != 0) throw DumpError("weft: dump requested while the runtime shuts down");
  Parker parker;
  bool leads = false;
  const std::uint64_t r = rv_.open(timeout_ns, &parker, leads);
  if (r == 0) throw DumpError("weft: dump requested while the runtime shuts down");
  Rendezvous::RequesterScope requester(rv_, parker);  // step 9
  if (leads) rv_.lead(r, -1, false);  // the driver waits on its idle parker: we collect for it
  rv_.wait_done(r, parker);           // takes the free core (step 3); refuses on shutdown (step 4)
  if (std::exchange(stood_in_, false)) {
    // release: gives back the core the stand-in took; pairs with the next taker's acquire CAS.
    core_taken_.store(0, Order::release);
    parker_wait_.unpark();  // a block_on that waited for the core may proceed
  }
  Dump d = rv_.take_result();
  // A round answered after shutdown emptied the runtime is no dump of it (step 4).
  // acquire: pairs with shutdown's acq_rel exchange of shut_.
  if (shut_.load(Order::acquire) != 0) throw DumpError("weft: the runtime shut down during the dump");
  return d;
}

RuntimeMetrics CurrentThread::metrics() const { return runtime_metrics(1, inject_); }

WorkerMetrics CurrentThread::worker_metrics(std::uint32_t i) const {
  WEFT_CHECK(i == 0);
  WorkerMetrics m;
  m.poll_count = poll_count_.get();
  m.park_count = park_count_.get();
  m.park_unpark_count = 2 * park_count_.get();
  m.noop_count = noop_count_.get();
  m.local_schedule_count = local_schedule_count_.get();
  m.busy_duration_ns = busy_count_.get();
  m.local_queue_depth = queue_depth_.get();
  m.mean_poll_time_ns = m.poll_count ? m.busy_duration_ns / m.poll_count : 0;
  if (histogram_) {
    for (std::uint32_t b = 0; b < cfg_.histogram_buckets; ++b) m.poll_time_histogram.push_back(histogram_[b].get());
  }
  return m;
}

}  // namespace

std::shared_ptr<RuntimeCore> make_current_thread(Config cfg) {
  return std::make_shared<CurrentThread>(std::move(cfg));
}

}  // namespace detail
WEFT_NS_END
