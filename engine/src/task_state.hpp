// The transitions of a task's state word (TaskState, declared in weft/task.hpp).
//
// The word is RUNNING | COMPLETE | NOTIFIED | JOIN_INTEREST | JOIN_WAKER |
// CANCELLED | refcount, as in Tokio's task state. Each transition below names
// one change of it, asserts what it relies on in the state it leaves (RUNNING
// held, a reference owned, the join fields' owner), and returns what the caller
// must do; a transition never schedules, frees or cancels a task itself.
//
// Who holds what:
//   - RUNNING belongs to one thread at a time: the poller (to_running .. to_idle
//     or to_complete), shutdown (to_shutdown: cancel), or a dump reading an idle
//     frame (to_claimed .. to_unclaimed). The frame and the header's
//     owner-only fields are touched only by the holder of RUNNING.
//   - NOTIFIED with no RUNNING means a queue entry holds one reference; with
//     RUNNING it asks the runner to requeue the task when it lets go.
//   - JOIN_WAKER set: the runtime may read the join waker field; clear: the
//     JoinHandle owns it. COMPLETE is final.
//
// Memory orders. Every transition that reads before it writes runs the one
// update loop: an acquire load (done by the transition, or by its caller for
// unset_join_waker) then compare_exchange with acq_rel on success and acquire on
// failure, retrying from the value the failure read, never with a new load. A
// transition that decides not to write stops without a compare_exchange. What
// the caller must do is decided from the word the loop acted on, at its exit. The
// orders were weighed one by one against weaker ones (tools/order_mutants,
// reports/order-mutants-review.md): the first-guess loads' acquire and the
// failure order's are more than needed, each success's acq_rel is needed;
// what each pairs with is written on the transition. In the simulator every load
// and compare_exchange is a scheduling decision, so the sequence of operations
// on each path is part of the recorded behaviour.
#pragma once

#include <cstdint>

#include "bug_hooks.hpp"
#include "weft/assert.hpp"
#include "weft/task.hpp"

WEFT_NS_BEGIN

// kTransitionAttemptsMax bounds the update loop: each failed compare_exchange
// means another thread changed the word, and no path changes it that often.
inline constexpr std::uint32_t kTransitionAttemptsMax = 1'000'000;

// update runs the transition's three decisions on the current word: stops(cur)
// ends it with no write; otherwise next_of(cur) is written by one
// compare_exchange, retried from the word a failure read. At either exit it
// returns decide(word) for the word it acted on (the one it replaced, or the one
// it stopped at): what the caller must do. decide runs at each exit, on a copy
// the exchange cannot touch, so the compiler, which knows there which branches of
// stops and next_of led to it, need not test the word again on the hot path.
template <class Stops, class NextOf, class Decide>
inline auto TaskState::update(std::uint64_t cur, Stops stops, NextOf next_of, Decide decide) noexcept {
  for (std::uint32_t attempt = 0;; ++attempt) {
    WEFT_ASSERT(attempt < kTransitionAttemptsMax);
    if (stops(cur)) return decide(cur);
    const std::uint64_t seen = cur;  // a success leaves cur equal to it
    // acq_rel/acquire: see each transition for what the orders pair with.
    if (word_.compare_exchange(cur, next_of(seen), Order::acq_rel, Order::acquire)) return decide(seen);
  }
}

// never is the stop decision of a transition that always writes.
inline constexpr auto never = [](std::uint64_t) noexcept { return false; };

// cancelled_while_held is the stop decision of a holder of RUNNING letting go
// (to_idle, to_unclaimed): it asserts the hold, and stops on CANCELLED, leaving
// RUNNING with the caller for the cancel.
inline constexpr auto cancelled_while_held = [](std::uint64_t cur) noexcept {
  WEFT_ASSERT(cur & state::kRunning);
  WEFT_ASSERT(!(cur & state::kComplete));
  return (cur & state::kCancelled) != 0;
};

// keeps_notified says whether to_idle sees a wake that came during the poll.
inline bool keeps_notified(std::uint64_t cur) noexcept {
  if (WEFT_BUG(idle_drops_notified)) return false;  // the wake that came during the poll is dropped
  return (cur & state::kNotified) != 0;
}

// to_running: NOTIFIED -> RUNNING; the queue entry's reference becomes the
// runner's. The acquire pairs with the release of the wake that queued the task
// and of the previous poll's to_idle, so this poll sees that poll's frame and
// what the waker wrote before waking.
inline TaskState::Run TaskState::to_running() noexcept {
  using namespace state;
  return update(
      // acquire: update's first guess, re-read by its acq_rel compare-exchange; a transition that stops
      // here is ordered by its caller's next acquire (reports/order-mutants-review.md: relaxed would do).
      word_.load(Order::acquire), never,
      [](std::uint64_t cur) {
        WEFT_ASSERT(cur & kNotified);  // only a queue entry is polled
        // Running elsewhere or complete (shutdown raced the entry): drop the entry.
        if (cur & kLifecycle) return (cur & ~kNotified) - kRefOne;
        return (cur | kRunning) & ~kNotified;
      },
      [](std::uint64_t prev) {
        if (prev & kLifecycle) {
          WEFT_ASSERT(refs(prev) >= 1);
          return refs(prev) == 1 ? Run::failed_dealloc : Run::failed;
        }
        return (prev & kCancelled) ? Run::cancelled : Run::success;
      });
}

// to_idle: RUNNING -> idle, the end of a poll that did not complete; what
// to_running asserted (RUNNING ours) is asserted back. A NOTIFIED set during the
// poll keeps the runner's reference for the requeue; otherwise it is dropped.
// The release publishes this poll's frame writes to the next to_running (or a
// dump's to_claimed); the acquire takes the writes of a wake that came during
// the poll.
inline TaskState::Idle TaskState::to_idle() noexcept {
  using namespace state;
  return update(
      // acquire: update's first guess, re-read by its acq_rel compare-exchange; a transition that stops
      // here is ordered by its caller's next acquire (reports/order-mutants-review.md: relaxed would do).
      word_.load(Order::acquire), cancelled_while_held,
      [](std::uint64_t cur) {
        if (keeps_notified(cur)) return cur & ~kRunning;
        return (cur & ~(kRunning | kNotified)) - kRefOne;
      },
      [](std::uint64_t prev) {
        if (prev & kCancelled) return Idle::cancelled;
        if (keeps_notified(prev)) return Idle::ok_notified;
        WEFT_ASSERT(refs(prev) >= 1);
        return refs(prev) == 1 ? Idle::ok_dealloc : Idle::ok;
      });
}

// to_complete: RUNNING -> COMPLETE in one RMW (RUNNING is 1 and COMPLETE 2, so
// adding 1 flips both) and returns the word it left. The release publishes the
// output or exception to join_take's acquire load; the acquire takes the join
// waker field that set_join_waker published.
inline std::uint64_t TaskState::to_complete() noexcept {
  static_assert(state::kComplete - state::kRunning == state::kRunning);
  const std::uint64_t prev = word_.fetch_add(state::kComplete - state::kRunning,
                                              WEFT_BUG(complete_relaxed) ? Order::relaxed : Order::acq_rel);
  WEFT_ASSERT(prev & state::kRunning);
  WEFT_ASSERT(!(prev & state::kComplete));
  return prev;
}

// to_notified_by_ref: a wake that keeps the caller's reference. Idle: NOTIFIED
// plus a reference for the queue entry (submit). Running: NOTIFIED only, for the
// runner's to_idle. Complete or notified already: the word is written unchanged,
// so the release still orders the waker's writes before the next poll's
// to_running acquire.
inline TaskState::Wake TaskState::to_notified_by_ref() noexcept {
  using namespace state;
  return update(
      // acquire: update's first guess, re-read by its acq_rel compare-exchange; a transition that stops
      // here is ordered by its caller's next acquire (reports/order-mutants-review.md: relaxed would do).
      word_.load(Order::acquire), never,
      [](std::uint64_t cur) {
        if (cur & kRunning) {
          if (WEFT_BUG(wake_running_not_notified)) return cur;  // the poller never learns of the wake
          return cur | kNotified;
        }
        if (cur & (kComplete | kNotified)) return cur;
        return (cur | kNotified) + kRefOne;
      },
      [](std::uint64_t prev) { return (prev & (kRunning | kComplete | kNotified)) ? Wake::nothing : Wake::submit; });
}

// to_notified_by_val: a wake that consumes the caller's reference. Idle: the
// reference becomes the queue entry's (submit). Running: NOTIFIED, reference
// dropped (the runner holds another). Complete or notified: reference dropped,
// possibly the last (dealloc). Orders as to_notified_by_ref, plus the release of
// a dropped reference before the free.
inline TaskState::Wake TaskState::to_notified_by_val() noexcept {
  using namespace state;
  return update(
      // acquire: update's first guess, re-read by its acq_rel compare-exchange; a transition that stops
      // here is ordered by its caller's next acquire (reports/order-mutants-review.md: relaxed would do).
      word_.load(Order::acquire), never,
      [](std::uint64_t cur) {
        WEFT_ASSERT(refs(cur) >= 1);
        if (cur & kRunning) {
          WEFT_ASSERT(refs(cur) >= 2);  // ours and the runner's
          return (cur | kNotified) - kRefOne;
        }
        if (cur & (kComplete | kNotified)) return cur - kRefOne;
        return cur | kNotified;
      },
      [](std::uint64_t prev) {
        if (prev & kRunning) return Wake::nothing;
        if (prev & (kComplete | kNotified)) return refs(prev) == 1 ? Wake::dealloc : Wake::nothing;
        return Wake::submit;
      });
}

// to_notified_deferred: a task leaves a defer list (it called yield_now). Sets
// NOTIFIED unless complete or notified already (then no write). Idle: the defer
// list's reference becomes the queue entry's (submit). Running (a dump's claim
// holds it): the claim's to_unclaimed requeues it and the caller drops its
// reference. Orders as to_notified_by_ref.
inline TaskState::Deferred TaskState::to_notified_deferred() noexcept {
  using namespace state;
  return update(
      // acquire: update's first guess, re-read by its acq_rel compare-exchange; a transition that stops
      // here is ordered by its caller's next acquire (reports/order-mutants-review.md: relaxed would do).
      word_.load(Order::acquire), [](std::uint64_t cur) { return (cur & (kComplete | kNotified)) != 0; },
      [](std::uint64_t cur) { return cur | kNotified; },
      [](std::uint64_t prev) {
        return (prev & (kComplete | kNotified | kRunning)) ? Deferred::drop : Deferred::submit;
      });
}

// to_cancelled: an abort. No write if cancelled or complete already. Running:
// CANCELLED and NOTIFIED for the runner's to_idle. Notified: CANCELLED for the
// queued poll's to_running. Idle: both, plus a reference for the queue entry
// (submit), so the cancel runs on a worker. The release orders the abort before
// the to_running, to_idle or to_unclaimed that sees CANCELLED.
inline TaskState::Wake TaskState::to_cancelled() noexcept {
  using namespace state;
  return update(
      // acquire: update's first guess, re-read by its acq_rel compare-exchange (relaxed survives the
      // campaign here, as at every transition's first load: order-mutants-review.md, class H).
      word_.load(Order::acquire), [](std::uint64_t cur) { return (cur & (kCancelled | kComplete)) != 0; },
      [](std::uint64_t cur) {
        if (cur & kRunning) return cur | kNotified | kCancelled;
        if (cur & kNotified) return cur | kCancelled;
        return (cur | kNotified | kCancelled) + kRefOne;
      },
      [](std::uint64_t prev) {
        return (prev & (kCancelled | kComplete | kRunning | kNotified)) ? Wake::nothing : Wake::submit;
      });
}

// to_shutdown: the runtime shuts down. Sets CANCELLED; an idle task (neither
// RUNNING nor COMPLETE) also gets RUNNING, so the caller cancels it at once
// (cancel). The acquire pairs with to_idle's release, so the cancel sees the
// last poll's frame.
inline TaskState::Shutdown TaskState::to_shutdown() noexcept {
  using namespace state;
  return update(
      // acquire: update's first guess, re-read by its acq_rel compare-exchange; a transition that stops
      // here is ordered by its caller's next acquire (reports/order-mutants-review.md: relaxed would do).
      word_.load(Order::acquire), never,
      [](std::uint64_t cur) {
        if (cur & kLifecycle) return cur | kCancelled;
        return cur | kCancelled | kRunning;
      },
      [](std::uint64_t prev) { return (prev & kLifecycle) ? Shutdown::marked : Shutdown::cancel; });
}

// to_claimed: a dump takes RUNNING of an idle, un-notified, uncancelled task to
// read its frame with nobody resuming it; no write otherwise (refused). The
// acquire pairs with to_idle's release: the dump reads the frame the last poll
// left.
inline TaskState::Claim TaskState::to_claimed() noexcept {
  using namespace state;
  return update(
      // acquire: update's first guess, re-read by its acq_rel compare-exchange; a transition that stops
      // here is ordered by its caller's next acquire (reports/order-mutants-review.md: relaxed would do).
      word_.load(Order::acquire), [](std::uint64_t cur) { return (cur & (kLifecycle | kNotified | kCancelled)) != 0; },
      [](std::uint64_t cur) { return cur | kRunning; },
      [](std::uint64_t prev) {
        return (prev & (kLifecycle | kNotified | kCancelled)) ? Claim::refused : Claim::claimed;
      });
}

// to_unclaimed: the dump lets go of what to_claimed took (RUNNING, asserted back).
// Cancelled meanwhile: no write, RUNNING stays the caller's (cancel). Woken
// meanwhile: idle plus a reference for the queue entry (submit). The release
// orders the dump's reads before the next poll's to_running.
inline TaskState::Unclaim TaskState::to_unclaimed() noexcept {
  using namespace state;
  return update(
      // acquire: update's first guess, re-read by its acq_rel compare-exchange; a transition that stops
      // here is ordered by its caller's next acquire (reports/order-mutants-review.md: relaxed would do).
      word_.load(Order::acquire), cancelled_while_held,
      [](std::uint64_t cur) {
        if (cur & kNotified) return (cur & ~kRunning) + kRefOne;
        return cur & ~kRunning;
      },
      [](std::uint64_t prev) {
        if (prev & kCancelled) return Unclaim::cancel;
        return (prev & kNotified) ? Unclaim::submit : Unclaim::nothing;
      });
}

// set_join_waker: the JoinHandle publishes the waker it stored in the field
// (JOIN_WAKER), unless the task completed first (no write). The release pairs
// with to_complete's acquire, which reads the field.
inline TaskState::JoinWaker TaskState::set_join_waker() noexcept {
  using namespace state;
  const auto stops = [](std::uint64_t cur) {
    WEFT_ASSERT(cur & kJoinInterest);
    WEFT_ASSERT(!(cur & kJoinWaker));
    return (cur & kComplete) != 0;
  };
  return update(
      // acquire: update's first guess, re-read by its acq_rel compare-exchange; a transition that stops
      // here is ordered by its caller's next acquire (reports/order-mutants-review.md: relaxed would do).
      word_.load(Order::acquire), stops, [](std::uint64_t cur) { return cur | kJoinWaker; },
      [](std::uint64_t prev) { return (prev & kComplete) ? JoinWaker::complete : JoinWaker::done; });
}

// unset_join_waker: the JoinHandle takes the field back (clears JOIN_WAKER) to
// store another waker, unless the task completed first (no write). It starts
// from the caller's snapshot `cur`, loaded with acquire, which set JOIN_WAKER.
// The acquire pairs with the release of set_join_waker.
inline TaskState::JoinWaker TaskState::unset_join_waker(std::uint64_t cur) noexcept {
  using namespace state;
  const auto stops = [](std::uint64_t c) {
    WEFT_ASSERT(c & kJoinInterest);
    return (c & kComplete) != 0;
  };
  return update(
      cur, stops,
      [](std::uint64_t c) {
        WEFT_ASSERT(c & kJoinWaker);
        return c & ~kJoinWaker;
      },
      [](std::uint64_t prev) { return (prev & kComplete) ? JoinWaker::complete : JoinWaker::done; });
}

// unset_join_waker_after_complete: completion has woken the joiner and gives the
// field back (clears JOIN_WAKER in one RMW); returns true if the JoinHandle is
// gone meanwhile, in which case the caller drops the waker. acq_rel: the release
// hands the field to the JoinHandle's to_join_dropped acquire; the acquire sees
// that drop.
inline bool TaskState::unset_join_waker_after_complete() noexcept {
  const std::uint64_t prev = word_.fetch_and(~state::kJoinWaker, Order::acq_rel);
  WEFT_ASSERT(prev & state::kComplete);
  WEFT_ASSERT(prev & state::kJoinWaker);
  return !(prev & state::kJoinInterest);
}

// to_join_dropped: the JoinHandle gives up its interest in the output; before
// completion it also takes the waker field back (drop_waker). The release
// orders the handle's last reads of the output before the free; the acquire
// pairs with unset_join_waker_after_complete's release.
inline TaskState::JoinDropped TaskState::to_join_dropped() noexcept {
  using namespace state;
  return update(
      // acquire: update's first guess, re-read by its acq_rel compare-exchange; a transition that stops
      // here is ordered by its caller's next acquire (reports/order-mutants-review.md: relaxed would do).
      word_.load(Order::acquire), never,
      [](std::uint64_t cur) {
        WEFT_ASSERT(cur & kJoinInterest);
        // Before completion the JoinHandle also takes the waker field back.
        if (cur & kComplete) return cur & ~kJoinInterest;
        return cur & ~(kJoinInterest | kJoinWaker);
      },
      [](std::uint64_t prev) {
        return ((prev & kComplete) && (prev & kJoinWaker)) ? JoinDropped::leave_waker : JoinDropped::drop_waker;
      });
}

WEFT_NS_END
