// The owned-task list: every live task of a runtime, so shutdown can cancel them
// all and a dump can list them.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "metric_count.hpp"
#include "weft/assert.hpp"
#include "weft/task.hpp"

WEFT_NS_BEGIN
namespace detail {

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
    t->set_in_owned(true);
    if constexpr (kMetrics) bump(s.added);
    return true;
  }

  // remove unlinks t if it is still listed.
  bool remove(TaskHeader* t) {
    Shard& s = shards_[t->id_ & mask_];
    std::scoped_lock lock(s.mu);
    if (!t->in_owned()) return false;
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

  // added is how many tasks were ever bound; alive how many are listed now. Each
  // sums the shards' counters (read relaxed, without their locks): a reading taken
  // while tasks come and go is off by those in flight.
  std::uint64_t added() const {
    std::uint64_t a = 0;
    for (std::uint32_t i = 0; i <= mask_; ++i) a += shards_[i].added.get();
    return a;
  }
  std::uint64_t alive() const {
    std::uint64_t r = 0;
    std::uint64_t a = 0;
    for (std::uint32_t i = 0; i <= mask_; ++i) {
      r += shards_[i].removed.get();
      a += shards_[i].added.get();
    }
    return a >= r ? a - r : 0;
  }

 private:
  // Shard is one list and its lock. Its counters are written only under the lock,
  // so a write is a load and a store (bump), not a locked read-modify-write: a
  // task's bind and release now take the lock's two atomic operations each and no
  // more (the same instruction count; two fewer bus-locked operations per task).
  struct alignas(64) Shard {
    Mutex mu;
    TaskHeader* head = nullptr;  // guarded by mu
    bool closed = false;         // guarded by mu
    Counter added;
    Counter removed;
  };
  // bump adds one to a counter that only its shard's lock holder writes.
  static void bump(Counter& c) { c.set(c.get() + 1); }
  void unlink(Shard& s, TaskHeader* t) {
    if (t->owned_prev_) t->owned_prev_->owned_next_ = t->owned_next_; else s.head = t->owned_next_;
    if (t->owned_next_) t->owned_next_->owned_prev_ = t->owned_prev_;
    t->owned_prev_ = t->owned_next_ = nullptr;
    t->set_in_owned(false);
    if constexpr (kMetrics) bump(s.removed);
  }
  const std::uint32_t mask_;
  std::unique_ptr<Shard[]> shards_;  // before publication: the array; each Shard synchronises itself
};

}  // namespace detail
WEFT_NS_END
