// CoreBase's timers: registering, cancelling and firing them; the scheduler
// chooses who drives the timers (its on_new_earliest_timer).
#include "runtime_core.hpp"

#include <mutex>
#include <vector>

#include "bug_hooks.hpp"

WEFT_NS_BEGIN
namespace detail {

// register_timer:
//  Step 1: store the waker, while the entry is still the caller's alone.
//  Step 2: under the timer lock, push the entry; from here a worker that fires
//          or cancels it reads the waker, ordered after Step 1 by the lock.
//  Step 3: if it is the new earliest deadline, tell the scheduler (outside the lock).
void CoreBase::register_timer(TimerEntry* e, Waker w) {
  if (!WEFT_BUG(timer_waker_after_register)) e->waker.set(std::move(w));  // Step 1
  bool earliest;
  {  // Step 2
    std::scoped_lock lock(timer_mu_);
    WEFT_ASSERT(!e->registered.get());
    e->fired = false;
    earliest = timers_.push(e);
    timer_count_.store(timers_.size(), Order::release);  // a hint (see timer_count_)
  }
  if (earliest) on_new_earliest_timer();  // Step 3
  // The bug: "nothing fires before the deadline, so the waker can go in last".
  // In virtual time no fiber can fire the entry in between (time stands still
  // while this fiber runs), so no interleaving loses the wake; on OS threads a
  // near deadline fires into an empty waker. Only the happens-before check sees
  // that a firing worker's read of the waker is not ordered after this write.
  if (WEFT_BUG(timer_waker_after_register)) e->waker.set(std::move(w));
}

void CoreBase::cancel_timer(TimerEntry* e) {
  Waker drop;
  {
    std::scoped_lock lock(timer_mu_);
    if (e->registered.get()) {
      if (WEFT_BUG(timer_cancel_keeps_entry)) {  // the bug: "the heap goes away anyway"
        timers_.replace(e, zoo::left_in_heap(*e));
      } else {
        timers_.remove(e);
        timer_count_.store(timers_.size(), Order::release);  // a hint (see timer_count_)
      }
    }
    drop = e->waker.with_mut([](Waker& w) { return std::move(w); });
  }
}

std::size_t CoreBase::fire_timers(std::int32_t worker) {
  if (timer_count_.load(Order::acquire) == 0) return 0;  // a hint, re-checked under timer_mu_ below
  std::uint64_t now = Platform::now_ns();
  std::vector<Waker> due;
  {
    std::scoped_lock lock(timer_mu_);
    while (TimerEntry* e = timers_.top()) {
      const std::uint64_t deadline = e->deadline_ns.get();
      if (deadline > now) break;
      if (WEFT_BUG(timer_due_strictly_before) && deadline == now) break;  // "due" taken as "< now"
      timers_.remove(e);
      e->fired = true;
      due.push_back(e->waker.with_mut([](Waker& w) { return std::move(w); }));
    }
    timer_count_.store(timers_.size(), Order::release);  // a hint (see timer_count_)
  }
  for (Waker& w : due) {
    emit(EventKind::timer_fire, worker, w.task() ? w.task()->id_ : 0);
    w.wake();
  }
  return due.size();
}

std::uint64_t CoreBase::next_timer_deadline() {
  if (timer_count_.load(Order::acquire) == 0) return UINT64_MAX;  // a hint, re-checked under timer_mu_
  return next_timer_deadline_locked();
}

// next_timer_deadline_locked reads the heap under timer_mu_, with no hint first:
// the multi-thread timer driver's Steps D2 and D4 (MultiThread::park_once) rely
// on the lock to order them against a registration (a hint read there is a
// store-buffering window: the driver could read no timer while the registrar
// read no driver).
std::uint64_t CoreBase::next_timer_deadline_locked() {
  std::scoped_lock lock(timer_mu_);
  return timers_.next_deadline();
}

bool CoreBase::has_timers() { return timer_count_.load(Order::acquire) != 0; }  // a hint (see timer_count_)

}  // namespace detail
WEFT_NS_END
