// The simulated facade's shared_mutex, semaphore counter, once_flag and
// thread-locals (facade/sim/include/weft/facade_backend.hpp has their protocols).
//
// The thread-local registry is plain data: one fiber runs at a time, and the
// registry is touched only between decisions.
#include <algorithm>
#include <string>
#include <vector>

#include "weft/facade_backend.hpp"
#include "weft/sim/detail/kernel.hpp"

namespace weft::sync {
namespace {

[[noreturn]] void misuse(const char* what) {
  ::weft::sim_backend::SimPlatform::assertion_failed(what, __FILE__, __LINE__);
}

}  // namespace

void shared_mutex::lock() {
  facade_detail::require_exploration("weft::sync::shared_mutex::lock");
  std::unique_lock<mutex> g(m_);
  if (writer_ == sim::current_fiber()) misuse("shared_mutex::lock: the thread already holds it exclusively");
  // Step 1: waiting writers hold back new readers (Step 2).
  ++writers_waiting_;
  cv_.wait(g, [&] { return writer_ == sim::kNoFiber && readers_ == 0; });
  --writers_waiting_;
  writer_ = sim::current_fiber();
}

bool shared_mutex::try_lock() {
  facade_detail::require_exploration("weft::sync::shared_mutex::try_lock");
  std::unique_lock<mutex> g(m_);
  if (writer_ != sim::kNoFiber || readers_ != 0) return false;
  writer_ = sim::current_fiber();
  return true;
}

void shared_mutex::unlock() {
  facade_detail::require_exploration("weft::sync::shared_mutex::unlock");
  std::unique_lock<mutex> g(m_);
  if (writer_ != sim::current_fiber()) misuse("shared_mutex::unlock: the thread does not hold it exclusively");
  writer_ = sim::kNoFiber;  // Step 3
  cv_.notify_all();
}

void shared_mutex::lock_shared() {
  facade_detail::require_exploration("weft::sync::shared_mutex::lock_shared");
  std::unique_lock<mutex> g(m_);
  if (writer_ == sim::current_fiber()) misuse("shared_mutex::lock_shared: the thread holds it exclusively");
  cv_.wait(g, [&] { return writer_ == sim::kNoFiber && writers_waiting_ == 0; });  // Step 2
  ++readers_;
}

bool shared_mutex::try_lock_shared() {
  facade_detail::require_exploration("weft::sync::shared_mutex::try_lock_shared");
  std::unique_lock<mutex> g(m_);
  if (writer_ != sim::kNoFiber || writers_waiting_ != 0) return false;
  ++readers_;
  return true;
}

void shared_mutex::unlock_shared() {
  facade_detail::require_exploration("weft::sync::shared_mutex::unlock_shared");
  std::unique_lock<mutex> g(m_);
  if (readers_ == 0) misuse("shared_mutex::unlock_shared: no thread holds it shared");
  // Step 4: the last reader out lets a waiting writer in.
  if (--readers_ == 0) cv_.notify_all();
}

namespace facade_semaphore {

Counter::Counter(std::ptrdiff_t desired, std::ptrdiff_t max) : count_(desired), max_(max) {
  if (desired < 0 || desired > max) {
    const std::string what = "counting_semaphore: the initial count " + std::to_string(desired) +
                             " is outside 0.." + std::to_string(max);
    if (sim::in_simulation()) ::weft::sim_backend::SimPlatform::assertion_failed(what.c_str(), __FILE__, __LINE__);
    throw ::weft::testing::UsageError(what);
  }
}

void Counter::acquire() {
  facade_detail::require_exploration("weft::sync::counting_semaphore::acquire");
  std::unique_lock<mutex> g(m_);
  cv_.wait(g, [&] { return count_ > 0; });  // Step 1
  --count_;
}

bool Counter::try_acquire() {
  facade_detail::require_exploration("weft::sync::counting_semaphore::try_acquire");
  std::unique_lock<mutex> g(m_);
  if (count_ == 0) return false;  // Step 3
  --count_;
  return true;
}

bool Counter::try_acquire_ns(std::uint64_t ns) {
  facade_detail::require_exploration("weft::sync::counting_semaphore::try_acquire_for");
  std::unique_lock<mutex> g(m_);
  if (!cv_.wait_for(g, std::chrono::nanoseconds(ns), [&] { return count_ > 0; })) return false;
  --count_;
  return true;
}

void Counter::release(std::ptrdiff_t update) {
  facade_detail::require_exploration("weft::sync::counting_semaphore::release");
  std::unique_lock<mutex> g(m_);
  // Step 2: the standard's precondition, checked.
  if (update < 0 || update > max_ - count_) {
    misuse("counting_semaphore::release: the update is negative or would raise the count above max()");
  }
  count_ += update;
  if (update == 1) {
    cv_.notify_one();
  } else if (update > 1) {
    cv_.notify_all();  // at most `update` of them take one; the rest wait again
  }
}

}  // namespace facade_semaphore

bool once_flag::begin() {
  // Step 1: pairs with end()'s release store of done_.
  if (done_.load(platform_contract::Order::acquire) != 0) return false;
  std::unique_lock<mutex> g(m_);
  cv_.wait(g, [&] { return !running_; });  // Step 2
  // Under m_, which end() held for its store: relaxed suffices.
  if (done_.load(platform_contract::Order::relaxed) != 0) return false;
  running_ = true;
  return true;
}

void once_flag::end(bool done) {
  std::unique_lock<mutex> g(m_);
  running_ = false;
  if (done) {
    done_.store(1, platform_contract::Order::release);  // Step 4: pairs with Step 1's acquire
    cv_.notify_all();
  } else {
    cv_.notify_one();  // Step 3: the next caller runs its own callable
  }
}

}  // namespace weft::sync

namespace weft::facade_detail {
namespace {

// A thread whose thread-local destructors made this many instances in turn is
// taken to make them forever.
constexpr int kMaxThreadLocalDestructions = 1 << 16;

// Local is one thread-local instance of one simulated thread.
struct Local {
  sim::FiberId fiber;
  const void* key;
  void* object;
  void (*destroy)(void*);
};

// Registry holds the live instances of the current run, oldest first.
struct Registry {
  std::uint32_t epoch = 0;
  std::vector<Local> locals;
};

Registry& registry() {
  static thread_local Registry r;  // the OS thread that runs the simulation
  return r;
}

}  // namespace

void* thread_local_slot(const void* key, void* (*make)(), void (*destroy)(void*)) {
  Registry& r = registry();
  const sim::detail::Kernel* k = sim::detail::tls_kernel;
  if (k != nullptr && r.epoch != k->epoch()) {
    drop_thread_locals();  // left by a run that did not end through explore
    r.epoch = k->epoch();
  }
  const sim::FiberId self = sim::current_fiber();
  for (const Local& l : r.locals) {
    if (l.fiber == self && l.key == key) return l.object;
  }
  void* object = make();  // may itself use the facade (a decision): register after
  r.locals.push_back(Local{self, key, object, destroy});
  return object;
}

void end_thread_locals() {
  Registry& r = registry();
  const sim::FiberId self = sim::current_fiber();
  // Newest first; a destructor may use another thread-local (even make a new one),
  // so take one at a time and look again, a bounded number of times.
  for (int round = 0; round < kMaxThreadLocalDestructions; ++round) {
    auto it = std::find_if(r.locals.rbegin(), r.locals.rend(), [&](const Local& l) { return l.fiber == self; });
    if (it == r.locals.rend()) return;
    const Local l = *it;
    r.locals.erase(std::next(it).base());
    l.destroy(l.object);
  }
  ::weft::sim_backend::SimPlatform::assertion_failed(
      "thread-locals: destroying a thread's thread-locals keeps making new ones", __FILE__, __LINE__);
}

void drop_thread_locals() noexcept {
  Registry& r = registry();
  std::vector<Local> left;
  left.swap(r.locals);
  for (auto it = left.rbegin(); it != left.rend(); ++it) it->destroy(it->object);
}

}  // namespace weft::facade_detail
