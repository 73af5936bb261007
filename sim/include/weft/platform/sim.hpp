// The simulator backend of the platform seam: every operation is a decision point.
//
// Each member mirrors OsPlatform (engine/platform/os/include/weft/platform/os.hpp) but runs on
// simulated fibers: before an Atomic, Mutex, Parker, Thread, clock, entropy or
// yield operation takes effect, the kernel lets the strategy choose which fiber
// runs next. Under the sc memory model all memory orders are
// modelled as seq_cst (an atomic is a plain value read and written while only one
// fiber runs); under c11 (the default) a load may read an older store the C++ model allows
// (weft/sim/simulator.hpp, model point 1). Atomic::unsync_load and Counter are not
// decision points; fence is.
//
// Outside a running simulation (static initialisation, the test body after run())
// the types work single-threadedly with no decisions: atomics are plain values, a
// Mutex that would block and a park() with no token abort with a message.
#pragma once

#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <functional>
#include <type_traits>
#include <source_location>
#include <string>
#include <utility>

#include "weft/platform/concept.hpp"
#include "weft/sim/detail/heap.hpp"
#include "weft/sim/detail/kernel.hpp"

namespace weft::sim_backend {

using Order = platform_contract::Order;
using Held = platform_contract::Held;
using sim::Op;
using sim::detail::tls_kernel;

namespace detail {
// unsimulated_misuse reports an operation that cannot work outside a simulation
// (it would block the only thread forever) and aborts.
[[noreturn]] void unsimulated_misuse(const char* what) noexcept;
// misuse fails the run with an assertion describing a misuse of the seam.
[[noreturn]] void misuse(sim::detail::Kernel& k, const char* what);
// kSeamAlive marks a constructed Mutex or Parker, kSeamDead a destroyed one; the
// memory of a destroyed one that was reused since holds neither, as a rule.
inline constexpr std::uint32_t kSeamAlive = 0x5EA1A11Eu;
inline constexpr std::uint32_t kSeamDead = 0xDEADDEADu;
// check_alive fails the run (aborts outside one) when an operation `what` finds
// its object destroyed: a lifetime bug, such as a waker that unparks a parker on
// a stack frame that has returned. It reads the mark through a volatile load (the
// optimiser may assume a live object's member unchanged). An operation checks
// after every switch it makes (its decision, each block), not only on entry: the
// owner may end the object's lifetime while the operation waits at its own
// decision, which is exactly where a late waker's window lies. A new object
// built at the same address since (a stack frame reused by a second call)
// carries kSeamAlive again and is not told from the first: the check catches a
// dead object, not every stale reference.
// The kernel's record comes first (kernel.cpp, Step L3): for an operation that
// was already inside the object when its owner destroyed it, it holds even when
// the memory was reused since; an operation begun after the destruction is
// caught by the dead mark, unless a live object was built there since.
void check_alive(const volatile std::uint32_t& alive, const char* what);
// enter_object_op begins an operation of a Parker or Mutex on `object`: Step L1
// (kernel.cpp: the running fiber notes the object), then the operation's
// decision (point). It returns the running kernel, null outside a run.
sim::detail::Kernel* enter_object_op(const void* object, Op op);
// object_destroyed is Step L2, called by a Parker's or Mutex's destructor.
void object_destroyed(const void* object) noexcept;
// mark_dead marks an object destroyed with a store the optimiser must keep (a
// plain store to an object whose lifetime ends is dead code to it).
inline void mark_dead(std::uint32_t& alive) noexcept { *static_cast<volatile std::uint32_t*>(&alive) = kSeamDead; }
// point is one decision point of the running fiber; nothing outside a simulation.
// It returns the running kernel (null outside a simulation).
inline sim::detail::Kernel* point(Op op) {
  sim::detail::Kernel* k = tls_kernel;
  if (k != nullptr) k->decide(op);
  return k;
}
// order_at is the order an atomic operation at `site` runs with in kernel `k`:
// `o`, unless the run weakens that site (weft/sim/order_sites.hpp) or takes its census.
inline Order order_at(const sim::detail::Kernel& k, Order o, const std::source_location& site, Op op,
                      bool failure = false) {
  if (k.order_probe() == nullptr) [[likely]] return o;
  return k.order_probe()->at(o, site, op, failure);
}
// to_bits and from_bits carry an atomic's value through the C11 model's store
// history, which keeps values as 64-bit words.
template <class T>
std::uint64_t to_bits(const T& v) noexcept {
  static_assert(std::is_trivially_copyable_v<T> && sizeof(T) <= sizeof(std::uint64_t),
                "a simulated Atomic<T> holds a trivially copyable T of at most 8 bytes");
  std::uint64_t b = 0;
  std::memcpy(&b, &v, sizeof(T));
  return b;
}
template <class T>
T from_bits(std::uint64_t b) noexcept {
  std::array<unsigned char, sizeof(T)> bytes{};
  std::memcpy(bytes.data(), &b, sizeof(T));
  return std::bit_cast<T>(bytes);
}
}  // namespace detail

// Atomic is a protocol atomic: a plain value, with a decision before each operation.
// Each operation takes its call site (for the order census and weakening,
// weft/sim/order_sites.hpp). When the run needs nothing but the value
// (Kernel::plain_atomics: sc, no happens-before, no access reports, no order
// probe) an operation is its decision and the value, inline; otherwise it goes
// on out of line (the `_slow` members), where the order is probed, the C11
// model chooses what a load reads, and happens-before and the strategy hear of it.
template <class T>
class Atomic {
 public:
  using Site = std::source_location;
  constexpr Atomic() noexcept : v_{} {}
  constexpr explicit Atomic(T v) noexcept : v_{v} {}
  Atomic(const Atomic&) = delete;
  Atomic& operator=(const Atomic&) = delete;

  // load reads the latest value under the sc model (`o` then orders
  // happens-before for race detection only); under c11, a store the model allows.
  T load(Order o, Site site = Site::current()) const {
    sim::detail::Kernel* k = enter_at(Op::load, site);
    if (k == nullptr || k->plain_atomics()) [[likely]] return v_;
    return load_slow(*k, o, site);
  }
  // store writes v.
  void store(T v, Order o, Site site = Site::current()) {
    sim::detail::Kernel* k = enter_at(Op::store, site);
    const T before = v_;
    v_ = v;
    if (k != nullptr && !k->plain_atomics()) [[unlikely]] wrote_slow(*k, Op::store, Kind::store, o, before, site);
  }
  // exchange writes v and returns the previous value.
  T exchange(T v, Order o, Site site = Site::current()) {
    sim::detail::Kernel* k = enter_at(Op::exchange, site);
    T old = std::exchange(v_, v);
    if (k != nullptr && !k->plain_atomics()) [[unlikely]] wrote_slow(*k, Op::exchange, Kind::rmw, o, old, site);
    return old;
  }
  // compare_exchange is strong: under sc it fails only if the value differs from
  // `expected`; under c11 it may also read an older store whose value differs and
  // fail (happens_before.hpp, step 15). A failure is a load with the failure order.
  bool compare_exchange(T& expected, T desired, Order success, Order failure, Site site = Site::current()) {
    return cas(expected, desired, success, failure, false, site);
  }
  // compare_exchange_weak may also fail when the value matches: a recorded draw
  // (Kernel::spurious_cas_failure), in both models.
  bool compare_exchange_weak(T& expected, T desired, Order success, Order failure, Site site = Site::current()) {
    return cas(expected, desired, success, failure, true, site);
  }
  // fetch_add adds v and returns the previous value.
  T fetch_add(T v, Order o, Site site = Site::current()) {
    sim::detail::Kernel* k = enter_at(Op::fetch_add, site);
    T old = v_;
    v_ = static_cast<T>(old + v);
    if (k != nullptr && !k->plain_atomics()) [[unlikely]] wrote_slow(*k, Op::fetch_add, Kind::rmw, o, old, site);
    return old;
  }
  // fetch_sub subtracts v and returns the previous value.
  T fetch_sub(T v, Order o, Site site = Site::current()) {
    sim::detail::Kernel* k = enter_at(Op::fetch_sub, site);
    T old = v_;
    v_ = static_cast<T>(old - v);
    if (k != nullptr && !k->plain_atomics()) [[unlikely]] wrote_slow(*k, Op::fetch_sub, Kind::rmw, o, old, site);
    return old;
  }
  // fetch_or ors v in and returns the previous value.
  T fetch_or(T v, Order o, Site site = Site::current()) {
    sim::detail::Kernel* k = enter_at(Op::fetch_or, site);
    T old = v_;
    v_ = static_cast<T>(old | v);
    if (k != nullptr && !k->plain_atomics()) [[unlikely]] wrote_slow(*k, Op::fetch_or, Kind::rmw, o, old, site);
    return old;
  }
  // fetch_and ands v in and returns the previous value.
  T fetch_and(T v, Order o, Site site = Site::current()) {
    sim::detail::Kernel* k = enter_at(Op::fetch_and, site);
    T old = v_;
    v_ = static_cast<T>(old & v);
    if (k != nullptr && !k->plain_atomics()) [[unlikely]] wrote_slow(*k, Op::fetch_and, Kind::rmw, o, old, site);
    return old;
  }
  // unsync_load reads a value only the caller writes: not a decision point.
  T unsync_load() const noexcept { return v_; }

 private:
  using Kind = sim::detail::HappensBefore::AtomicKind;
  // enter_at is the operation's decision point; it returns the running kernel
  // (null outside a simulation). Then Step R2 (weft/sim/detail/retired.hpp): after
  // the decision, an atomic whose stamp says its block was retired (freed while
  // the caller may have been switched out) ends the run with use_after_free.
  sim::detail::Kernel* enter_at(Op op, const Site& site) const {
    sim::detail::Kernel* k = detail::point(op);
    if (k != nullptr && obj_epoch_ == sim::detail::kRetiredStamp) [[unlikely]]
      k->touched_retired(this, sim::op_name(op), site);
    return k;
  }
  // plain_cas is a compare-exchange on the value alone (sc, or the model torn
  // down); a weak one may fail spuriously by a recorded draw of `k`.
  bool plain_cas(T& expected, T desired, bool weak, sim::detail::Kernel* k) {
    bool swapped = v_ == expected;
    if (swapped && weak && k != nullptr && k->spurious_cas_failure()) swapped = false;
    if (swapped) {
      v_ = desired;
    } else {
      expected = v_;
    }
    return swapped;
  }
  // accessed reports the operation that just took effect (`before`: the value it
  // replaced or read) to a strategy that observes accesses (Strategy::on_access)
  // and to happens-before (race detection, the C11 model); nothing otherwise.
  void accessed(sim::detail::Kernel& k, Op op, bool wrote, Kind kind, Order o, const T& before) const {
    sim::detail::HappensBefore* hb = k.hb();
    if (!k.observes_accesses() && hb == nullptr) return;
    const std::uint32_t id = k.object_id(obj_epoch_, obj_id_);
    if (hb != nullptr) {
      if (!k.c11()) {
        hb->on_atomic(k.current(), id, kind, o);
      } else {  // under c11 loads and compare-exchanges take load_c11 and cas_c11: a write here
        hb->c11_write(k.current(), id, kind, o, detail::to_bits(before), detail::to_bits(v_));
      }
    }
    if (k.observes_accesses()) k.note_access(op, id, wrote);
  }
  // wrote_slow is the out-of-line rest of a store or read-modify-write that took effect.
  [[gnu::noinline]] void wrote_slow(sim::detail::Kernel& k, Op op, Kind kind, Order o, const T& before,
                                    const Site& site) {
    sim::detail::Uncounted uncounted;  // the simulator's own work (heap.hpp, Step H2)
    accessed(k, op, true, kind, detail::order_at(k, o, site, op), before);
  }
  // load_slow is the out-of-line rest of a load: the C11 model's choice, or the sc
  // value reported.
  [[gnu::noinline]] T load_slow(sim::detail::Kernel& k, Order o, const Site& site) const {
    sim::detail::Uncounted uncounted;  // the simulator's own work (heap.hpp, Step H2)
    o = detail::order_at(k, o, site, Op::load);
    if (k.c11()) return load_c11(k, o);
    accessed(k, Op::load, false, Kind::load, o, v_);
    return v_;
  }
  bool cas(T& expected, T desired, Order success, Order failure, bool weak, const Site& site) {
    sim::detail::Kernel* k = enter_at(Op::cas, site);
    if (k != nullptr && !k->plain_atomics()) [[unlikely]] return cas_slow(*k, expected, desired, success, failure, weak, site);
    return plain_cas(expected, desired, weak, k);
  }
  [[gnu::noinline]] bool cas_slow(sim::detail::Kernel& k, T& expected, T desired, Order success, Order failure,
                                  bool weak, const Site& site) {
    sim::detail::Uncounted uncounted;  // the simulator's own work (heap.hpp, Step H2)
    success = detail::order_at(k, success, site, Op::cas);
    failure = detail::order_at(k, failure, site, Op::cas, true);
    if (k.c11()) return cas_c11(k, expected, desired, success, failure, weak);
    const T before = v_;
    const bool swapped = plain_cas(expected, desired, weak, &k);
    accessed(k, Op::cas, swapped, swapped ? Kind::rmw : Kind::load, swapped ? success : failure, before);
    return swapped;
  }
  // cas_c11 is a compare-exchange under the C11 model (step 15): the newest store
  // or, by the strategy's draw, an older one that differs from `expected`.
  bool cas_c11(sim::detail::Kernel& k, T& expected, T desired, Order success, Order failure, bool weak) {
    const std::uint32_t id = k.object_id(obj_epoch_, obj_id_);
    const std::uint64_t latest = detail::to_bits(v_);
    const std::uint32_t back = k.c11_cas_pick(id, failure, latest, detail::to_bits(expected));
    bool swapped = back == 0 && v_ == expected;
    if (swapped && weak && k.spurious_cas_failure()) swapped = false;
    if (k.hb() == nullptr) {
      // The run failed at one of those draws and is being torn down (the model
      // is gone, other fibers may have run since): a plain compare-exchange.
      return plain_cas(expected, desired, false, &k);
    }
    if (swapped) {
      v_ = desired;
      k.hb()->c11_write(k.current(), id, Kind::rmw, success, latest, detail::to_bits(v_));
    } else {
      expected = detail::from_bits<T>(k.hb()->c11_read(k.current(), id, latest, back, failure));
    }
    if (k.observes_accesses()) k.note_access(Op::cas, id, swapped);
    return swapped;
  }
  // load_c11 is a load under the C11 model: the value of the store the strategy chose.
  T load_c11(sim::detail::Kernel& k, Order o) const {
    const std::uint32_t id = k.object_id(obj_epoch_, obj_id_);
    const std::uint64_t bits = k.c11_load(id, o, detail::to_bits(v_), false);
    // Torn down at the load's draw (Kernel::c11_load): other fibers may have run
    // since `v_` was passed in, so the load reads the newest store as it is now.
    if (k.hb() == nullptr) return v_;
    const T v = detail::from_bits<T>(bits);
    if (k.observes_accesses()) k.note_access(Op::load, id, false);
    return v;
  }

  T v_;
  // The atomic's id in the current run (Kernel::object_id), stamped by run epoch.
  mutable std::uint32_t obj_epoch_ = 0;
  mutable std::uint32_t obj_id_ = 0;
};

// Cell is plain shared memory: not a decision point. With race detection on
// (Options::race_detection), each access is checked against the accesses before
// it (weft/sim/detail/happens_before.hpp, step 7) and a race ends the run with
// outcome data_race naming both sites; the call's source location is the site.
// Construction inside a run is the cell's first write (step 8). Accesses outside
// a run are not checked.
template <class T>
class Cell {
 public:
  explicit Cell(std::source_location site = std::source_location::current()) : v_{} { accessed(true, site); }
  explicit Cell(T v, std::source_location site = std::source_location::current()) : v_(std::move(v)) {
    accessed(true, site);
  }
  Cell(const Cell&) = delete;
  Cell& operator=(const Cell&) = delete;

  // get reads the value; set writes it.
  T get(std::source_location site = std::source_location::current()) const {
    accessed(false, site);
    return v_;
  }
  void set(T v, std::source_location site = std::source_location::current()) {
    accessed(true, site);
    v_ = std::move(v);
  }
  // with reads the value in place (f gets a const T&); with_mut writes it in place (T&).
  template <class F>
  decltype(auto) with(F&& f, std::source_location site = std::source_location::current()) const {
    accessed(false, site);
    return std::forward<F>(f)(static_cast<const T&>(v_));
  }
  template <class F>
  decltype(auto) with_mut(F&& f, std::source_location site = std::source_location::current()) {
    accessed(true, site);
    return std::forward<F>(f)(v_);
  }

 private:
  void accessed(bool write, const std::source_location& site) const {
    sim::detail::Kernel* k = tls_kernel;
    if (k == nullptr) return;
    // Step R2 (weft/sim/detail/retired.hpp): a cell in a retired block.
    if (shadow_.run == sim::detail::kRetiredStamp) [[unlikely]] k->touched_retired(this, write ? "write" : "read", site);
    if (!k->checks_cells()) return;
    k->note_cell(shadow_, write, site);
  }

  T v_;
  // The accesses so far in the current run (race detection), stamped by run.
  mutable sim::detail::CellShadow shadow_;
};

// Mutex is a simulated mutex, modelled as a futex-based std::mutex behaves (it is
// not FIFO, and a thread that was not waiting may take it first):
//  Step M1. lock() and try_lock() are decision points; a free mutex is taken.
//  Step M2. lock() on a held mutex queues the caller and blocks it.
//  Step M3. unlock() is a decision point, then frees the mutex and wakes one
//           waiter, which the strategy chooses among them (Kernel::wake_one: a
//           recorded decision, so it replays and shrinks).
//  Step M4. The woken waiter, when the strategy runs it, takes the mutex if it is
//           still free; if another fiber took it first (barging: the unlocker
//           locking again, or any fiber whose lock() ran between the unlock and
//           the waiter's turn), it queues again at the back and blocks.
// So which waiter gets the mutex next, and whether a newcomer barges ahead of it,
// are both explored, and a contended unlock costs one choice and one wake-up
// instead of waking every waiter to race. Locking a mutex the caller holds, or
// unlocking one it does not, is an assertion.
class Mutex {
 public:
  constexpr Mutex() noexcept = default;
  // A destroyed Mutex is marked so: an operation on it afterwards (another thread
  // that still held a reference) fails the run instead of touching dead memory
  // unnoticed (detail::check_alive).
  ~Mutex() {
    detail::mark_dead(alive_);
    detail::object_destroyed(this);
  }
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  // lock blocks until the mutex is free, then takes it.
  void lock();
  // try_lock takes the mutex if it is free; never blocks.
  bool try_lock();
  // unlock releases the mutex and wakes its waiters.
  void unlock();

 private:
  // sync_epoch voids state left by an earlier run; leave_runs does so outside runs.
  void sync_epoch(const sim::detail::Kernel& k) noexcept;
  void leave_runs() noexcept;
  // alive fails the run if the mutex was destroyed (detail::check_alive).
  void alive(const char* what) const { detail::check_alive(alive_, what); }

  bool locked_ = false;
  sim::FiberId owner_ = sim::kNoFiber;
  sim::detail::WaitList waiters_;
  std::uint32_t epoch_ = 0;  // the run that last used it; state from older runs is reset
  std::uint32_t alive_ = detail::kSeamAlive;  // kSeamDead once destroyed
  // The mutex's happens-before clock, by run-local id (Kernel::sync_id).
  std::uint32_t hb_epoch_ = 0;
  std::uint32_t hb_id_ = 0;
};

// Parker keeps at most one wake-up token, like the OS parker: park() consumes it or
// blocks until unpark(); park_for(ns) also returns (false) at virtual deadline now+ns.
// One fiber may park on a Parker at a time.
class Parker {
 public:
  constexpr Parker() noexcept = default;
  // A destroyed Parker is marked so: an operation on it afterwards (another thread
  // that still held a reference) fails the run instead of touching dead memory
  // unnoticed (detail::check_alive).
  ~Parker() {
    detail::mark_dead(alive_);
    detail::object_destroyed(this);
  }
  Parker(const Parker&) = delete;
  Parker& operator=(const Parker&) = delete;

  // park blocks until a token is available, then consumes it.
  void park();
  // park_for returns true if it consumed a token, false if ns of virtual time passed.
  bool park_for(std::uint64_t ns);
  // unpark makes a token available and wakes the parked fiber, if any.
  void unpark();
  // try_park consumes a token if one is available, without blocking; a decision point.
  bool try_park();

 private:
  // sync_epoch voids state left by an earlier run; leave_runs does so outside runs.
  void sync_epoch(const sim::detail::Kernel& k) noexcept;
  void leave_runs() noexcept;
  // alive fails the run if the parker was destroyed (detail::check_alive).
  void alive(const char* what) const { detail::check_alive(alive_, what); }

  // token_taken acquires the unparkers' clocks with the token just consumed
  // (happens-before step 6); nothing when race detection is off.
  void token_taken(sim::detail::Kernel& k);

  bool token_ = false;
  sim::FiberId waiter_ = sim::kNoFiber;
  std::uint32_t epoch_ = 0;
  std::uint32_t alive_ = detail::kSeamAlive;  // kSeamDead once destroyed
  // The token's happens-before clock, by run-local id (Kernel::sync_id).
  std::uint32_t hb_epoch_ = 0;
  std::uint32_t hb_id_ = 0;
};

// Thread is a simulated thread: a fiber, runnable from creation. join() blocks until
// it has finished. Creating a Thread outside a simulation aborts.
class Thread {
 public:
  Thread() = default;
  // Thread(name, fn) creates a fiber running fn; creation is a decision point.
  Thread(std::string name, std::function<void()> fn);
  Thread(Thread&& o) noexcept { *this = std::move(o); }
  Thread& operator=(Thread&& o) noexcept;
  ~Thread();

  // join blocks until the thread's function has returned.
  void join();
  // joinable says whether the thread was started and not joined.
  bool joinable() const noexcept { return id_ != sim::kNoFiber; }

 private:
  sim::FiberId id_ = sim::kNoFiber;
  std::uint32_t epoch_ = 0;
};

// Counter is a metrics counter: a plain value, never a decision point.
class Counter {
 public:
  void add(std::uint64_t n) noexcept { v_ += n; }
  void set(std::uint64_t n) noexcept { v_ = n; }
  std::uint64_t get() const noexcept { return v_; }

 private:
  std::uint64_t v_ = 0;
};

// RelaxedFlag is a one-byte bool read without the lock that guards its writes:
// a plain value, never a decision point.
class RelaxedFlag {
 public:
  void set(bool v) noexcept { v_ = v; }
  bool get() const noexcept { return v_; }

 private:
  bool v_ = false;
};

// CacheAtomic is an allocator cache's hand-off between threads: a plain value,
// never a decision point (every fiber runs on one OS thread, so a block is
// always freed on the thread that allocated it and nothing is handed off).
template <class T>
class CacheAtomic {
 public:
  constexpr CacheAtomic() noexcept : v_{} {}
  constexpr explicit CacheAtomic(T v) noexcept : v_{v} {}
  CacheAtomic(const CacheAtomic&) = delete;
  CacheAtomic& operator=(const CacheAtomic&) = delete;

  T load(Order) const noexcept { return v_; }
  T exchange(T v, Order) noexcept { return std::exchange(v_, v); }
  bool compare_exchange(T& expected, T desired, Order, Order) noexcept {
    if (v_ != expected) {
      expected = v_;
      return false;
    }
    v_ = desired;
    return true;
  }

 private:
  T v_;
};

struct SimPlatform {
  template <class T>
  using Atomic = sim_backend::Atomic<T>;
  template <class T>
  using Cell = sim_backend::Cell<T>;
  using Mutex = sim_backend::Mutex;
  using Parker = sim_backend::Parker;
  using Thread = sim_backend::Thread;
  using Counter = sim_backend::Counter;
  using RelaxedFlag = sim_backend::RelaxedFlag;
  template <class T>
  using CacheAtomic = sim_backend::CacheAtomic<T>;
  static constexpr const char* kName = "sim";
  // kParkSpins is small: the spin path is explored without flooding decisions.
  static constexpr std::uint32_t kParkSpins = 2;

  // now_ns reads virtual time (0 outside a simulation); a decision point.
  static std::uint64_t now_ns() {
    sim::detail::Kernel* k = tls_kernel;
    if (k == nullptr) return 0;
    k->decide(Op::now);
    return k->now_ns();
  }
  // available_parallelism is the simulated machine's core count (scenarios set
  // their worker counts explicitly).
  static std::uint32_t available_parallelism() noexcept { return 4; }
  // spin_hint is a yield that prefers any other runnable fiber.
  static void spin_hint() {
    if (sim::detail::Kernel* k = tls_kernel) k->yield(Op::spin);
  }
  // yield_thread is a yield that prefers any other runnable fiber.
  static void yield_thread() {
    if (sim::detail::Kernel* k = tls_kernel) k->yield(Op::yield);
  }
  // fence is a decision point, then a fence in happens-before and the C11 model
  // (weft/sim/detail/happens_before.hpp, step 14); nothing outside a simulation.
  static void fence(Order o, std::source_location site = std::source_location::current()) {
    sim::detail::Uncounted uncounted;  // the simulator's own work (heap.hpp, Step H2)
    sim::detail::Kernel* k = detail::point(Op::fence);
    if (k == nullptr) return;
    o = detail::order_at(*k, o, site, Op::fence);
    if (sim::detail::HappensBefore* hb = k->hb()) hb->on_fence(k->current(), o, k->c11());
  }
  // HeapCache: allocations in its scope are not the run's (heap.hpp, Step H5).
  using HeapCache = sim::detail::Uncounted;
  // note_hold and note_release count what the engine holds in the running
  // simulation (Kernel::held); not decisions; ignored outside a run.
  static void note_hold(Held what, std::size_t bytes) noexcept {
    if (sim::detail::Kernel* k = tls_kernel) k->note_held(static_cast<std::size_t>(what), 1, bytes);
  }
  static void note_release(Held what, std::size_t bytes) noexcept {
    if (sim::detail::Kernel* k = tls_kernel) k->note_held(static_cast<std::size_t>(what), -1, bytes);
  }
  // retire_block keeps a task block the engine gives up, inside a run (Step R1,
  // weft/sim/detail/retired.hpp): true when kept; false outside a run.
  static bool retire_block(void* block, std::size_t bytes) noexcept {
    sim::detail::Kernel* k = tls_kernel;
    return k != nullptr && k->retire(block, bytes);
  }
  // entropy is a decision point, then a recorded draw from the seeded strategy.
  static std::uint64_t entropy();
  // unwinding says whether the running fiber is being unwound in the teardown of
  // a failed run (sim/src/kernel.cpp, Step T4): an exception in flight may then be
  // the teardown's, which a catch-all must rethrow. A fiber that goes on in
  // teardown (Step T3) is not being unwound.
  static bool unwinding() noexcept {
    sim::detail::Kernel* k = tls_kernel;
    return k != nullptr && k->unwinding();
  }
  // assertion_failed ends the run with outcome assertion ("expr at file:line");
  // outside a simulation it prints and aborts.
  [[noreturn]] static void assertion_failed(const char* expr, const char* file, int line);
  // context_slot is per fiber (per OS thread outside a simulation).
  static void* context_slot() noexcept {
    if (sim::detail::Kernel* k = tls_kernel) return k->slot();
    return host_slot_;
  }
  static void set_context_slot(void* p) noexcept {
    if (sim::detail::Kernel* k = tls_kernel) {
      k->set_slot(p);
    } else {
      host_slot_ = p;
    }
  }

 private:
  static inline thread_local void* host_slot_ = nullptr;
};

static_assert(platform_contract::Platform<SimPlatform>);
static_assert(static_cast<std::size_t>(Held::count_) == sim::detail::Kernel::kHeldKinds);

}  // namespace weft::sim_backend
