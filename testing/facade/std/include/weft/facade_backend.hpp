// The facade's production backend: weft::sync::atomic, mutex, condition_variable,
// shared_mutex, counting_semaphore, binary_semaphore, once_flag, call_once,
// weft::thread and weft::this_thread are the standard library's own; weft::sync::cell
// (no std twin) is the bare value, and WEFT_THREAD_LOCAL a C++ thread_local.
//
// Only the include path of weft::runtime (and of a build that names no weft
// target) reaches this header; weft::sim puts the simulator's twin
// (facade/sim/include/weft/facade_backend.hpp) on the path instead, as the engine's
// seam chooses its backend. The names are aliases, so a production build pays
// nothing for them (tests/testing/facade_std_test.cpp checks it with static_assert).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <semaphore>
#include <shared_mutex>
#include <thread>
#include <utility>

// WEFT_FACADE_SIMULATED says which backend the facade has: 0 here.
#define WEFT_FACADE_SIMULATED 0

namespace weft {
namespace sync {
template <class T>
using atomic = std::atomic<T>;
using mutex = std::mutex;
using condition_variable = std::condition_variable;
using shared_mutex = std::shared_mutex;
template <std::ptrdiff_t LeastMaxValue = std::counting_semaphore<>::max()>
using counting_semaphore = std::counting_semaphore<LeastMaxValue>;
using binary_semaphore = std::binary_semaphore;
using once_flag = std::once_flag;
using std::call_once;

// cell is plain shared memory (the simulator checks it for data races); here the
// bare value: get/set copy it, with(f)/with_mut(f) reach it in place.
template <class T>
class cell {
 public:
  constexpr cell() : v_{} {}
  constexpr explicit cell(T v) : v_(std::move(v)) {}
  cell(const cell&) = delete;
  cell& operator=(const cell&) = delete;

  T get() const { return v_; }
  void set(T v) { v_ = std::move(v); }
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
}  // namespace sync

using thread = std::thread;

namespace this_thread {
using std::this_thread::yield;
}  // namespace this_thread

// thread_local_key is one thread-local variable (see the simulator's twin): here
// each (T, Init) has its own C++ thread_local, made on first use in a thread.
template <class T, class Init>
class thread_local_key {
 public:
  constexpr thread_local_key() noexcept = default;
  thread_local_key(const thread_local_key&) = delete;
  thread_local_key& operator=(const thread_local_key&) = delete;

  T& get() const {
    thread_local T value = Init{}();
    return value;
  }
  T& operator*() const { return get(); }
  T* operator->() const { return &get(); }
  template <class F>
  decltype(auto) with(F&& f) const {
    return std::forward<F>(f)(get());
  }
};
}  // namespace weft
