// The simulated facade's condition_variable (facade/sim/include/weft/facade_backend.hpp).
//
// The waiter queue is plain data: in a simulation only one fiber runs at a time and
// a fiber is switched out only at a decision point, so the queue changes between
// decisions are atomic with respect to the other fibers.
#include "weft/facade_backend.hpp"

#include "weft/sim/detail/kernel.hpp"

namespace weft::sync {

void condition_variable::sync_epoch() {
  const sim::detail::Kernel* k = sim::detail::tls_kernel;
  if (k != nullptr && epoch_ != k->epoch()) {
    head_ = tail_ = nullptr;
    epoch_ = k->epoch();
  }
}

void condition_variable::push_back(Waiter& w) noexcept {
  w.prev = tail_;
  w.next = nullptr;
  if (tail_ != nullptr) {
    tail_->next = &w;
  } else {
    head_ = &w;
  }
  tail_ = &w;
}

void condition_variable::remove(Waiter& w) noexcept {
  if (w.prev != nullptr) {
    w.prev->next = w.next;
  } else {
    head_ = w.next;
  }
  if (w.next != nullptr) {
    w.next->prev = w.prev;
  } else {
    tail_ = w.prev;
  }
  w.next = w.prev = nullptr;
}

void condition_variable::notify_one() {
  facade_detail::require_exploration("weft::sync::condition_variable::notify_one");
  sync_epoch();
  Waiter* w = head_;
  if (w == nullptr) {
    // No waiter: still a decision, as the unpark below is one when there is a waiter.
    sim_backend::detail::point(sim::Op::unpark);
    return;
  }
  remove(*w);
  w->notified = true;
  w->parker.unpark();
}

void condition_variable::notify_all() {
  facade_detail::require_exploration("weft::sync::condition_variable::notify_all");
  sync_epoch();
  if (head_ == nullptr) {
    sim_backend::detail::point(sim::Op::unpark);
    return;
  }
  // Detach the whole queue first: the unparks are decisions, and a woken waiter
  // that waits again joins a fresh queue rather than this notify's.
  Waiter* w = head_;
  head_ = tail_ = nullptr;
  while (w != nullptr) {
    Waiter* next = w->next;
    w->next = w->prev = nullptr;
    w->notified = true;
    w->parker.unpark();
    w = next;
  }
}

void condition_variable::wait(std::unique_lock<mutex>& lock) { wait_ns(lock, kForever); }

bool condition_variable::wait_ns(std::unique_lock<mutex>& lock, std::uint64_t ns) {
  facade_detail::require_exploration("weft::sync::condition_variable::wait");
  if (!lock.owns_lock()) {
    sim_backend::SimPlatform::assertion_failed("condition_variable::wait: the unique_lock does not hold its mutex",
                                               __FILE__, __LINE__);
  }
  sync_epoch();
  Waiter self;
  {
    // The record lives on this stack, so it leaves the queue whichever way the park
    // ends: a return, or the unwind of a failed run's teardown (a later notify
    // would otherwise write into a dead stack). A notify already took it off.
    struct Leave {
      condition_variable& cv;
      Waiter& w;
      ~Leave() {
        if (!w.notified) cv.remove(w);
      }
    } leave{*this, self};
    push_back(self);  // queued before the unlock: a notify after it finds us
    lock.unlock();
    if (ns == kForever) {
      self.parker.park();  // may return spuriously (injected), like std's wait
    } else {
      self.parker.park_for(ns);
    }
    // Between the park's return and the Leave there is no decision: no notify can race.
  }
  lock.lock();
  return self.notified;
}

}  // namespace weft::sync
