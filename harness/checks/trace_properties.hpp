// Properties checked on a run's event trace (RunReport::events, so the run needs
// RunConfig::keep_trace): the fairness bound (checks/fairness.hpp, also checked
// online on every run), the dump hold and the queue model.
// The property tests (tests/property) and the bug zoo (tools/bugzoo) use them.
#pragma once

#include <cstdint>
#include <string>

#include "checks/fairness.hpp"  // fairness_bound, check_fairness
#include "weft/harness/runner.hpp"
#include "weft/harness/scenario.hpp"

namespace weft::sim {

// check_dump_hold checks that between a round's dump_leader and dump_done no
// worker that arrived at the round polls a task (the leader reads the queues of
// held workers). Returns "" if it holds, else the first violation.
std::string check_dump_hold(const RunReport& r);

// queue_model_applies says whether check_queue_model applies to a scenario: one
// worker, and nothing that takes a task out of a queue without polling it
// (aborts, shutdown at a moment, the blocking pool, dumps).
bool queue_model_applies(const Scenario& sc);

// check_queue_model replays worker 0's queue events on a model of the LIFO slot,
// the local queue and the injection queue, and checks that every poll takes the
// task the design says comes next (the local queue is FIFO, overflow moves the
// newest half, batches come from the head of the injection queue). "" if it holds.
std::string check_queue_model(const RunReport& r, const RuntimeSpec& rt);

// PropertyViolation names the trace property a run breaks and how ("" if none).
struct PropertyViolation {
  std::string property;  // "fairness", "queue_model" or "dump_hold"
  std::string message;
};

// check_trace_properties checks fairness (unless the scenario's "fairness" check
// already did, online, or `fairness` is false), the queue model (where it
// applies) and the dump hold, in that order, and returns the first violation.
PropertyViolation check_trace_properties(const Scenario& sc, const RunReport& r, bool fairness = true);

}  // namespace weft::sim
