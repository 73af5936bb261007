// Tasks: C++20 coroutines scheduled by the runtime, their state word, wakers and
// join handles.
//
// A spawned task is a TaskHeader (state word, links, scheduler) that owns the root
// coroutine frame of a Task<T>. The state word follows Tokio's design:
//
//   RUNNING | COMPLETE | NOTIFIED | JOIN_INTEREST | JOIN_WAKER | CANCELLED | refcount
//
// Every holder of a TaskHeader* owns one reference: the runtime's owned-task list,
// each queue entry (a "notified" reference), the JoinHandle, and each Waker. The
// frame is destroyed and the header freed when the count reaches zero.
//
// A task's life is the poll protocol written at the top of engine/src/task.cpp;
// its state word changes only through the named transitions of TaskState.
#pragma once

#include <bit>
#include <coroutine>
#include <source_location>
#include <cstdint>
#include <exception>
#include <new>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include "weft/assert.hpp"
#include "weft/events.hpp"
#include "weft/platform/platform.hpp"

WEFT_NS_BEGIN

struct TaskHeader;

namespace detail {
// pool_alloc and pool_free serve task blocks (a coroutine frame with room for its
// task cell in front, see FrameTag) from per-thread free lists by size class, a
// block freed on another thread going back to its allocator in batches (the
// protocol is at the top of engine/src/task_pool.cpp). An allocator cache: it
// makes no scheduling decision, so sharing it between simulated fibers on one
// thread is harmless. AddressSanitizer builds bypass it so every use-after-free
// stays visible.
//
// PoolBlock is a block and its owner (the allocating thread's mailbox; null for
// a block from operator new), which pool_free needs back.
struct PoolBlock {
  void* p;
  void* owner;
};
PoolBlock pool_alloc(std::size_t n);
void pool_free(void* p, std::size_t n, void* owner) noexcept;
// pool_alloc_unnoted and pool_free_unnoted are the same without the leak check's
// note (Platform::note_hold): for objects that note themselves (PoolNew).
PoolBlock pool_alloc_unnoted(std::size_t n);
void pool_free_unnoted(void* p, std::size_t n, void* owner) noexcept;

// PoolNew gives a type operator new and delete from the task pool, for the state
// that sync primitives share between their handles (a oneshot's Inner, a
// channel's Chan): one per ping, so the heap's cost was a quarter of a round
// trip. A PoolTag in front of the object keeps the block's owner for pool_free.
// The types note their allocation for the leak check themselves, so the pool
// does not. Over-aligned types go to the global aligned operator new instead.
struct PoolNew {
  struct PoolTag {
    void* owner;
    std::uint32_t block_bytes;  // the tag plus the object, what pool_alloc was asked for
    std::uint32_t magic;
  };
  static constexpr std::size_t kTagSpace = __STDCPP_DEFAULT_NEW_ALIGNMENT__;
  static constexpr std::uint32_t kPoolTagMagic = 0x706f6f6cu;
  static_assert(sizeof(PoolTag) <= kTagSpace, "the tag fits in front and keeps operator new's alignment");

  static void* operator new(std::size_t n) {
    const PoolBlock block = pool_alloc_unnoted(kTagSpace + n);
    *static_cast<PoolTag*>(block.p) = PoolTag{block.owner, static_cast<std::uint32_t>(kTagSpace + n), kPoolTagMagic};
    return static_cast<char*>(block.p) + kTagSpace;
  }
  static void operator delete(void* p, std::size_t n) noexcept {
    char* block = static_cast<char*>(p) - kTagSpace;
    const PoolTag tag = *reinterpret_cast<const PoolTag*>(block);
    WEFT_ASSERT(tag.magic == kPoolTagMagic && tag.block_bytes == kTagSpace + n);
    pool_free_unnoted(block, tag.block_bytes, tag.owner);
  }
  static void* operator new(std::size_t n, std::align_val_t a) { return ::operator new(n, a); }
  static void operator delete(void* p, std::size_t n, std::align_val_t a) noexcept { ::operator delete(p, n, a); }
};
}  // namespace detail

// PromiseLink is the part of every Task promise that async backtraces read: which
// Task the coroutine awaits, if any, and where the await is written. The leaf
// that the innermost coroutine awaits (a channel, a timer) is the task's, not a
// frame's: TaskHeader::leaf. Its fields are Cells: the poller writes them, and a
// dump's leader reads them on another thread once it has claimed the task
// (ordered by the claim's acquire); whoever destroys the frame (a later poll, a
// cancel) may be on yet another thread.
//
// It also keeps what the coroutine threw, in the storage of the await's place
// (one word on the OS backend), in steps:
//   Step P1. From its start until it ends, the storage holds where its current
//            await is written (await_transform writes it, a dump reads it).
//   Step P2. If it ends by throwing (unhandled_exception, keep_thrown), the
//            storage holds the exception and awaiting_ its throw mark, until the frame
//            is destroyed. A coroutine that ended awaits nothing and is in no
//            backtrace (its awaiter resumes in the same poll, a root's poller
//            destroys it before letting the task go), so no one wants its place.
// Every reader of either member reads awaiting_ first (threw), so the simulator
// checks the hand-over on that Cell too.
class PromiseLink {
 public:
  PromiseLink() noexcept {}
  PromiseLink(const PromiseLink&) = delete;
  PromiseLink& operator=(const PromiseLink&) = delete;
  ~PromiseLink() {
    if (threw()) {
      thrown_.~Cell();
    } else {
      await_loc_.~Cell();
    }
  }

  // awaiting is the Task this coroutine awaits (null: none, or it ended).
  PromiseLink* awaiting() const noexcept {
    PromiseLink* p = awaiting_.get();
    return p == threw_mark() ? nullptr : p;
  }
  void set_awaiting(PromiseLink* child) noexcept {
    WEFT_ASSERT(!threw());
    awaiting_.set(child);
  }
  // await_loc is where the current await is written (step P1).
  std::source_location await_loc() const noexcept {
    WEFT_ASSERT(!threw());
    return await_loc_.get();
  }
  void set_await_loc(std::source_location loc) noexcept {
    WEFT_ASSERT(!threw());
    await_loc_.set(loc);
  }
  // keep_thrown keeps what the coroutine threw (step P2).
  void keep_thrown(std::exception_ptr e) noexcept {
    WEFT_ASSERT(!threw());
    await_loc_.~Cell();
    new (&thrown_) Cell<std::exception_ptr>(std::move(e));
    awaiting_.set(threw_mark());
  }
  // thrown is what the coroutine threw, or null if it did not (yet).
  const std::exception_ptr* thrown() const noexcept {
    if (!threw()) return nullptr;
    return thrown_.with([](const std::exception_ptr& e) { return &e; });
  }

 private:
  // threw_mark is awaiting_ once the coroutine threw: an address no promise has.
  static PromiseLink* threw_mark() noexcept { return reinterpret_cast<PromiseLink*>(alignof(PromiseLink)); }
  bool threw() const noexcept { return awaiting_.get() == threw_mark(); }

  Cell<PromiseLink*> awaiting_{nullptr};
  union {
    Cell<std::source_location> await_loc_{};  // step P1
    Cell<std::exception_ptr> thrown_;         // step P2
  };
};

// LeafKind is a kind of leaf awaitable (a channel's receive, a timer, a Notify):
// its name, which dumps show as what a task waits on, and how a poll tells that
// an awaiter of this kind is ready (null: always), given the awaiter's argument
// (see TaskHeader::suspend_at; the argument is never null). One static object
// per kind; a task points at the kind of the leaf it awaits, so neither the
// name nor the check costs a frame any room.
struct LeafKind {
  const char* name;
  bool (*ready)(const void*);
};
// kAnyLeaf is the kind of a leaf that names itself no better: always ready.
inline constexpr LeafKind kAnyLeaf{"await", nullptr};

// Scheduler receives tasks that became runnable, and tasks that finished.
class Scheduler {
 public:
  virtual ~Scheduler() = default;
  // schedule takes over one notified reference of task.
  virtual void schedule(TaskHeader* task, bool is_yield) = 0;
  // release removes a finished task from the owned list; returns true if it was there.
  virtual bool release(TaskHeader* task) = 0;
  // unhandled receives the exception of a task nobody joins.
  virtual void unhandled(std::exception_ptr) {}
};

namespace state {
inline constexpr std::uint64_t kRunning = 1;
inline constexpr std::uint64_t kComplete = 2;
inline constexpr std::uint64_t kNotified = 4;
inline constexpr std::uint64_t kJoinInterest = 8;
inline constexpr std::uint64_t kJoinWaker = 16;
inline constexpr std::uint64_t kCancelled = 32;
inline constexpr std::uint64_t kLifecycle = kRunning | kComplete;
inline constexpr std::uint64_t kRefOne = 64;
inline constexpr std::uint64_t kRefMask = ~(kRefOne - 1);
inline constexpr std::uint64_t refs(std::uint64_t s) { return s >> 6; }
}  // namespace state

// TaskState is a task's state word and its only writer. Every change is one named
// transition that returns what its caller must do next; the transitions are
// defined, with the memory order each one needs and what it asserts, in
// engine/src/task_state.hpp, so only the engine's task code (and its unit test)
// can call them. Everyone else reads snapshots with load() and tests the
// `state::` bits; reference counting is inline here because Waker and JoinHandle
// clone and drop references on the hot path.
class TaskState {
 public:
  // Wake is what a wake or an abort asks of its caller.
  enum class Wake : std::uint8_t {
    nothing,  // the task is running, complete or queued already
    submit,   // the task is newly notified: queue it (one reference for the entry)
    dealloc,  // the caller dropped the last reference: free the task
  };
  // Run is the outcome of to_running, the first step of a poll.
  enum class Run : std::uint8_t {
    success,         // RUNNING is ours: resume the task
    cancelled,       // RUNNING is ours but the task was aborted: cancel it
    failed,          // running elsewhere or complete: the queue entry is dropped
    failed_dealloc,  // as failed, and that entry was the last reference
  };
  // Idle is the outcome of to_idle, the end of a poll that did not complete.
  enum class Idle : std::uint8_t {
    ok,           // idle; the runner's reference is dropped
    ok_notified,  // woken during the poll: requeue it as a yield, keeping the reference
    ok_dealloc,   // idle, and the runner's reference was the last
    cancelled,    // aborted during the poll: RUNNING is still ours, cancel it
  };
  // Shutdown is the outcome of to_shutdown.
  enum class Shutdown : std::uint8_t {
    cancel,  // the task was idle and RUNNING is now ours: cancel it at once
    marked,  // running or complete: CANCELLED is set for its runner to see
  };
  // Deferred is the outcome of to_notified_deferred (a task leaving a defer list).
  enum class Deferred : std::uint8_t {
    submit,  // newly notified: the defer list's reference becomes the queue entry's
    drop,    // running, complete or notified already: drop the defer list's reference
  };
  // Claim is the outcome of to_claimed (a dump reading an idle task's frame).
  enum class Claim : std::uint8_t { claimed, refused };
  // Unclaim is the outcome of to_unclaimed.
  enum class Unclaim : std::uint8_t {
    nothing,  // idle again
    submit,   // woken while claimed: queue it (one reference for the entry)
    cancel,   // aborted while claimed: RUNNING is still ours, cancel it
  };
  // JoinWaker is the outcome of set_join_waker and unset_join_waker.
  enum class JoinWaker : std::uint8_t {
    done,      // the JoinHandle holds (unset) or has published (set) the waker field
    complete,  // the task completed first: the caller reads the output instead
  };
  // JoinDropped is the outcome of to_join_dropped.
  enum class JoinDropped : std::uint8_t {
    drop_waker,   // the waker field is the JoinHandle's again: it drops the waker
    leave_waker,  // completion owns the field and drops the waker itself
  };

  explicit TaskState(std::uint64_t initial) noexcept : word_(initial) {}
  TaskState(const TaskState&) = delete;
  TaskState& operator=(const TaskState&) = delete;

  // load reads a snapshot of the word, to test with the `state::` bits.
  std::uint64_t load(Order order) const noexcept { return word_.load(order); }

  // ref_inc adds a reference; the caller must already hold one. Relaxed: a
  // holder's reference keeps the task alive, and a new reference publishes nothing.
  void ref_inc() noexcept {
    const std::uint64_t prev = word_.fetch_add(state::kRefOne, Order::relaxed);
    WEFT_ASSERT(state::refs(prev) >= 1);
  }
  // ref_dec drops n references and returns true if they were the last: the
  // caller frees the task. acq_rel: the release orders this holder's accesses
  // before the free; the acquire of the last holder takes every other holder's.
  [[nodiscard]] bool ref_dec(std::uint64_t n = 1) noexcept {
    const std::uint64_t prev = word_.fetch_sub(n * state::kRefOne, Order::acq_rel);
    WEFT_ASSERT(state::refs(prev) >= n);
    return state::refs(prev) == n;
  }

  // The named transitions (engine/src/task_state.hpp).
  Run to_running() noexcept;
  Idle to_idle() noexcept;
  std::uint64_t to_complete() noexcept;
  Wake to_notified_by_ref() noexcept;
  Wake to_notified_by_val() noexcept;
  Deferred to_notified_deferred() noexcept;
  Wake to_cancelled() noexcept;
  Shutdown to_shutdown() noexcept;
  Claim to_claimed() noexcept;
  Unclaim to_unclaimed() noexcept;
  JoinWaker set_join_waker() noexcept;
  JoinWaker unset_join_waker(std::uint64_t cur) noexcept;
  bool unset_join_waker_after_complete() noexcept;
  JoinDropped to_join_dropped() noexcept;

 private:
  template <class Stops, class NextOf, class Decide>
  auto update(std::uint64_t cur, Stops stops, NextOf next_of, Decide decide) noexcept;

  Atomic<std::uint64_t> word_;
};

// Flag is a bool that a readiness check may read without the lock that guards
// its writes: relaxed, never a decision point; the wake that follows each write
// is what orders it for the task it concerns.
class Flag {
 public:
  Flag& operator=(bool v) noexcept {
    f_.set(v);
    return *this;
  }
  operator bool() const noexcept { return f_.get(); }

 private:
  RelaxedFlag f_;  // one byte: a Waiter's flags share a word
};

// ThreadContext is what the current thread (or simulated thread) is doing for the
// runtime. It lives in the platform's context slot so the simulator gives each
// fiber its own.
struct ThreadContext {
  Scheduler* scheduler = nullptr;  // the runtime this thread works for, if any
  void* core = nullptr;            // the worker's core while it polls, else null
  std::int32_t worker_index = -1;
  TaskHeader* current_task = nullptr;
  std::uint32_t budget = 0;  // cooperative budget of the current poll
  bool budget_active = false;
  Counter* forced_yields = nullptr;  // the runtime's budget_forced_yield_count
  // run_next is the trampoline of the task being polled here (TaskHeader::resume):
  // where an await or a finished child hands on the frame to resume next; null
  // outside a poll. A poll's state, so it lives with the thread, not the task.
  std::coroutine_handle<>* run_next = nullptr;
  // defer holds tasks that called yield_now on this worker, one reference each;
  // the worker wakes them when it has nothing else to run, or at maintenance.
  Cell<std::vector<TaskHeader*>>* defer = nullptr;
};

inline ThreadContext* current_context() noexcept {
  return static_cast<ThreadContext*>(Platform::context_slot());
}

// ContextGuard installs a ThreadContext for a scope and restores the previous one.
class ContextGuard {
 public:
  explicit ContextGuard(ThreadContext* cx) noexcept : prev_(current_context()) { Platform::set_context_slot(cx); }
  ~ContextGuard() { Platform::set_context_slot(prev_); }
  ContextGuard(const ContextGuard&) = delete;
  ContextGuard& operator=(const ContextGuard&) = delete;

 private:
  void* prev_;
};

// coop_yield suspends the current task at h and requeues it at the back: the
// budget ran out while the awaited thing was ready.
void coop_yield(std::coroutine_handle<> h);
// coop_spend_on_recheck spends one unit of the current poll's budget for an await
// found ready on its re-check (CoopBudget::ready_on_recheck), or yields as
// coop_yield does when the budget is spent; true if it yielded.
bool coop_spend_on_recheck(std::coroutine_handle<> h);

// CoopBudget is the budget check of an awaiter that can complete without
// suspending; every such awaiter holds one and calls it. A ready await spends one
// unit of the poll's budget; once the budget is spent the task yields first, so
// a task whose awaits are always ready cannot keep its worker.
class CoopBudget {
 public:
  // proceed, in await_ready once the awaited thing is ready: spends one unit and
  // returns true; false when the budget is spent, and await_ready returns false
  // so that await_suspend yields.
  bool proceed() noexcept {
    ThreadContext* cx = current_context();
    if (cx == nullptr || !cx->budget_active) return true;  // outside a budgeted poll
    if (cx->budget != 0) {
      --cx->budget;
      return true;
    }
    yield_pending_ = true;
    return false;
  }
  // yield_if_spent, first in await_suspend: after a refused proceed() it
  // suspends the task at h, requeues it at the back and returns true (what
  // await_suspend returns); otherwise false and the await goes on.
  bool yield_if_spent(std::coroutine_handle<> h) {
    if (!std::exchange(yield_pending_, false)) return false;
    coop_yield(h);
    return true;
  }
  // ready_on_recheck, last in an await_suspend whose re-check found the awaited
  // thing ready after all (it became ready since await_ready): that await is a
  // ready await and spends budget like one, so a task cannot pass its budget
  // through this window; with the budget spent the task yields instead. Returns
  // what await_suspend returns (false: go on without suspending). Call it with no
  // lock held: the yield requeues the task.
  bool ready_on_recheck(std::coroutine_handle<> h) { return coop_spend_on_recheck(h); }

 private:
  bool yield_pending_ = false;
};

// TaskVTable is what a TaskHeader needs of the type of its output.
struct TaskVTable {
  // finish moves the finished root's result into the cell and destroys the frame,
  // so the task's locals and parameters are released when it completes.
  void (*finish)(TaskHeader*);
  // destroy_cell frees the task's memory.
  void (*destroy_cell)(TaskHeader*);
};

namespace detail {
// FrameState is what a Task frame's block holds, in its tag; each value is also
// the tag's magic (a byte no stray write is likely to leave).
enum class FrameState : std::uint8_t {
  alone = 0x5c,     // a frame with no task cell (awaited or dropped, never spawned): it frees the block
  in_cell = 0xa7,   // a spawned task's live root frame: the cell frees the block
  finished = 0xb3,  // the root ran to its end and its frame is gone
  threw = 0xbe,     // the root ended by throwing; its frame is gone, and the exception is where the frame was
  dropped = 0xc9,   // the root frame was destroyed before its end (cancelled)
};

// FrameTag sits just before every Task frame (see FrameAlloc): the whole block's
// size and owner, and what the block holds. In a spawned task it is the header's
// last member, and its last bytes hold two of the header's flags, so they cost
// no word of their own; each is its own memory location under its own guard.
struct FrameTag {
  FrameTag(void* o, std::uint32_t bytes, FrameState f) noexcept : owner(o), block_bytes(bytes), frame(f) {}
  FrameTag(const FrameTag&) = delete;
  FrameTag& operator=(const FrameTag&) = delete;

  void* const owner;                // the block's owner, for pool_free
  const std::uint32_t block_bytes;  // everything in front of the frame plus the frame: what pool_alloc was asked for
  // frame: written at allocation, then by the holder of RUNNING (a poller's
  // finish, a cancel) and last by the holder of the last reference (the cell's
  // free drops a kept exception), read by others after COMPLETE (a JoinHandle's
  // join) or after a claim (a dump's backtrace): a Cell, so the simulator checks
  // those hand-overs (one byte here).
  Cell<FrameState> frame;
  bool is_block_on = false;  // a spawned task's: before publication
  bool in_owned = false;     // a spawned task's: guarded by the owned list's shard lock
};
}  // namespace detail

// hand_on asks the trampoline of the task being polled on this thread to resume
// h next (TaskHeader::resume); false outside a poll.
inline bool hand_on(std::coroutine_handle<> h) noexcept {
  ThreadContext* cx = current_context();
  if (cx == nullptr || cx->run_next == nullptr) return false;
  WEFT_ASSERT(!*cx->run_next);
  *cx->run_next = h;
  return true;
}

// TaskHeader is the type-erased, reference-counted part of a spawned task. Its
// fields are grouped by who may touch them; each group states its guard once.
// The groups the schedulers use are public; the frame, the outcome and the join
// waker are private, reached through the members below them (all inline).
//
// The task's root frame follows the header at kFrameOffset (see FrameAlloc), so
// the header finds the frame, and the frame's promise, without a pointer to them.
struct TaskHeader {
  TaskHeader(std::uint64_t initial_state, std::uint64_t id, Scheduler* scheduler, const TaskVTable* vtable,
             void* block_owner, std::uint32_t block_bytes) noexcept
      : state_(initial_state),
        id_(id),
        scheduler_(scheduler),
        vtable_(vtable),
        tag_(block_owner, block_bytes, detail::FrameState::in_cell) {
    resume_at().set(root());  // the first poll starts the root
  }
  TaskHeader(const TaskHeader&) = delete;
  TaskHeader& operator=(const TaskHeader&) = delete;

  // ---- The state word (atomic): changed only through its named transitions.
  TaskState state_;

  // ---- Fixed at spawn: written before the task is first published (a block_on
  // root's driver sets scheduler_, and block_on tag_.is_block_on, before its
  // first poll), read-only after, by any thread.
  const std::uint64_t id_;
  Scheduler* scheduler_;  // before publication

  // ---- Scheduler-owned links: touched only by the structure that holds the
  // task, under that structure's lock. queue_next_ is a Cell: an overflowing
  // owner links its batch before taking the injection queue's lock.
  Cell<TaskHeader*> queue_next_{nullptr};  // the injection queue's, under its lock
  TaskHeader* owned_prev_ = nullptr;  // guarded by the owned list's shard lock (as tag_.in_owned)
  TaskHeader* owned_next_ = nullptr;  // guarded by the owned list's shard lock

  std::uint64_t id() const noexcept { return id_; }
  bool is_block_on() const noexcept { return tag_.is_block_on; }
  void set_block_on() noexcept { tag_.is_block_on = true; }  // before publication
  bool in_owned() const noexcept { return tag_.in_owned; }   // under the owned list's shard lock
  void set_in_owned(bool v) noexcept { tag_.in_owned = v; }  // under the owned list's shard lock

  // ---- The frame, owner-only: touched only by the holder of RUNNING (the
  // poller, a shutdown's cancel, a dump's claim), which moves between threads
  // through the state word: Cells (and tag_.frame, which says whether the frame
  // lives), so the simulator checks that hand-over.

  // suspend_at records h as the point where the task resumes, the kind of leaf
  // it awaits, and the argument of the kind's readiness check (its awaiter;
  // non-null exactly when the kind has a check). A wake that arrives late,
  // after the task moved on to another await, must not resume an awaiter that
  // is not ready: the poll leaves the task suspended instead.
  void suspend_at(std::coroutine_handle<> h, const LeafKind* kind, const void* arg) noexcept {
    resume_at().set(h);
    set_ready(kind, arg);
  }
  // set_ready replaces the kind and the readiness argument of the current await.
  void set_ready(const LeafKind* kind, const void* arg) noexcept {
    WEFT_ASSERT(kind != nullptr && (kind->ready == nullptr || arg != nullptr));
    leaf_.set(kind);
    ready_arg_.set(kind->ready != nullptr ? arg : nullptr);
  }
  // leaf is the kind of leaf the task's last await armed (null: none yet); an
  // await that found its leaf ready on its re-check armed it too.
  const LeafKind* leaf() const noexcept { return leaf_.get(); }
  // resume runs the task until it next suspends, unless its awaiter is not
  // ready (a stale wake): then the task stays suspended. The check is disarmed
  // once passed. Every suspension of a task records its check or none
  // (suspend_at); an await that armed a check and then found its leaf ready
  // without suspending leaves it armed until the next suspension replaces it,
  // so an awaiter that suspended without suspend_at could read a dead awaiter:
  // leaf awaitables must call suspend_current (or suspend_at).
  //
  // It is the trampoline of awaiting a Task (steps at PromiseBase): it resumes
  // the innermost frame, then each frame an await or a finished child handed on
  // (hand_on, through the thread's run_next), until one suspends without handing
  // on. So no chain of awaits, ready or deep, nests a native frame per await.
  // cx is this thread's context (the poller has it at hand), or null.
  void resume(ThreadContext* cx) {
    if (const void* arg = ready_arg_.get(); arg != nullptr) {
      if (!leaf_.get()->ready(arg)) return;
      ready_arg_.set(nullptr);
    }
    std::coroutine_handle<> h = resume_at().get();
    if (cx == nullptr) {  // no trampoline: awaits fall back to symmetric transfer
      h.resume();
      return;
    }
    std::coroutine_handle<> next{};
    struct Slot {  // also when a platform unwind leaves the poll
      ThreadContext* cx;
      std::coroutine_handle<>* outer;
      ~Slot() { cx->run_next = outer; }
    } slot{cx, std::exchange(cx->run_next, &next)};
    while (h) {
      h.resume();
      h = std::exchange(next, {});
    }
  }
  // root_done: the root coroutine has run to its end.
  bool root_done() const noexcept {
    WEFT_ASSERT(tag_.frame.get() == detail::FrameState::in_cell);
    return root().done();
  }
  // root_promise is the root coroutine's promise, where async backtraces start;
  // null once the frame is destroyed.
  PromiseLink* root_promise() const noexcept {
    if (tag_.frame.get() != detail::FrameState::in_cell) return nullptr;
    // Every Task promise starts with its PromiseLink, two pointers into the
    // frame (make_header checks both).
    return std::launder(reinterpret_cast<PromiseLink*>(frame_address() + 2 * sizeof(void*)));
  }
  // destroy_frame destroys the root frame, keeping nothing of it: its locals'
  // destructors deregister any waiters they hold. finished says whether the
  // root ran to its end (finish keeps its result first).
  void destroy_frame(bool finished = false) noexcept {
    if (tag_.frame.get() != detail::FrameState::in_cell) return;
    tag_.frame.set(finished ? detail::FrameState::finished : detail::FrameState::dropped);
    root().destroy();  // FrameAlloc's operator delete leaves the block to the cell
  }
  // finish keeps the finished root's result in the cell and destroys the frame.
  void finish() { vtable_->finish(this); }
  // destroy_cell frees the task's memory (the last reference is gone).
  void destroy_cell() noexcept { vtable_->destroy_cell(this); }
  // frame_address is where the root frame is (or was).
  char* frame_address() const noexcept;
  // The block: its owner and size, for pool_free; tag is the header's frame tag.
  void* block_owner() const noexcept { return tag_.owner; }
  std::uint32_t block_bytes() const noexcept { return tag_.block_bytes; }
  const detail::FrameTag* tag() const noexcept { return &tag_; }

  // ---- The outcome: written by the holder of RUNNING before to_complete, read
  // by others only after they saw COMPLETE (acquire); a kept exception is
  // destroyed by the holder of the last reference (drop_exception).

  // finish_frame_threw destroys the root frame, which ended by throwing, and
  // keeps what it threw where the frame was: a finished task's frame is dead,
  // and its block stays until the cell goes (destroy_cell_of). (A root that
  // returned is finished by destroy_frame(true).) No exception_ptr is made on
  // the path without one: each costs a call to its destructor.
  void finish_frame_threw(std::exception_ptr thrown) noexcept;
  // finished: the root ran to its end (a late abort does not void the result).
  bool finished() const noexcept {
    const detail::FrameState f = tag_.frame.get();
    return f == detail::FrameState::finished || f == detail::FrameState::threw;
  }
  // exception is what the root threw (null: nothing, or it has not finished).
  const std::exception_ptr* exception() const noexcept;
  // drop_exception destroys what the root threw, before the cell is freed.
  void drop_exception() noexcept;

  // ---- The join waker, an owned reference to the task awaiting the JoinHandle:
  // while JOIN_WAKER is set only the runtime (completion) touches it; while it
  // is clear only the JoinHandle does.

  TaskHeader* join_waker() const noexcept { return join_waker_.get(); }
  void store_join_waker(TaskHeader* waiter) noexcept { join_waker_.set(waiter); }
  // take_join_waker hands the stored reference to the caller.
  TaskHeader* take_join_waker() noexcept {
    return join_waker_.with_mut([](TaskHeader*& w) { return std::exchange(w, nullptr); });
  }

 private:
  std::coroutine_handle<> root() const noexcept { return std::coroutine_handle<>::from_address(frame_address()); }

  // resume_at is the innermost suspended coroutine, where a poll resumes: the
  // root promise's continuation slot, which a root, awaited by no one, does not
  // otherwise use (PromiseBase).
  Cell<std::coroutine_handle<>>& resume_at() const noexcept;
  // thrown_cell is where a finished root's exception is kept: the dead frame.
  Cell<std::exception_ptr>* thrown_cell() const noexcept;

  const TaskVTable* const vtable_;
  Cell<const LeafKind*> leaf_{nullptr};  // the leaf it awaits (suspend_at)
  Cell<const void*> ready_arg_{nullptr};  // the argument of leaf_'s check; null: no check armed
  Cell<TaskHeader*> join_waker_{nullptr};
  // Last: the frame's tag, just before the frame (FrameAlloc; make_header checks
  // the place); tag_.frame says whether the root frame lives and how it ended.
  // Its fields are before publication (owner, block_bytes, is_block_on), a Cell
  // (frame), or guarded by the owned list's shard lock (in_owned).
  detail::FrameTag tag_;  // before publication, a Cell, or guarded by the owned list's shard lock: per field
};

namespace detail {
// kFrameAlign is the alignment operator new promises, the frame's; frame_aligned
// rounds n up to it.
inline constexpr std::size_t kFrameAlign = __STDCPP_DEFAULT_NEW_ALIGNMENT__;
constexpr std::size_t frame_aligned(std::size_t n) noexcept { return (n + kFrameAlign - 1) / kFrameAlign * kFrameAlign; }
// kFrameOffset is where a spawned task's root frame starts, from its header.
inline constexpr std::size_t kFrameOffset = frame_aligned(sizeof(TaskHeader));
// frame_tag_place is where the tag in front of the frame at `frame` is: where a
// header's tag_ would be, spawned or not; frame_tag is the tag there.
inline void* frame_tag_place(void* frame) noexcept {
  return static_cast<char*>(frame) - kFrameOffset + sizeof(TaskHeader) - sizeof(FrameTag);
}
inline FrameTag* frame_tag(void* frame) noexcept { return std::launder(static_cast<FrameTag*>(frame_tag_place(frame))); }
}  // namespace detail

inline char* TaskHeader::frame_address() const noexcept {
  return const_cast<char*>(reinterpret_cast<const char*>(this)) + detail::kFrameOffset;
}

namespace task_ops {

// ref_inc adds a reference; the caller must already hold one.
inline void ref_inc(TaskHeader* t) noexcept { t->state_.ref_inc(); }

void dealloc(TaskHeader* t) noexcept;

// ref_dec drops a reference and frees the task when it was the last one.
inline void ref_dec(TaskHeader* t) noexcept {
  if (t->state_.ref_dec()) dealloc(t);
}

// wake_by_ref makes the task runnable without consuming the caller's reference.
void wake_by_ref(TaskHeader* t, std::int32_t worker = -1);
// wake_by_val makes the task runnable and consumes the caller's reference.
void wake_by_val(TaskHeader* t, std::int32_t worker = -1);
// abort requests cancellation: the task is cancelled at its next poll.
void abort(TaskHeader* t);
// shutdown cancels the task if it is idle (true), else marks it cancelled (false).
bool shutdown(TaskHeader* t);
// poll runs one poll of a notified task and consumes the queue entry's reference.
// Returns false when the task was not resumed (already running, complete, or
// cancelled before it ran), so poll counts match the trace's poll events.
bool poll(TaskHeader* t, std::int32_t worker);
// cancel_unspawned cancels a task refused at spawn (runtime shut down), leaving
// no trace event: it never existed for the runtime.
void cancel_unspawned(TaskHeader* t);
// cancel_now cancels a task whose RUNNING bit the caller holds (from shutdown()).
void cancel_now(TaskHeader* t, std::int32_t worker);
// try_claim sets RUNNING on an idle, un-notified task so its frame can be read
// without anyone resuming it; release_claim undoes it, scheduling the task if it
// was woken meanwhile and cancelling it if it was aborted or shut down meanwhile.
bool try_claim(TaskHeader* t);
void release_claim(TaskHeader* t, std::int32_t worker);
// mark_deferred_wake wakes a task from a defer list: true if the caller's
// reference must now be queued; false if the task was running (it is marked
// notified so its runner, or a dump's claim, requeues it), complete, or already
// notified, in which case the caller drops its reference.
bool mark_deferred_wake(TaskHeader* t);
// drop_notified drops a queue entry's reference without running the task.
inline void drop_notified(TaskHeader* t) noexcept { ref_dec(t); }

}  // namespace task_ops

// Waker is an owned reference to a task that can make it runnable again.
class Waker {
 public:
  Waker() = default;
  explicit Waker(TaskHeader* t) noexcept : t_(t) {
    if (t_) task_ops::ref_inc(t_);
  }
  Waker(const Waker& o) noexcept : Waker(o.t_) {}
  Waker(Waker&& o) noexcept : t_(std::exchange(o.t_, nullptr)) {}
  Waker& operator=(Waker o) noexcept {
    std::swap(t_, o.t_);
    return *this;
  }
  ~Waker() {
    if (t_) task_ops::ref_dec(t_);
  }
  // wake consumes the waker.
  void wake() {
    if (TaskHeader* t = std::exchange(t_, nullptr)) task_ops::wake_by_val(t, worker_index());
  }
  void wake_by_ref() const {
    if (t_) task_ops::wake_by_ref(t_, worker_index());
  }
  bool will_wake(const Waker& o) const noexcept { return t_ == o.t_; }
  bool valid() const noexcept { return t_ != nullptr; }
  TaskHeader* task() const noexcept { return t_; }

 private:
  static std::int32_t worker_index() noexcept {
    ThreadContext* cx = current_context();
    return cx ? cx->worker_index : -1;
  }
  TaskHeader* t_ = nullptr;
};

// current_task returns the task being polled on this thread (null outside a poll).
inline TaskHeader* current_task() noexcept {
  ThreadContext* cx = current_context();
  return cx ? cx->current_task : nullptr;
}

// note_suspend records h as the point where t resumes, and the kind of leaf it
// awaits, with the argument of that kind's readiness check (see suspend_at).
inline void note_suspend(TaskHeader* t, std::coroutine_handle<> h, const LeafKind& kind, const void* arg = nullptr) {
  t->suspend_at(h, &kind, arg);
}

// suspend_current records h as the point where the current task resumes and
// returns a waker for it. Leaf awaitables call it from await_suspend, naming
// the kind of leaf they are (a static LeafKind) and passing the argument of its
// readiness check: never null when the kind has a check (a null argument arms
// no check).
inline Waker suspend_current(std::coroutine_handle<> h, const LeafKind& kind = kAnyLeaf, const void* arg = nullptr) {
  TaskHeader* t = current_task();
  WEFT_CHECK(t != nullptr);  // awaited outside a weft task
  note_suspend(t, h, kind, arg);
  return Waker(t);
}

// JoinError is thrown when awaiting a task that was cancelled or threw.
class JoinError : public std::runtime_error {
 public:
  enum class Kind { cancelled, panicked };
  JoinError(Kind k, std::exception_ptr cause)
      : std::runtime_error(k == Kind::cancelled ? "task was cancelled" : "task threw an exception"),
        kind_(k),
        cause_(std::move(cause)) {}
  bool is_cancelled() const noexcept { return kind_ == Kind::cancelled; }
  bool is_panic() const noexcept { return kind_ == Kind::panicked; }
  const std::exception_ptr& cause() const noexcept { return cause_; }

 private:
  Kind kind_;
  std::exception_ptr cause_;
};

template <class T>
class Task;

namespace detail {

// AwaitRef awaits an awaiter that lives elsewhere (the co_await operand), so
// await_transform never copies it.
template <class A>
struct AwaitRef {
  A& a;
  bool await_ready() { return a.await_ready(); }
  template <class H>
  auto await_suspend(H h) {
    return a.await_suspend(h);
  }
  decltype(auto) await_resume() { return a.await_resume(); }
};

// One allocation per task: every Task<T> coroutine frame is allocated with room
// for a task cell in front of it, so spawning the frame builds the cell there
// instead of allocating it. The block is laid out as
//
//   [ Output<T> | pad ][ TaskHeader ... FrameTag | pad ][ coroutine frame ... ]
//   ^ block            ^ the header (output_space)      ^ the frame: header + kFrameOffset
//                                                         (what operator new returns; GCC
//                                                          and Clang give it back as the
//                                                          handle's address)
//
// (a Task<void>'s output takes no room, so its header starts the block), and
// freed once: by the frame's operator delete when no cell was built (a Task
// awaited or dropped, never spawned), else by the cell when the task's last
// reference goes (the frame is always destroyed before the cell).

// FrameAlloc is the allocation of Task<T>'s coroutine frames (defined below Output).
template <class T>
struct FrameAlloc {
  // cell_space is the room in front of the frame: the output and the header
  // (whose last member is the tag), keeping the frame at the alignment operator
  // new promises.
  static constexpr std::size_t cell_space() noexcept;
  static void* operator new(std::size_t n);
  static void operator delete(void* frame, std::size_t n) noexcept;
};

// loc_from is the std::source_location whose one member is the pointer p (what
// __builtin_source_location gives, and what std::source_location::current
// keeps, in GCC's and Clang's standard libraries).
inline std::source_location loc_from(const void* p) noexcept {
  static_assert(sizeof(std::source_location) == sizeof(const void*) &&
                    std::is_trivially_copyable_v<std::source_location>,
                "a source_location is one pointer");
  return std::bit_cast<std::source_location>(p);
}

// PromiseBase holds the continuation shared by every Task<T> promise.
//
// Awaiting a Task, in steps (Task::Awaiter, FinalAwaiter, TaskHeader::resume):
//   1. The awaiter links the child to its parent (continuation, dump chain) and
//      hands the child on to the trampoline of the task being polled on this
//      thread; the parent suspends, and control returns to the trampoline.
//   2. The trampoline (TaskHeader::resume) resumes the frame handed on. It runs
//      until it suspends: on a leaf (the poll ends there), or by step 1 again.
//   3. When the child finishes, its final awaiter hands the parent on, and the
//      trampoline resumes it; the parent's await_resume takes the value.
// So neither a loop of ready awaits nor a deep chain of nested awaits grows the
// native stack, in any build: symmetric transfer does that only where the
// compiler makes it a tail call (not in Debug or ASan builds), and a plain call
// per await grows it in every build. Outside a poll (no trampoline) both
// awaiters fall back to symmetric transfer. One task is polled by one thread at
// a time, so the trampoline's fields need no atomics.
struct PromiseBase : PromiseLink {
  // continuation_ is the coroutine awaiting this one. A spawned task's root is
  // awaited by no one: its header keeps the task's resume point here
  // (TaskHeader::resume_at), a Cell as the header's fields are.
  Cell<std::coroutine_handle<>> continuation_;

  std::suspend_always initial_suspend() noexcept { return {}; }

  struct FinalAwaiter {
    bool await_ready() noexcept { return false; }
    template <class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) noexcept {
      // A spawned task's root (its tag is its header's) is awaited by no one.
      if (frame_tag(h.address())->frame.get() == FrameState::in_cell) return std::noop_coroutine();
      const std::coroutine_handle<> cont = h.promise().continuation_.get();
      if (!cont) return std::noop_coroutine();
      if (hand_on(cont)) return std::noop_coroutine();  // Step 3
      return cont;
    }
    void await_resume() noexcept {}
  };
  FinalAwaiter final_suspend() noexcept { return {}; }
  // unhandled_exception keeps the exception for the awaiter, except the
  // platform's own unwind (Platform::unwinding), which passes on to the poller.
  void unhandled_exception() {
    if (Platform::unwinding()) throw;
    keep_thrown(std::current_exception());  // step P2
  }

  // await_transform notes where each co_await is written (this coroutine's frame
  // in an async backtrace) and passes the awaitable through: a type with
  // operator co_await gives its awaiter, any other is awaited in place.
  //
  // The place comes as the pointer a std::source_location holds, not as the
  // class: a default argument of class type is a temporary that lives across
  // the await, so the compiler keeps it in the coroutine frame (8 bytes of
  // every frame, per await); a pointer argument is not (see loc_from).
  template <class A>
  auto await_transform(A&& a, const void* loc = __builtin_source_location()) noexcept(
      noexcept(AwaitRef<std::remove_reference_t<A>>{a})) {
    set_await_loc(loc_from(loc));  // step P1
    if constexpr (requires { static_cast<A&&>(a).operator co_await(); }) {
      return static_cast<A&&>(a).operator co_await();
    } else {
      return AwaitRef<std::remove_reference_t<A>>{a};
    }
  }
};

template <class T>
struct Promise : PromiseBase, FrameAlloc<T> {
  std::optional<T> value_;
  Task<T> get_return_object() noexcept;
  template <class U>
  void return_value(U&& v) {
    value_.emplace(std::forward<U>(v));
  }
  T take() {
    if (const std::exception_ptr* e = thrown()) std::rethrow_exception(*e);
    WEFT_CHECK(value_.has_value());
    return std::move(*value_);
  }
};

template <>
struct Promise<void> : PromiseBase, FrameAlloc<void> {
  Task<void> get_return_object() noexcept;
  void return_void() noexcept {}
  void take() {
    if (const std::exception_ptr* e = thrown()) std::rethrow_exception(*e);
  }
};

}  // namespace detail

// Task<T> is a lazily started coroutine; co_await it from another task, or spawn it.
template <class T = void>
class [[nodiscard]] Task {
 public:
  using promise_type = detail::Promise<T>;
  using Handle = std::coroutine_handle<promise_type>;

  Task() = default;
  explicit Task(Handle h) noexcept : h_(h) {}
  Task(Task&& o) noexcept : h_(std::exchange(o.h_, {})) {}
  Task& operator=(Task&& o) noexcept {
    if (this != &o) {
      reset();
      h_ = std::exchange(o.h_, {});
    }
    return *this;
  }
  ~Task() { reset(); }

  bool valid() const noexcept { return static_cast<bool>(h_); }
  Handle release() noexcept { return std::exchange(h_, {}); }

  struct Awaiter {
    Handle h_;
    PromiseLink* parent_ = nullptr;
    bool await_ready() const noexcept { return false; }
    template <class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> cont) noexcept {
      auto& child = h_.promise();
      child.continuation_.set(cont);
      if constexpr (std::is_base_of_v<PromiseLink, P>) {
        // Link the chain the dump walks: the parent awaits this task (where:
        // await_transform recorded it).
        parent_ = &cont.promise();
        parent_->set_awaiting(&child);
      }
      // Step 1: the trampoline runs the child next (step 2).
      if (hand_on(h_)) return std::noop_coroutine();
      return h_;
    }
    T await_resume() {
      if (parent_) parent_->set_awaiting(nullptr);
      return h_.promise().take();
    }
  };
  Awaiter operator co_await() && noexcept { return Awaiter{h_}; }
  Awaiter operator co_await() & noexcept { return Awaiter{h_}; }

 private:
  void reset() noexcept {
    if (h_) std::exchange(h_, {}).destroy();
  }
  Handle h_;
};

namespace detail {
template <class T>
Task<T> Promise<T>::get_return_object() noexcept {
  return Task<T>(std::coroutine_handle<Promise<T>>::from_promise(*this));
}
inline Task<void> Promise<void>::get_return_object() noexcept {
  return Task<void>(std::coroutine_handle<Promise<void>>::from_promise(*this));
}
// A finished root's exception is kept in its dead frame, which holds at least
// the frame's two function pointers and the promise.
static_assert(sizeof(Cell<std::exception_ptr>) <= 2 * sizeof(void*) + sizeof(PromiseBase) &&
              alignof(Cell<std::exception_ptr>) <= kFrameAlign);
}  // namespace detail

inline Cell<std::coroutine_handle<>>& TaskHeader::resume_at() const noexcept {
  WEFT_ASSERT(tag_.frame.get() == detail::FrameState::in_cell);
  // The root promise starts two pointers into the frame (make_header checks it).
  return std::launder(reinterpret_cast<detail::PromiseBase*>(frame_address() + 2 * sizeof(void*)))->continuation_;
}
inline Cell<std::exception_ptr>* TaskHeader::thrown_cell() const noexcept {
  return std::launder(reinterpret_cast<Cell<std::exception_ptr>*>(frame_address()));
}
inline void TaskHeader::finish_frame_threw(std::exception_ptr thrown) noexcept {
  destroy_frame(true);
  new (frame_address()) Cell<std::exception_ptr>(std::move(thrown));
  tag_.frame.set(detail::FrameState::threw);
}
inline const std::exception_ptr* TaskHeader::exception() const noexcept {
  if (tag_.frame.get() != detail::FrameState::threw) return nullptr;
  return thrown_cell()->with([](const std::exception_ptr& e) { return &e; });
}
inline void TaskHeader::drop_exception() noexcept {
  if (tag_.frame.get() != detail::FrameState::threw) return;
  thrown_cell()->~Cell();
  tag_.frame.set(detail::FrameState::finished);
}

namespace detail {

// Output is the storage for a finished task's value: written by the task's last
// poller, read by the joiner on another thread after it saw COMPLETE (a Cell).
template <class T>
struct Output {
  Cell<std::optional<T>> value;
};
template <>
struct Output<void> {};

// output_space is the room Output<T> takes in front of the header: none for a
// Task<void>, else its size rounded up to the frame's alignment.
template <class T>
constexpr std::size_t output_space() noexcept {
  static_assert(alignof(Output<T>) <= kFrameAlign, "a task's output must fit the frame's alignment");
  if constexpr (std::is_empty_v<Output<T>>) {
    return 0;
  } else {
    return frame_aligned(sizeof(Output<T>));
  }
}

// output_of is the output of t, a TaskHeader of a Task<T>: at the block's start.
template <class T>
Output<T>& output_of(TaskHeader* t) noexcept {
  return *std::launder(reinterpret_cast<Output<T>*>(reinterpret_cast<char*>(t) - output_space<T>()));
}

template <class T>
constexpr std::size_t FrameAlloc<T>::cell_space() noexcept {
  return output_space<T>() + kFrameOffset;
}

template <class T>
void* FrameAlloc<T>::operator new(std::size_t n) {
  const std::size_t bytes = cell_space() + n;
  const PoolBlock block = pool_alloc(bytes);
  char* frame = static_cast<char*>(block.p) + cell_space();
  new (frame_tag_place(frame)) FrameTag(block.owner, static_cast<std::uint32_t>(bytes), FrameState::alone);
  return frame;
}

template <class T>
void FrameAlloc<T>::operator delete(void* frame, std::size_t n) noexcept {
  const FrameTag* tag = frame_tag(frame);
  WEFT_ASSERT(tag->block_bytes == cell_space() + n);
  const FrameState state = tag->frame.get();
  if (state != FrameState::alone) {  // the cell frees the block with its last reference
    WEFT_ASSERT(state == FrameState::finished || state == FrameState::threw || state == FrameState::dropped);
    return;
  }
  pool_free(static_cast<char*>(frame) - cell_space(), cell_space() + n, tag->owner);
}

template <class T>
void finish_of(TaskHeader* t) {
  auto& p = static_cast<Promise<T>&>(*t->root_promise());
  if (const std::exception_ptr* e = p.thrown()) [[unlikely]] {
    t->finish_frame_threw(*e);
    return;
  }
  if constexpr (!std::is_void_v<T>) output_of<T>(t).value.set(std::move(p.value_));
  t->destroy_frame(true);
}

template <class T>
void destroy_cell_of(TaskHeader* t) {
  t->destroy_frame();  // the block outlives the frame: it holds the cell
  t->drop_exception();
  void* const owner = t->block_owner();
  const std::uint32_t bytes = t->block_bytes();
  char* block = reinterpret_cast<char*>(t) - output_space<T>();
  if constexpr (!std::is_void_v<T>) output_of<T>(t).~Output<T>();
  t->~TaskHeader();
  pool_free(block, bytes, owner);
}

template <class T>
inline const TaskVTable kTaskVTable{&finish_of<T>, &destroy_cell_of<T>};

// make_header builds the cell of a new task around its root frame: the output,
// then the header over the frame's tag.
// Initial state: three references (owned list, first notified, JoinHandle),
// JOIN_INTEREST and NOTIFIED.
template <class T>
[[gnu::always_inline]] inline TaskHeader* make_header(Task<T>&& task, Scheduler* sched, std::uint64_t id) {
  auto h = task.release();
  char* frame = static_cast<char*>(h.address());
  const FrameTag* tag = frame_tag(frame);
  // The handle's address is the frame operator new returned (GCC and Clang): the
  // cell space is in front of it. A compiler that elided the allocation would fail here.
  WEFT_CHECK(tag->frame.get() == FrameState::alone && tag->block_bytes >= FrameAlloc<T>::cell_space());
  // A Task awaited before is done, not spawnable: it has a continuation, and the
  // header takes that slot as the task's resume point (resume_at). The promise
  // starts two pointers into the frame, where the header's constructor writes
  // that slot (checked again below, with the header built).
  WEFT_CHECK(!h.promise().continuation_.get() &&
             static_cast<void*>(&h.promise()) == static_cast<void*>(frame + 2 * sizeof(void*)));
  void* const owner = tag->owner;
  const std::uint32_t bytes = tag->block_bytes;
  char* block = frame - FrameAlloc<T>::cell_space();
  if constexpr (!std::is_void_v<T>) new (block) Output<T>();
  auto* t = new (block + output_space<T>()) TaskHeader(3 * state::kRefOne | state::kJoinInterest | state::kNotified,
                                                       id, sched, &kTaskVTable<T>, owner, bytes);
  // The header finds the frame and the promise at fixed places (root_promise),
  // and its tag is the frame's (its last member, no padding after it).
  WEFT_CHECK(t->frame_address() == frame && t->root_promise() == static_cast<PromiseLink*>(&h.promise()) &&
             t->tag() == frame_tag(frame));
  return t;
}

// take_output gives a completed task's value, or throws what it ended with.
template <class T>
T take_output(TaskHeader* t) {
  if (const std::exception_ptr* e = t->exception()) std::rethrow_exception(*e);
  if constexpr (!std::is_void_v<T>) {
    return output_of<T>(t).value.with_mut([](std::optional<T>& v) {
      WEFT_CHECK(v.has_value());
      return std::move(*v);
    });
  }
}

// JoinHandle protocol helpers (see task.cpp).
bool join_try_register(TaskHeader* t, TaskHeader* waiter);
void join_drop(TaskHeader* t) noexcept;

template <class T>
T join_take(TaskHeader* t) {
  // acquire pairs with to_complete's release (task_state.hpp), which published the output.
  std::uint64_t s = t->state_.load(Order::acquire);
  WEFT_ASSERT(s & state::kComplete);
  // A task aborted during its final poll still ran to its end: its result stands.
  if ((s & state::kCancelled) && !t->finished()) throw JoinError(JoinError::Kind::cancelled, nullptr);
  if (const std::exception_ptr* e = t->exception()) throw JoinError(JoinError::Kind::panicked, *e);
  return take_output<T>(t);
}
}  // namespace detail

// JoinHandle<T> owns the right to a spawned task's result: co_await it to get the
// value (a JoinError if the task was cancelled or threw), detach() it, or abort().
template <class T>
class [[nodiscard]] JoinHandle {
 public:
  JoinHandle() = default;
  explicit JoinHandle(TaskHeader* t) noexcept : t_(t) {}
  JoinHandle(JoinHandle&& o) noexcept : t_(std::exchange(o.t_, nullptr)) {}
  JoinHandle& operator=(JoinHandle&& o) noexcept {
    if (this != &o) {
      drop();
      t_ = std::exchange(o.t_, nullptr);
    }
    return *this;
  }
  ~JoinHandle() { drop(); }

  // detach gives up the result; the task keeps running.
  void detach() noexcept { drop(); }
  // abort cancels the task; awaiting it afterwards gives JoinError::is_cancelled
  // unless it had already completed.
  void abort() const {
    if (t_) task_ops::abort(t_);
  }
  // acquire pairs with to_complete's release (task_state.hpp), so a finished
  // task's output is visible to whoever saw it finished.
  bool is_finished() const noexcept {
    return t_ && (t_->state_.load(Order::acquire) & state::kComplete) != 0;
  }
  std::uint64_t id() const noexcept { return t_ ? t_->id_ : 0; }
  bool valid() const noexcept { return t_ != nullptr; }
  // raw is the task's header, for the engine's own combinators.
  TaskHeader* raw() const noexcept { return t_; }

  bool await_ready() noexcept {
    WEFT_CHECK(t_ != nullptr);
    if (!is_finished()) return false;
    return budget_.proceed();
  }
  bool await_suspend(std::coroutine_handle<> h) {
    if (budget_.yield_if_spent(h)) return true;
    TaskHeader* me = current_task();
    WEFT_CHECK(me != nullptr);
    static constexpr LeafKind kJoin{"JoinHandle", [](const void* p) {
      // acquire pairs with to_complete's release, as in is_finished().
      return (static_cast<const TaskHeader*>(p)->state_.load(Order::acquire) & state::kComplete) != 0;
    }};
    note_suspend(me, h, kJoin, t_);
    if (detail::join_try_register(t_, me)) return true;
    return budget_.ready_on_recheck(h);  // complete already
  }
  T await_resume() { return detail::join_take<T>(t_); }

 private:
  void drop() noexcept {
    if (TaskHeader* t = std::exchange(t_, nullptr)) detail::join_drop(t);
  }
  TaskHeader* t_ = nullptr;
  CoopBudget budget_;
};

// yield_now suspends the current task until the worker has run what else it had:
// on a worker the task waits on the worker's defer list (woken when the worker
// runs out of other work, or at maintenance), elsewhere it is requeued at once.
struct YieldNow {
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) {
    ThreadContext* cx = current_context();
    TaskHeader* t = cx ? cx->current_task : nullptr;
    WEFT_CHECK(t != nullptr);
    static constexpr LeafKind kYield{"yield_now", nullptr};
    note_suspend(t, h, kYield);
    if (cx->defer != nullptr && !t->is_block_on()) {  // a block_on root is not a worker's task
      task_ops::ref_inc(t);  // the defer list's reference
      cx->defer->with_mut([t](std::vector<TaskHeader*>& d) { d.push_back(t); });
      return;
    }
    task_ops::wake_by_ref(t);  // RUNNING: only sets NOTIFIED; requeued after the poll
  }
  void await_resume() const noexcept {}
};
inline YieldNow yield_now() noexcept { return {}; }

WEFT_NS_END
