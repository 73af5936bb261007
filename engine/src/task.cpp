// Task state transitions, the poll protocol and the join-waker protocol.
//
// Every transition is one CAS loop (or RMW) on the state word, so a wake, an abort
// and a poll racing on different threads always agree on who schedules the task.
#include <cstdio>

#include "bug_hooks.hpp"
#include "weft/task.hpp"

WEFT_NS_BEGIN

namespace detail {
namespace {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kPoolEnabled = false;
#else
constexpr bool kPoolEnabled = true;
#endif
constexpr std::size_t kGranule = 32;
constexpr std::size_t kClasses = 16;  // blocks up to 512 bytes
constexpr std::uint32_t kCacheMax = 1024;  // blocks kept per class and thread

// PoolCache is one thread's free lists; blocks go back to the heap at thread exit.
struct PoolCache {
  struct Block {
    Block* next;
  };
  Block* heads[kClasses] = {};
  std::uint32_t counts[kClasses] = {};
  ~PoolCache() {
    for (std::size_t c = 0; c < kClasses; ++c) {
      while (Block* b = heads[c]) {
        heads[c] = b->next;
        ::operator delete(b);
      }
    }
  }
};
thread_local PoolCache g_pool;

}  // namespace

void* pool_alloc(std::size_t n) {
  if (!kPoolEnabled || n > kGranule * kClasses) return ::operator new(n);
  std::size_t c = (n - 1) / kGranule;
  if (PoolCache::Block* b = g_pool.heads[c]) {
    g_pool.heads[c] = b->next;
    --g_pool.counts[c];
    return b;
  }
  return ::operator new((c + 1) * kGranule);
}

void pool_free(void* p, std::size_t n) noexcept {
  if (!kPoolEnabled || n > kGranule * kClasses) {
    ::operator delete(p);
    return;
  }
  std::size_t c = (n - 1) / kGranule;
  if (g_pool.counts[c] >= kCacheMax) {
    ::operator delete(p);
    return;
  }
  auto* b = static_cast<PoolCache::Block*>(p);
  b->next = g_pool.heads[c];
  g_pool.heads[c] = b;
  ++g_pool.counts[c];
}

}  // namespace detail

void coop_yield(std::coroutine_handle<> h) {
  ThreadContext* cx = current_context();
  WEFT_CHECK(cx != nullptr && cx->current_task != nullptr);
  if (cx->forced_yields) cx->forced_yields->add(1);
  emit(EventKind::mark, cx->worker_index, cx->current_task->id_, static_cast<std::uint64_t>(Mark::budget_exhausted));
  note_suspend(cx->current_task, h, "budget exhausted");
  task_ops::wake_by_ref(cx->current_task, cx->worker_index);  // RUNNING: requeued after the poll
}

namespace task_ops {

using namespace state;

void dealloc(TaskHeader* t) noexcept {
  WEFT_ASSERT(t->join_waker_ == nullptr || true);
  if (t->join_waker_ != nullptr) {
    // Only reachable when the runtime kept access to the waker (JOIN_WAKER set)
    // and nobody else will touch it again.
    ref_dec(std::exchange(t->join_waker_, nullptr));
  }
  t->vtable_->destroy_cell(t);
}

namespace {

enum class Wake { nothing, submit, dealloc };

void submit(TaskHeader* t, std::int32_t worker) {
  emit(EventKind::wake, worker, t->id_);
  t->scheduler_->schedule(t, false);
}

// complete finishes a task whose RUNNING bit we hold: wake the joiner, release the
// task from the owned list, and drop the runner's reference.
void complete(TaskHeader* t, std::int32_t worker, bool cancelled, bool traced = true) {
  // RUNNING (1) is set and COMPLETE (2) clear, so adding 1 flips both.
  std::uint64_t prev = t->state_.fetch_add(kComplete - kRunning, Order::acq_rel);
  WEFT_ASSERT(prev & kRunning);
  WEFT_ASSERT(!(prev & kComplete));
  if (traced) emit(EventKind::poll_end, worker, t->id_, cancelled ? 2 : 1);
  if (!(prev & kJoinInterest) && !cancelled && t->exception_) t->scheduler_->unhandled(t->exception_);
  if (WEFT_BUG(join_waker_not_woken)) prev &= ~kJoinWaker;  // the joiner is never woken
  if ((prev & kJoinInterest) && (prev & kJoinWaker)) {
    task_ops::wake_by_ref(t->join_waker_, worker);
    // Give access to the waker back to the JoinHandle, unless it is gone.
    std::uint64_t p2 = t->state_.fetch_and(~kJoinWaker, Order::acq_rel);
    WEFT_ASSERT(p2 & kJoinWaker);
    if (!(p2 & kJoinInterest)) ref_dec(std::exchange(t->join_waker_, nullptr));
  }
  std::uint64_t drop = t->scheduler_->release(t) ? 2 : 1;
  std::uint64_t p3 = t->state_.fetch_sub(drop * kRefOne, Order::acq_rel);
  WEFT_ASSERT(refs(p3) >= drop);
  if (refs(p3) == drop) dealloc(t);
}

}  // namespace

void cancel_unspawned(TaskHeader* t) {
  t->vtable_->destroy_frame(t);
  complete(t, -1, true, false);  // never spawned as far as the trace and metrics know
}

void cancel_now(TaskHeader* t, std::int32_t worker) {
  // Destroying the frame runs the destructors of the task's locals, which
  // deregister any waiters they hold.
  t->vtable_->destroy_frame(t);
  complete(t, worker, true);
}

void wake_by_ref(TaskHeader* t, std::int32_t worker) {
  std::uint64_t cur = t->state_.load(Order::acquire);
  for (;;) {
    std::uint64_t next;
    Wake action;
    if (cur & kRunning) {
      next = cur | kNotified;
      if (WEFT_BUG(wake_running_not_notified)) next = cur;  // the poller never learns of the wake
      action = Wake::nothing;
    } else if (cur & (kComplete | kNotified)) {
      // Still write with Release so the wake happens-before the next poll.
      next = cur;
      action = Wake::nothing;
    } else {
      next = (cur | kNotified) + kRefOne;
      action = Wake::submit;
    }
    if (t->state_.compare_exchange(cur, next, Order::acq_rel, Order::acquire)) {
      if (action == Wake::submit) submit(t, worker);
      return;
    }
  }
}

void wake_by_val(TaskHeader* t, std::int32_t worker) {
  std::uint64_t cur = t->state_.load(Order::acquire);
  for (;;) {
    std::uint64_t next;
    Wake action;
    if (cur & kRunning) {
      WEFT_ASSERT(refs(cur) >= 2);
      next = (cur | kNotified) - kRefOne;
      action = Wake::nothing;
    } else if (cur & (kComplete | kNotified)) {
      next = cur - kRefOne;
      action = refs(cur) == 1 ? Wake::dealloc : Wake::nothing;
    } else {
      next = cur | kNotified;  // our reference becomes the queue entry's
      action = Wake::submit;
    }
    if (t->state_.compare_exchange(cur, next, Order::acq_rel, Order::acquire)) {
      if (action == Wake::submit) submit(t, worker);
      if (action == Wake::dealloc) dealloc(t);
      return;
    }
  }
}

void abort(TaskHeader* t) {
  std::uint64_t cur = t->state_.load(Order::acquire);
  for (;;) {
    std::uint64_t next;
    Wake action = Wake::nothing;
    if (cur & (kCancelled | kComplete)) return;
    if (cur & kRunning) {
      next = cur | kNotified | kCancelled;
    } else if (cur & kNotified) {
      next = cur | kCancelled;
    } else {
      next = (cur | kNotified | kCancelled) + kRefOne;
      action = Wake::submit;
    }
    if (t->state_.compare_exchange(cur, next, Order::acq_rel, Order::acquire)) {
      if (action == Wake::submit) submit(t, -1);
      return;
    }
  }
}

bool shutdown(TaskHeader* t) {
  std::uint64_t cur = t->state_.load(Order::acquire);
  for (;;) {
    std::uint64_t next = cur | kCancelled;
    bool idle = (cur & kLifecycle) == 0;
    if (idle) next |= kRunning;
    if (t->state_.compare_exchange(cur, next, Order::acq_rel, Order::acquire)) return idle;
  }
}

bool mark_deferred_wake(TaskHeader* t) {
  std::uint64_t cur = t->state_.load(Order::acquire);
  for (;;) {
    if (cur & (kComplete | kNotified)) return false;
    std::uint64_t next = cur | kNotified;
    if (t->state_.compare_exchange(cur, next, Order::acq_rel, Order::acquire)) return (cur & kRunning) == 0;
  }
}

bool try_claim(TaskHeader* t) {
  std::uint64_t cur = t->state_.load(Order::acquire);
  for (;;) {
    if (cur & (kLifecycle | kNotified | kCancelled)) return false;
    if (t->state_.compare_exchange(cur, cur | kRunning, Order::acq_rel, Order::acquire)) return true;
  }
}

void release_claim(TaskHeader* t, std::int32_t worker) {
  std::uint64_t cur = t->state_.load(Order::acquire);
  for (;;) {
    WEFT_ASSERT(cur & kRunning);
    if (cur & kCancelled) {
      // Aborted or shut down while claimed: we hold RUNNING, so we cancel it.
      // The reference the cancel drops is the one we take here.
      ref_inc(t);
      t->vtable_->destroy_frame(t);
      complete(t, worker, true);  // a cancellation outside any poll: poll_end(2)
      return;
    }
    bool notified = (cur & kNotified) != 0;
    std::uint64_t next = cur & ~kRunning;
    if (notified) next += kRefOne;  // the queue entry's reference
    if (t->state_.compare_exchange(cur, next, Order::acq_rel, Order::acquire)) {
      if (notified) submit(t, worker);
      return;
    }
  }
}

bool poll(TaskHeader* t, std::int32_t worker) {
  // The id is read now: after the idle transition another thread may free t.
  const std::uint64_t id = t->id_;
  // 1. transition_to_running.
  std::uint64_t cur = t->state_.load(Order::acquire);
  for (;;) {
    WEFT_ASSERT(cur & kNotified);
    if (cur & kLifecycle) {
      // Running elsewhere or complete (shutdown raced us): drop our entry.
      std::uint64_t next = (cur & ~kNotified) - kRefOne;
      if (t->state_.compare_exchange(cur, next, Order::acq_rel, Order::acquire)) {
        if (refs(cur) == 1) dealloc(t);
        return false;
      }
      continue;
    }
    std::uint64_t next = (cur | kRunning) & ~kNotified;
    if (t->state_.compare_exchange(cur, next, Order::acq_rel, Order::acquire)) break;
  }
  if (cur & kCancelled) {
    cancel_now(t, worker);
    return false;
  }
  // 2. Resume.
  emit(EventKind::poll_start, worker, id);
  ThreadContext* cx = current_context();
  TaskHeader* prev_task = nullptr;
  if (cx) {
    prev_task = cx->current_task;
    cx->current_task = t;
  }
  if (t->ready_fn_ == nullptr || t->ready_fn_(t->ready_arg_)) {
    t->ready_fn_ = nullptr;
    t->resume_at_.resume();
  }  // else: a stale wake; the awaiter is not ready and the task stays suspended
  if (cx) cx->current_task = prev_task;
  // 3. Complete: release the frame (locals, parameters) before anyone is told.
  if (t->root_.done()) {
    t->vtable_->finish(t);
    complete(t, worker, false);
    return true;
  }
  // 4. transition_to_idle. The poll ends before the release: once RUNNING is
  // clear another worker may poll the task, and the trace must not overlap.
  emit(EventKind::poll_end, worker, id, 0);
  cur = t->state_.load(Order::acquire);
  for (;;) {
    WEFT_ASSERT(cur & kRunning);
    if (cur & kCancelled) {
      t->vtable_->destroy_frame(t);
      complete(t, worker, true);  // poll_end(2) after the poll_end(0) above: a cancellation outside the poll
      return true;
    }
    std::uint64_t next = cur & ~kRunning;
    if (WEFT_BUG(idle_drops_notified)) next &= ~kNotified;  // the wake that came during the poll is dropped
    const bool notified = (next & kNotified) != 0;
    if (!notified) next -= kRefOne;
    if (t->state_.compare_exchange(cur, next, Order::acq_rel, Order::acquire)) {
      if (notified) {
        t->scheduler_->schedule(t, true);
      } else if (refs(cur) == 1) {
        dealloc(t);
      }
      return true;
    }
  }
}

}  // namespace task_ops

namespace detail {

using namespace state;

// join_try_register stores waiter as the join waker of t. Returns false if t has
// completed, in which case the caller reads the output at once.
bool join_try_register(TaskHeader* t, TaskHeader* waiter) {
  std::uint64_t cur = t->state_.load(Order::acquire);
  WEFT_ASSERT(cur & kJoinInterest);
  if (cur & kComplete) return false;
  if (cur & kJoinWaker) {
    // A waker is stored already. If it wakes the same task, keep it.
    if (t->join_waker_ == waiter) return true;
    // Take back access to the field: clear JOIN_WAKER unless completion won.
    for (;;) {
      if (cur & kComplete) return false;
      if (t->state_.compare_exchange(cur, cur & ~kJoinWaker, Order::acq_rel, Order::acquire)) break;
    }
    task_ops::ref_dec(std::exchange(t->join_waker_, nullptr));
  }
  // We have exclusive access to the field: store, then publish with JOIN_WAKER.
  if (t->join_waker_ != nullptr) task_ops::ref_dec(std::exchange(t->join_waker_, nullptr));
  task_ops::ref_inc(waiter);
  t->join_waker_ = waiter;
  cur = t->state_.load(Order::acquire);
  for (;;) {
    if (cur & kComplete) {
      task_ops::ref_dec(std::exchange(t->join_waker_, nullptr));
      return false;
    }
    if (t->state_.compare_exchange(cur, cur | kJoinWaker, Order::acq_rel, Order::acquire)) return true;
  }
}

// join_drop gives up the JoinHandle's reference and its interest in the output.
void join_drop(TaskHeader* t) noexcept {
  std::uint64_t cur = t->state_.load(Order::acquire);
  std::uint64_t next;
  for (;;) {
    WEFT_ASSERT(cur & kJoinInterest);
    next = cur & ~kJoinInterest;
    // Before completion we may also take back the waker field.
    if (!(cur & kComplete)) next &= ~kJoinWaker;
    if (t->state_.compare_exchange(cur, next, Order::acq_rel, Order::acquire)) break;
  }
  if (!(next & kJoinWaker) && t->join_waker_ != nullptr) {
    task_ops::ref_dec(std::exchange(t->join_waker_, nullptr));
  }
  task_ops::ref_dec(t);
}

}  // namespace detail

WEFT_NS_END
