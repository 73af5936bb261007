// The multi-thread scheduler's idle protocol: how a worker with nothing to run
// searches, parks and is woken, and how a parked worker drives the timers.
// Steps 1 and 2 are inline in multi_thread.hpp (they run on every poll).
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
//      If the worker it wakes is itself (the newest sleeper), the work it saw is
//      work it just failed to take: slots another thread holds mid-steal or
//      mid-overflow (steal != real, queues.hpp). It will search again at once, so
//      this is a spin on that thread: it gives a spin hint first, so that thread
//      runs (a simulated strategy deprioritises the spinner; a real core pauses
//      instead of hammering mu_, which that thread's overflow needs).
//      A worker the searching cap refused (step 1) re-checks in the same way when
//      it finds nobody searching as it parks: the searchers it relied on may have
//      left before it joined the sleepers, and their step 2 wake found every worker
//      still unparked, so woke nobody. Without this re-check the work they left
//      behind waits for the next push while this worker sleeps (the
//      lost_parallelism check found it: reports/lost-parallelism.md).
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
// The LIFO watch (Steps W1 to W7, below park_once): one parked worker wakes now
// and then to take a task that waits in another worker's LIFO slot behind a long
// poll (Tokio's 7.6).
#include <algorithm>
#include <mutex>
#include <vector>

#include "bug_hooks.hpp"
#include "multi_thread.hpp"

WEFT_NS_BEGIN
namespace detail {

using policy::kSearchMask;
using policy::kUnparkShift;

// ---- parking ----

void MultiThread::park(Core& core) {
  if (!transition_to_parked(core)) return;
  const auto w = static_cast<std::int32_t>(core.index);
  core.busy_ns += metrics_now_ns() - core.busy_start;
  core.parked = true;
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
  core.parked = false;
  core.busy_start = metrics_now_ns();
}

// The timer driver protocol (one parked worker sleeps until the earliest
// deadline; the others park without one):
//  Step D1. A parking worker that sees timers pending (a hint) claims driver_
//           (compare-exchange from -1, seq_cst).
//  Step D2. It reads the earliest deadline under timer_mu_ and sleeps until it
//           at most, or until unparked.
//  Step D3. It fires what is due.
//  Step D4. It gives driver_ up (-1, seq_cst); then, if it has tasks to run and
//           timers are still pending (read under timer_mu_), it wakes a parked
//           worker to drive in its place.
//  Step D5. (register_timer Step 3, on_new_earliest_timer.) A registrar that
//           pushed a new earliest timer under timer_mu_ reads driver_ once it
//           unlocked: it unparks the driver, or wakes a parked worker if none.
// D2 and D4 against D5 go through timer_mu_: either the driver's locked read
// comes after the push (it sees the timer), or the registrar's lock comes after
// the driver's unlock, so D1 (or D4's store) happens before D5's load of
// driver_, which then reads this driver (or -1). Neither may read the count
// hint instead: a load there after a store on the other side is the
// store-buffering shape, where both could miss the other's write and the new
// earliest timer would have no driver awake.
void MultiThread::park_once(Core& core) {
  Parker& parker = remotes_[core.index]->parker;
  const auto w = static_cast<std::int32_t>(core.index);
  bool drives = false;
  if (has_timers()) {
    std::int32_t none = -1;
    drives = driver_.compare_exchange(none, w, Order::seq_cst, Order::seq_cst);  // Step D1
  }
  // (zoo: "a LIFO task runs next anyway")
  if (n_ >= 2 && cfg_.lifo_enabled && !WEFT_BUG(lifo_unwatched) && claim_watch(core)) {  // Step W1
    watch(core, drives);
    return;
  }
  if (drives) {
    // We drive time: sleep until the earliest deadline at most.
    do {
      std::uint64_t deadline = next_timer_deadline_locked();  // Step D2
      wait_idle(core, [&] {
        std::uint64_t now = Platform::now_ns();
        if (deadline <= now) return;
        if (deadline == UINT64_MAX) parker.park(); else parker.park_for(deadline - now);
      });
      core.in_driver = true;
      fire_timers(w);  // Step D3
      core.in_driver = false;
    } while (WEFT_BUG(driver_sleeps_on_fired) &&
             zoo::driver_sleeps_again(has_timers(), inject_closed(), mu_, sleepers_, core.index));
    driver_leave(core);
    return;
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

void MultiThread::driver_leave(Core& core) {
  const auto w = static_cast<std::int32_t>(core.index);
  driver_.store(-1, Order::seq_cst);  // Step D4
  // Timers still pending (under timer_mu_, not the hint) and we are about to run: hand the driver on.
  if (core.has_tasks(remotes_[core.index]->queue) && next_timer_deadline_locked() != UINT64_MAX) {
    emit(EventKind::mark, w, 0, static_cast<std::uint64_t>(Mark::timer_driver_handoff));
    notify_parked();
  }
  // Tasks the timers woke sit in our queue; share them if there are several.
  if (!core.is_searching.get() && remotes_[core.index]->queue.len() + (core.lifo.empty() ? 0 : 1) > 1) notify_parked();
}

// The LIFO watch (two or more workers). A task put in a worker's LIFO slot runs
// when that worker's current poll ends; if the poll is long, the task would wait
// for it while other workers sleep (Tokio's 7.6), since a LIFO push wakes nobody
// (announcing it would cost every push a fence). One parked worker watches
// instead, from its park:
//  Step W1. A worker about to park claims the watch (compare-exchange of
//           lifo_watch_ from none to itself, seq_cst) if nobody holds it, and
//           forgets what an earlier watch saw.
//  Step W2. The watcher sets watch_deep_ (seq_cst), then reads how many workers
//           are unparked (seq_cst). If some are, it clears the flag and parks for
//           its interval; if none is, nobody can hold a task in a slot, and it
//           parks until unparked. A timer driver that watches parks until the
//           earlier of its deadline and its interval.
//  Step W3. Whoever counts a worker unparked (a notifier's step 4, a driver woken
//           with work) then reads watch_deep_ (seq_cst) and, if it is set,
//           clears it and unparks the watcher, even when the watcher is the
//           worker it counted: that worker may already have run, parked again
//           and claimed the watch anew, and the flag it cleared is the new
//           session's (the unpark it got first was spent). W2 and W3 are the
//           store-buffering pair: either the watcher sees the count or the
//           counter sees the flag, so the watcher never sleeps without a
//           deadline while a worker runs.
//           A woken watcher that is still on the sleeper list, and whose
//           runtime is not shutting down, was woken by W3 or spuriously: it
//           goes back to W2 without leaving its park.
//  Step W4. When a look is due it looks at every other worker: the task it
//           polls (its running task, stored at every poll) and the task in its
//           slot. A task that was in the slot at the last look too, with the same
//           task being polled then and now, has waited at least an interval
//           behind one poll: the watcher takes it (queues.hpp, L3), emits a steal
//           and the lifo_steal mark, and leaves its park to run it.
//  Step W5. The next look is due one interval after this one: the first
//           interval after a look that saw a task in a slot behind a poll,
//           otherwise twice the last, up to the cap (policy.hpp: a task so waits
//           at most kLifoWaitMaxNs). Looks are due at absolute times: a wake in
//           between (W3, a new earliest timer, a spurious one) does not put the
//           next look off. No look is made while a dump round waits for the
//           watcher: it answers the round first.
//  Step W6. Leaving its park for any reason (woken for work, work of its own, a
//           task taken, shutdown), the watcher clears watch_deep_, then gives the
//           watch up (seq_cst); if other workers still sleep and the runtime is
//           not shutting down, it unparks the newest of them (under the lock that
//           guards the list), which stays on the list: its park returns as a
//           spurious wake (step 5), and the next park claims the watch (W1). A
//           notifier wakes another sleeper than the watcher when it can
//           (notify_parked_locked), so the watch changes hands seldom.
//  Step W7. A notifier that takes a sleeper off the list while nobody holds the
//           watch and others still sleep hands it on the same way: the worker it
//           took may have been W6's heir, which now leaves as a searcher.

bool MultiThread::claim_watch(Core& core) {
  std::uint32_t none = kNoWorker;
  if (!lifo_watch_.compare_exchange(none, core.index, Order::seq_cst, Order::seq_cst)) return false;  // Step W1
  std::fill(core.watch_seen.begin(), core.watch_seen.end(), Core::Seen{});
  return true;
}

void MultiThread::watch(Core& core, bool drives) {
  Parker& parker = remotes_[core.index]->parker;
  const auto w = static_cast<std::int32_t>(core.index);
  LocalQueue& q = remotes_[core.index]->queue;
  core.watch_ns = policy::kLifoWatchFirstNs;
  core.watching = true;
  // Looks are due at absolute times (W5), so wakes in between (W3, D5, spurious)
  // do not postpone them.
  std::uint64_t next_look = Platform::now_ns() + core.watch_ns;
  bool was_deep = false;
  for (std::uint32_t round = 0;; ++round) {
    WEFT_ASSERT(round < 100'000'000);
    const std::uint64_t deadline = drives ? next_timer_deadline_locked() : UINT64_MAX;  // Step D2
    watch_deep_.store(1, Order::seq_cst);  // Step W2: flag, then read the count (W3 is the other side)
    const bool deep = (idle_state_.load(Order::seq_cst) >> kUnparkShift) == 0;
    if (!deep) {
      watch_deep_.store(0, Order::seq_cst);
      if (was_deep) next_look = Platform::now_ns() + core.watch_ns;  // out of a deep sleep: a fresh interval
    }
    was_deep = deep;
    bool token = false;
    const bool waited = wait_idle(core, [&] {
      const std::uint64_t now = Platform::now_ns();
      const std::uint64_t until = deep ? deadline : std::min(deadline, next_look);
      if (until <= now) return;
      if (until == UINT64_MAX) {
        parker.park();
        token = true;
      } else {
        token = parker.park_for(until - now);
      }
    });
    if (drives) {
      core.in_driver = true;
      fire_timers(w);  // Step D3
      core.in_driver = false;
    }
    // Work of our own (timers fired into our queue or slot, a dump round answered
    // while we waited that woke its requester onto this core): leave to run it.
    if (!waited) break;
    if (core.has_tasks(q) && !(drives && WEFT_BUG(driver_sleeps_on_fired) &&
                               zoo::driver_sleeps_again(has_timers(), inject_closed(), mu_, sleepers_, core.index)))
      break;
    if (token) {
      bool listed, closed;
      {
        std::scoped_lock lock(mu_);
        listed = std::find(sleepers_.begin(), sleepers_.end(), core.index) != sleepers_.end();
        closed = inject_.closed_locked();
      }
      if (!listed || closed) break;  // woken for work (step 4) or for shutdown
      // Step W3's wake, D5's, or spurious: watch on (a look that is due is still made).
    }
    // Step W4, when due and no dump round waits for us (the next wait answers it
    // first: a leader may be reading the slots of the workers it holds).
    if (!deep && Platform::now_ns() >= next_look && !rv_.pending(core.index)) {
      if (TaskHeader* t = watch_look(core)) {
        q.push_back_or_overflow(t, *this, w);
        break;
      }
      next_look = Platform::now_ns() + core.watch_ns;  // Step W5 set the interval
    }
  }
  // Step W6: clear the flag first, then give the watch up; in the other order a
  // worker could claim it in between, set its own flag, and see it cleared here.
  watch_deep_.store(0, Order::seq_cst);
  lifo_watch_.store(kNoWorker, Order::seq_cst);
  core.watching = false;
  if (drives) driver_leave(core);
  hand_watch_on(core.index);
}

// hand_watch_on is W6's hand-off, and W7's: if workers other than `self` sleep
// while nobody holds the watch, it unparks the newest of them (it stays listed:
// its park returns as a spurious wake, and its next park claims the watch).
// Under mu_ with the list, so that a hand-off and a notifier's pop of the
// worker it picked cannot both miss: whichever takes the lock second sees the
// other's change. relaxed: the mutex orders the watch's release (stored before
// the releaser takes the lock) before a later holder's read.
void MultiThread::hand_watch_on(std::uint32_t self) {
  std::uint32_t next = kNoWorker;
  {
    std::scoped_lock lock(mu_);
    next = watch_heir_locked(self);
  }
  if (next != kNoWorker) remotes_[next]->parker.unpark();
}

std::uint32_t MultiThread::watch_heir_locked(std::uint32_t self) {
  // No watch to hand on: one worker, the slot disabled (W1 claims only then), or (zoo) nobody watches.
  if (n_ < 2 || !cfg_.lifo_enabled || WEFT_BUG(lifo_unwatched)) return kNoWorker;
  if (inject_.closed_locked() || lifo_watch_.load(Order::relaxed) != kNoWorker) return kNoWorker;
  for (auto it = sleepers_.rbegin(); it != sleepers_.rend(); ++it) {
    if (*it != self) return *it;
  }
  return kNoWorker;
}

// watch_look is Steps W4 and W5: the task it took, or null.
TaskHeader* MultiThread::watch_look(Core& core) {
  const auto w = static_cast<std::int32_t>(core.index);
  bool saw = false;
  for (std::uint32_t v = 0; v < n_; ++v) {
    if (v == core.index) continue;
    const std::uint64_t running = stats_[v].running_task.get();
    TaskHeader* t = cores_[v]->lifo.peek();
    Core::Seen& seen = core.watch_seen[v];
    if (running != 0 && t != nullptr) {
      saw = true;
      if (seen.running == running && seen.slot == t && cores_[v]->lifo.steal(t)) {
        seen = {};
        emit(EventKind::steal, w, t->id_, 1, v);
        emit(EventKind::mark, w, t->id_, static_cast<std::uint64_t>(Mark::lifo_steal));
        core.steals += 1;
        core.steal_ops += 1;
        core.watch_ns = policy::kLifoWatchFirstNs;
        return t;
      }
    }
    seen = {running, t};
  }
  core.watch_ns = saw ? policy::kLifoWatchFirstNs : policy::lifo_watch_next(core.watch_ns);  // Step W5
  return nullptr;
}

// wake_deep_watcher is Step W3, after a worker was counted unparked.
void MultiThread::wake_deep_watcher() {
  if (WEFT_BUG(watch_deep_unwoken)) return;  // "the watcher looks every interval anyway"
  if (watch_deep_.load(Order::seq_cst) == 0) return;
  if (watch_deep_.exchange(0, Order::seq_cst) == 0) return;
  // Step W3 unparks the watcher even when it is the worker counted: between the count and
  // this exchange it may have left, parked, claimed the watch and set the flag
  // again (a lost watch under a depth-3 PCT schedule of lifo_long_poll, in
  // tests/regressions/). When the flag was the old session's, the extra unpark
  // is one spurious wake.
  const std::uint32_t watcher = lifo_watch_.load(Order::seq_cst);
  if (watcher != kNoWorker) remotes_[watcher]->parker.unpark();
}

void MultiThread::on_new_earliest_timer() {
  std::int32_t d = driver_.load(Order::seq_cst);  // Step D5 (after timer_mu_'s unlock in register_timer)
  if (d >= 0) {
    remotes_[static_cast<std::uint32_t>(d)]->parker.unpark();
  } else {
    notify_parked();
  }
}

// ---- idle protocol ----

bool MultiThread::transition_to_parked(Core& core) {
  if (core.has_tasks(remotes_[core.index]->queue)) return false;
  bool last_searcher;
  bool refused_alone;  // refused by the cap, and the searchers have all left since
  {
    std::scoped_lock lock(mu_);
    std::uint64_t dec = (1ull << kUnparkShift) + (core.is_searching.get() ? 1 : 0);
    std::uint64_t prev = idle_state_.fetch_sub(dec, Order::seq_cst);
    WEFT_ASSERT((prev >> kUnparkShift) > 0);
    last_searcher = core.is_searching.get() && (prev & kSearchMask) == 1;
    refused_alone = !core.is_searching.get() && (prev & kSearchMask) == 0;
    WEFT_ASSERT(std::find(sleepers_.begin(), sleepers_.end(), core.index) == sleepers_.end());
    sleepers_.push_back(core.index);
    WEFT_ASSERT(sleepers_.size() <= n_);
  }
  core.is_searching.set(false);
  if (WEFT_BUG(last_searcher_parks_blind)) last_searcher = false;  // skips step 3's re-check
  // Step 3 (and its self-wake spin), for the last searcher and a refused worker left alone.
  if ((last_searcher || refused_alone) && notify_if_work_pending() == core.index) Platform::spin_hint();
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
    if (removed && n_ >= 2) wake_deep_watcher();  // Step W3
    core.is_searching.set(!removed);
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
    // The bug re-arms our own token, so the next park returns at once: forever.
    if (WEFT_BUG(spurious_wake_rearms_token)) remotes_[core.index]->parker.unpark();
    return false;  // step 5: spurious
  }
  core.is_searching.set(!WEFT_BUG(woken_forgets_searching));  // a notifier counted us as a searcher
  return true;
}

// notify_parked_locked re-checks under the lock, then takes a sleeper to wake; it
// returns the worker it woke, or kNoWorker.
std::uint32_t MultiThread::notify_parked_locked() {
  std::uint32_t idx, heir = kNoWorker;
  {
    std::scoped_lock lock(mu_);
    if (!notify_should_wakeup() || sleepers_.empty()) return kNoWorker;
    idle_state_.fetch_add((1ull << kUnparkShift) | 1, Order::seq_cst);
    // Another sleeper than the LIFO watcher when there is one (W6). relaxed: a hint; a
    // stale read wakes the watcher, whose W6 hands the watch on.
    if (n_ >= 2 && sleepers_.size() >= 2 && sleepers_.back() == lifo_watch_.load(Order::relaxed))
      std::swap(sleepers_.back(), sleepers_[sleepers_.size() - 2]);
    idx = sleepers_.back();
    sleepers_.pop_back();
    // Step W7: the worker popped may have been the heir of a hand-off (W6) that
    // had not claimed the watch yet; hand it on to another sleeper.
    if (n_ >= 2 && !sleepers_.empty()) heir = watch_heir_locked(idx);
  }
  remotes_[idx]->parker.unpark();
  if (heir != kNoWorker) remotes_[heir]->parker.unpark();
  if (n_ >= 2) wake_deep_watcher();  // Step W3
  return idx;
}

std::uint32_t MultiThread::notify_if_work_pending() {
  for (std::uint32_t i = 0; i < n_; ++i) {
    if (!remotes_[i]->queue.is_empty_for_stealers()) {
      emit(EventKind::mark, -1, 0, static_cast<std::uint64_t>(Mark::last_searcher_notify));
      return notify_parked();
    }
  }
  if (!inject_.is_empty()) {
    emit(EventKind::mark, -1, 0, static_cast<std::uint64_t>(Mark::last_searcher_notify));
    return notify_parked();
  }
  return kNoWorker;
}

// ---- what the lost-parallelism check reads (RuntimeCore::idle_view) ----

// With the caller's truth (RuntimeCore::IdleTruth: which workers are inside a
// poll and which inside park_once, from their own events), the view trusts the
// searching count and the sleeper list only as far as the truth allows, so that
// a count that leaks or a sleeper missing from the list shows as lost
// parallelism instead of hiding it:
//   T1. A worker sleeps when it is inside park_once and not firing timers, listed
//       or not (an unlisted sleeper is being woken, or lost).
//   T2. A listed worker outside park_once and outside a poll is a searcher: it
//       is in step 3, re-checking the queues before it sleeps (or back from a
//       spurious wake). A listed worker inside a poll is running, not searching
//       (it should have left the list).
//   T3. The count (num_searching) can only stand for unlisted workers outside a
//       poll: searchers, and sleepers a notifier took off the list and counted
//       (step 4). It counts for at most that many. A count that leaks is seen only
//       while every unlisted worker is inside a poll: one that steals, pops the
//       injection queue or is held by a dump may be the searcher the count names.
// Without the truth, a worker sleeps when it is listed and parked, and the count
// is taken as it is.
RuntimeCore::IdleView MultiThread::idle_view(std::int32_t worker, const IdleTruth* truth) const {
  IdleView v;
  v.shut_down = shut_.load(Order::seq_cst) != 0;
  const std::uint32_t watcher = lifo_watch_.load(Order::seq_cst);  // seq_cst: read detached, a plain read
  v.watcher = watcher == kNoWorker ? -1 : static_cast<std::int64_t>(watcher);
  v.watch_deep = watch_deep_.load(Order::seq_cst) != 0;
  for (std::uint32_t s : sleepers_) {
    if (s < 64) v.listed |= std::uint64_t{1} << s;
  }
  for (std::uint32_t i = 0; i < n_ && i < 64; ++i) {
    if (cores_[i]->watching) v.watching |= std::uint64_t{1} << i;
  }
  const std::uint64_t counted = idle_state_.load(Order::seq_cst) & kSearchMask;
  v.searching = counted;
  if (v.shut_down) return v;
  // Most samples end here: nobody sleeps (with the truth: no worker inside park),
  // or, without it, somebody searches. The queues are read only when they matter
  // (spare stays 0 otherwise): the check runs at many engine events.
  if (truth == nullptr && (counted > 0 || sleepers_.empty())) return v;
  if (truth != nullptr && n_ <= 64 && truth->parked == 0) return v;
  bool listed_at[policy::kIdleViewWorkers] = {};
  for (std::uint32_t s : sleepers_) {
    if (s < policy::kIdleViewWorkers) listed_at[s] = true;
  }
  auto listed = [&](std::uint32_t i) {
    return i < policy::kIdleViewWorkers ? listed_at[i] : std::find(sleepers_.begin(), sleepers_.end(), i) != sleepers_.end();
  };
  // in_park: inside park_once by the truth (engine's parked flag past its 64 bits).
  auto in_park = [&](std::uint32_t i) {
    return truth != nullptr && i < 64 ? ((truth->parked >> i) & 1) != 0 : cores_[i]->parked;
  };
  auto asleep = [&](std::uint32_t i) {
    return truth != nullptr ? in_park(i) && !cores_[i]->in_driver                       // T1
                            : listed(i) && cores_[i]->parked && !cores_[i]->in_driver;  // listed and parked
  };
  std::uint64_t rechecking = 0, could_be_counted = 0;
  for (std::uint32_t i = 0; i < n_; ++i) {
    const bool polling = truth != nullptr && i < 64 && ((truth->polling >> i) & 1) != 0;
    if (listed(i) && !in_park(i) && !polling) ++rechecking;  // T2
    if (!listed(i) && !polling) ++could_be_counted;          // T3
    if (asleep(i)) ++v.sleeping;
  }
  v.searching = (truth != nullptr ? std::min(counted, could_be_counted) : counted) + rechecking;
  if (v.searching > 0 || v.sleeping == 0) return v;
  v.injected = inject_.len();
  v.spare = v.injected;
  for (std::uint32_t i = 0; i < n_; ++i) {
    const std::uint32_t queued = remotes_[i]->queue.stealable_len();
    const bool slot = !cores_[i]->lifo.empty();
    const std::uint32_t next = !asleep(i) && !slot && queued > 0 ? 1 : 0;
    v.spare += queued - next;
    if (static_cast<std::int32_t>(i) == worker) v.spare_of = queued - next;
    const bool polling = truth != nullptr && i < 64 && ((truth->polling >> i) & 1) != 0;
    if (polling && slot) {
      ++v.behind_poll;
      const std::uint64_t pair = cores_[i]->lifo.task()->id_ * 0x9E3779B97F4A7C15ull ^ stats_[i].running_task.get();
      v.behind_poll_key += (pair ^ (pair >> 29)) * (2 * i + 1);
    }
  }
  return v;
}

// ---- what the harness's place classification reads (RuntimeCore::place_tasks) ----

void MultiThread::place_tasks(const std::function<void(std::uint64_t, TaskPlace)>& visit) const {
  for (std::uint32_t i = 0; i < n_; ++i) {
    const Core& c = *cores_[i];
    if (const TaskHeader* t = c.lifo.task()) visit(t->id(), TaskPlace::lifo_slot);
    remotes_[i]->queue.for_each_queued([&](const TaskHeader* t) { visit(t->id(), TaskPlace::local_queue); });
    c.defer.with([&](const std::vector<TaskHeader*>& d) {
      for (const TaskHeader* t : d) visit(t->id(), TaskPlace::defer_list);
    });
  }
  inject_.for_each_locked([&](const TaskHeader* t) { visit(t->id(), TaskPlace::injection_queue); });
  place_blocking_tasks(visit);
}

}  // namespace detail
WEFT_NS_END
