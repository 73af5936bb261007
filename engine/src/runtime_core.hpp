// What both schedulers share: CoreBase, which owns the owned-task list
// (owned_tasks.hpp), the timer heap (timers.hpp) and the blocking pool
// (blocking_pool.hpp); their code is in the .cpp of the same name, block_on's in
// block_on.cpp.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "blocking_pool.hpp"
#include "metric_count.hpp"
#include "owned_tasks.hpp"
#include "timers.hpp"
#include "weft/assert.hpp"
#include "weft/runtime.hpp"
#include "weft/time.hpp"

WEFT_NS_BEGIN
namespace detail {

// drive_root polls a block_on root on the calling thread until it completes,
// parking between wake-ups. runtime (may be null) receives its spawns.
void drive_root(TaskHeader* root, Scheduler* runtime);
// RootUnwind guards a block_on loop against a platform unwind (the simulator's
// teardown of a failed run, Platform::unwinding) that leaves it early: its
// destructor cancels the root as a shutdown cancels a task, dropping the
// reference the loop's normal end drops, so nothing is left pointing at the
// loop's stack (the root's scheduler). Clear `root` on the normal end.
struct RootUnwind {
  TaskHeader* root;
  ~RootUnwind();
};

class InjectQueue;

// CoreBase implements what both schedulers share.
class CoreBase : public RuntimeCore {
 public:
  explicit CoreBase(Config cfg, std::uint32_t owned_shards);
  ~CoreBase() override;

  TaskHeader* bind_new(TaskHeader* t) override;
  bool release(TaskHeader* t) override { return owned_.remove(t); }
  void unhandled(std::exception_ptr ex) override;
  void spawn_blocking_task(TaskHeader* t) override { blocking_.spawn(t); }
  // relaxed: ids need only be unique, which the RMW gives; they publish nothing.
  // relaxed: pairs with nothing; ids need only be unique (an RMW reads the latest).
  std::uint64_t next_task_id() override { return next_id_.fetch_add(1, Order::relaxed); }
  const Config& config() const override { return cfg_; }
  void register_timer(TimerEntry* e, Waker w) override;
  void cancel_timer(TimerEntry* e) override;
  std::uint64_t now_ns() const override { return Platform::now_ns(); }

  // fire_timers wakes every timer whose deadline has passed; returns how many.
  std::size_t fire_timers(std::int32_t worker);
  // next_timer_deadline is the earliest deadline (UINT64_MAX: none), after a
  // hint; next_timer_deadline_locked reads it under timer_mu_ only.
  std::uint64_t next_timer_deadline();
  std::uint64_t next_timer_deadline_locked();
  bool has_timers();

  // place_blocking_tasks is the blocking pool's part of place_tasks.
  void place_blocking_tasks(const std::function<void(std::uint64_t, TaskPlace)>& visit) const {
    blocking_.for_each_queued_unsync([&](const TaskHeader* t) { visit(t->id(), TaskPlace::blocking_queue); });
  }

  // close_owned_and_cancel cancels every owned task (shutdown step).
  void close_owned_and_cancel(std::uint32_t start, std::int32_t worker);

 protected:
  // on_new_earliest_timer is called (outside the timer lock) when a registered
  // timer becomes the earliest: the scheduler wakes whoever drives time.
  virtual void on_new_earliest_timer() = 0;
  // runtime_metrics reads the runtime-wide metrics, the same set for both
  // schedulers (workers: how many the scheduler has; inject: its injection queue).
  RuntimeMetrics runtime_metrics(std::uint32_t workers, const InjectQueue& inject) const;

  Config cfg_;  // before publication: read-only once the runtime runs
  OwnedTasks owned_;
  BlockingPool blocking_;
  Atomic<std::uint64_t> next_id_{1};
  Mutex timer_mu_;
  TimerHeap timers_;  // guarded by timer_mu_
  // timer_count_ is the heap's size, stored under timer_mu_ and read without it
  // as a hint: every reader of an entry or the heap takes timer_mu_, which orders
  // them, so its release stores and acquire loads order nothing the lock does not
  // (reports/order-mutants-review.md, timers: relaxed would do).
  Atomic<std::uint64_t> timer_count_{0};
  Counter remote_schedule_count_;
  Counter budget_forced_yields_;
};

}  // namespace detail
WEFT_NS_END
