// The platform seam: what a backend must provide so the engine can run on it.
//
// Engine code reaches threads, locks, protocol atomics, parking, time, randomness
// and thread-local context only through the types named here. Two backends
// satisfy this contract: the OS backend (engine/platform/os/include/weft/platform/os.hpp),
// which maps every operation to the standard library at zero cost, and the
// simulator backend (sim/include/weft/platform/sim.hpp), where every operation
// is a decision point drawn from a seeded strategy.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace weft::platform_contract {

// Order names the memory order an engine operation asks for. Backends may model
// it more strongly (the simulator's sc model treats every order as sequentially
// consistent; its c11 model, the default, gives each order its C++ meaning).
enum class Order : std::uint8_t { relaxed, acquire, release, acq_rel, seq_cst };

// Held names what the engine takes and must give back: an allocation it owns
// (task cells, coroutine frames, channels, oneshots, runtime cores; with its
// bytes), a waiter linked into a wait list (Notify, AsyncMutex, channel), a timer
// entry registered in a runtime's timer heap.
enum class Held : std::uint8_t { allocation, waiter, timer, count_ };

template <class A, class T>
concept AtomicOf = requires(A a, T v, T& expected, Order o) {
  { a.load(o) } -> std::same_as<T>;
  { a.store(v, o) };
  { a.exchange(v, o) } -> std::same_as<T>;
  { a.compare_exchange(expected, v, o, o) } -> std::same_as<bool>;
  // compare_exchange_weak may also fail when the value equals `expected`
  // (spuriously, as LL/SC hardware does); callers retry in a loop.
  { a.compare_exchange_weak(expected, v, o, o) } -> std::same_as<bool>;
  { a.fetch_add(v, o) } -> std::same_as<T>;
  { a.fetch_sub(v, o) } -> std::same_as<T>;
  { a.fetch_or(v, o) } -> std::same_as<T>;
  { a.fetch_and(v, o) } -> std::same_as<T>;
  // unsync_load reads a value only the caller writes; not a decision point.
  { a.unsync_load() } -> std::same_as<T>;
};

// CellOf is plain shared memory that two threads may touch, ordered by the
// engine's own synchronisation (not by the cell): get/with read it, set/with_mut
// write it. The OS backend is the bare value; the simulator checks every access
// for a data race (no happens-before between two accesses, one a write).
template <class C, class T>
concept CellOf = requires(C c, const C cc, T v) {
  { cc.get() } -> std::same_as<T>;
  { c.set(v) };
  { cc.with([](const T& x) { return x; }) } -> std::same_as<T>;
  { c.with_mut([](T& x) { return x; }) } -> std::same_as<T>;
};

// CacheAtomicOf is what an allocator cache needs to hand blocks between threads.
template <class A, class T>
concept CacheAtomicOf = requires(A a, T v, T& expected, Order o) {
  { a.load(o) } -> std::same_as<T>;
  { a.exchange(v, o) } -> std::same_as<T>;
  { a.compare_exchange(expected, v, o, o) } -> std::same_as<bool>;
};

template <class M>
concept Lockable = requires(M m) {
  { m.lock() };
  { m.try_lock() } -> std::same_as<bool>;
  { m.unlock() };
};

template <class P>
concept ParkerLike = requires(P p, std::uint64_t ns) {
  // park() blocks until a token is available, then consumes it; it may also
  // return spuriously without one (the simulator injects that as a fault), so
  // callers re-check their condition. unpark() makes a token available (at most
  // one is kept). park_for() returns true if it consumed a token, false if the
  // timeout elapsed first.
  { p.park() };
  { p.park_for(ns) } -> std::same_as<bool>;
  { p.unpark() };
  { p.try_park() } -> std::same_as<bool>;
};

template <class Th>
concept ThreadLike = requires(Th t, std::string name, std::function<void()> fn) {
  { Th(std::move(name), std::move(fn)) };
  { t.join() };
  { t.joinable() } -> std::same_as<bool>;
};

// Platform is the whole seam: a backend type with these members.
template <class P>
concept Platform = requires {
  requires AtomicOf<typename P::template Atomic<std::uint64_t>, std::uint64_t>;
  requires AtomicOf<typename P::template Atomic<std::uint32_t>, std::uint32_t>;
  requires CellOf<typename P::template Cell<std::uint64_t>, std::uint64_t>;
  requires Lockable<typename P::Mutex>;
  requires ParkerLike<typename P::Parker>;
  requires ThreadLike<typename P::Thread>;
  { P::now_ns() } -> std::same_as<std::uint64_t>;
  { P::spin_hint() };
  { P::available_parallelism() } -> std::same_as<std::uint32_t>;
  { P::yield_thread() };
  // fence is std::atomic_thread_fence: a release fence makes the caller's later
  // relaxed stores carry what came before it, an acquire fence makes what its
  // earlier relaxed loads read synchronise (the simulator models both).
  { P::fence(Order::seq_cst) };
  { P::entropy() } -> std::same_as<std::uint64_t>;
  { P::context_slot() } -> std::same_as<void*>;
  { P::set_context_slot(static_cast<void*>(nullptr)) };
  // CacheAtomic is an allocator cache's hand-off of free memory between threads
  // (task blocks sent back to the thread that allocated them): never a decision
  // point, since where a free block waits decides nothing the model explores.
  requires CacheAtomicOf<typename P::template CacheAtomic<void*>, void*>;
  // Counter is a metrics counter: relaxed, never a decision point.
  { std::declval<typename P::Counter&>().add(std::uint64_t{1}) };
  { std::declval<const typename P::Counter&>().get() } -> std::same_as<std::uint64_t>;
  { std::declval<typename P::Counter&>().set(std::uint64_t{1}) };
  // RelaxedFlag is one byte that a readiness check reads without the lock that
  // guards its writes: relaxed, never a decision point (the wake that follows
  // each write orders it for the task it concerns).
  { std::declval<typename P::RelaxedFlag&>().set(true) };
  { std::declval<const typename P::RelaxedFlag&>().get() } -> std::same_as<bool>;
  requires sizeof(typename P::RelaxedFlag) == 1;
  // note_hold and note_release tell the backend that the engine took or gave back
  // something that must be given back by the end of a run (Held); the OS backend
  // ignores them, the simulator counts them per run (harness/checks/leaks.hpp).
  { P::note_hold(Held::allocation, std::size_t{1}) };
  // HeapCache is a scope in which the engine allocates for a cache that outlives
  // a run (the task pool's free lists): the simulator does not count what is
  // allocated in it as the run's (weft/sim/detail/heap.hpp, Step H5); nothing on
  // the OS backend.
  requires std::default_initializable<typename P::HeapCache>;
  { P::note_release(Held::allocation, std::size_t{1}) };
  // retire_block(p, n) is offered every task block the engine gives up, before it
  // caches or frees it: true when the backend keeps it (the simulator, inside a
  // run, to catch a later touch as use_after_free; weft/sim/detail/retired.hpp),
  // and the engine must then leave it alone; false on the OS backend.
  { P::retire_block(static_cast<void*>(nullptr), std::size_t{1}) } noexcept -> std::same_as<bool>;
  { P::assertion_failed("", "", 0) };
  // unwinding says whether the backend is unwinding the thread's frames with an
  // exception of its own (the simulator's teardown of a failed run; never on the
  // OS backend): a handler that catches everything must rethrow it.
  { P::unwinding() } -> std::same_as<bool>;
  { P::kName } -> std::convertible_to<const char*>;
  { P::kParkSpins } -> std::convertible_to<std::uint32_t>;
};

}  // namespace weft::platform_contract
