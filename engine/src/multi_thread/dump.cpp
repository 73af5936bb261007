// What a dump of the multi-thread scheduler collects.
//
// Dump: the rendezvous of engine/src/dump/rendezvous.hpp with every worker a
// participant; requests are serialised by dump_lock_. This file supplies only how
// to collect (MultiThread::collect): held workers' LIFO slots, local queues and
// defer lists, the injection queue and the blocking pool under their locks, and
// every owned task. A complete dump reads every suspended task's backtrace; a
// partial dump reads only tasks it can claim (idle ones, marked RUNNING for the
// read) or that no missed worker can reach.
//
// Reading a frame against shutdown. A task's frame is destroyed only by the holder
// of RUNNING (a poll, a claim's cancel, or shutdown's to_shutdown, which takes
// RUNNING of an idle task: task_state.hpp). The collector reads a frame without
// holding RUNNING, so it may do so only where no other thread can take RUNNING:
//   1. Every worker arrived (all_arrived): each is held until the round is done
//      (rendezvous step 5), shut down or not, and the shutdown() caller cancels only
//      after joining them (worker.cpp shutdown step 3); blocking-pool threads take
//      RUNNING only of tasks placed in the pool, which are never read. The collector
//      reads every idle or queued task it can place.
//   2. Some worker missed the round: that worker may leave its loop at any moment
//      (shutdown step 2, inject_closed) and cancel any owned task through to_shutdown,
//      whichever queue the task sits in, including a held worker's LIFO slot or defer
//      list. So no place is stable: the collector reads only a task it claims first
//      (to_claimed, acq_rel; its acquire pairs with the release of to_idle, and a
//      to_shutdown after the claim sees RUNNING and leaves the cancel to the claim's
//      to_unclaimed, released after the read). A task in a queue, slot or defer
//      list is listed with its place but not captured: a queued (NOTIFIED) task
//      cannot be claimed, and a deferred one may be woken for a missed worker.
#include <mutex>
#include <string>
#include <vector>

#include "bug_hooks.hpp"
#include "multi_thread.hpp"

WEFT_NS_BEGIN
namespace detail {

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
    if (WEFT_BUG(dump_reads_missed_defer)) {  // "only a peek at one length"
      dw.deferred = cores_[i]->defer.with([](const std::vector<TaskHeader*>& v) { return v.size(); });
    }
    return dw;
  }
  const Core& c = *cores_[i];  // its owner is held: stable
  const auto w = static_cast<std::int32_t>(i);
  const bool all_arrived = arrivals.all();
  dw.state = arrivals.parked[i] ? "parked" : (c.is_searching.get() ? "searching" : "running");
  // Read once: the owner is held, but the LIFO watch of a worker that missed the
  // round may empty the slot (queues.hpp, L3; the watch makes no look while a
  // round waits for it, idle.cpp W5, so only a missed watcher can).
  TaskHeader* const slot = c.lifo.task();
  dw.lifo_task = slot == nullptr ? 0 : slot->id_;
  dw.deferred = c.defer.with([](const std::vector<TaskHeader*>& v) { return v.size(); });
  // Step 2: the owner is held, but a missed worker's shutdown can cancel the task.
  if (slot != nullptr) where[slot] = {DumpLocation::lifo_slot, w, all_arrived};
  // Idle while deferred: another thread may wake it for a missed worker to run.
  c.defer.with([&](const std::vector<TaskHeader*>& v) {
    for (TaskHeader* t : v) where.emplace(t, DumpPlace{DumpLocation::defer_list, w, all_arrived});
  });
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
  if (place && (place->location == DumpLocation::blocking_queue || place->location == DumpLocation::blocking_running)) {
    // A blocking thread runs it, or may run it now: located, but its frame is not read.
  } else if (!running && !finished) {
    if (all_arrived || (place && place->stable)) {
      v.read = true;  // Step 1: nobody can resume or cancel it, every worker is held
    } else if (!place && task_ops::try_claim(t)) {
      v.read = v.claimed = true;  // Step 2: read under the claim
    } else {
      v.not_captured = "queued where a worker outside the rendezvous could take it or shut it down";
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
  // acquire (here and in the loop below): pairs with shutdown's acq_rel exchange of shut_ (worker.cpp).
  if (shut_.load(Order::acquire) != 0) throw DumpError("weft: dump requested while the runtime shuts down");
  bool leads = false;
  const std::uint64_t r = rv_.open(timeout_ns, nullptr, leads);
  if (r == 0) throw DumpError("weft: dump requested while the runtime shuts down");
  WEFT_ASSERT(!leads);  // this worker runs the request: it is not blocked
  // Workers (including the one that ran this task) answer and elect a leader;
  // the result arrives through dump_done_, which keeps a permit.
  for (std::uint32_t i = 0; !rv_.done(r); ++i) {
    WEFT_ASSERT(i < 1'000'000);
    // acquire: pairs with shutdown's acq_rel exchange of shut_.
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
    // acquire: pairs with shutdown's acq_rel exchange of shut_ (worker.cpp).
    if (self->shut_.load(Order::acquire) != 0) throw DumpError("weft: dump requested while the runtime shuts down");
    Parker parker;
    bool leads = false;
    const std::uint64_t r = self->rv_.open(timeout_ns, &parker, leads);
    if (r == 0) throw DumpError("weft: dump requested while the runtime shuts down");
    Rendezvous::RequesterScope requester(self->rv_, parker);  // step 9
    if (leads) self->rv_.lead(r, -1, false);  // every worker was blocked
    // No worker leads before the deadline (all stuck, or shutting down): we lead.
    self->rv_.wait_done(r, parker);
    co_return self->rv_.take_result();
  }(this, timeout_ns));
}

}  // namespace detail
WEFT_NS_END
