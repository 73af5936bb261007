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
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

#include "queues.hpp"
#include "runtime_core.hpp"

WEFT_NS_BEGIN
namespace detail {
namespace {

class CurrentThread final : public CoreBase {
 public:
  explicit CurrentThread(Config cfg) : CoreBase(cfg, 4) {
    gqi_ = cfg_.global_queue_interval ? cfg_.global_queue_interval : 31;
    if (cfg_.event_interval == 0) cfg_.event_interval = 61;
  }
  ~CurrentThread() override { shutdown(); }

  void schedule(TaskHeader* t, bool is_yield) override;
  void spawn_task(TaskHeader* t) override { schedule(t, false); }
  void shutdown() override;
  void block_on_root(TaskHeader* root) override;
  RuntimeMetrics metrics() const override;
  WorkerMetrics worker_metrics(std::uint32_t i) const override;
  bool has_pending_work() const override {
    return !local_.empty() || !defer_.empty() || !inject_.is_empty() || root_woken_.unsync_load() != 0;
  }

 private:
  struct Core {};  // identity of the driving thread's context
  class RootSched final : public Scheduler {
   public:
    explicit RootSched(CurrentThread& rt) : rt_(rt) {}
    void schedule(TaskHeader*, bool) override {
      rt_.root_woken_.store(1, Order::release);
      rt_.parker_.unpark();
    }
    bool release(TaskHeader*) override { return false; }

   private:
    CurrentThread& rt_;
  };

  TaskHeader* next_task();
  void wake_deferred();
  void park();
  void submit_metrics();
  void on_new_earliest_timer() override { parker_.unpark(); }

  std::uint32_t gqi_;
  Core core_;
  Atomic<std::uint32_t> core_taken_{0};
  std::deque<TaskHeader*> local_;  // only the thread holding the core
  std::vector<TaskHeader*> defer_;  // yielded tasks (core holder only), one reference each
  Mutex mu_;
  InjectQueue inject_;  // guarded by mu_
  Parker parker_;
  Atomic<std::uint32_t> root_woken_{0};
  Atomic<std::uint32_t> shut_{0};
  std::uint32_t tick_ = 0;
  // Metrics batch (core holder) and published values.
  std::uint64_t polls_ = 0, parks_ = 0, noops_ = 0, local_schedules_ = 0, busy_ns_ = 0, polls_at_park_ = 0;
  Counter poll_count_, park_count_, noop_count_, local_schedule_count_, busy_count_, queue_depth_;
};

void CurrentThread::schedule(TaskHeader* t, bool) {
  ThreadContext* cx = current_context();
  if (cx != nullptr && cx->core == &core_) {
    local_.push_back(t);
    ++local_schedules_;
    emit(EventKind::local_push, 0, t->id_);
    return;
  }
  remote_schedule_count_.add(1);
  {
    std::scoped_lock lock(mu_);
    // Emit under the lock: once pushed, the driver may run and free the task.
    if (!inject_.closed_locked()) emit(EventKind::inject_push, -1, t->id_);
    if (!inject_.push_locked(t)) return;  // closed: dropped
  }
  parker_.unpark();
}

TaskHeader* CurrentThread::next_task() {
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
  if (tick_ % gqi_ == 0) {
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
  batch.swap(defer_);
  for (TaskHeader* t : batch) {
    std::uint64_t cur = t->state_.load(Order::acquire);
    bool submit = false;
    for (;;) {
      if (cur & (state::kLifecycle | state::kNotified)) break;
      if (t->state_.compare_exchange(cur, cur | state::kNotified, Order::acq_rel, Order::acquire)) {
        submit = true;
        break;
      }
    }
    if (!submit) {
      task_ops::ref_dec(t);
      continue;
    }
    emit(EventKind::wake, 0, t->id_);
    local_.push_back(t);
    ++local_schedules_;
  }
  batch.clear();
  if (defer_.empty()) defer_.swap(batch);
}

void CurrentThread::park() {
  ++parks_;
  if (polls_ == polls_at_park_) ++noops_;
  polls_at_park_ = polls_;
  submit_metrics();
  emit(EventKind::park, 0, 0);
  std::uint64_t deadline = next_timer_deadline();
  if (deadline == UINT64_MAX) {
    parker_.park();
  } else {
    std::uint64_t now = Platform::now_ns();
    if (deadline > now) parker_.park_for(deadline - now);
  }
  emit(EventKind::unpark, 0, 0);
  fire_timers(0);
}

void CurrentThread::block_on_root(TaskHeader* root) {
  std::uint32_t expected = 0;
  if (!core_taken_.compare_exchange(expected, 1, Order::acq_rel, Order::acquire)) {
    drive_root(root, this);  // another thread drives the tasks
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
  root_woken_.store(1, Order::relaxed);
  std::uint64_t busy_start = Platform::now_ns();
  for (;;) {
    if (root_woken_.exchange(0, Order::acq_rel) != 0 ) {
      // A woken root always holds one notified reference.
      cx.budget = cfg_.budget;
      cx.budget_active = true;
      task_ops::poll(root, -1);
      cx.budget_active = false;
      if (root->state_.load(Order::acquire) & state::kComplete) break;
    }
    bool parked = false;
    for (std::uint32_t i = 0; i < cfg_.event_interval; ++i) {
      ++tick_;
      TaskHeader* t = next_task();
      if (t == nullptr && !defer_.empty()) {
        wake_deferred();  // nothing else to run: the yielded tasks go next
        t = next_task();
      }
      if (t == nullptr) {
        if (root_woken_.load(Order::acquire) != 0) break;
        busy_ns_ += Platform::now_ns() - busy_start;
        park();
        busy_start = Platform::now_ns();
        parked = true;
        break;
      }
      cx.budget = cfg_.budget;
      cx.budget_active = true;
      if (task_ops::poll(t, 0)) ++polls_;
      cx.budget_active = false;
    }
    if (!parked) {
      submit_metrics();
      fire_timers(0);
      wake_deferred();
    }
  }
  task_ops::ref_dec(root);  // the owned reference; a root is never bound
  submit_metrics();
  core_taken_.store(0, Order::release);
}

void CurrentThread::submit_metrics() {
  poll_count_.set(polls_);
  park_count_.set(parks_);
  noop_count_.set(noops_);
  local_schedule_count_.set(local_schedules_);
  busy_count_.set(busy_ns_);
  queue_depth_.set(local_.size());
}

void CurrentThread::shutdown() {
  if (shut_.exchange(1, Order::acq_rel) != 0) return;
  emit(EventKind::shutdown, -1, 0);
  ThreadContext cx;
  cx.scheduler = this;
  cx.core = &core_;
  ContextGuard guard(&cx);
  close_owned_and_cancel(0, 0);
  for (TaskHeader* t : defer_) task_ops::ref_dec(t);
  defer_.clear();
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
  WEFT_ASSERT(owned_.alive() == 0);
}

RuntimeMetrics CurrentThread::metrics() const {
  RuntimeMetrics m;
  m.num_workers = 1;
  m.num_alive_tasks = owned_.alive();
  m.spawned_tasks_count = owned_.added();
  m.injection_queue_depth = inject_.len();
  m.remote_schedule_count = remote_schedule_count_.get();
  m.budget_forced_yield_count = budget_forced_yields_.get();
  m.num_blocking_threads = blocking_.num_threads();
  m.num_idle_blocking_threads = blocking_.num_idle();
  m.blocking_queue_depth = blocking_.queue_depth();
  return m;
}

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
  return m;
}

}  // namespace

std::shared_ptr<RuntimeCore> make_current_thread(Config cfg) {
  return std::make_shared<CurrentThread>(std::move(cfg));
}

}  // namespace detail
WEFT_NS_END
