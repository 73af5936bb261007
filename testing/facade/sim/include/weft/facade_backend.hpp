// The facade's test backend: weft::sync::atomic, cell, mutex, condition_variable,
// shared_mutex, counting_semaphore, once_flag and call_once, weft::thread,
// weft::this_thread and WEFT_THREAD_LOCAL on the simulator, so that every operation
// is a scheduling decision of weft::testing::explore.
//
// Only the include path of weft::sim reaches this header (the production twin is
// facade/std/include/weft/facade_backend.hpp). The types mirror the standard
// library's interface (the parts listed below); what differs, by design:
//  - Every operation must run inside an exploration (a body given to
//    weft::testing::explore or WEFT_SIM_TEST); elsewhere it throws
//    weft::testing::UsageError naming the operation. Construction and
//    destruction are allowed anywhere, but state must be built inside the body:
//    each run starts from what the body builds.
//  - atomic<T>: each operation passes its declared std::memory_order to the seam
//    (consume is acquire); the simulator judges orders as far as its memory model
//    does (sim/include/weft/sim/simulator.hpp). compare_exchange_weak fails
//    spuriously now and then when the value matches (a recorded draw), as std's may.
//  - cell<T> (no std twin: loom's UnsafeCell) is plain shared memory, not a
//    decision point; with race detection on (explore's default) two accesses to
//    one cell that no happens-before orders, one a write, end the run with
//    data_race naming both sites. Happens-before comes from the orders the
//    atomics declare, mutexes, condition variables, thread start and join.
//  - thread has no detach(); a joinable thread destroyed is an assertion failure of
//    the run (std::terminate in production).
//  - condition_variable waits only with std::unique_lock<weft::sync::mutex>; it may
//    wake spuriously when the simulation injects spurious wake-ups, as std's may.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <semaphore>
#include <source_location>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "weft/platform/sim.hpp"
#include "weft/sim/simulator.hpp"
#include "weft/testing/usage_error.hpp"

// WEFT_FACADE_SIMULATED says which backend the facade has: 1 here.
#define WEFT_FACADE_SIMULATED 1

namespace weft::facade_detail {

// require_exploration throws UsageError unless the caller runs inside an exploration.
inline void require_exploration(const char* what) {
  if (!::weft::sim::in_simulation()) {
    throw ::weft::testing::UsageError(
        std::string(what) +
        " used outside an exploration: in a build linked with weft::sim the facade types are simulated; "
        "use them inside the body given to weft::testing::explore or WEFT_SIM_TEST");
  }
}

// to_order maps a std::memory_order onto the seam's Order (consume is acquire).
constexpr ::weft::platform_contract::Order to_order(std::memory_order o) noexcept {
  using Order = ::weft::platform_contract::Order;
  switch (o) {
    case std::memory_order_relaxed: return Order::relaxed;
    case std::memory_order_consume:
    case std::memory_order_acquire: return Order::acquire;
    case std::memory_order_release: return Order::release;
    case std::memory_order_acq_rel: return Order::acq_rel;
    case std::memory_order_seq_cst: return Order::seq_cst;
  }
  return Order::seq_cst;
}

// failure_order derives a compare-exchange's failure order from its one order, as
// the standard does (release -> relaxed, acq_rel -> acquire).
constexpr std::memory_order failure_order(std::memory_order o) noexcept {
  if (o == std::memory_order_release) return std::memory_order_relaxed;
  if (o == std::memory_order_acq_rel) return std::memory_order_acquire;
  return o;
}

// thread_local_slot is this simulated thread's instance of the thread-local `key`,
// made by `make` on its first use in the thread; `destroy` deletes it when the
// thread returns (end_thread_locals) or, for a thread that never returned, when
// the run ends (drop_thread_locals, called by weft::testing::explore).
void* thread_local_slot(const void* key, void* (*make)(), void (*destroy)(void*));
// end_thread_locals destroys the calling simulated thread's thread-locals, newest
// first.
void end_thread_locals();
// drop_thread_locals destroys every thread-local a finished run left behind. Their
// destructors run outside the run, so they must not use the facade.
void drop_thread_locals() noexcept;

// check_failed is WEFT_CHECK's failure: an assertion outcome of the run.
[[noreturn]] inline void check_failed(const char* expr, const char* file, int line) {
  ::weft::sim_backend::SimPlatform::assertion_failed(expr, file, line);
}

}  // namespace weft::facade_detail

namespace weft {
namespace sync {

// atomic is std::atomic's interface over the seam's Atomic: load, store, exchange,
// compare_exchange_weak/strong, fetch_add/sub/and/or, and the operators built on
// them (conversion, =, ++, --, +=, -=, &=, |=). Integral T gets the arithmetic.
template <class T>
class atomic {
  static_assert(std::is_trivially_copyable_v<T>, "weft::sync::atomic<T> needs a trivially copyable T");
  using Fd = std::memory_order;

 public:
  static constexpr bool is_always_lock_free = true;

  constexpr atomic() noexcept : a_{} {}
  constexpr atomic(T v) noexcept : a_{v} {}  // NOLINT(google-explicit-constructor): as std::atomic
  atomic(const atomic&) = delete;
  atomic& operator=(const atomic&) = delete;

  bool is_lock_free() const noexcept { return true; }

  T load(Fd o = std::memory_order_seq_cst) const {
    facade_detail::require_exploration("weft::sync::atomic::load");
    return a_.load(facade_detail::to_order(o));
  }
  void store(T v, Fd o = std::memory_order_seq_cst) {
    facade_detail::require_exploration("weft::sync::atomic::store");
    a_.store(v, facade_detail::to_order(o));
  }
  T exchange(T v, Fd o = std::memory_order_seq_cst) {
    facade_detail::require_exploration("weft::sync::atomic::exchange");
    return a_.exchange(v, facade_detail::to_order(o));
  }
  bool compare_exchange_strong(T& expected, T desired, Fd success, Fd failure) {
    facade_detail::require_exploration("weft::sync::atomic::compare_exchange_strong");
    return a_.compare_exchange(expected, desired, facade_detail::to_order(success), facade_detail::to_order(failure));
  }
  bool compare_exchange_strong(T& expected, T desired, Fd o = std::memory_order_seq_cst) {
    return compare_exchange_strong(expected, desired, o, facade_detail::failure_order(o));
  }
  // compare_exchange_weak may fail spuriously, as std's may: when the value matches,
  // the simulator fails it with a recorded draw (kSpuriousCasPerMille), so a loop
  // that forgets to retry is found, and the run replays byte for byte.
  bool compare_exchange_weak(T& expected, T desired, Fd success, Fd failure) {
    facade_detail::require_exploration("weft::sync::atomic::compare_exchange_weak");
    return a_.compare_exchange_weak(expected, desired, facade_detail::to_order(success),
                                    facade_detail::to_order(failure));
  }
  bool compare_exchange_weak(T& expected, T desired, Fd o = std::memory_order_seq_cst) {
    return compare_exchange_weak(expected, desired, o, facade_detail::failure_order(o));
  }

  T fetch_add(T v, Fd o = std::memory_order_seq_cst)
    requires std::is_integral_v<T>
  {
    facade_detail::require_exploration("weft::sync::atomic::fetch_add");
    return a_.fetch_add(v, facade_detail::to_order(o));
  }
  T fetch_sub(T v, Fd o = std::memory_order_seq_cst)
    requires std::is_integral_v<T>
  {
    facade_detail::require_exploration("weft::sync::atomic::fetch_sub");
    return a_.fetch_sub(v, facade_detail::to_order(o));
  }
  T fetch_and(T v, Fd o = std::memory_order_seq_cst)
    requires std::is_integral_v<T>
  {
    facade_detail::require_exploration("weft::sync::atomic::fetch_and");
    return a_.fetch_and(v, facade_detail::to_order(o));
  }
  T fetch_or(T v, Fd o = std::memory_order_seq_cst)
    requires std::is_integral_v<T>
  {
    facade_detail::require_exploration("weft::sync::atomic::fetch_or");
    return a_.fetch_or(v, facade_detail::to_order(o));
  }

  operator T() const { return load(); }  // NOLINT(google-explicit-constructor): as std::atomic
  T operator=(T v) {
    store(v);
    return v;
  }
  T operator++()
    requires std::is_integral_v<T>
  {
    return static_cast<T>(fetch_add(1) + 1);
  }
  T operator++(int)
    requires std::is_integral_v<T>
  {
    return fetch_add(1);
  }
  T operator--()
    requires std::is_integral_v<T>
  {
    return static_cast<T>(fetch_sub(1) - 1);
  }
  T operator--(int)
    requires std::is_integral_v<T>
  {
    return fetch_sub(1);
  }
  T operator+=(T v)
    requires std::is_integral_v<T>
  {
    return static_cast<T>(fetch_add(v) + v);
  }
  T operator-=(T v)
    requires std::is_integral_v<T>
  {
    return static_cast<T>(fetch_sub(v) - v);
  }
  T operator&=(T v)
    requires std::is_integral_v<T>
  {
    return static_cast<T>(fetch_and(v) & v);
  }
  T operator|=(T v)
    requires std::is_integral_v<T>
  {
    return static_cast<T>(fetch_or(v) | v);
  }

 private:
  ::weft::sim_backend::Atomic<T> a_;
};

// cell is plain shared memory that threads order by other means (a lock, a
// release/acquire pair): get/set copy the value, with(f) reads it in place (f gets
// a const T&), with_mut(f) writes it in place (T&). Each access is checked for a
// data race against the accesses before it, at the caller's source location; it
// is never a decision point. Accesses outside an exploration are not checked.
template <class T>
class cell {
  using Site = std::source_location;

 public:
  explicit cell(Site site = Site::current()) : c_(T{}, site) {}
  explicit cell(T v, Site site = Site::current()) : c_(std::move(v), site) {}
  cell(const cell&) = delete;
  cell& operator=(const cell&) = delete;

  T get(Site site = Site::current()) const { return c_.get(site); }
  void set(T v, Site site = Site::current()) { c_.set(std::move(v), site); }
  template <class F>
  decltype(auto) with(F&& f, Site site = Site::current()) const {
    return c_.with(std::forward<F>(f), site);
  }
  template <class F>
  decltype(auto) with_mut(F&& f, Site site = Site::current()) {
    return c_.with_mut(std::forward<F>(f), site);
  }

 private:
  ::weft::sim_backend::Cell<T> c_;
};

// mutex is std::mutex's interface (lock, try_lock, unlock) over the seam's Mutex,
// so std::lock_guard, std::unique_lock and std::scoped_lock work with it. Locking
// it twice from one thread, or unlocking it unheld, fails the run.
class mutex {
 public:
  constexpr mutex() noexcept = default;
  mutex(const mutex&) = delete;
  mutex& operator=(const mutex&) = delete;

  void lock() {
    facade_detail::require_exploration("weft::sync::mutex::lock");
    m_.lock();
  }
  bool try_lock() {
    facade_detail::require_exploration("weft::sync::mutex::try_lock");
    return m_.try_lock();
  }
  void unlock() {
    facade_detail::require_exploration("weft::sync::mutex::unlock");
    m_.unlock();
  }

 private:
  ::weft::sim_backend::Mutex m_;
};

// condition_variable is std::condition_variable's interface (wait with and without
// a predicate, wait_for, notify_one, notify_all), built from the seam's Parker:
// each waiter parks on its own Parker, queued in arrival order; notify_one unparks
// the oldest waiter, notify_all every one. A waiter is queued before it releases
// the lock, so a notify after the unlock cannot be lost.
class condition_variable {
 public:
  condition_variable() noexcept = default;
  condition_variable(const condition_variable&) = delete;
  condition_variable& operator=(const condition_variable&) = delete;

  // notify_one wakes the oldest waiter, if any (a decision point either way).
  void notify_one();
  // notify_all wakes every waiter (a decision point either way).
  void notify_all();
  // wait releases `lock`, blocks until notified (or a spurious wake-up), relocks.
  void wait(std::unique_lock<mutex>& lock);
  // wait(lock, pred) waits until pred() holds, re-checking after every wake-up.
  template <class Predicate>
  void wait(std::unique_lock<mutex>& lock, Predicate pred) {
    while (!pred()) wait(lock);
  }
  // wait_for waits as wait() does, or until `rel` of virtual time has passed.
  template <class Rep, class Period>
  std::cv_status wait_for(std::unique_lock<mutex>& lock, const std::chrono::duration<Rep, Period>& rel) {
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(rel).count();
    return wait_ns(lock, ns < 0 ? 0 : static_cast<std::uint64_t>(ns)) ? std::cv_status::no_timeout
                                                                       : std::cv_status::timeout;
  }
  // wait_for(lock, rel, pred) waits until pred() holds or `rel` has passed; returns pred().
  template <class Rep, class Period, class Predicate>
  bool wait_for(std::unique_lock<mutex>& lock, const std::chrono::duration<Rep, Period>& rel, Predicate pred) {
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(rel).count();
    const std::uint64_t total = ns < 0 ? 0 : static_cast<std::uint64_t>(ns);
    const std::uint64_t start = ::weft::sim_backend::SimPlatform::now_ns();
    while (!pred()) {
      const std::uint64_t spent = ::weft::sim_backend::SimPlatform::now_ns() - start;
      if (spent >= total) return pred();
      wait_ns(lock, total - spent);
    }
    return true;
  }

 private:
  // Waiter is one blocked wait(), on its caller's stack while it is queued.
  struct Waiter {
    ::weft::sim_backend::Parker parker;
    bool notified = false;
    Waiter* next = nullptr;
    Waiter* prev = nullptr;
  };
  // wait_ns waits until notified (true) or ns of virtual time passed (false); ns of
  // kForever waits without a deadline.
  bool wait_ns(std::unique_lock<mutex>& lock, std::uint64_t ns);
  void push_back(Waiter& w) noexcept;
  void remove(Waiter& w) noexcept;
  // sync_epoch empties a queue left by an earlier run (its waiters' stacks are gone).
  void sync_epoch();

  static constexpr std::uint64_t kForever = ~std::uint64_t{0};
  Waiter* head_ = nullptr;
  Waiter* tail_ = nullptr;
  std::uint32_t epoch_ = 0;
};

// The primitives below are built from the mutex and condition_variable above: their
// state is plain data guarded by their own mutex, so each operation costs the
// decisions of that lock (and of a wait, when it blocks), and happens-before
// flows through it as through any lock: a release or unlock happens before the
// acquire or lock that observes it.

// shared_mutex is std::shared_mutex's interface (lock, try_lock, unlock,
// lock_shared, try_lock_shared, unlock_shared), so std::shared_lock works with it.
// It prefers writers: once a writer waits, new readers wait too. Real
// implementations differ here, and this is the choice that exposes more: a
// thread that takes a shared lock it already holds deadlocks behind a waiting
// writer, as it can on a writer-preferring platform.
//
// Protocol (every step under m_):
//  Step 1. lock: count this writer as waiting; wait until no writer holds it and
//          no reader does; stop waiting; hold it as the writer.
//  Step 2. lock_shared: wait until no writer holds it or waits for it; add a reader.
//  Step 3. unlock: the writer lets go; wake every waiter (readers and writers).
//  Step 4. unlock_shared: remove a reader; the last one wakes every waiter.
// Locking it twice from one thread in exclusive mode, or unlocking what the
// thread does not hold, fails the run.
class shared_mutex {
 public:
  shared_mutex() noexcept = default;
  shared_mutex(const shared_mutex&) = delete;
  shared_mutex& operator=(const shared_mutex&) = delete;

  void lock();
  bool try_lock();
  void unlock();
  void lock_shared();
  bool try_lock_shared();
  void unlock_shared();

 private:
  mutex m_;
  condition_variable cv_;
  std::uint32_t readers_ = 0;          // guarded by m_
  std::uint32_t writers_waiting_ = 0;  // guarded by m_
  sim::FiberId writer_ = sim::kNoFiber;  // guarded by m_; the thread holding it exclusively
};

namespace facade_semaphore {
// Counter is counting_semaphore's state and protocol, whatever its maximum.
//  Step 1. acquire: under m_, wait until the count is above zero; take one.
//  Step 2. release(n): under m_, check n >= 0 and count + n <= max (the standard's
//          precondition: a run that breaks it fails); add n; wake n waiters.
//  Step 3. try_acquire: under m_, take one if the count is above zero (it never
//          fails spuriously here, which the standard would allow).
class Counter {
 public:
  Counter(std::ptrdiff_t desired, std::ptrdiff_t max);
  void acquire();
  bool try_acquire();
  bool try_acquire_ns(std::uint64_t ns);
  void release(std::ptrdiff_t update);

 private:
  mutex m_;
  condition_variable cv_;
  std::ptrdiff_t count_;      // guarded by m_
  const std::ptrdiff_t max_;
};
}  // namespace facade_semaphore

// counting_semaphore is std::counting_semaphore's interface (acquire, try_acquire,
// try_acquire_for, release, max) on the protocol of facade_semaphore::Counter.
// try_acquire_for waits in virtual time; try_acquire_until is left out, since a
// clock's time point means nothing in a simulated run. The default maximum is
// std's, so a name means the same type in both builds.
template <std::ptrdiff_t LeastMaxValue = std::counting_semaphore<>::max()>
class counting_semaphore {
  static_assert(LeastMaxValue >= 0, "counting_semaphore needs a maximum of at least 0");

 public:
  static constexpr std::ptrdiff_t max() noexcept { return LeastMaxValue; }
  explicit counting_semaphore(std::ptrdiff_t desired) : c_(desired, LeastMaxValue) {}
  counting_semaphore(const counting_semaphore&) = delete;
  counting_semaphore& operator=(const counting_semaphore&) = delete;

  void release(std::ptrdiff_t update = 1) { c_.release(update); }
  void acquire() { c_.acquire(); }
  bool try_acquire() noexcept(false) { return c_.try_acquire(); }
  template <class Rep, class Period>
  bool try_acquire_for(const std::chrono::duration<Rep, Period>& rel) {
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(rel).count();
    return c_.try_acquire_ns(ns < 0 ? 0 : static_cast<std::uint64_t>(ns));
  }

 private:
  facade_semaphore::Counter c_;
};
using binary_semaphore = counting_semaphore<1>;

// once_flag and call_once are std's: the callable runs once among every thread
// that calls call_once on one flag; the others wait until it has returned, and
// everything it did happens before their return. If it throws, the exception
// reaches its caller, the flag stays unset, and another caller runs its own.
//
// Protocol:
//  Step 1. Read done_ (acquire, pairs with Step 4's release store); set: return.
//  Step 2. Under m_: wait while another caller runs; if done_ is now set, return;
//          else mark this caller as running.
//  Step 3. Run the callable outside m_. If it throws: under m_, unmark, wake one
//          waiter, rethrow.
//  Step 4. Under m_: store done_ (release), unmark, wake every waiter.
class once_flag {
 public:
  constexpr once_flag() noexcept = default;
  once_flag(const once_flag&) = delete;
  once_flag& operator=(const once_flag&) = delete;

 private:
  template <class F, class... Args>
  friend void call_once(once_flag& flag, F&& f, Args&&... args);
  // begin is Steps 1-2: true when this caller must run the callable.
  bool begin();
  // end is Step 4 (done) or Step 3's failure path (not done).
  void end(bool done);

  ::weft::sim_backend::Atomic<std::uint32_t> done_{0};
  mutex m_;
  condition_variable cv_;
  bool running_ = false;  // guarded by m_
};

template <class F, class... Args>
void call_once(once_flag& flag, F&& f, Args&&... args) {
  facade_detail::require_exploration("weft::sync::call_once");
  if (!flag.begin()) return;
  try {
    std::invoke(std::forward<F>(f), std::forward<Args>(args)...);  // Step 3
  } catch (...) {
    flag.end(false);
    throw;
  }
  flag.end(true);
}

}  // namespace sync

// thread is std::thread's interface (a callable and its arguments, join, joinable)
// over the seam's Thread: a simulated fiber, runnable from creation.
class thread {
 public:
  thread() noexcept = default;
  template <class F, class... Args>
    requires(!std::is_same_v<std::remove_cvref_t<F>, thread>)
  explicit thread(F&& f, Args&&... args) {
    facade_detail::require_exploration("weft::thread");
    // The callable and its arguments are decay-copied, as std::thread does; a
    // shared_ptr makes move-only ones fit std::function.
    auto state = std::make_shared<std::tuple<std::decay_t<F>, std::decay_t<Args>...>>(std::forward<F>(f),
                                                                                        std::forward<Args>(args)...);
    t_ = ::weft::sim_backend::Thread("thread", [state] {
      std::apply([](auto& fn, auto&... args) { std::invoke(std::move(fn), std::move(args)...); }, *state);
      facade_detail::end_thread_locals();  // a thread's locals die when it returns, as std's do
    });
  }
  thread(thread&&) noexcept = default;
  thread& operator=(thread&&) noexcept = default;
  thread(const thread&) = delete;
  thread& operator=(const thread&) = delete;

  // join blocks until the thread's callable has returned.
  void join() {
    facade_detail::require_exploration("weft::thread::join");
    t_.join();
  }
  bool joinable() const noexcept { return t_.joinable(); }

 private:
  ::weft::sim_backend::Thread t_;
};

namespace this_thread {
// yield lets another simulated thread run if any can (a decision that prefers them).
inline void yield() {
  facade_detail::require_exploration("weft::this_thread::yield");
  ::weft::sim_backend::SimPlatform::yield_thread();
}
}  // namespace this_thread

}  // namespace weft

namespace weft {
// thread_local_key is one thread-local variable: get() (or * and ->) is the calling
// thread's own instance, made by Init{}() on its first use in that thread and
// destroyed when the thread returns. Declare one with WEFT_THREAD_LOCAL. On the
// simulator every simulated thread is a fiber on one OS thread, so a plain C++
// thread_local is shared by all of them; this one is not.
template <class T, class Init>
class thread_local_key {
 public:
  constexpr thread_local_key() noexcept = default;
  thread_local_key(const thread_local_key&) = delete;
  thread_local_key& operator=(const thread_local_key&) = delete;

  T& get() const {
    facade_detail::require_exploration("a WEFT_THREAD_LOCAL");
    return *static_cast<T*>(facade_detail::thread_local_slot(
        this, [] { return static_cast<void*>(new T(Init{}())); }, [](void* p) { delete static_cast<T*>(p); }));
  }
  T& operator*() const { return get(); }
  T* operator->() const { return &get(); }
  // with(f) calls f with this thread's instance (loom's LocalKey::with).
  template <class F>
  decltype(auto) with(F&& f) const {
    return std::forward<F>(f)(get());
  }
};
}  // namespace weft
