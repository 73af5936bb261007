// The poll protocol, wakes, cancellation and the join-waker protocol, written on
// the named transitions of TaskState (task_state.hpp): a wake, an abort and a poll
// racing on different threads agree on who schedules the task because each is one
// transition of the state word, and each does what its transition returns.
//
// The poll protocol, run by whichever thread pops the task (task_ops::poll):
//   1. to_running: NOTIFIED -> RUNNING; the queue entry's reference becomes the
//      runner's. Running elsewhere or complete: the entry is dropped, no poll.
//   2. Resume the innermost suspended coroutine (resume_at), unless the awaiter
//      it waits on is not ready (a stale wake): then it stays suspended.
//   3. If the root finished: to_complete, wake the join waker, release the task
//      from the owned list, drop the runner's reference.
//   4. Otherwise to_idle: clear RUNNING; if NOTIFIED was set during the poll (a
//      wake while running, or yield_now) keep the reference and reschedule as a
//      yield (back of the queue, never the LIFO slot); else drop it.
//   5. A CANCELLED bit seen at step 1 or 4 destroys the frame and completes the
//      task as cancelled.
#include <cstdio>

#include "bug_hooks.hpp"
#include "task_state.hpp"
#include "weft/task.hpp"

WEFT_NS_BEGIN

void coop_yield(std::coroutine_handle<> h) {
  ThreadContext* cx = current_context();
  WEFT_CHECK(cx != nullptr && cx->current_task != nullptr);
  if (cx->forced_yields) cx->forced_yields->add(1);
  emit(EventKind::mark, cx->worker_index, cx->current_task->id_, static_cast<std::uint64_t>(Mark::budget_exhausted));
  static constexpr LeafKind kBudget{"budget exhausted", nullptr};
  note_suspend(cx->current_task, h, kBudget);
  task_ops::wake_by_ref(cx->current_task, cx->worker_index);  // RUNNING: requeued after the poll
}

bool coop_spend_on_recheck(std::coroutine_handle<> h) {
  if (WEFT_BUG(recheck_spends_no_budget)) return false;  // the re-check window is free
  ThreadContext* cx = current_context();
  if (cx == nullptr || !cx->budget_active) return false;  // outside a budgeted poll
  if (cx->budget != 0) {
    --cx->budget;
    return false;
  }
  coop_yield(h);
  return true;
}

namespace task_ops {

void dealloc(TaskHeader* t) noexcept {
  if (t->join_waker() != nullptr) {
    // Only reachable when the runtime kept access to the waker (JOIN_WAKER set)
    // and nobody else will touch it again.
    ref_dec(t->take_join_waker());
  }
  t->destroy_cell();
}

namespace {

void submit(TaskHeader* t, std::int32_t worker) {
  emit(EventKind::wake, worker, t->id_);
  t->scheduler_->schedule(t, false);
}

// act_on_wake does what a wake or an abort asked of its caller.
void act_on_wake(TaskHeader* t, TaskState::Wake action, std::int32_t worker) {
  switch (action) {
    case TaskState::Wake::nothing: break;
    case TaskState::Wake::submit: submit(t, worker); break;
    case TaskState::Wake::dealloc: dealloc(t); break;
  }
}

// complete finishes a task whose RUNNING bit we hold: wake the joiner, release the
// task from the owned list, and drop the runner's reference.
void complete(TaskHeader* t, std::int32_t worker, bool cancelled, bool traced = true) {
  std::uint64_t prev = t->state_.to_complete();
  if (traced) emit(EventKind::poll_end, worker, t->id_, cancelled ? 2 : 1);
  if (!(prev & state::kJoinInterest) && !cancelled) {
    if (const std::exception_ptr* e = t->exception()) t->scheduler_->unhandled(*e);
  }
  if (WEFT_BUG(join_waker_not_woken)) prev &= ~state::kJoinWaker;  // the joiner is never woken
  if ((prev & state::kJoinInterest) && (prev & state::kJoinWaker)) {
    task_ops::wake_by_ref(t->join_waker(), worker);
    // Give access to the waker back to the JoinHandle, unless it is gone.
    if (t->state_.unset_join_waker_after_complete()) ref_dec(t->take_join_waker());
  }
  // The owned list's reference too, if the task was on it.
  const std::uint64_t drop = t->scheduler_->release(t) ? 2 : 1;
  if (t->state_.ref_dec(drop)) dealloc(t);
}

}  // namespace

void cancel_unspawned(TaskHeader* t) {
  t->destroy_frame();
  complete(t, -1, true, false);  // never spawned as far as the trace and metrics know
}

void cancel_now(TaskHeader* t, std::int32_t worker) {
  // Destroying the frame runs the destructors of the task's locals, which
  // deregister any waiters they hold.
  t->destroy_frame();
  complete(t, worker, true);
}

void wake_by_ref(TaskHeader* t, std::int32_t worker) { act_on_wake(t, t->state_.to_notified_by_ref(), worker); }

void wake_by_val(TaskHeader* t, std::int32_t worker) { act_on_wake(t, t->state_.to_notified_by_val(), worker); }

void abort(TaskHeader* t) { act_on_wake(t, t->state_.to_cancelled(), -1); }

bool shutdown(TaskHeader* t) { return t->state_.to_shutdown() == TaskState::Shutdown::cancel; }

bool mark_deferred_wake(TaskHeader* t) { return t->state_.to_notified_deferred() == TaskState::Deferred::submit; }

bool try_claim(TaskHeader* t) { return t->state_.to_claimed() == TaskState::Claim::claimed; }

void release_claim(TaskHeader* t, std::int32_t worker) {
  switch (t->state_.to_unclaimed()) {
    case TaskState::Unclaim::nothing: return;
    case TaskState::Unclaim::submit: submit(t, worker); return;
    case TaskState::Unclaim::cancel:
      // Aborted or shut down while claimed: we hold RUNNING, so we cancel it.
      // The reference the cancel drops is the one we take here.
      ref_inc(t);
      t->destroy_frame();
      complete(t, worker, true);  // a cancellation outside any poll: poll_end(2)
      return;
  }
}

bool poll(TaskHeader* t, std::int32_t worker) {
  // The id is read now: after Step 4 another thread may free t.
  const std::uint64_t id = t->id_;
  // Step 1: to_running.
  switch (t->state_.to_running()) {
    case TaskState::Run::success: break;
    case TaskState::Run::cancelled:
      cancel_now(t, worker);  // Step 5
      return false;
    case TaskState::Run::failed: return false;
    case TaskState::Run::failed_dealloc:
      dealloc(t);
      return false;
  }
  // Step 2: resume.
  emit(EventKind::poll_start, worker, id);
  ThreadContext* cx = current_context();
  TaskHeader* prev_task = nullptr;
  if (cx) {
    prev_task = cx->current_task;
    cx->current_task = t;
  }
  try {
    t->resume(cx);  // a stale wake leaves the task suspended
  } catch (...) {
    // Only the platform's own unwind leaves a poll (unhandled_exception keeps every
    // other exception): the simulator tears down a failed run. The poll ends as a
    // cancellation, so the frame is freed and joiners and owners let go of the
    // task as after an abort; then the unwind goes on.
    if (cx) cx->current_task = prev_task;
    if (Platform::unwinding()) cancel_now(t, worker);
    throw;
  }
  if (cx) cx->current_task = prev_task;
  // Step 3: complete, releasing the frame (locals, parameters) before anyone is told.
  if (t->root_done()) {
    t->finish();
    complete(t, worker, false);
    return true;
  }
  // Step 4: to_idle. The poll ends before the release: once RUNNING is clear
  // another worker may poll the task, and the trace must not overlap.
  emit(EventKind::poll_end, worker, id, 0);
  switch (t->state_.to_idle()) {
    case TaskState::Idle::ok: break;
    case TaskState::Idle::ok_notified: t->scheduler_->schedule(t, true); break;
    case TaskState::Idle::ok_dealloc: dealloc(t); break;
    case TaskState::Idle::cancelled:
      // Step 5: poll_end(2) after the poll_end(0) above, a cancellation outside the poll.
      t->destroy_frame();
      complete(t, worker, true);
      break;
  }
  return true;
}

}  // namespace task_ops

namespace detail {

// join_try_register stores waiter as the join waker of t. Returns false if t has
// completed, in which case the caller reads the output at once.
bool join_try_register(TaskHeader* t, TaskHeader* waiter) {
  const std::uint64_t cur = t->state_.load(Order::acquire);  // acquire: pairs with to_complete's release
  WEFT_ASSERT(cur & state::kJoinInterest);
  if (cur & state::kComplete) return false;
  if (cur & state::kJoinWaker) {
    // A waker is stored already. If it wakes the same task, keep it.
    if (t->join_waker() == waiter) return true;
    // Take back access to the field unless completion won.
    if (t->state_.unset_join_waker(cur) == TaskState::JoinWaker::complete) return false;
    task_ops::ref_dec(t->take_join_waker());
  }
  // We have exclusive access to the field: store, then publish with JOIN_WAKER.
  if (t->join_waker() != nullptr) task_ops::ref_dec(t->take_join_waker());
  task_ops::ref_inc(waiter);
  t->store_join_waker(waiter);
  if (t->state_.set_join_waker() == TaskState::JoinWaker::done) return true;
  task_ops::ref_dec(t->take_join_waker());
  return false;
}

// join_drop gives up the JoinHandle's reference and its interest in the output.
void join_drop(TaskHeader* t) noexcept {
  if (t->state_.to_join_dropped() == TaskState::JoinDropped::drop_waker && t->join_waker() != nullptr) {
    task_ops::ref_dec(t->take_join_waker());
  }
  task_ops::ref_dec(t);
}

}  // namespace detail

WEFT_NS_END
