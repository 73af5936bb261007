// The bug zoo: realistic mistakes planted in the engine, to prove that the
// simulator and its properties find them (tools/bugzoo, reports/bugzoo.md).
//
// A planted bug is one line, `if (WEFT_BUG(name)) ...`, next to the correct code;
// a bug longer than a line is a function here that the line calls. This header is
// on the include path of the zoo targets only (weft_engine_sim_zoo and what links
// it: weft_harness_zoo, bugzoo); every other build finds
// engine/src/no_zoo/bug_hooks.hpp instead, where WEFT_BUG(name) is the constant
// false. Here the active bug is one process-wide variable that the zoo runner
// sets before a run (the simulator runs every fiber on one OS thread).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>
#include <string_view>

#include "../policy.hpp"
#include "weft/platform/platform.hpp"

#if !defined(WEFT_BUG_ZOO) || !defined(WEFT_BACKEND_SIM)
#error "the bug zoo exists only in the simulator's zoo build (weft_engine_sim_zoo)"
#endif

WEFT_NS_BEGIN

// Bug names the planted bugs; kBugNames below gives each its report name.
enum class Bug : std::uint8_t {
  none,
  dump_follower_leaves,        // Tokio 7.1: a timed-out follower leaves, its arrival still counted
  overflow_oldest_half,        // Tokio 7.4: overflow moves the oldest half to the injection queue
  lifo_cap_removed,            // Tokio 7.7: no cap on LIFO polls per tick
  queue_index_8bit,            // Tokio 7.12: 8-bit queue indices, ABA for a preempted stealer
  wake_running_not_notified,   // a wake of a running task forgets NOTIFIED
  last_searcher_parks_blind,   // the last searcher parks without re-checking the queues
  steal_more_than_half,        // a steal takes every task, not half
  pop_ignores_steal,           // the owner's pop ends a concurrent steal
  from_parked_stays_sleeper,   // a worker woken with work stays on the sleeper list
  lifo_polls_uncounted,        // Tokio 7.11: poll_count misses the polls of the LIFO chain
  idle_drops_notified,         // a task notified during its poll is not rescheduled
  join_waker_not_woken,        // completion forgets to wake the JoinHandle's waiter
  remote_push_trusts_driver,   // a push from outside wakes nobody while a worker drives the timers
  ct_parks_with_deferred,      // with timers pending, the current-thread driver parks on its yielded tasks
  inject_every_tick,           // the injection queue is looked at first on every tick but the interval's
  ct_budget_not_armed,         // the current-thread driver polls tasks without arming the budget
  recheck_spends_no_budget,    // an await found ready on its re-check spends no budget
  shutdown_defer_ref_kept,     // leak: shutdown forgets the references of the defer list
  timer_cancel_keeps_entry,    // leak: cancelling a sleep leaves its entry in the timer heap
  spurious_wake_rearms_token,  // livelock: a spurious wake-up unparks itself "not to lose a notify"
  timer_due_strictly_before,   // livelock: timers fire only strictly before now; the driver never blocks
  slot_written_after_publish,  // the owner writes a queue slot after the tail store that publishes it
  complete_relaxed,            // to_complete is relaxed: the output is not released to the joiner
  lifo_displaced_unannounced,  // lost parallelism: a task the LIFO slot displaces to the local queue wakes nobody
  searcher_leaves_unchained,   // lost parallelism: the last searcher to find work does not wake the next (step 2)
  ct_push_trusts_timer,        // stall: with timers pending, a push from another thread leaves the current-thread driver parked
  wake_check_relaxed,          // stale read: the wake check reads the idle state with a relaxed load, not a seq_cst RMW
  dump_round_release_acquire,  // stale read: the dump requester publishes its round with release and reads the blocked flags with acquire
  dump_reads_missed_defer,     // data race: a dump reads the deferred list of a worker that missed the rendezvous (not held)
  driver_sleeps_on_fired,      // stall: the multi-thread timer driver parks again until the next deadline on tasks its timers woke
  timer_waker_after_register,  // data race: a sleep's waker is stored after its entry is registered and announced
  woken_forgets_searching,     // lost parallelism: a worker a notifier counted as a searcher does not know it is one; the count leaks
  search_cap_count_kept,       // lost parallelism: step 1 counts itself a searcher before the cap check and keeps the count when refused
  queue_buffer_leaked,         // heap leak: a local queue's destructor lets go of its ring buffer without freeing it
  lifo_unwatched,              // Tokio 7.6: nobody watches the LIFO slots; a task there waits out its worker's long poll
  lifo_take_plain,             // atomicity: the owner takes from its LIFO slot by a load and a store; a watcher's take in between runs the task twice
  watch_deep_unwoken,          // lost parallelism: a worker counted unparked does not wake the watcher sleeping without a deadline (W3)
  count_,
};

inline constexpr std::string_view kBugNames[] = {
    "none",
    "dump_follower_leaves",
    "overflow_oldest_half",
    "lifo_cap_removed",
    "queue_index_8bit",
    "wake_running_not_notified",
    "last_searcher_parks_blind",
    "steal_more_than_half",
    "pop_ignores_steal",
    "from_parked_stays_sleeper",
    "lifo_polls_uncounted",
    "idle_drops_notified",
    "join_waker_not_woken",
    "remote_push_trusts_driver",
    "ct_parks_with_deferred",
    "inject_every_tick",
    "ct_budget_not_armed",
    "recheck_spends_no_budget",
    "shutdown_defer_ref_kept",
    "timer_cancel_keeps_entry",
    "spurious_wake_rearms_token",
    "timer_due_strictly_before",
    "slot_written_after_publish",
    "complete_relaxed",
    "lifo_displaced_unannounced",
    "searcher_leaves_unchained",
    "ct_push_trusts_timer",
    "wake_check_relaxed",
    "dump_round_release_acquire",
    "dump_reads_missed_defer",
    "driver_sleeps_on_fired",
    "timer_waker_after_register",
    "woken_forgets_searching",
    "search_cap_count_kept",
    "queue_buffer_leaked",
    "lifo_unwatched",
    "lifo_take_plain",
    "watch_deep_unwoken",
};
static_assert(std::size(kBugNames) == static_cast<std::size_t>(Bug::count_));

// active_bug is the planted bug of the current run.
inline Bug active_bug = Bug::none;
#define WEFT_BUG(name) (::weft::active_bug == ::weft::Bug::name)

namespace detail::zoo {

// claim_with_8bit_indices is the steal's claim under queue_index_8bit (Tokio 7.12,
// #5041): 8-bit indices compare modulo 256, so a head that the owner moved on by
// 256 while the thief was preempted looks unchanged, and the thief's stale count n
// is claimed from wherever the head is now. Returns true once claimed (next holds
// the claim); false with prev holding the head it saw, for the next attempt.
template <class Queue>
bool claim_with_8bit_indices(Atomic<std::uint64_t>& head, std::uint64_t& prev, std::uint32_t n, std::uint64_t& next) {
  std::uint64_t cur = head.load(Order::acquire);  // acquire: as the correct claim's read of head
  if (((cur ^ prev) & 0x000000ff'000000ffull) == 0) {
    next = Queue::pack(Queue::real_of(cur), Queue::real_of(cur) + n);
    // acq_rel/acquire: as the correct claim's CAS, which pairs with the owner's pop.
    if (head.compare_exchange(cur, next, Order::acq_rel, Order::acquire)) return true;
  }
  prev = cur;
  return false;
}

// publish_then_write is the push under slot_written_after_publish: the tail store
// that publishes the slot comes before the slot's write. No decision point lies
// between the two, so no interleaving shows a stealer the empty slot; only the
// happens-before check sees that a stealer's read of the slot is not ordered
// after its write.
template <class Slot, class T>
void publish_then_write(Atomic<std::uint32_t>& tail, Slot& slot, std::uint32_t tail_now, T* task) {
  tail.store(tail_now + 1, Order::release);  // release: as the correct push's store of tail
  slot.set(task);
}

// should_wakeup_by_load is step 4's check (multi_thread.hpp, notify_should_wakeup)
// under wake_check_relaxed: the idle state is read by a relaxed load instead of
// a seq_cst read-modify-write. In the store-buffering pair with the last
// searcher (it decrements the searchers, then re-checks the queues), the
// pusher's release store of its queue's tail and this load may both be
// reordered: the pusher reads a stale "somebody searches" and wakes nobody while
// the searcher reads the stale empty queue and parks. Every interleaving reads
// the newest value, so only the C11 model's stale reads show it.
inline bool should_wakeup_by_load(const Atomic<std::uint64_t>& idle_state, std::uint32_t n) {
  const std::uint64_t s = idle_state.load(Order::relaxed);  // relaxed: the bug; pairs with nothing
  return (s & policy::kSearchMask) == 0 && (s >> policy::kUnparkShift) < n;
}

// count_then_cap is step 1 (multi_thread.hpp, transition_to_searching) under
// search_cap_count_kept: the worker counts itself a searcher first and checks
// the cap on the count it replaced, and when the cap refuses it returns without
// taking its count back. num_searching then says somebody searches while nobody
// does: step 4 wakes nobody, and the last searcher's re-check (step 3) never
// runs, since no searcher is the last.
template <class Flag>
bool count_then_cap(Atomic<std::uint64_t>& idle_state, std::uint32_t n, Flag& is_searching) {
  const std::uint64_t prev = idle_state.fetch_add(1, Order::seq_cst);
  if (policy::searching_cap_reached(prev & policy::kSearchMask, n)) return false;  // the count stays
  is_searching.set(true);
  return true;
}

// driver_sleeps_again is the driver's loop condition under driver_sleeps_on_fired:
// "time is all that is left to do", so while timers are pending the driver parks
// again until the next deadline, on whatever its timers just woke into its own
// queue. It still leaves when a notifier took it off the sleepers (it counts as a
// searcher then) and at shutdown, so only the work its own timers woke waits.
template <class Mutex, class Sleepers>
bool driver_sleeps_again(bool timers_pending, bool closed, Mutex& mu, const Sleepers& sleepers, std::uint32_t self) {
  if (!timers_pending || closed) return false;
  std::scoped_lock lock(mu);
  for (std::uint32_t s : sleepers) {
    if (s == self) return true;
  }
  return false;
}

// left_in_heap is what timer_cancel_keeps_entry leaves in the timer heap in place
// of a cancelled entry. The bug as written would leave the entry itself, inside
// the sleep's frame that is about to be freed: a use after free that an ASan
// build reports as a crash instead of the leak the checks exist to find. The
// copy has the entry's deadline and no waker (cancel_timer took it), and it is
// never freed: it stays counted as a held timer until it fires, like the entry
// would. The list keeps it reachable, so LeakSanitizer does not report it.
template <class Entry>
Entry* left_in_heap(const Entry& cancelled) {
  static auto* kept = new std::vector<std::unique_ptr<Entry>>;  // never freed, on purpose
  kept->push_back(std::make_unique<Entry>());
  kept->back()->deadline_ns.set(cancelled.deadline_ns.get());
  return kept->back().get();
}

}  // namespace detail::zoo
WEFT_NS_END
