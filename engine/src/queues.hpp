// Run queues: the per-worker bounded local queue (one owner, many stealers), the
// shared injection queue (a lock plus an atomic length) and a worker's LIFO slot.
// How much a steal, an overflow or an injected batch moves is policy (policy.hpp).
//
// Local queue layout. head packs two 32-bit indices, (steal << 32) | real; tail is
// written only by the owner. Slots [real, tail) hold tasks; slots [steal, real) are
// being copied out by the one stealer in progress (steal == real: none).
//
// Overflow protocol (the owner's push finds the queue full):
//   1. If a steal is in progress, push the single task to the injection queue; the
//      stealer will free slots soon.
//   2. Otherwise CAS head from (r, r) to (r, r + half): to stealers this looks like
//      a steal in progress, so none can start, and the owner has every slot to itself.
//   3. Move the NEWEST half [tail - half, tail) plus the new task to the injection
//      queue in one locked batch, and lower tail by half. The oldest tasks stay, so
//      a task is never bounced back to the injection queue before it runs (the
//      fairness fix of Tokio 1.52).
//   4. Restore head to (r, r). A stealer that read head before step 2 and CASes
//      after step 4 claims at most half of the old full queue: exactly the slots
//      that are still live, so the ABA is harmless.
//   5. The sink takes the injection lock, emits the overflow event and appends the
//      batch under it: two workers overflowing at once put their batches in the
//      queue in the order of their events (an event emitted before the lock would
//      let the other batch in first, and a trace reader would misplace both).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>

#include "bug_hooks.hpp"
#include "policy.hpp"
#include "weft/assert.hpp"
#include "weft/events.hpp"
#include "weft/task.hpp"

WEFT_NS_BEGIN
namespace detail {

// InjectQueue is the shared FIFO of tasks, linked through TaskHeader::queue_next_.
// All list fields are touched only under the caller-provided lock; len_ is also
// readable without it.
class InjectQueue {
 public:
  // is_empty is the lock-free check that lets a worker skip the lock. len_ is a
  // hint: mu_ orders the list, and a worker that acts on it takes mu_ and checks
  // again. The loads' acquire pairs with the release stores of len_ below (made
  // under the lock) and orders nothing the lock does not (reports/order-mutants-review.md).
  bool is_empty() const noexcept { return len_.load(Order::acquire) == 0; }
  std::uint64_t len() const noexcept { return len_.load(Order::acquire); }

  // push_locked appends a task; if the queue is closed the task is dropped.
  // Returns false when dropped.
  bool push_locked(TaskHeader* t) noexcept {
    if (closed_) {
      task_ops::drop_notified(t);
      return false;
    }
    t->queue_next_.set(nullptr);
    if (tail_) tail_->queue_next_.set(t); else head_ = t;
    tail_ = t;
    len_.store(len_.unsync_load() + 1, Order::release);  // pairs with is_empty's and len's acquire
    return true;
  }

  // push_batch_locked appends a linked chain of n tasks.
  void push_batch_locked(TaskHeader* first, TaskHeader* last, std::uint64_t n) noexcept {
    if (closed_) {
      while (first) {
        TaskHeader* next = first->queue_next_.get();
        task_ops::drop_notified(first);
        first = next;
      }
      return;
    }
    last->queue_next_.set(nullptr);
    if (tail_) tail_->queue_next_.set(first); else head_ = first;
    tail_ = last;
    len_.store(len_.unsync_load() + n, Order::release);  // pairs with is_empty's and len's acquire
  }

  // pop_locked removes the oldest task, or returns null.
  TaskHeader* pop_locked() noexcept {
    TaskHeader* t = head_;
    if (!t) return nullptr;
    head_ = t->queue_next_.get();
    if (!head_) tail_ = nullptr;
    t->queue_next_.set(nullptr);
    std::uint64_t n = len_.unsync_load();
    WEFT_ASSERT(n > 0);
    len_.store(n - 1, Order::release);  // pairs with is_empty's and len's acquire
    return t;
  }

  bool closed_locked() const noexcept { return closed_; }
  // for_each_locked visits every queued task, oldest first.
  template <class F>
  void for_each_locked(F&& f) const {
    for (TaskHeader* t = head_; t != nullptr; t = t->queue_next_.get()) f(t);
  }
  // close_locked returns true on the open-to-closed edge.
  bool close_locked() noexcept { return !std::exchange(closed_, true); }

 private:
  TaskHeader* head_ = nullptr;  // guarded by the caller's lock
  TaskHeader* tail_ = nullptr;  // guarded by the caller's lock
  bool closed_ = false;         // guarded by the caller's lock
  Atomic<std::uint64_t> len_{0};
};

// OverflowSink takes the tasks a full local queue sheds; each call is one overflow
// of the given worker's queue, so the sink counts overflows (off the hot path).
struct OverflowSink {
  virtual void push_one(TaskHeader* t, std::int32_t worker) = 0;
  // push_batch appends the chain first..last of n tasks (last: the task whose push
  // overflowed) and emits the overflow event under the lock that orders the
  // injection queue (step 5).
  virtual void push_batch(TaskHeader* first, TaskHeader* last, std::uint64_t n, std::int32_t worker) = 0;
  virtual ~OverflowSink() = default;
};

// LocalQueue is a worker's bounded ring buffer: owner push/pop, many stealers.
class LocalQueue {
 public:
  explicit LocalQueue(std::uint32_t capacity)
      : cap_(capacity), mask_(capacity - 1), buffer_(new Cell<TaskHeader*>[capacity]) {
    WEFT_CHECK(capacity >= 2 && (capacity & (capacity - 1)) == 0);
  }
  LocalQueue(const LocalQueue&) = delete;
  LocalQueue& operator=(const LocalQueue&) = delete;
  ~LocalQueue() {
    if (WEFT_BUG(queue_buffer_leaked)) (void)buffer_.release();  // (zoo: "the runtime is going away anyway")
  }

  static constexpr std::uint64_t pack(std::uint32_t steal, std::uint32_t real) noexcept {
    return (static_cast<std::uint64_t>(steal) << 32) | real;
  }
  static constexpr std::uint32_t steal_of(std::uint64_t h) noexcept { return static_cast<std::uint32_t>(h >> 32); }
  static constexpr std::uint32_t real_of(std::uint64_t h) noexcept { return static_cast<std::uint32_t>(h); }

  std::uint32_t capacity() const noexcept { return cap_; }

  // len is the number of tasks the owner can pop (owner only).
  std::uint32_t len() const noexcept {
    std::uint64_t h = head_.load(Order::acquire);  // pairs with the stealers' acq_rel CAS of head_
    return tail_.unsync_load() - real_of(h);
  }
  // remaining_slots counts free slots; slots being stolen are still occupied (owner only).
  std::uint32_t remaining_slots() const noexcept {
    std::uint64_t h = head_.load(Order::acquire);  // pairs with the stealers' acq_rel CAS of head_
    return cap_ - (tail_.unsync_load() - steal_of(h));
  }
  bool has_tasks() const noexcept { return len() > 0; }

  // stealable_len is the depth any thread may read (metrics, work checks).
  std::uint32_t stealable_len() const noexcept {
    std::uint64_t h = head_.load(Order::acquire);  // pairs with the acq_rel CASes and release stores of head_
    std::uint32_t t = tail_.load(Order::acquire);  // pairs with the owner's release stores of tail_
    return t - real_of(h);
  }
  bool is_empty_for_stealers() const noexcept { return stealable_len() == 0; }

  // push_back pushes tasks that are known to fit (owner only).
  void push_back_fits(TaskHeader* t) noexcept {
    std::uint32_t tail = tail_.unsync_load();
    WEFT_ASSERT(tail - steal_of(head_.load(Order::acquire)) < cap_);  // acquire: pairs with the stealers' CAS of head_
    buffer_[tail & mask_].set(t);
    tail_.store(tail + 1, Order::release);  // pairs with the stealers' Acquire of tail
  }

  // push_back_or_overflow pushes t, shedding to sink when full (one sink call per
  // overflow: t alone, or the newest half plus t).
  void push_back_or_overflow(TaskHeader* t, OverflowSink& sink, std::int32_t worker) {
    for (std::uint32_t attempt = 0;; ++attempt) {
      WEFT_ASSERT(attempt < 1'000'000);
      std::uint64_t h = head_.load(Order::acquire);  // pairs with the stealers' acq_rel CAS of head_: their slots are free
      std::uint32_t steal = steal_of(h), real = real_of(h);
      std::uint32_t tail = tail_.unsync_load();
      if (tail - steal < cap_) {
        // Emit first: once tail is published a stealer may run and free the task.
        emit(EventKind::local_push, worker, t->id_);
        if (WEFT_BUG(slot_written_after_publish)) { zoo::publish_then_write(tail_, buffer_[tail & mask_], tail, t); return; }
        buffer_[tail & mask_].set(t);
        tail_.store(tail + 1, Order::release);  // pairs with the stealers' Acquire of tail
        return;
      }
      if (steal != real) {
        // Step 1: a stealer is freeing slots; send just this task away.
        emit(EventKind::overflow, worker, t->id_, 1);
        sink.push_one(t, worker);
        return;
      }
      if (push_overflow(t, real, tail, sink, worker)) return;
      // Lost the race with a stealer: retry; the queue has room now.
    }
  }

  // pop takes the oldest task (owner only).
  TaskHeader* pop() noexcept {
    std::uint64_t h = head_.load(Order::acquire);  // pairs with the stealers' acq_rel CAS of head_
    for (std::uint32_t attempt = 0;; ++attempt) {
      WEFT_ASSERT(attempt < 1'000'000);
      std::uint32_t steal = steal_of(h), real = real_of(h);
      std::uint32_t tail = tail_.unsync_load();
      if (real == tail) return nullptr;
      std::uint32_t next_real = real + 1;
      std::uint64_t next = steal == real ? pack(next_real, next_real) : pack(steal, next_real);
      if (WEFT_BUG(pop_ignores_steal)) next = pack(next_real, next_real);  // ends a steal in progress
      WEFT_ASSERT(steal == real || steal != next_real);
      // acq_rel: the release half is what a stealer that acquires this head needs to find tail at or
      // above real (the slot is read after the CAS, and stealers never reuse the owner's slots); the
      // acquire halves pair with the stealers' CASes of head_ and are more than needed.
      if (head_.compare_exchange(h, next, Order::acq_rel, Order::acquire)) return buffer_[real & mask_].get();
    }
  }

  // steal_into moves half of this queue's tasks into dst (dst's owner calls it) and
  // returns one of them to run at once, or null.
  TaskHeader* steal_into(LocalQueue& dst, std::uint32_t& stolen_count, std::int32_t thief, std::int32_t victim) {
    std::uint32_t dst_tail = dst.tail_.unsync_load();
    std::uint32_t dst_steal = steal_of(dst.head_.load(Order::acquire));  // pairs with stealers' CAS of dst's head_
    if (policy::thief_has_enough(dst_tail - dst_steal, dst.cap_)) return nullptr;
    std::uint32_t n = steal_into2(dst, dst_tail);
    if (n == 0) return nullptr;
    stolen_count = n;
    emit(EventKind::steal, thief, 0, n, static_cast<std::uint64_t>(victim));
    if (n > 1) emit(EventKind::mark, thief, 0, static_cast<std::uint64_t>(Mark::steal_half));
    --n;
    TaskHeader* ret = dst.buffer_[(dst_tail + n) & dst.mask_].get();
    if (n > 0) dst.tail_.store(dst_tail + n, Order::release);  // pairs with dst's stealers' acquire of tail_
    return ret;
  }

  // for_each_queued visits the tasks in [real, tail) while the owner is held
  // (for dumps); a concurrent stealer may still take some of them.
  template <class F>
  void for_each_queued(F&& f) const {
    std::uint64_t h = head_.load(Order::acquire);  // pairs with the acq_rel CASes and release stores of head_
    std::uint32_t tail = tail_.load(Order::acquire);  // pairs with the owner's release stores of tail_
    std::uint32_t n = tail - real_of(h);
    WEFT_ASSERT(n <= cap_);
    for (std::uint32_t i = 0; i < n; ++i) f(buffer_[(real_of(h) + i) & mask_].get());
  }

  // drain pops every task (owner only, at shutdown).
  template <class F>
  void drain(F&& f) {
    while (TaskHeader* t = pop()) f(t);
  }

 private:
  // push_overflow moves the newest half plus t to the sink (steps 2 to 4 above).
  // Returns false if a stealer got in first.
  bool push_overflow(TaskHeader* t, std::uint32_t real, std::uint32_t tail, OverflowSink& sink,
                              std::int32_t worker) {
    const std::uint32_t half = policy::overflow_batch(cap_);
    WEFT_ASSERT(tail - real == cap_);
    std::uint64_t expected = pack(real, real);
    // Step 2: fence off stealers (a stealer that reads the fenced head stops: steal != real). The
    // release keeps stealable_len from reading a tail below this head; the acquire pairs with the
    // stealers' finishing CAS and is covered by the acquire of head_ at the push's start.
    if (!head_.compare_exchange(expected, pack(real, real + half), Order::acq_rel, Order::acquire)) return false;
    // Step 3: chain the newest half and t; they go to the sink in one batch.
    std::uint32_t first_idx = tail - half;
    if (WEFT_BUG(overflow_oldest_half)) first_idx = real;  // Tokio 7.4: the oldest half goes
    TaskHeader* first = buffer_[first_idx & mask_].get();
    TaskHeader* prev = first;
    for (std::uint32_t i = 1; i < half; ++i) {
      TaskHeader* cur = buffer_[(first_idx + i) & mask_].get();
      prev->queue_next_.set(cur);
      prev = cur;
    }
    prev->queue_next_.set(t);
    // The oldest half stays: tail drops below the newest (release: pairs with the stealers' acquire of tail_).
    if (!WEFT_BUG(overflow_oldest_half)) tail_.store(first_idx, Order::release);
    // Step 4: let stealers in again (release: pairs with the stealers' acquire of head_: a stealer
    // that reads this head must find tail at or above real, the tail store above; the ABA argument
    // of the header's step 4 rests on it).
    if (WEFT_BUG(overflow_oldest_half)) real += half;  // the head moves past the oldest half instead
    head_.store(pack(real, real), Order::release);
    // Step 5: the sink emits the overflow event under the injection lock.
    sink.push_batch(first, t, half + 1, worker);
    return true;
  }

  // steal_into2 claims ceil(half) of the tasks, copies them to dst, and finishes
  // the steal. Returns the number copied.
  std::uint32_t steal_into2(LocalQueue& dst, std::uint32_t dst_tail) {
    std::uint64_t prev = head_.load(Order::acquire);  // pairs with the owner's and other stealers' writes of head_
    std::uint64_t next;
    std::uint32_t n;
    for (std::uint32_t attempt = 0;; ++attempt) {
      WEFT_ASSERT(attempt < 1'000'000);
      std::uint32_t steal = steal_of(prev), real = real_of(prev);
      if (steal != real) return 0;  // another steal (or an overflow) is in progress
      std::uint32_t src_tail = tail_.load(Order::acquire);  // pairs with the owner's release store: the slots are written
      n = policy::steal_amount(src_tail - real);
      if (WEFT_BUG(steal_more_than_half)) n = src_tail - real;  // takes every task
      if (n == 0) return 0;
      std::uint32_t steal_to = real + n;
      WEFT_ASSERT(steal != steal_to);
      next = pack(steal, steal_to);
      if (WEFT_BUG(queue_index_8bit)) {
        if (zoo::claim_with_8bit_indices<LocalQueue>(head_, prev, n, next)) break;
        continue;
      }
      if (head_.compare_exchange(prev, next, Order::acq_rel, Order::acquire)) break;  // pairs with pop's CAS and the owner's head_ stores
    }
    WEFT_ASSERT(n <= policy::steal_amount(cap_));
    std::uint32_t first = steal_of(next);
    for (std::uint32_t i = 0; i < n; ++i) {
      dst.buffer_[(dst_tail + i) & dst.mask_].set(buffer_[(first + i) & mask_].get());
    }
    // Finish: move steal up to real, the owner may have popped meanwhile.
    prev = next;
    for (std::uint32_t attempt = 0;; ++attempt) {
      WEFT_ASSERT(attempt < 1'000'000);
      std::uint32_t real = real_of(prev);
      // release: our slot reads happen before the owner reuses them (pairs with its acquire loads of head_)
      if (head_.compare_exchange(prev, pack(real, real), Order::acq_rel, Order::acquire)) break;
      WEFT_ASSERT(steal_of(prev) != real_of(prev));
    }
    return n;
  }

  const std::uint32_t cap_;
  const std::uint32_t mask_;
  // The slots are Cells: a stealer reads them on another thread, ordered by the
  // owner's release of tail_ and its own claim of head_.
  std::unique_ptr<Cell<TaskHeader*>[]> buffer_;
  Atomic<std::uint64_t> head_{0};
  Atomic<std::uint32_t> tail_{0};
};

// LifoSlot is a worker's one-task LIFO slot: a task woken by the running task goes
// here and runs next, while what it was sent is still in cache. A chain of LIFO
// polls ends at max_lifo_polls (multi_thread/worker.cpp, Steps C1 and C2).
//
// Taking from another worker's slot (the LIFO watch, multi_thread/idle.cpp): a
// task put in the slot just before its owner enters a long poll must not wait for
// that poll while other workers sleep (Tokio's 7.6). With two or more workers the
// slot is an atomic that one other worker, the watcher, may empty:
//   L1. The owner puts t into an empty slot with a release store: a thief only
//       ever writes null (L3), so an empty slot stays empty until its owner fills
//       it, and no read-modify-write is needed. Into a full slot it exchanges; the
//       task it gets back (null if a thief took it meanwhile) goes to its queue.
//   L2. The owner takes by a load and, when the slot holds a task, an exchange
//       with null: it gets the task unless a thief's L3 came first.
//   L3. A thief takes t by a compare-exchange from t to null, which succeeds only
//       while t is still there: exactly one of L2 and L3 gets t. It finds t by a
//       read-modify-write that changes nothing (fetch_or 0): that reads the
//       latest value, where a load may read an older one (null) for as long as
//       the memory model allows, and the watch would not see a task that waits.
//       The write puts back the value it read, so L1's "only the owner writes a
//       task" still holds.
//   L4. With one worker there is no thief: the slot is a plain cell, and L1 and
//       L2 are a read and a write.
// The load before each exchange keeps the read-modify-write off the common paths:
// an empty slot at the top of the worker loop and at the end of a LIFO chain, and
// a push into an empty slot.
class LifoSlot {
 public:
  LifoSlot(bool enabled, bool stealable) noexcept : enabled_(enabled), stealable_(stealable) {}

  // take empties the slot and returns its task, or null (L2; L4). take_as is the
  // same for a caller that knows which slot it has (kShared == stealable): the
  // worker loop is compiled once for each, so its takes cost no test of that.
  TaskHeader* take() noexcept { return stealable_ ? take_as<true>() : take_as<false>(); }
  template <bool kShared>
  TaskHeader* take_as() noexcept {
    WEFT_ASSERT(kShared == stealable_);
    if constexpr (!kShared) {
      return plain_.with_mut([](TaskHeader*& t) { return std::exchange(t, nullptr); });
    } else {
      // relaxed: the owner reads its own L1 writes; a thief writes only null, which carries nothing.
      TaskHeader* t = from_word(shared_.load(Order::relaxed));
      if (t == nullptr) return nullptr;
      if (WEFT_BUG(lifo_take_plain)) {  // "only its owner puts tasks in"
        shared_.store(0, Order::relaxed);
        return t;
      }
      // relaxed: as above; the exchange only decides between this take and a thief's L3.
      return from_word(shared_.exchange(0, Order::relaxed));
    }
  }
  // replace puts t in the slot and returns the task it displaced, or null (L1; L4).
  TaskHeader* replace(TaskHeader* t) noexcept {
    WEFT_ASSERT(t != nullptr && enabled_);
    if (!stealable_) return plain_.with_mut([t](TaskHeader*& cur) { return std::exchange(cur, t); });
    // relaxed: a null read is exact, since only this owner writes tasks; a stale task read
    // only sends the push through the exchange, which reads the latest value.
    if (shared_.load(Order::relaxed) == 0) {
      shared_.store(to_word(t), Order::release);  // pairs with a thief's acquire read and compare-exchange (L3)
      return nullptr;
    }
    // release: pairs with a thief's acquire read and compare-exchange (L3)
    return from_word(shared_.exchange(to_word(t), Order::release));
  }
  // peek is L3's read, on a thief: the task in the slot now, or null. Only with two or more workers.
  TaskHeader* peek() noexcept {
    WEFT_ASSERT(stealable_);
    // acquire: pairs with the owner's release store or exchange that put the task here (L1).
    return from_word(shared_.fetch_or(0, Order::acquire));
  }
  // steal is L3, on a thief: takes t if the slot still holds it. Only with two or more workers.
  bool steal(TaskHeader* t) noexcept {
    WEFT_ASSERT(stealable_ && t != nullptr);
    std::uint64_t expected = to_word(t);
    // acquire: pairs with the owner's release store or exchange that put t here (L1): t's
    // fields are the owner's writes. Failure reads nothing the thief uses.
    return shared_.compare_exchange(expected, 0, Order::acquire, Order::relaxed);
  }
  // task is the task in the slot, or null: a thief's look, dumps (the owner held),
  // work checks. On a stealable slot it is a load another worker may make at any time.
  TaskHeader* task() const noexcept {
    // acquire: pairs with the owner's release store or exchange (L1): a reader may read the task's fields.
    return stealable_ ? from_word(shared_.load(Order::acquire)) : plain_.get();
  }
  bool empty() const noexcept { return task() == nullptr; }
  // accepts says whether a new wake may go in the slot (Config::lifo_enabled).
  bool accepts() const noexcept { return enabled_; }

 private:
  // plain_ is the one-worker slot, a Cell: a dump's leader reads it while its
  // owner is held. shared_ is the slot with two or more workers (L1 to L3).
  // shared_ holds the task's address as a word, for L3's fetch_or.
  static std::uint64_t to_word(TaskHeader* t) noexcept { return reinterpret_cast<std::uintptr_t>(t); }
  static TaskHeader* from_word(std::uint64_t w) noexcept { return reinterpret_cast<TaskHeader*>(static_cast<std::uintptr_t>(w)); }
  Cell<TaskHeader*> plain_{nullptr};
  Atomic<std::uint64_t> shared_{0};
  const bool enabled_;
  const bool stealable_;
};

}  // namespace detail
WEFT_NS_END
