// Properties checked on a run's event trace (RunReport::events, so the run needs
// RunConfig::keep_trace): the fairness bound and the dump hold. The property
// tests (tests/property) and the bug zoo (tools/bugzoo) both use them.
#pragma once

#include <cstdint>
#include <string>

#include "weft/harness/runner.hpp"
#include "weft/harness/scenario.hpp"

namespace weft::sim {

// fairness_bound is the number of polls of other tasks a worker may make between
// placing a task (in its LIFO slot or local queue) and polling it; the derivation
// is at the top of trace_properties.cpp. Returns 0 when the configuration admits
// no bound (global_queue_interval or event_interval below 3).
std::uint64_t fairness_bound(const RuntimeSpec& rt);

// FairnessCheck is what check_fairness saw: windows checked and censored, the
// largest count of other polls in a checked window, the bound, and the first
// violation ("" if none).
struct FairnessCheck {
  std::uint64_t windows = 0, censored = 0, worst = 0, bound = 0;
  std::string violation;
};

// check_fairness checks every placement-to-poll window of a multi-thread run
// against fairness_bound(rt). Windows in which the task may have left its worker
// (a steal from it, an overflow on it, shutdown) are censored. A current-thread
// run, or one whose configuration admits no bound, checks nothing (bound 0).
FairnessCheck check_fairness(const RunReport& r, const RuntimeSpec& rt);

// check_dump_hold checks that between a round's dump_leader and dump_done no
// worker that arrived at the round polls a task (the leader reads the queues of
// held workers). Returns "" if it holds, else the first violation.
std::string check_dump_hold(const RunReport& r);

}  // namespace weft::sim
