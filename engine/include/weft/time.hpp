// Time: sleep_for, sleep_until and timeout, driven by the runtime's timer, which
// workers service while they park. Time is read through the seam, so it is
// virtual and deterministic in the simulator.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "weft/runtime.hpp"
#include "weft/task.hpp"

WEFT_NS_BEGIN

namespace detail {

// TimerEntry is one pending deadline. seq and heap_index are touched only under
// the runtime's timer lock. The rest crosses threads: deadline_ns and waker are
// written by the sleeping task without the lock, before it registers the entry,
// and read under the lock by whichever worker fires or cancels it; deadline_ns
// is also read without the lock by the task's readiness check, on the worker
// that polls the task after the wake; registered is written under the lock by
// the worker that registers, fires or cancels the entry, and read by the owner
// (under the lock when it cancels). So those three are Cells: the simulator
// checks that each read is ordered after the write it reads. fired is a Flag
// (written under the lock, read by the readiness check: ordered by the wake).
struct TimerEntry {
  Cell<std::uint64_t> deadline_ns{0};
  std::uint64_t seq = 0;  // guarded by timer_mu_; ties broken by registration order, never by address
  Cell<Waker> waker;
  std::size_t heap_index = 0;  // guarded by timer_mu_
  Cell<bool> registered{false};
  Flag fired;
};

// duration_ns is d in nanoseconds, saturated at the int64 range: hours::max()
// would overflow the conversion itself. A NaN duration counts as 0.
template <class Rep, class Period>
std::int64_t duration_ns(std::chrono::duration<Rep, Period> d) noexcept {
  using Ns = std::chrono::nanoseconds;
  const double ns = std::chrono::duration<double, std::nano>(d).count();
  if (ns != ns) return 0;  // NaN, from a floating-point duration: no time at all
  if (ns >= static_cast<double>(Ns::max().count())) return Ns::max().count();
  if (ns <= static_cast<double>(Ns::min().count())) return Ns::min().count();
  return std::chrono::duration_cast<Ns>(d).count();
}

// deadline_after is `now` plus ns, a negative ns counting as 0, saturated at the
// end of time, 2^64-1 ns: a huge duration never wraps into the past (a sleep
// that ends at once, a timeout that never fires).
inline std::uint64_t deadline_after(std::uint64_t now, std::int64_t ns) noexcept {
  if (ns <= 0) return now;
  const auto u = static_cast<std::uint64_t>(ns);
  return u > UINT64_MAX - now ? UINT64_MAX : now + u;
}

}  // namespace detail

// now_ns is the runtime clock in nanoseconds (virtual in the simulator).
inline std::uint64_t now_ns() { return Platform::now_ns(); }

// Sleep is the awaitable behind sleep_until/sleep_for. Destroying it deregisters it.
class Sleep {
 public:
  explicit Sleep(std::uint64_t deadline_ns) { entry_.deadline_ns.set(deadline_ns); }
  Sleep(const Sleep&) = delete;
  Sleep& operator=(const Sleep&) = delete;
  Sleep(Sleep&& o) noexcept : rt_(o.rt_) {
    WEFT_CHECK(!o.entry_.registered.get());
    entry_.deadline_ns.set(o.entry_.deadline_ns.get());
  }
  ~Sleep() {
    if (rt_ != nullptr) rt_->cancel_timer(&entry_);
  }

  bool await_ready() {
    if (Platform::now_ns() < entry_.deadline_ns.get()) return false;
    // Expired: ready, but it spends budget like every ready await.
    return budget_.proceed();
  }
  bool await_suspend(std::coroutine_handle<> h) {
    if (budget_.yield_if_spent(h)) return true;
    rt_ = detail::current_runtime();
    WEFT_CHECK(rt_ != nullptr);  // timers need a runtime
    static constexpr LeafKind kSleep{"sleep", [](const void* p) {
      const auto* e = static_cast<const detail::TimerEntry*>(p);
      return e->fired || Platform::now_ns() >= e->deadline_ns.get();
    }};
    Waker w = suspend_current(h, kSleep, &entry_);
    rt_->register_timer(&entry_, std::move(w));
    return true;
  }
  void await_resume() {
    if (rt_ != nullptr) {
      rt_->cancel_timer(&entry_);
      rt_ = nullptr;
    }
  }
  std::uint64_t deadline_ns() const noexcept { return entry_.deadline_ns.get(); }

 private:
  detail::RuntimeCore* rt_ = nullptr;
  detail::TimerEntry entry_;
  CoopBudget budget_;
};

// sleep_until completes at or after the given runtime time.
inline Task<void> sleep_until(std::uint64_t deadline_ns) {
  // A sleep can be woken spuriously; loop until the deadline has passed. Await
  // at least once: an expired sleep is a ready await and spends budget, so a
  // loop of zero-length sleeps cannot keep its worker.
  do {
    co_await Sleep(deadline_ns);
  } while (Platform::now_ns() < deadline_ns);
}

// sleep_for completes after at least d has elapsed on the runtime clock.
template <class Rep, class Period>
Task<void> sleep_for(std::chrono::duration<Rep, Period> d) {
  return sleep_until(detail::deadline_after(Platform::now_ns(), detail::duration_ns(d)));
}

// Elapsed is thrown by timeout() when the deadline passes first.
class Elapsed : public std::runtime_error {
 public:
  Elapsed() : std::runtime_error("deadline elapsed") {}
};

// timeout runs task on the current runtime and gives its value, or throws Elapsed
// after d (the task is then aborted, and destroyed before Elapsed is thrown).
template <class T, class Rep, class Period>
Task<T> timeout(std::chrono::duration<Rep, Period> d, Task<T> task) {
  auto deadline = detail::deadline_after(Platform::now_ns(), detail::duration_ns(d));
  JoinHandle<T> jh = spawn(std::move(task));
  struct Race {
    JoinHandle<T>& jh;
    Sleep sleep;
    bool await_ready() { return jh.is_finished() || Platform::now_ns() >= sleep.deadline_ns(); }
    bool await_suspend(std::coroutine_handle<> h) {
      if (!sleep.await_suspend(h)) return false;
      TaskHeader* me = current_task();
      // Ready when either the deadline passed or the task finished (named as
      // the sleep it races).
      static constexpr LeafKind kRace{"sleep", [](const void* p) {
        const auto* r = static_cast<const Race*>(p);
        return r->jh.is_finished() || Platform::now_ns() >= r->sleep.deadline_ns();
      }};
      me->set_ready(&kRace, this);
      if (!detail::join_try_register(jh.raw(), me)) {
        task_ops::wake_by_ref(me);  // finished meanwhile: come back at once
      }
      return true;
    }
    void await_resume() { sleep.await_resume(); }
  };
  for (;;) {
    if (jh.is_finished()) co_return co_await jh;
    if (Platform::now_ns() >= deadline) {
      // The task is aborted and its frame destroyed before Elapsed reaches the
      // caller, as dropping the future does in Tokio: a task that borrows the
      // caller's locals must not outlive the call (abort alone only schedules
      // the cancel, which another worker may run after the caller's frame is
      // gone). Whatever it ended with (a value, JoinError, its own exception)
      // is discarded: the deadline came first.
      jh.abort();
      try {
        (void)co_await jh;
      } catch (...) {
        if (Platform::unwinding()) throw;  // the platform's own unwind is never discarded
      }
      throw Elapsed();
    }
    co_await Race{jh, Sleep(deadline)};
  }
}

WEFT_NS_END
