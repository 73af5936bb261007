// The simulator backend's blocking seam types (Mutex, Parker, Thread) and the
// SimPlatform members that are not inline; see weft/platform/sim.hpp.
#include "weft/platform/sim.hpp"

#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <string_view>

#include "weft/sim/detail/source_path.hpp"
#include "weft/sim/prng.hpp"
#include "weft/sim/simulator.hpp"

namespace weft::sim_backend {

using sim::kNoFiber;
using sim::detail::Kernel;

namespace {
// outside_prng is the random stream used outside any simulation: fixed, so even
// static initialisation is deterministic.
sim::Prng& outside_prng() {
  static thread_local sim::Prng prng(0x5eed0f0075'1de5ull);
  return prng;
}

std::uint64_t deadline_after(const Kernel& k, std::uint64_t ns) noexcept {
  const std::uint64_t now = k.now_ns();
  return ns > std::numeric_limits<std::uint64_t>::max() - now ? std::numeric_limits<std::uint64_t>::max() : now + ns;
}
}  // namespace

namespace detail {
void unsimulated_misuse(const char* what) noexcept {
  std::fprintf(stderr, "weft sim: %s outside a simulation would block forever\n", what);
  std::abort();
}

void misuse(Kernel& k, const char* what) {
  k.fail(sim::Outcome::assertion, std::string("seam misuse by fiber ") + std::to_string(k.current()) + " (" +
                                       k.fiber_name(k.current()) + "): " + what);
}
// enter_object_op begins an operation on a Parker or Mutex: Step L1 (kernel.cpp),
// then the operation's decision. It returns the running kernel (null outside a run).
Kernel* enter_object_op(const void* object, Op op) {
  if (Kernel* k = tls_kernel) k->note_object_op(object);
  return point(op);
}
void object_destroyed(const void* object) noexcept {
  if (Kernel* k = tls_kernel) k->object_destroyed(object);
}
void check_alive(const volatile std::uint32_t& alive, const char* what) {
  if (Kernel* k = tls_kernel; k != nullptr && k->object_op_died()) [[unlikely]] {
    misuse(*k, (std::string(what) + " on an object destroyed while this fiber waited inside the operation (its "
                                     "owner ended its lifetime while another thread still used it)")
                   .c_str());
  }
  if (alive == kSeamAlive) [[likely]] return;
  const std::string msg = std::string(what) + " on an object already destroyed (a thread still held it after its "
                                              "owner's lifetime ended)";
  if (Kernel* k = tls_kernel) misuse(*k, msg.c_str());
  std::fprintf(stderr, "weft sim: %s\n", msg.c_str());
  std::abort();
}
}  // namespace detail

// ---- Mutex ----

void Mutex::sync_epoch(const Kernel& k) noexcept {
  if (epoch_ == k.epoch()) return;
  // State left by an earlier run (e.g. held by a fiber of a failed run) is void.
  locked_ = false;
  owner_ = kNoFiber;
  waiters_ = {};
  epoch_ = k.epoch();
}

void Mutex::leave_runs() noexcept {
  if (epoch_ == 0) return;
  locked_ = false;
  owner_ = kNoFiber;
  waiters_ = {};
  epoch_ = 0;
}

void Mutex::lock() {
  sim::detail::Uncounted uncounted;  // the simulator's own work (heap.hpp, Step H2)
  Kernel* k = detail::enter_object_op(this, Op::lock);  // Step L1, then the decision
  alive("Mutex::lock");  // after the decision: its owner may have destroyed it meanwhile
  if (k == nullptr) {
    leave_runs();
    if (locked_) detail::unsimulated_misuse("Mutex::lock on a locked mutex");
    locked_ = true;
    return;
  }
  sync_epoch(*k);
  if (k->unwinding()) [[unlikely]] {  // a fiber being unwound: taken at once, whoever held it (kernel.cpp, Step T4)
    locked_ = true;
    owner_ = k->current();
    return;
  }
  if (locked_ && owner_ == k->current()) detail::misuse(*k, "Mutex::lock: the fiber already holds this mutex");
  while (locked_) {  // Step M2: woken, it takes the mutex if it is still free (Step M4)
    k->enqueue(waiters_, k->current());
    k->block(Op::lock);
    alive("Mutex::lock");
  }
  locked_ = true;  // Step M1
  owner_ = k->current();
  // Happens-before step 3: the lock acquires the last unlock's clock.
  if (sim::detail::HappensBefore* hb = k->hb()) hb->acquire_from(k->current(), k->sync_id(hb_epoch_, hb_id_), false);
}

bool Mutex::try_lock() {
  sim::detail::Uncounted uncounted;  // the simulator's own work (heap.hpp, Step H2)
  Kernel* k = detail::enter_object_op(this, Op::try_lock);  // Step L1, then the decision
  alive("Mutex::try_lock");  // after the decision: its owner may have destroyed it meanwhile
  if (k == nullptr) {
    leave_runs();
    if (locked_) return false;
    locked_ = true;
    return true;
  }
  sync_epoch(*k);
  if (locked_ && !k->unwinding()) return false;  // a fiber being unwound: taken at once (Step T4)
  locked_ = true;
  owner_ = k->current();
  if (sim::detail::HappensBefore* hb = k->hb()) hb->acquire_from(k->current(), k->sync_id(hb_epoch_, hb_id_), false);
  return true;
}

void Mutex::unlock() {
  sim::detail::Uncounted uncounted;  // the simulator's own work (heap.hpp, Step H2)
  Kernel* k = detail::enter_object_op(this, Op::unlock);  // Step L1, then the decision
  alive("Mutex::unlock");  // after the decision: its owner may have destroyed it meanwhile
  if (k == nullptr) {
    leave_runs();
    locked_ = false;
    return;
  }
  sync_epoch(*k);
  if (k->tearing_down()) [[unlikely]] {  // released with no check (Step T4 may have taken it at once); a waiter goes on
    locked_ = false;
    owner_ = kNoFiber;
    k->wake_one(waiters_);
    return;
  }
  if (!locked_ || owner_ != k->current()) detail::misuse(*k, "Mutex::unlock: the fiber does not hold this mutex");
  locked_ = false;
  owner_ = kNoFiber;
  // Happens-before step 2: the next lock is ordered after everything before this unlock.
  if (sim::detail::HappensBefore* hb = k->hb()) hb->release_into(k->current(), k->sync_id(hb_epoch_, hb_id_), true);
  k->wake_one(waiters_);  // Step M3
}

// ---- Parker ----

void Parker::sync_epoch(const Kernel& k) noexcept {
  if (epoch_ == k.epoch()) return;
  token_ = false;
  waiter_ = kNoFiber;
  epoch_ = k.epoch();
}

void Parker::leave_runs() noexcept {
  if (epoch_ == 0) return;
  token_ = false;
  waiter_ = kNoFiber;
  epoch_ = 0;
}

void Parker::park() {
  sim::detail::Uncounted uncounted;  // the simulator's own work (heap.hpp, Step H2)
  Kernel* k = detail::enter_object_op(this, Op::park);  // Step L1, then the decision
  alive("Parker::park");  // after the decision: its owner may have destroyed it meanwhile
  if (k == nullptr) {
    leave_runs();
    if (!token_) detail::unsimulated_misuse("Parker::park with no token");
    token_ = false;
    return;
  }
  sync_epoch(*k);
  if (token_) {
    token_ = false;
    token_taken(*k);
    return;
  }
  // A fiber being unwound cannot wait (kernel.cpp, Step T4), nor can one that
  // finds another parked here in teardown, where nothing is checked.
  if (k->cannot_wait() || (k->tearing_down() && waiter_ != kNoFiber)) [[unlikely]] {
    k->cannot_block();
    return;
  }
  if (std::uint32_t p = k->spurious_per_mille(); p != 0 && !k->tearing_down() && k->draw(Op::park) % 1000 < p) return;  // fault
  if (waiter_ != kNoFiber) detail::misuse(*k, "Parker::park: another fiber is parked on this parker");
  waiter_ = k->current();
  while (!token_ && !k->cannot_wait()) {
    k->block(Op::park);
    alive("Parker::park");
  }
  waiter_ = kNoFiber;
  if (!token_) [[unlikely]] {  // teardown: unwinding, and nobody is left to unpark it (Step T4)
    k->cannot_block();
    return;
  }
  token_ = false;
  token_taken(*k);
}

bool Parker::park_for(std::uint64_t ns) {
  sim::detail::Uncounted uncounted;  // the simulator's own work (heap.hpp, Step H2)
  Kernel* k = detail::enter_object_op(this, Op::park_for);  // Step L1, then the decision
  alive("Parker::park_for");  // after the decision: its owner may have destroyed it meanwhile
  if (k == nullptr) {
    leave_runs();
    return std::exchange(token_, false);
  }
  sync_epoch(*k);
  if (token_) {
    token_ = false;
    token_taken(*k);
    return true;
  }
  if (ns == 0) return false;
  if (k->cannot_wait() || (k->tearing_down() && waiter_ != kNoFiber)) [[unlikely]] {  // as in park
    k->cannot_block();
    return false;
  }
  if (waiter_ != kNoFiber) detail::misuse(*k, "Parker::park_for: another fiber is parked on this parker");
  waiter_ = k->current();
  k->block_until(deadline_after(*k, ns), Op::park_for);
  alive("Parker::park_for");
  waiter_ = kNoFiber;
  if (!std::exchange(token_, false)) return false;  // timed out: no edge
  token_taken(*k);
  return true;
}

bool Parker::try_park() {
  sim::detail::Uncounted uncounted;  // the simulator's own work (heap.hpp, Step H2)
  Kernel* k = detail::enter_object_op(this, Op::park_for);  // Step L1, then the decision
  alive("Parker::try_park");  // after the decision: its owner may have destroyed it meanwhile
  if (k == nullptr) {
    leave_runs();
    return std::exchange(token_, false);
  }
  sync_epoch(*k);
  if (!std::exchange(token_, false)) return false;
  token_taken(*k);
  return true;
}

void Parker::token_taken(Kernel& k) {
  if (sim::detail::HappensBefore* hb = k.hb()) hb->acquire_from(k.current(), k.sync_id(hb_epoch_, hb_id_), true);
}

void Parker::unpark() {
  sim::detail::Uncounted uncounted;  // the simulator's own work (heap.hpp, Step H2)
  Kernel* k = detail::enter_object_op(this, Op::unpark);  // Step L1, then the decision
  alive("Parker::unpark");  // after the decision: its owner may have destroyed it meanwhile
  if (k == nullptr) {
    leave_runs();
    token_ = true;
    return;
  }
  sync_epoch(*k);
  token_ = true;
  // Happens-before step 6: the token carries every unparker's clock until consumed.
  if (sim::detail::HappensBefore* hb = k->hb()) hb->release_into(k->current(), k->sync_id(hb_epoch_, hb_id_), false);
  if (waiter_ != kNoFiber) k->wake(waiter_);
}

// ---- Thread ----

Thread::Thread(std::string name, std::function<void()> fn) {
  sim::detail::Uncounted uncounted;  // the simulator's own work (heap.hpp, Step H2)
  Kernel* k = tls_kernel;
  if (k == nullptr) detail::unsimulated_misuse("creating a Thread");
  id_ = k->spawn(std::move(name), std::move(fn));
  epoch_ = k->epoch();
  k->decide(Op::spawn);
}

Thread& Thread::operator=(Thread&& o) noexcept {
  if (this != &o) {
    if (joinable()) {
      Kernel* k = tls_kernel;
      if (k != nullptr && epoch_ == k->epoch() && !k->tearing_down()) detail::misuse(*k, "a joinable Thread was overwritten");
    }
    id_ = std::exchange(o.id_, kNoFiber);
    epoch_ = std::exchange(o.epoch_, 0);
  }
  return *this;
}

Thread::~Thread() {
  if (!joinable()) return;
  // The OS backend would call std::terminate; in a run it is an assertion failure.
  // A Thread of an earlier run (or destroyed outside a run, or in the teardown
  // of a failed run, whose unwind skipped the join) is ignored.
  Kernel* k = tls_kernel;
  if (k != nullptr && epoch_ == k->epoch() && !k->tearing_down()) detail::misuse(*k, "a joinable Thread was destroyed");
}

void Thread::join() {
  sim::detail::Uncounted uncounted;  // the simulator's own work (heap.hpp, Step H2)
  Kernel* k = tls_kernel;
  if (k == nullptr) detail::unsimulated_misuse("Thread::join");
  if (!joinable()) detail::misuse(*k, "Thread::join: the thread is not joinable");
  if (epoch_ != k->epoch()) detail::misuse(*k, "Thread::join: the thread belongs to an earlier run");
  if (id_ == k->current()) detail::misuse(*k, "Thread::join: a fiber joins itself");
  k->decide(Op::join);
  if (k->cannot_wait() && !k->finished(id_)) [[unlikely]] {  // a fiber being unwound cannot wait (Step T4)
    k->cannot_block();
    id_ = kNoFiber;
    return;
  }
  while (!k->finished(id_)) {
    if (k->cannot_wait()) [[unlikely]] {  // teardown: nobody is left to finish it (Step T4)
      k->cannot_block();
      id_ = kNoFiber;
      return;
    }
    k->enqueue(k->joiners(id_), k->current());
    k->block(Op::join);
  }
  // Happens-before step 5: the joiner sees everything the thread did.
  if (sim::detail::HappensBefore* hb = k->hb()) hb->on_join(k->current(), id_);
  id_ = kNoFiber;
}

// ---- SimPlatform ----

std::uint64_t SimPlatform::entropy() {
  sim::detail::Uncounted uncounted;  // the simulator's own work (heap.hpp, Step H2)
  Kernel* k = tls_kernel;
  if (k == nullptr) return outside_prng().next_u64();
  k->decide(Op::entropy);
  return k->draw(Op::entropy);
}

void SimPlatform::assertion_failed(const char* expr, const char* file, int line) {
  file = sim::detail::repository_relative(file).data();  // a suffix of file: still NUL-terminated
  Kernel* k = tls_kernel;
  if (k == nullptr) {
    std::fprintf(stderr, "weft: assertion failed: %s at %s:%d\n", expr, file, line);
    std::abort();
  }
  k->fail(sim::Outcome::assertion, "fiber " + std::to_string(k->current()) + " (" + k->fiber_name(k->current()) +
                                       "): assertion failed: " + expr + " at " + file + ":" + std::to_string(line));
}

}  // namespace weft::sim_backend

namespace weft::sim {

bool in_simulation() noexcept { return detail::tls_kernel != nullptr; }
bool tearing_down() noexcept { return detail::tls_kernel != nullptr && detail::tls_kernel->tearing_down(); }

void note_progress() noexcept {
  if (detail::Kernel* k = detail::tls_kernel) k->note_progress();
}

FiberId current_fiber() noexcept {
  detail::Kernel* k = detail::tls_kernel;
  return k == nullptr ? kNoFiber : k->current();
}

void sleep_virtual(std::uint64_t ns) {
  detail::Kernel* k = detail::tls_kernel;
  if (k == nullptr) return;
  k->decide(Op::sleep);
  if (ns == 0) return;
  k->block_until(sim_backend::deadline_after(*k, ns), Op::sleep);
}

std::uint64_t random_u64() {
  detail::Kernel* k = detail::tls_kernel;
  if (k == nullptr) return sim_backend::outside_prng().next_u64();
  return k->draw(Op::random);
}

std::uint64_t random_below(std::uint64_t n) {
  // Lemire's multiply-and-reject over random_u64, so each draw is recorded.
  __uint128_t m = static_cast<__uint128_t>(random_u64()) * n;
  auto low = static_cast<std::uint64_t>(m);
  if (low < n) {
    const std::uint64_t threshold = (0 - n) % n;
    while (low < threshold) {
      m = static_cast<__uint128_t>(random_u64()) * n;
      low = static_cast<std::uint64_t>(m);
    }
  }
  return static_cast<std::uint64_t>(m >> 64);
}

}  // namespace weft::sim
