// The scenario invariants ("checks" in a scenario file), checked at the end of a
// simulated run against what the harness recorded: exactly_once, no_leak,
// dump_consistent, metrics_match_trace, counters_exact (scenarios/README.md).
// A broken invariant ends the run as an assertion failure, like an engine assertion.
#pragma once

#include <string>

#include "weft/harness/scenario.hpp"
#include "weft/runtime.hpp"

namespace weft::sim {

class Recorder;
struct ProgramState;

// invariant_failed ends the run as an assertion with "invariant <what>" (what
// starts with the check's name), like an engine assertion.
[[noreturn]] void invariant_failed(const std::string& what);

// check_invariants checks the scenario's checks after the runtime has shut down;
// called on the run's main fiber (it reads the runtime's metrics through `h`).
void check_invariants(const Scenario& sc, ProgramState& st, weft::Handle& h, const Recorder& rec);

}  // namespace weft::sim
