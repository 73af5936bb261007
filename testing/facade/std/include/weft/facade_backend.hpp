// The facade's production backend: weft::sync::atomic, mutex, condition_variable,
// weft::thread and weft::this_thread are the standard library's own types;
// weft::sync::cell (no std twin) is the bare value.
//
// Only the include path of weft::runtime (and of a build that names no weft
// target) reaches this header; weft::sim puts the simulator's twin
// (facade/sim/include/weft/facade_backend.hpp) on the path instead, as the engine's
// seam chooses its backend. The names are aliases, so a production build pays
// nothing for them (tests/testing/facade_std_test.cpp checks it with static_assert).
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
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
}  // namespace weft

#include <cstdio>
#include <cstdlib>

namespace weft::facade_detail {
// check_failed is WEFT_CHECK's failure in a production build: print and abort.
[[noreturn]] inline void check_failed(const char* expr, const char* file, int line) noexcept {
  std::fprintf(stderr, "weft: check failed: %s at %s:%d\n", expr, file, line);
  std::abort();
}
}  // namespace weft::facade_detail
