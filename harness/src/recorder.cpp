// The harness's event recorder (see recorder.hpp).
#include "recorder.hpp"

#include <algorithm>

#include "checks/invariants.hpp"
#include "weft/sim/detail/heap.hpp"
#include "weft/sim/detail/kernel.hpp"

namespace weft::sim {

Recorder::Recorder(bool keep, std::uint32_t workers)
    : keep_(keep), polls_by_worker_(workers, 0), idle_by_worker_(workers), queue_by_worker_(workers) {}

void Recorder::record(const weft::Event& e) {
  detail::Uncounted uncounted;  // the trace and the monitors are the harness's (heap.hpp, Step H2)
  auto* k = detail::tls_kernel;
  // The teardown of a failed run (sim/src/kernel.cpp, Step T1) is not part of the
  // run: its events are neither traced nor counted nor checked.
  if (k != nullptr && k->tearing_down()) return;
  if (keep_) {
    events_.push_back(TraceEvent{k ? k->now_ns() : 0, k ? k->steps() : 0, e.worker, static_cast<std::uint8_t>(e.kind),
                                 e.task, e.a, e.b});
    // Which simulated thread emitted it: neither the id nor the name is a decision.
    const FiberId f = current_fiber();
    event_fibers_.push_back(f);
    if (k != nullptr && !fiber_names_.count(f)) fiber_names_[f] = k->fiber_name(f);
  }
  // The livelock oracle's progress (simulator.hpp): a poll returned, a task was spawned.
  if (k != nullptr && (e.kind == weft::EventKind::poll_end || e.kind == weft::EventKind::spawn)) k->note_progress();
  count(e);
  // What the dump checker needs, kept even when the trace is not.
  track_steps(e, k ? k->steps() : 0);
  if (budget_ && e.kind == weft::EventKind::poll_start) budget_->on_poll_start(e.task);
  if (track_polling_) track_poll(e);
  if (fairness_ && fairness_->on_event(e.kind, e.worker, e.task, e.b))
    invariant_failed("fairness: " + fairness_->result().violation);
  if (parallelism_ && k != nullptr && parallelism_->sample(k->steps(), e.kind, e.worker, e.task))
    k->fail(Outcome::lost_parallelism, parallelism_->result().violation);
}

void Recorder::track_poll(const weft::Event& e) {
  if (e.kind == weft::EventKind::poll_start) {
    polling_.push_back(e.task);
  } else if (e.kind == weft::EventKind::poll_end) {
    // A cancellation outside a poll ends with a poll_end of its own: nothing to remove.
    auto it = std::find(polling_.begin(), polling_.end(), e.task);
    if (it != polling_.end()) polling_.erase(it);
  }
}

void Recorder::count(const weft::Event& e) {
  const bool on_worker = e.worker >= 0 && static_cast<std::size_t>(e.worker) < polls_by_worker_.size();
  switch (e.kind) {
    case weft::EventKind::spawn: ++stats_.tasks_spawned; break;
    case weft::EventKind::poll_start:
      ++stats_.polls;
      if (on_worker) {
        ++polls_by_worker_[e.worker];
        idle_by_worker_[e.worker].polled_since_park = true;
      }
      break;
    case weft::EventKind::steal:
      stats_.steals += e.a;
      ++stats_.steal_operations;
      if (on_worker) {
        queue_by_worker_[e.worker].steals += e.a;
        ++queue_by_worker_[e.worker].steal_ops;
      }
      break;
    case weft::EventKind::overflow:
      ++stats_.overflows;
      if (on_worker) ++queue_by_worker_[e.worker].overflows;
      break;
    case weft::EventKind::inject_push: ++stats_.inject_pushes; break;
    case weft::EventKind::inject_pop:
      if (e.a > 1) ++stats_.inject_batches;
      break;
    case weft::EventKind::park:
      ++stats_.parks;
      if (on_worker) {
        IdleTrace& it = idle_by_worker_[e.worker];
        ++it.parks;
        if (!it.polled_since_park) ++it.noops;  // the engine's rule: no poll since the last park
        it.polled_since_park = false;
      }
      break;
    case weft::EventKind::unpark:
      ++stats_.unparks;
      if (on_worker) ++idle_by_worker_[e.worker].unparks;
      break;
    case weft::EventKind::timer_fire: ++stats_.timers_fired; break;
    case weft::EventKind::lifo_push: ++stats_.lifo_pushes; break;
    case weft::EventKind::wake: ++stats_.wakes; break;
    case weft::EventKind::mark: ++stats_.marks[weft::mark_name(static_cast<weft::Mark>(e.a))]; break;
    default: break;
  }
}

void Recorder::track_steps(const weft::Event& e, std::uint64_t step) {
  switch (e.kind) {
    case weft::EventKind::spawn:
      if (spawn_step_.size() <= e.task) spawn_step_.resize(e.task + 1, kNever);
      spawn_step_[e.task] = step;
      break;
    case weft::EventKind::poll_end:
      if ((e.a == 1 || e.a == 2) && e.task != 0) {  // id 0: block_on roots, not runtime tasks
        ++completions_;
        if (done_step_.size() <= e.task) done_step_.resize(e.task + 1, kNever);
        done_step_[e.task] = step;
      }
      break;
    case weft::EventKind::dump_request: rounds_[e.a].request = step; break;
    case weft::EventKind::dump_arrive: rounds_[e.a].arrivals.push_back({e.worker, step}); break;
    case weft::EventKind::dump_leader:
      ++rounds_[e.a].leaders;
      rounds_[e.a].leader_step = step;
      break;
    case weft::EventKind::dump_done: rounds_[e.a].done = step; break;
    default: break;
  }
}

void Recorder::reset() {
  stats_ = RunStats{};
  events_.clear();
  event_fibers_.clear();
  fiber_names_.clear();
  std::fill(polls_by_worker_.begin(), polls_by_worker_.end(), 0);
  std::fill(idle_by_worker_.begin(), idle_by_worker_.end(), IdleTrace{});
  std::fill(queue_by_worker_.begin(), queue_by_worker_.end(), QueueTrace{});
  spawn_step_.clear();
  done_step_.clear();
  completions_ = 0;
  rounds_.clear();
  polling_.clear();
}

const Recorder::RoundTrace* Recorder::round(std::uint64_t round) const {
  auto it = rounds_.find(round);
  return it == rounds_.end() ? nullptr : &it->second;
}

}  // namespace weft::sim
