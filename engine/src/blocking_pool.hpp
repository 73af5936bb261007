// The blocking pool: the threads that run spawn_blocking tasks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <vector>

#include "weft/runtime.hpp"

WEFT_NS_BEGIN
namespace detail {

class CoreBase;

// BlockingPool runs spawn_blocking tasks on a bounded set of threads that exit
// after keep_alive of idleness.
class BlockingPool {
 public:
  BlockingPool(CoreBase* rt, std::uint32_t max_threads, std::uint64_t keep_alive_ns)
      : rt_(rt), max_threads_(max_threads), keep_alive_ns_(keep_alive_ns) {}

  void spawn(TaskHeader* t);
  // shutdown cancels queued tasks, lets running ones finish, joins every thread.
  void shutdown();

  // snapshot lists the queued and the running tasks (for dumps; no references taken).
  void snapshot(std::vector<TaskHeader*>& queued, std::vector<TaskHeader*>& running) {
    std::scoped_lock lock(mu_);
    queued.assign(queue_.begin(), queue_.end());
    running = running_;
  }

  // for_each_queued_unsync visits the queued tasks without the lock (for
  // RuntimeCore::place_tasks, which reads while every thread is stopped).
  template <class F>
  void for_each_queued_unsync(F&& f) const {
    for (TaskHeader* t : queue_) f(t);
  }

  std::uint64_t num_threads() const { return num_threads_.get(); }
  std::uint64_t num_idle() const { return num_idle_.get(); }
  std::uint64_t queue_depth() const { return queue_depth_.get(); }

 private:
  struct Idle {
    Parker parker;
    bool notified = false;  // guarded by mu_
  };
  void run_thread(std::size_t index);

  CoreBase* const rt_;
  const std::uint32_t max_threads_;
  const std::uint64_t keep_alive_ns_;
  Mutex mu_;
  std::deque<TaskHeader*> queue_;         // guarded by mu_
  std::vector<TaskHeader*> running_;      // guarded by mu_
  std::vector<Idle*> idle_;               // guarded by mu_; LIFO
  std::vector<Thread> threads_;           // guarded by mu_
  std::vector<std::size_t> exited_;       // guarded by mu_: threads to join
  std::uint32_t live_ = 0;                // guarded by mu_
  bool shutdown_ = false;                 // guarded by mu_
  Counter num_threads_, num_idle_, queue_depth_;
};

}  // namespace detail
WEFT_NS_END
