// The shared runtime core: owned tasks, timers, the blocking pool, block_on of a
// root coroutine, and the Runtime/Handle entry points.
#include "runtime_core.hpp"

#include "policy.hpp"

#include <algorithm>
#include <cstdio>
#include <exception>
#include <nlohmann/json.hpp>

WEFT_NS_BEGIN
namespace detail {

namespace {
std::uint32_t next_pow2(std::uint32_t v) {
  std::uint32_t p = 1;
  while (p < v) p <<= 1;
  return p;
}
}  // namespace

CoreBase::CoreBase(Config cfg, std::uint32_t owned_shards)
    : cfg_(std::move(cfg)),
      owned_(next_pow2(owned_shards)),
      blocking_(this, cfg_.max_blocking_threads, cfg_.blocking_keep_alive_ns) {}

CoreBase::~CoreBase() = default;

TaskHeader* CoreBase::bind_new(TaskHeader* t) {
  if (owned_.bind(t)) return t;
  // Shut down already: cancel at once. The task holds three references (owned,
  // notified, join); the cancel drops one as the runner's, we drop the notified
  // one, and the JoinHandle keeps its own.
  bool idle = task_ops::shutdown(t);
  WEFT_ASSERT(idle);
  task_ops::cancel_unspawned(t);
  task_ops::ref_dec(t);
  return nullptr;
}

void CoreBase::unhandled(std::exception_ptr ex) {
  if (cfg_.unhandled_exception) {
    cfg_.unhandled_exception(ex);
    return;
  }
  try {
    std::rethrow_exception(ex);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "weft: unhandled exception in a detached task: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "weft: unhandled exception in a detached task\n");
  }
}

void CoreBase::register_timer(TimerEntry* e) {
  bool earliest;
  {
    std::scoped_lock lock(timer_mu_);
    WEFT_ASSERT(!e->registered);
    e->fired = false;
    earliest = timers_.push(e);
    timer_count_.store(timers_.size(), Order::release);
  }
  if (earliest) on_new_earliest_timer();
}

void CoreBase::cancel_timer(TimerEntry* e) {
  Waker drop;
  {
    std::scoped_lock lock(timer_mu_);
    if (e->registered) {
      timers_.remove(e);
      timer_count_.store(timers_.size(), Order::release);
    }
    drop = std::move(e->waker);
  }
}

std::size_t CoreBase::fire_timers(std::int32_t worker) {
  if (timer_count_.load(Order::acquire) == 0) return 0;
  std::uint64_t now = Platform::now_ns();
  std::vector<Waker> due;
  {
    std::scoped_lock lock(timer_mu_);
    while (TimerEntry* e = timers_.top()) {
      if (e->deadline_ns > now) break;
      timers_.remove(e);
      e->fired = true;
      due.push_back(std::move(e->waker));
    }
    timer_count_.store(timers_.size(), Order::release);
  }
  for (Waker& w : due) {
    emit(EventKind::timer_fire, worker, w.task() ? w.task()->id_ : 0);
    w.wake();
  }
  return due.size();
}

std::uint64_t CoreBase::next_timer_deadline() {
  if (timer_count_.load(Order::acquire) == 0) return UINT64_MAX;
  std::scoped_lock lock(timer_mu_);
  return timers_.next_deadline();
}

bool CoreBase::has_timers() { return timer_count_.load(Order::acquire) != 0; }

void CoreBase::close_owned_and_cancel(std::uint32_t start, std::int32_t worker) {
  owned_.close();
  // Pop one task at a time: cancelling runs destructors that may take shard locks.
  for (std::uint64_t n = 0;; ++n) {
    TaskHeader* t = owned_.pop_any(start);
    if (t == nullptr) break;
    // We now hold the owned list's reference.
    if (task_ops::shutdown(t)) {
      task_ops::cancel_now(t, worker);  // consumes our reference as the runner's
    } else {
      task_ops::ref_dec(t);  // running elsewhere (cancelled at its next yield) or complete
    }
  }
}

// ---- metrics ----

std::string RuntimeCore::metrics_json() const {
  nlohmann::ordered_json j;
  RuntimeMetrics m = metrics();
  j["num_workers"] = m.num_workers;
  j["num_alive_tasks"] = m.num_alive_tasks;
  j["spawned_tasks_count"] = m.spawned_tasks_count;
  j["injection_queue_depth"] = m.injection_queue_depth;
  j["remote_schedule_count"] = m.remote_schedule_count;
  j["budget_forced_yield_count"] = m.budget_forced_yield_count;
  j["num_blocking_threads"] = m.num_blocking_threads;
  j["num_idle_blocking_threads"] = m.num_idle_blocking_threads;
  j["blocking_queue_depth"] = m.blocking_queue_depth;
  auto& ws = j["workers"] = nlohmann::ordered_json::array();
  for (std::uint32_t i = 0; i < m.num_workers; ++i) {
    WorkerMetrics w = worker_metrics(i);
    nlohmann::ordered_json o;
    o["poll_count"] = w.poll_count;
    o["steal_count"] = w.steal_count;
    o["steal_operations"] = w.steal_operations;
    o["park_count"] = w.park_count;
    o["park_unpark_count"] = w.park_unpark_count;
    o["noop_count"] = w.noop_count;
    o["local_schedule_count"] = w.local_schedule_count;
    o["overflow_count"] = w.overflow_count;
    o["local_queue_depth"] = w.local_queue_depth;
    o["busy_duration_ns"] = w.busy_duration_ns;
    o["mean_poll_time_ns"] = w.mean_poll_time_ns;
    if (!w.poll_time_histogram.empty()) o["poll_time_histogram"] = w.poll_time_histogram;
    ws.push_back(std::move(o));
  }
  return j.dump();
}

// ---- blocking pool ----

void BlockingPool::spawn(TaskHeader* t) {
  std::vector<Thread> to_join;
  {
    std::scoped_lock lock(mu_);
    if (shutdown_) {
      // Not started before shutdown: cancel it.
      if (task_ops::shutdown(t)) task_ops::cancel_now(t, -1); else task_ops::ref_dec(t);
      return;
    }
    queue_.push_back(t);
    queue_depth_.set(queue_.size());
    if (!idle_.empty()) {
      Idle* w = idle_.back();
      idle_.pop_back();
      w->notified = true;
      num_idle_.set(idle_.size());
      w->parker.unpark();
      return;
    }
    if (live_ >= max_threads_) return;  // a busy thread will pick it up
    for (std::size_t i : exited_) to_join.push_back(std::move(threads_[i]));
    exited_.clear();
    std::size_t index = threads_.size();
    // Reuse a joined slot when possible so the vector stays bounded.
    for (std::size_t i = 0; i < threads_.size(); ++i) {
      if (!threads_[i].joinable()) {
        index = i;
        break;
      }
    }
    ++live_;
    num_threads_.set(live_);
    Thread th("weft-blocking", [this, index] { run_thread(index); });
    if (index == threads_.size()) threads_.push_back(std::move(th)); else threads_[index] = std::move(th);
  }
  for (Thread& th : to_join) th.join();
}

void BlockingPool::run_thread(std::size_t index) {
  ThreadContext cx;
  cx.scheduler = rt_;
  ContextGuard guard(&cx);
  if (rt_->config().on_thread_start) rt_->config().on_thread_start();
  Idle me;
  std::unique_lock lock(mu_);
  for (;;) {
    if (!queue_.empty()) {
      TaskHeader* t = queue_.front();
      queue_.pop_front();
      queue_depth_.set(queue_.size());
      running_.push_back(t);
      lock.unlock();
      task_ops::poll(t, -1);
      lock.lock();
      running_.erase(std::find(running_.begin(), running_.end(), t));
      continue;
    }
    if (shutdown_) break;
    me.notified = false;
    idle_.push_back(&me);
    num_idle_.set(idle_.size());
    lock.unlock();
    bool woke = me.parker.park_for(keep_alive_ns_);
    lock.lock();
    if (!me.notified) {
      // Timed out (or spurious): leave the idle list.
      for (std::size_t i = 0; i < idle_.size(); ++i) {
        if (idle_[i] == &me) {
          idle_.erase(idle_.begin() + static_cast<std::ptrdiff_t>(i));
          break;
        }
      }
      num_idle_.set(idle_.size());
      if (!woke && queue_.empty() && !shutdown_) break;  // keep-alive expired
    }
  }
  --live_;
  num_threads_.set(live_);
  if (!shutdown_) exited_.push_back(index);
  lock.unlock();
  if (rt_->config().on_thread_stop) rt_->config().on_thread_stop();
}

void BlockingPool::shutdown() {
  std::deque<TaskHeader*> pending;
  std::vector<Thread> threads;
  {
    std::scoped_lock lock(mu_);
    if (shutdown_) return;
    shutdown_ = true;
    pending.swap(queue_);
    queue_depth_.set(0);
    for (Idle* w : idle_) {
      w->notified = true;
      w->parker.unpark();
    }
    idle_.clear();
    num_idle_.set(0);
    threads.swap(threads_);
    exited_.clear();
  }
  for (TaskHeader* t : pending) task_ops::drop_notified(t);
  for (Thread& th : threads) {
    if (th.joinable()) th.join();
  }
}

// ---- block_on ----

namespace {

// RootScheduler wakes the thread that runs a block_on root coroutine.
class RootScheduler final : public Scheduler {
 public:
  explicit RootScheduler(Parker& parker) : parker_(parker) {}
  void schedule(TaskHeader* t, bool) override {
    WEFT_ASSERT(t->is_block_on_);
    notified_.store(1, Order::release);
    parker_.unpark();
  }
  bool release(TaskHeader*) override { return false; }
  bool take_notified() { return notified_.exchange(0, Order::acq_rel) != 0; }

 private:
  Parker& parker_;
  Atomic<std::uint32_t> notified_{0};
};

}  // namespace

void drive_root(TaskHeader* root, Scheduler* runtime) {
  Parker parker;
  RootScheduler sched(parker);
  root->scheduler_ = &sched;
  ThreadContext cx;
  cx.scheduler = runtime;  // spawns from the root go to the runtime's injection queue
  ContextGuard guard(&cx);
  task_ops::poll(root, -1);  // consumes the initial notified reference
  // Every wake-up while idle is a notified reference that the next poll consumes.
  while (!(root->state_.load(Order::acquire) & state::kComplete)) {
    parker.park();
    if (sched.take_notified()) task_ops::poll(root, -1);
  }
  task_ops::ref_dec(root);  // the owned-list reference: a root is never bound
}

void run_root(RuntimeCore* rt, TaskHeader* root) {
  if (rt != nullptr) {
    rt->block_on_root(root);
  } else {
    drive_root(root, nullptr);
  }
}

}  // namespace detail

Config resolve(Config cfg) {
  const bool multi = cfg.flavor == Flavor::multi_thread;
  if (!multi) {
    cfg.worker_threads = 1;  // the thread calling block_on
  } else if (cfg.worker_threads == 0) {
    cfg.worker_threads = Platform::available_parallelism();
  }
  if (cfg.global_queue_interval == 0) {
    cfg.global_queue_interval =
        multi ? kDefaultGlobalQueueIntervalMultiThread : kDefaultGlobalQueueIntervalCurrentThread;
  }
  if (cfg.event_interval == 0) cfg.event_interval = kDefaultEventInterval;
  // Spinning pays only while every worker has a core to spin on.
  if (cfg.spin_before_park == 0 && cfg.worker_threads <= Platform::available_parallelism()) {
    cfg.spin_before_park = Platform::kParkSpins;
  }
  if (cfg.poll_time_histogram) {
    WEFT_CHECK(cfg.histogram_buckets >= 1 && cfg.histogram_buckets <= detail::policy::kHistogramBucketsMax);
  }
  return cfg;
}

Runtime::Runtime(Config cfg) {
  cfg = resolve(std::move(cfg));  // once: the schedulers read only resolved values
  if (cfg.flavor == Flavor::current_thread) {
    handle_ = Handle(detail::make_current_thread(std::move(cfg)));
  } else {
    handle_ = Handle(detail::make_multi_thread(std::move(cfg)));
  }
}

Runtime::~Runtime() {
  if (handle_.valid()) shutdown();
}

void Runtime::shutdown() {
  if (handle_.valid()) handle_.core()->shutdown();
}

Handle Handle::current() {
  detail::RuntimeCore* rt = detail::current_runtime();
  WEFT_CHECK(rt != nullptr);  // Handle::current called outside a runtime
  return Handle(rt->shared_from_this());
}

bool Handle::metrics_compiled_in() noexcept { return detail::kMetrics; }

namespace detail {
RuntimeCore* current_runtime() noexcept {
  ThreadContext* cx = current_context();
  return cx ? static_cast<RuntimeCore*>(cx->scheduler) : nullptr;
}
}  // namespace detail

WEFT_NS_END
