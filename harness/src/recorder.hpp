// The harness's event recorder: counts every engine event of a simulated run,
// keeps the trace when asked, and keeps what the invariants compare the engine's
// own reports against (per-worker polls, parks, steals and overflows; each task's
// spawn and completion step; each dump round's arrivals and leader).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "checks/budget.hpp"
#include "checks/fairness.hpp"
#include "checks/parallelism.hpp"
#include "weft/events.hpp"
#include "weft/harness/runner.hpp"

namespace weft::sim {

// Recorder is the engine's EventSink for one simulated run; its record() runs on
// the fiber that emits, so it reads the kernel's clock and step count directly
// (neither is a decision point).
class Recorder final : public weft::EventSink {
 public:
  // kNever is the step of something that did not happen.
  static constexpr std::uint64_t kNever = ~0ull;

  // IdleTrace is one worker's parks as the trace shows them.
  struct IdleTrace {
    std::uint64_t parks = 0, unparks = 0, noops = 0;
    bool polled_since_park = false;
  };
  // QueueTrace is one worker's steals (as the thief) and overflows (as the owner).
  struct QueueTrace {
    std::uint64_t steals = 0, steal_ops = 0, overflows = 0;
  };
  // RoundTrace is one dump round: when it was requested, led and published.
  struct RoundTrace {
    std::uint64_t request = kNever, leader_step = kNever, done = kNever;
    std::uint32_t leaders = 0;
    std::vector<std::pair<std::int32_t, std::uint64_t>> arrivals;  // worker, step
  };

  // Recorder(keep, workers) keeps every event only if `keep`; `workers` sizes the
  // per-worker counts.
  Recorder(bool keep, std::uint32_t workers);

  // record counts one event (the EventSink hook).
  void record(const weft::Event& e) override;
  // reset forgets everything recorded so far.
  void reset();
  // watch feeds every later event to the online checks (null: that check is off);
  // a fairness violation ends the run at the event that shows it.
  // A lost-parallelism violation ends the run as lost_parallelism.
  void watch(FairnessMonitor* fairness, BudgetMonitor* budget, ParallelismMonitor* parallelism) {
    fairness_ = fairness;
    budget_ = budget;
    parallelism_ = parallelism;
  }

  // stats returns the counts of the events recorded.
  const RunStats& stats() const noexcept { return stats_; }
  // take_events hands over the kept trace.
  std::vector<TraceEvent> take_events() { return std::move(events_); }
  // take_event_fibers hands over, with the kept trace, the simulated thread that
  // emitted each event and the names of those threads (what tells outside threads apart).
  std::vector<std::uint32_t> take_event_fibers() { return std::move(event_fibers_); }
  std::map<std::uint32_t, std::string> take_fiber_names() { return std::move(fiber_names_); }

  // workers returns how many workers the per-worker counts cover.
  std::uint32_t workers() const noexcept { return static_cast<std::uint32_t>(polls_by_worker_.size()); }
  // polls_of, idle_of and queue_of return worker w's counts (w < workers()).
  std::uint64_t polls_of(std::uint32_t w) const { return polls_by_worker_.at(w); }
  const IdleTrace& idle_of(std::uint32_t w) const { return idle_by_worker_.at(w); }
  const QueueTrace& queue_of(std::uint32_t w) const { return queue_by_worker_.at(w); }

  // track_polling keeps, from now on, the ids of the tasks inside a poll (polling).
  void track_polling() { track_polling_ = true; }
  // polling returns the tasks between their poll_start and poll_end (with track_polling).
  const std::vector<std::uint64_t>& polling() const noexcept { return polling_; }

  // completions returns how many runtime tasks completed or were cancelled.
  std::uint64_t completions() const noexcept { return completions_; }
  // task_ids_end is one past the largest task id spawned.
  std::uint64_t task_ids_end() const noexcept { return spawn_step_.size(); }
  // spawn_step and done_step return when task `id` was spawned and completed (kNever: not).
  std::uint64_t spawn_step(std::uint64_t id) const { return id < spawn_step_.size() ? spawn_step_[id] : kNever; }
  std::uint64_t done_step(std::uint64_t id) const { return id < done_step_.size() ? done_step_[id] : kNever; }
  // round returns dump round `round` as the trace shows it, or nullptr if it left none.
  const RoundTrace* round(std::uint64_t round) const;

 private:
  void count(const weft::Event& e);
  void track_poll(const weft::Event& e);
  void track_steps(const weft::Event& e, std::uint64_t step);

  bool keep_;
  FairnessMonitor* fairness_ = nullptr;
  BudgetMonitor* budget_ = nullptr;
  ParallelismMonitor* parallelism_ = nullptr;
  RunStats stats_;
  std::vector<TraceEvent> events_;
  std::vector<std::uint32_t> event_fibers_;
  std::map<std::uint32_t, std::string> fiber_names_;
  std::vector<std::uint64_t> polls_by_worker_;
  std::vector<IdleTrace> idle_by_worker_;
  std::vector<QueueTrace> queue_by_worker_;
  std::vector<std::uint64_t> spawn_step_, done_step_;
  std::uint64_t completions_ = 0;
  std::map<std::uint64_t, RoundTrace> rounds_;
  bool track_polling_ = false;
  std::vector<std::uint64_t> polling_;
};

}  // namespace weft::sim
