// Where tasks sit at the moment of an action (a shutdown, a dump, an abort), for
// the property that takes each action with tasks in every place
// (tests/property/places.hpp). Only reads, detached: it adds no decision, so a run
// observed has the same schedule and trace as one that is not.
#pragma once

#include <cstdint>
#include <vector>

#include "weft/harness/runner.hpp"
#include "weft/runtime.hpp"
#include "weft/sim/detail/heap.hpp"

namespace weft::sim {

struct ProgramState;
class Recorder;

// PlaceObserver reads, for one run, the engine's queues (RuntimeCore::place_tasks),
// the tasks inside a poll (the recorder's poll events) and what each program
// awaits (ProgramState::at), and keeps one PlaceSample per action.
class PlaceObserver {
 public:
  explicit PlaceObserver(const Recorder& rec) : rec_(rec) {}
  // attach names the run's runtime and program state (null, null once they are gone).
  void attach(const weft::detail::RuntimeCore* core, const ProgramState* st) {
    core_ = core;
    st_ = st;
  }
  // reset forgets the samples, should the simulation run twice.
  void reset() { samples_.clear(); }

  // sample returns the places (place_bit) holding a task now; `only` (not null)
  // restricts it to those task ids: an abort's children. A task is in the first
  // of: inside a poll (running); in an engine queue (place_tasks); awaiting a
  // sleep, a channel, a Notify or a channel's receive lock (the program's await
  // record). A program awaiting a blocking-pool job counts as blocking_queue
  // while that job (its await record names the job's task id) is still queued.
  std::uint32_t sample(const std::vector<std::uint64_t>* only) const;
  // note keeps a sample of `action`; none in a failed run's teardown, whose
  // report is final (sim::tearing_down).
  void note(Action action, std::uint32_t places) {
    if (tearing_down()) return;
    detail::Uncounted uncounted;  // the harness's (weft/sim/detail/heap.hpp, Step H2)
    samples_.push_back(PlaceSample{action, places});
  }
  std::vector<PlaceSample> take_samples() { return std::move(samples_); }

 private:
  std::uint32_t read(const std::vector<std::uint64_t>* only) const;

  const Recorder& rec_;
  const weft::detail::RuntimeCore* core_ = nullptr;
  const ProgramState* st_ = nullptr;
  std::vector<PlaceSample> samples_;
};

}  // namespace weft::sim
