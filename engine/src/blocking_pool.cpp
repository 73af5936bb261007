// The blocking pool: spawn_blocking tasks run on a bounded set of threads that
// exit after keep_alive of idleness.
#include "runtime_core.hpp"

#include <algorithm>
#include <deque>
#include <mutex>
#include <vector>

WEFT_NS_BEGIN
namespace detail {

void BlockingPool::spawn(TaskHeader* t) {
  std::vector<Thread> to_join;
  {
    std::scoped_lock lock(mu_);
    if (shutdown_) {
      // Not started before shutdown: cancel it.
      if (task_ops::shutdown(t)) task_ops::cancel_now(t, -1); else task_ops::ref_dec(t);
      return;
    }
    queue_.push_back(t);
    queue_depth_.set(queue_.size());
    if (!idle_.empty()) {
      Idle* w = idle_.back();
      idle_.pop_back();
      w->notified = true;
      num_idle_.set(idle_.size());
      w->parker.unpark();
      return;
    }
    if (live_ >= max_threads_) return;  // a busy thread will pick it up
    for (std::size_t i : exited_) to_join.push_back(std::move(threads_[i]));
    exited_.clear();
    std::size_t index = threads_.size();
    // Reuse a joined slot when possible so the vector stays bounded.
    for (std::size_t i = 0; i < threads_.size(); ++i) {
      if (!threads_[i].joinable()) {
        index = i;
        break;
      }
    }
    ++live_;
    num_threads_.set(live_);
    Thread th("weft-blocking", [this, index] { run_thread(index); });
    if (index == threads_.size()) threads_.push_back(std::move(th)); else threads_[index] = std::move(th);
  }
  for (Thread& th : to_join) th.join();
}

void BlockingPool::run_thread(std::size_t index) {
  ThreadContext cx;
  cx.scheduler = rt_;
  ContextGuard guard(&cx);
  if (rt_->config().on_thread_start) rt_->config().on_thread_start();
  Idle me;
  std::unique_lock lock(mu_);
  for (;;) {
    if (!queue_.empty()) {
      TaskHeader* t = queue_.front();
      queue_.pop_front();
      queue_depth_.set(queue_.size());
      running_.push_back(t);
      lock.unlock();
      task_ops::poll(t, -1);
      lock.lock();
      running_.erase(std::find(running_.begin(), running_.end(), t));
      continue;
    }
    if (shutdown_) break;
    me.notified = false;
    idle_.push_back(&me);
    num_idle_.set(idle_.size());
    lock.unlock();
    bool woke = me.parker.park_for(keep_alive_ns_);
    lock.lock();
    if (!me.notified) {
      // Timed out (or spurious): leave the idle list.
      for (std::size_t i = 0; i < idle_.size(); ++i) {
        if (idle_[i] == &me) {
          idle_.erase(idle_.begin() + static_cast<std::ptrdiff_t>(i));
          break;
        }
      }
      num_idle_.set(idle_.size());
      if (!woke && queue_.empty() && !shutdown_) break;  // keep-alive expired
    }
  }
  --live_;
  num_threads_.set(live_);
  if (!shutdown_) exited_.push_back(index);
  lock.unlock();
  if (rt_->config().on_thread_stop) rt_->config().on_thread_stop();
}

void BlockingPool::shutdown() {
  std::deque<TaskHeader*> pending;
  std::vector<Thread> threads;
  {
    std::scoped_lock lock(mu_);
    if (shutdown_) return;
    shutdown_ = true;
    pending.swap(queue_);
    queue_depth_.set(0);
    for (Idle* w : idle_) {
      w->notified = true;
      w->parker.unpark();
    }
    idle_.clear();
    num_idle_.set(0);
    threads.swap(threads_);
    exited_.clear();
  }
  for (TaskHeader* t : pending) task_ops::drop_notified(t);
  for (Thread& th : threads) {
    if (th.joinable()) th.join();
  }
}

}  // namespace detail
WEFT_NS_END
