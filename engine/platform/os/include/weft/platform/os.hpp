// The OS backend of the platform seam: real threads, real atomics, futex parking.
//
// This is the only place in engine/ allowed to name std::thread, std::atomic,
// std::mutex, a std clock or a random source. Every member is a thin inline
// wrapper so the seam costs nothing on the OS backend.
#pragma once

#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstdint>
#include <functional>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <utility>

#include "weft/platform/concept.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace weft::os_backend {

using Order = platform_contract::Order;
using Held = platform_contract::Held;

constexpr std::memory_order to_std(Order o) noexcept {
  switch (o) {
    case Order::relaxed: return std::memory_order_relaxed;
    case Order::acquire: return std::memory_order_acquire;
    case Order::release: return std::memory_order_release;
    case Order::acq_rel: return std::memory_order_acq_rel;
    case Order::seq_cst: return std::memory_order_seq_cst;
  }
  return std::memory_order_seq_cst;
}

// A failure order may not be release or acq_rel; derive the strongest legal one.
constexpr std::memory_order failure_of(Order o) noexcept {
  switch (o) {
    case Order::release: return std::memory_order_relaxed;
    case Order::acq_rel: return std::memory_order_acquire;
    default: return to_std(o);
  }
}

// Atomic is a protocol atomic: on this backend, std::atomic with explicit orders.
template <class T>
class Atomic {
 public:
  constexpr Atomic() noexcept : v_{} {}
  constexpr explicit Atomic(T v) noexcept : v_{v} {}
  Atomic(const Atomic&) = delete;
  Atomic& operator=(const Atomic&) = delete;

  T load(Order o) const noexcept { return v_.load(to_std(o)); }
  void store(T v, Order o) noexcept { v_.store(v, to_std(o)); }
  T exchange(T v, Order o) noexcept { return v_.exchange(v, to_std(o)); }
  bool compare_exchange(T& expected, T desired, Order success, Order failure) noexcept {
    return v_.compare_exchange_strong(expected, desired, to_std(success), failure_of(failure));
  }
  bool compare_exchange_weak(T& expected, T desired, Order success, Order failure) noexcept {
    return v_.compare_exchange_weak(expected, desired, to_std(success), failure_of(failure));
  }
  T fetch_add(T v, Order o) noexcept { return v_.fetch_add(v, to_std(o)); }
  T fetch_sub(T v, Order o) noexcept { return v_.fetch_sub(v, to_std(o)); }
  T fetch_or(T v, Order o) noexcept { return v_.fetch_or(v, to_std(o)); }
  T fetch_and(T v, Order o) noexcept { return v_.fetch_and(v, to_std(o)); }
  // relaxed: pairs with nothing; only the caller writes the value.
  T unsync_load() const noexcept { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<T> v_;
};

// Cell is plain shared memory: on this backend the bare value, so every access
// compiles to the plain load or store it replaces (the simulator checks them).
template <class T>
class Cell {
 public:
  constexpr Cell() noexcept(noexcept(T{})) : v_{} {}
  constexpr explicit Cell(T v) noexcept(noexcept(T(std::move(v)))) : v_(std::move(v)) {}
  Cell(const Cell&) = delete;
  Cell& operator=(const Cell&) = delete;

  // get reads the value; set writes it.
  T get() const noexcept(noexcept(T(std::declval<const T&>()))) { return v_; }
  void set(T v) noexcept(noexcept(std::declval<T&>() = std::move(v))) { v_ = std::move(v); }
  // with reads the value in place (f gets a const T&); with_mut writes it in place (T&).
  template <class F>
  decltype(auto) with(F&& f) const {
    return std::forward<F>(f)(static_cast<const T&>(v_));
  }
  template <class F>
  decltype(auto) with_mut(F&& f) {
    return std::forward<F>(f)(v_);
  }

 private:
  T v_;
};

// Mutex is a futex lock with std-shaped methods, so std::scoped_lock works. Its
// word is FREE(0), HELD(1) or CONTENDED(2: held, and a thread may sleep on it).
// Uncontended, lock and unlock are one atomic each and inline (std::mutex calls
// into pthread for each: about 50 instructions a pair, twice per spawned task on
// the owned-task list). A locker that finds it held spins briefly, then marks it
// CONTENDED and sleeps; an unlock that finds CONTENDED wakes one sleeper, which
// takes the lock as CONTENDED (there may be others), so no wake-up is lost.
class Mutex {
 public:
  void lock() noexcept {
    int seen = kFree;
    // Acquire pairs with the release exchange in unlock().
    if (state_.compare_exchange_strong(seen, kHeld, std::memory_order_acquire, std::memory_order_relaxed)) [[likely]]
      return;
    lock_contended(seen);
  }
  bool try_lock() noexcept {
    int seen = kFree;
    // Acquire pairs with the release exchange in unlock().
    return state_.compare_exchange_strong(seen, kHeld, std::memory_order_acquire, std::memory_order_relaxed);
  }
  void unlock() noexcept {
    // Release pairs with the acquire of the next lock().
    if (state_.exchange(kFree, std::memory_order_release) == kContended) [[unlikely]] {
      syscall(SYS_futex, reinterpret_cast<int*>(&state_), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
    }
  }

 private:
  static constexpr int kFree = 0;
  static constexpr int kHeld = 1;
  static constexpr int kContended = 2;
  static constexpr int kSpins = 100;  // pause loops before sleeping (a critical section is short)

  [[gnu::noinline]] void lock_contended(int seen) noexcept {
    for (int i = 0; i < kSpins && seen == kHeld; ++i) {
#if defined(__x86_64__) || defined(__i386__)
      _mm_pause();
#endif
      seen = state_.load(std::memory_order_relaxed);  // relaxed: a look before the CAS below, which acquires
      if (seen == kFree) {
        // Acquire pairs with the release exchange in unlock().
        if (state_.compare_exchange_strong(seen, kHeld, std::memory_order_acquire, std::memory_order_relaxed)) return;
      }
    }
    // Sleep until the lock is taken here as CONTENDED: exchanging in CONTENDED
    // (acquire, as above) both takes a free lock and tells the holder to wake us.
    while (state_.exchange(kContended, std::memory_order_acquire) != kFree) {
      syscall(SYS_futex, reinterpret_cast<int*>(&state_), FUTEX_WAIT_PRIVATE, kContended, nullptr, nullptr, 0);
    }
  }

  std::atomic<int> state_{kFree};
  static_assert(sizeof(std::atomic<int>) == sizeof(int));
};

// Parker keeps at most one wake-up token; park() consumes it or sleeps on a futex.
// The state machine is EMPTY(0) -> PARKED(-1) -> NOTIFIED(1) -> EMPTY; unpark()
// swaps in NOTIFIED with Release and the parker consumes it with Acquire, so a
// wake-up before park() is never lost.
class Parker {
 public:
  void park() noexcept {
    if (yield_for_token()) return;
    // NOTIFIED(1) - 1 = EMPTY: a token was waiting. Acquire pairs with unpark's swap.
    if (state_.fetch_sub(1, std::memory_order_acquire) == kNotified) return;
    for (;;) {
      futex_wait(nullptr);
      int expected = kNotified;
      // Acquire pairs with unpark's swap.
      if (state_.compare_exchange_strong(expected, kEmpty, std::memory_order_acquire)) return;
    }
  }

  bool park_for(std::uint64_t ns) noexcept {
    if (ns == 0) return try_park();  // a look: no yield, no sleep
    const std::uint64_t start = monotonic_ns();
    if (yield_for_token()) return true;
    if (state_.fetch_sub(1, std::memory_order_acquire) == kNotified) return true;  // pairs with unpark's swap
    // The yields count against the timeout: the sleep is what is left of it.
    const std::uint64_t spent = monotonic_ns() - start;
    if (ns > spent) {
      const std::uint64_t left = ns - spent;
      timespec ts{};
      ts.tv_sec = static_cast<time_t>(left / 1'000'000'000ull);
      ts.tv_nsec = static_cast<long>(left % 1'000'000'000ull);
      futex_wait(&ts);
    }
    // Whatever woke us, leave EMPTY; report whether a token was consumed.
    return state_.exchange(kEmpty, std::memory_order_acquire) == kNotified;  // pairs with unpark's swap
  }

  // try_park consumes a waiting token without blocking.
  bool try_park() noexcept {
    int expected = kNotified;
    return state_.compare_exchange_strong(expected, kEmpty, std::memory_order_acquire);  // pairs with unpark's swap
  }

  void unpark() noexcept {
    // Release pairs with the Acquire in park()/park_for().
    if (state_.exchange(kNotified, std::memory_order_release) == kParked) {
      syscall(SYS_futex, reinterpret_cast<int*>(&state_), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
    }
  }

 private:
  static constexpr int kParked = -1;
  static constexpr int kEmpty = 0;
  static constexpr int kNotified = 1;
  // kYields: times a park gives its core away (sched_yield) before sleeping in the
  // kernel. When the thread that will unpark it shares the core (more runnable
  // threads than cores, or a hypervisor's placement), a yield lets it run now,
  // and its unpark then finds no sleeper to wake: no futex call on either side.
  static constexpr int kYields = 3;

  // yield_for_token gives the core away up to kYields times, consuming a token
  // that arrives meanwhile (true).
  bool yield_for_token() noexcept {
    for (int i = 0; i < kYields; ++i) {
      if (try_park()) return true;
      sched_yield();
    }
    return try_park();
  }

  static std::uint64_t monotonic_ns() noexcept {
    timespec t{};
    clock_gettime(CLOCK_MONOTONIC, &t);
    return static_cast<std::uint64_t>(t.tv_sec) * 1'000'000'000ull + static_cast<std::uint64_t>(t.tv_nsec);
  }

  void futex_wait(const timespec* ts) noexcept {
    syscall(SYS_futex, reinterpret_cast<int*>(&state_), FUTEX_WAIT_PRIVATE, kParked, ts, nullptr, 0);
  }

  std::atomic<int> state_{kEmpty};
  static_assert(sizeof(std::atomic<int>) == sizeof(int));
};

// Thread is a named OS thread.
class Thread {
 public:
  Thread() = default;
  Thread(std::string name, std::function<void()> fn) : t_([n = std::move(name), f = std::move(fn)] {
    pthread_setname_np(pthread_self(), n.substr(0, 15).c_str());
    f();
  }) {}
  Thread(Thread&&) noexcept = default;
  Thread& operator=(Thread&&) noexcept = default;
  void join() { t_.join(); }
  bool joinable() const { return t_.joinable(); }

 private:
  std::thread t_;
};

// Counter is a metrics counter: relaxed, never part of a protocol, so its orders
// pair with nothing.
class Counter {
 public:
  void add(std::uint64_t n) noexcept { v_.fetch_add(n, std::memory_order_relaxed); }
  void set(std::uint64_t n) noexcept { v_.store(n, std::memory_order_relaxed); }
  std::uint64_t get() const noexcept { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> v_{0};
};

// RelaxedFlag is a one-byte bool read without the lock that guards its writes:
// relaxed, never part of a protocol (the wake after each write orders it), so
// its orders pair with nothing.
class RelaxedFlag {
 public:
  void set(bool v) noexcept { v_.store(v, std::memory_order_relaxed); }
  bool get() const noexcept { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<bool> v_{false};
};

struct OsPlatform {
  template <class T>
  using Atomic = os_backend::Atomic<T>;
  template <class T>
  using Cell = os_backend::Cell<T>;
  using Mutex = os_backend::Mutex;
  using Parker = os_backend::Parker;
  using Thread = os_backend::Thread;
  using Counter = os_backend::Counter;
  using RelaxedFlag = os_backend::RelaxedFlag;
  // CacheAtomic (an allocator cache's hand-off between threads) is a protocol
  // atomic here; only the simulator makes the two differ.
  template <class T>
  using CacheAtomic = os_backend::Atomic<T>;
  static constexpr const char* kName = "os";
  // kParkSpins: spins before a kernel park, when the workers fit the cores.
  static constexpr std::uint32_t kParkSpins = 64;

  // now_ns reads the monotonic clock.
  static std::uint64_t now_ns() noexcept {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
            .count());
  }
  static std::uint32_t available_parallelism() noexcept {
    unsigned n = std::thread::hardware_concurrency();
    return n == 0 ? 1 : n;
  }
  static void spin_hint() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    _mm_pause();
#endif
  }
  static void yield_thread() noexcept { std::this_thread::yield(); }
  static void fence(Order o) noexcept { std::atomic_thread_fence(to_std(o)); }
  // HeapCache is nothing here: only the simulator counts the heap.
  struct HeapCache {};
  // note_hold and note_release cost nothing here: only the simulator counts.
  static void note_hold(Held, std::size_t) noexcept {}
  static void note_release(Held, std::size_t) noexcept {}
  // retire_block keeps nothing here: the engine frees or caches the block itself.
  static bool retire_block(void*, std::size_t) noexcept { return false; }
  // entropy seeds the engine's PRNG when the builder gives no seed.
  static std::uint64_t entropy() {
    std::random_device rd;
    return (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  }
  // unwinding is false: no exception of the platform's own unwinds a thread.
  static constexpr bool unwinding() noexcept { return false; }
  // assertion_failed reports a broken engine invariant and aborts.
  [[noreturn]] static void assertion_failed(const char* expr, const char* file, int line) noexcept {
    std::fprintf(stderr, "weft: assertion failed: %s at %s:%d\n", expr, file, line);
    std::abort();
  }
  static void* context_slot() noexcept { return slot_; }
  static void set_context_slot(void* p) noexcept { slot_ = p; }

 private:
  static inline thread_local void* slot_ = nullptr;
};

static_assert(platform_contract::Platform<OsPlatform>);

}  // namespace weft::os_backend
