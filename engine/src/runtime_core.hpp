// What both schedulers share: the owned-task list, the timer heap and the
// blocking pool.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "weft/assert.hpp"
#include "weft/runtime.hpp"
#include "weft/time.hpp"

// WEFT_METRICS=0 (CMake WEFT_METRICS=OFF) compiles the per-worker metric updates
// out, to measure what they cost the hot path. Benchmark builds only: the
// simulator's checks and the metric tests need them.
#ifndef WEFT_METRICS
#define WEFT_METRICS 1
#endif

WEFT_NS_BEGIN
namespace detail {

inline constexpr bool kMetrics = WEFT_METRICS != 0;

// MetricCount is a worker-private metric counter, published to the shared
// counters by the scheduler; every update is a no-op without kMetrics.
class MetricCount {
 public:
  MetricCount& operator++() {
    if constexpr (kMetrics) ++v_;
    return *this;
  }
  MetricCount& operator+=(std::uint64_t n) {
    if constexpr (kMetrics) v_ += n;
    return *this;
  }
  std::uint64_t get() const { return v_; }

 private:
  std::uint64_t v_ = 0;
};

// metrics_now_ns reads the clock for busy-time metrics; 0 without kMetrics.
inline std::uint64_t metrics_now_ns() {
  if constexpr (kMetrics) return Platform::now_ns();
  return 0;
}

// OwnedTasks is every live task of a runtime, in sharded intrusive lists. Closing
// it (under each shard lock) makes later binds fail, so no task can be bound after
// shutdown has started cancelling.
class OwnedTasks {
 public:
  explicit OwnedTasks(std::uint32_t shards) : mask_(shards - 1), shards_(new Shard[shards]) {
    WEFT_CHECK(shards > 0 && (shards & (shards - 1)) == 0);
  }

  // bind adds t; false if closed.
  bool bind(TaskHeader* t) {
    Shard& s = shards_[t->id_ & mask_];
    std::scoped_lock lock(s.mu);
    if (s.closed) return false;
    t->owned_prev_ = nullptr;
    t->owned_next_ = s.head;
    if (s.head) s.head->owned_prev_ = t;
    s.head = t;
    t->in_owned_ = true;
    if constexpr (kMetrics) added_.add(1);
    return true;
  }

  // remove unlinks t if it is still listed.
  bool remove(TaskHeader* t) {
    Shard& s = shards_[t->id_ & mask_];
    std::scoped_lock lock(s.mu);
    if (!t->in_owned_) return false;
    unlink(s, t);
    return true;
  }

  void close() {
    for (std::uint32_t i = 0; i <= mask_; ++i) {
      std::scoped_lock lock(shards_[i].mu);
      shards_[i].closed = true;
    }
  }

  // pop_any unlinks some task, searching shards from start; null when empty.
  TaskHeader* pop_any(std::uint32_t start) {
    for (std::uint32_t k = 0; k <= mask_; ++k) {
      Shard& s = shards_[(start + k) & mask_];
      std::scoped_lock lock(s.mu);
      if (TaskHeader* t = s.head) {
        unlink(s, t);
        return t;
      }
    }
    return nullptr;
  }

  // snapshot appends every listed task, taking a reference to each.
  void snapshot(std::vector<TaskHeader*>& out) {
    for (std::uint32_t i = 0; i <= mask_; ++i) {
      std::scoped_lock lock(shards_[i].mu);
      for (TaskHeader* t = shards_[i].head; t != nullptr; t = t->owned_next_) {
        task_ops::ref_inc(t);
        out.push_back(t);
      }
    }
  }

  std::uint64_t added() const { return added_.get(); }
  std::uint64_t alive() const {
    std::uint64_t r = removed_.get();
    std::uint64_t a = added_.get();
    return a >= r ? a - r : 0;
  }

 private:
  struct alignas(64) Shard {
    Mutex mu;
    TaskHeader* head = nullptr;
    bool closed = false;
  };
  void unlink(Shard& s, TaskHeader* t) {
    if (t->owned_prev_) t->owned_prev_->owned_next_ = t->owned_next_; else s.head = t->owned_next_;
    if (t->owned_next_) t->owned_next_->owned_prev_ = t->owned_prev_;
    t->owned_prev_ = t->owned_next_ = nullptr;
    t->in_owned_ = false;
    if constexpr (kMetrics) removed_.add(1);
  }
  const std::uint32_t mask_;
  std::unique_ptr<Shard[]> shards_;
  Counter added_;
  Counter removed_;
};

// TimerHeap is a binary min-heap of timer entries ordered by (deadline, seq).
class TimerHeap {
 public:
  // push adds e; returns true if e is now the earliest deadline.
  bool push(TimerEntry* e) {
    e->seq = next_seq_++;
    e->heap_index = heap_.size();
    heap_.push_back(e);
    sift_up(e->heap_index);
    e->registered = true;
    return heap_.front() == e;
  }
  void remove(TimerEntry* e) {
    WEFT_ASSERT(e->registered && heap_[e->heap_index] == e);
    std::size_t i = e->heap_index;
    std::size_t last = heap_.size() - 1;
    if (i != last) {
      swap_at(i, last);
      heap_.pop_back();
      sift_down(i);
      sift_up(i);
    } else {
      heap_.pop_back();
    }
    e->registered = false;
  }
  TimerEntry* top() const { return heap_.empty() ? nullptr : heap_.front(); }
  std::uint64_t next_deadline() const { return heap_.empty() ? UINT64_MAX : heap_.front()->deadline_ns; }
  bool empty() const { return heap_.empty(); }
  std::size_t size() const { return heap_.size(); }

 private:
  static bool less(const TimerEntry* a, const TimerEntry* b) {
    return a->deadline_ns != b->deadline_ns ? a->deadline_ns < b->deadline_ns : a->seq < b->seq;
  }
  void swap_at(std::size_t i, std::size_t j) {
    std::swap(heap_[i], heap_[j]);
    heap_[i]->heap_index = i;
    heap_[j]->heap_index = j;
  }
  void sift_up(std::size_t i) {
    while (i > 0) {
      std::size_t p = (i - 1) / 2;
      if (!less(heap_[i], heap_[p])) break;
      swap_at(i, p);
      i = p;
    }
  }
  void sift_down(std::size_t i) {
    for (;;) {
      std::size_t l = 2 * i + 1, r = l + 1, m = i;
      if (l < heap_.size() && less(heap_[l], heap_[m])) m = l;
      if (r < heap_.size() && less(heap_[r], heap_[m])) m = r;
      if (m == i) break;
      swap_at(i, m);
      i = m;
    }
  }
  std::vector<TimerEntry*> heap_;
  std::uint64_t next_seq_ = 0;
};

class CoreBase;

// BlockingPool runs spawn_blocking tasks on a bounded set of threads that exit
// after keep_alive of idleness.
class BlockingPool {
 public:
  BlockingPool(CoreBase* rt, std::uint32_t max_threads, std::uint64_t keep_alive_ns)
      : rt_(rt), max_threads_(max_threads), keep_alive_ns_(keep_alive_ns) {}

  void spawn(TaskHeader* t);
  // shutdown cancels queued tasks, lets running ones finish, joins every thread.
  void shutdown();

  // snapshot lists the queued and the running tasks (for dumps; no references taken).
  void snapshot(std::vector<TaskHeader*>& queued, std::vector<TaskHeader*>& running) {
    std::scoped_lock lock(mu_);
    queued.assign(queue_.begin(), queue_.end());
    running = running_;
  }

  std::uint64_t num_threads() const { return num_threads_.get(); }
  std::uint64_t num_idle() const { return num_idle_.get(); }
  std::uint64_t queue_depth() const { return queue_depth_.get(); }

 private:
  struct Idle {
    Parker parker;
    bool notified = false;  // guarded by mu_
  };
  void run_thread(std::size_t index);

  CoreBase* rt_;
  const std::uint32_t max_threads_;
  const std::uint64_t keep_alive_ns_;
  Mutex mu_;
  std::deque<TaskHeader*> queue_;         // guarded by mu_
  std::vector<TaskHeader*> running_;      // guarded by mu_
  std::vector<Idle*> idle_;               // guarded by mu_; LIFO
  std::vector<Thread> threads_;           // guarded by mu_
  std::vector<std::size_t> exited_;       // guarded by mu_: threads to join
  std::uint32_t live_ = 0;                // guarded by mu_
  bool shutdown_ = false;                 // guarded by mu_
  Counter num_threads_, num_idle_, queue_depth_;
};

// drive_root polls a block_on root on the calling thread until it completes,
// parking between wake-ups. runtime (may be null) receives its spawns.
void drive_root(TaskHeader* root, Scheduler* runtime);

// CoreBase implements what both schedulers share.
class CoreBase : public RuntimeCore {
 public:
  explicit CoreBase(Config cfg, std::uint32_t owned_shards);
  ~CoreBase() override;

  TaskHeader* bind_new(TaskHeader* t) override;
  bool release(TaskHeader* t) override { return owned_.remove(t); }
  void unhandled(std::exception_ptr ex) override;
  void spawn_blocking_task(TaskHeader* t) override { blocking_.spawn(t); }
  std::uint64_t next_task_id() override { return next_id_.fetch_add(1, Order::relaxed); }
  const Config& config() const override { return cfg_; }
  void register_timer(TimerEntry* e) override;
  void cancel_timer(TimerEntry* e) override;
  std::uint64_t now_ns() const override { return Platform::now_ns(); }

  // fire_timers wakes every timer whose deadline has passed; returns how many.
  std::size_t fire_timers(std::int32_t worker);
  std::uint64_t next_timer_deadline();
  bool has_timers();

  // close_owned_and_cancel cancels every owned task (shutdown step).
  void close_owned_and_cancel(std::uint32_t start, std::int32_t worker);

 protected:
  // on_new_earliest_timer is called (outside the timer lock) when a registered
  // timer becomes the earliest: the scheduler wakes whoever drives time.
  virtual void on_new_earliest_timer() = 0;

  Config cfg_;
  OwnedTasks owned_;
  BlockingPool blocking_;
  Atomic<std::uint64_t> next_id_{1};
  Mutex timer_mu_;
  TimerHeap timers_;  // guarded by timer_mu_
  Atomic<std::uint64_t> timer_count_{0};
  Counter remote_schedule_count_;
  Counter budget_forced_yields_;
};

}  // namespace detail
WEFT_NS_END
