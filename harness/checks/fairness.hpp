// The fairness check: a task placed on a worker is polled within a bound of
// polls of other tasks by that worker. One implementation, fed event by event:
// online by the recorder on every run (check "fairness"), and over a kept trace
// by check_fairness (the property tests and the bug zoo).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "weft/events.hpp"
#include "weft/harness/runner.hpp"
#include "weft/harness/scenario.hpp"

namespace weft::sim {

// fairness_bound is the number of polls of other tasks a worker may make between
// placing a task (in its LIFO slot or local queue) and polling it; the derivation
// is at the top of fairness.cpp. Returns 0 when the configuration admits no bound
// (global_queue_interval or event_interval below 3) and for a current-thread runtime.
std::uint64_t fairness_bound(const RuntimeSpec& rt);

// FairnessCheck is what the check saw: windows checked and censored, the largest
// count of other polls in a checked window, the bound, and the first violation
// ("" if none).
struct FairnessCheck {
  std::uint64_t windows = 0, censored = 0, worst = 0, bound = 0;
  std::string violation;
};

// FairnessMonitor checks every placement-to-poll window against a bound, one
// event at a time, in O(1) per event. Windows in which the task may have left its
// worker (a steal from it, an overflow on it, shutdown) are censored (not checked).
class FairnessMonitor {
 public:
  // FairnessMonitor(bound): bound 0 checks nothing.
  explicit FairnessMonitor(std::uint64_t bound) { result_.bound = bound; }

  // on_event takes the next event of the run (fields as weft::Event's); returns
  // true when this event is the first violation (result().violation says which).
  bool on_event(weft::EventKind kind, std::int32_t worker, std::uint64_t task, std::uint64_t b);
  const FairnessCheck& result() const noexcept { return result_; }

 private:
  struct Window {
    bool open = false;
    std::int32_t worker = -1;
    std::uint64_t polls_at_open = 0;    // the worker's polls when the task was placed
    std::uint64_t censor_at_open = 0;   // the worker's censor count then
    std::uint64_t global_at_open = 0;   // shutdowns then
    std::uint64_t from_event = 0;
  };
  std::uint64_t& polls(std::int32_t w);
  std::uint64_t& censors(std::int32_t w);

  FairnessCheck result_;
  std::uint64_t events_ = 0;
  std::uint64_t shutdowns_ = 0;
  std::vector<Window> windows_;        // by task id
  std::vector<std::uint64_t> polls_;   // by worker: poll_start events
  std::vector<std::uint64_t> censors_; // by worker: steals from it and overflows on it
};

// check_fairness checks every placement-to-poll window of a kept trace against
// fairness_bound(rt) with a FairnessMonitor. A current-thread run, or one whose
// configuration admits no bound, checks nothing (bound 0).
FairnessCheck check_fairness(const RunReport& r, const RuntimeSpec& rt);

}  // namespace weft::sim
