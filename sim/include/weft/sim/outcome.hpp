// The outcome of a simulated run, with the stable exit codes tools report.
#pragma once

#include <cstdint>

namespace weft::sim {

// Outcome classifies how a run ended. The numeric values are stable exit codes
// (simrun returns them); codes 7 to 9 are left to tools (e.g. "expected failure
// not observed", "usage error"); outcomes added later take codes from 10.
enum class Outcome : std::uint8_t {
  pass = 0,                 // every fiber finished
  assertion = 1,            // assertion_failed (an engine invariant) or a misuse of the seam
  deadlock = 2,             // every live fiber blocked, no virtual timer pending
  lost_wakeup = 3,          // as deadlock, but the idle probe says runnable work exists
  step_bound_exceeded = 4,  // more decisions than Options::step_bound (livelock, unbounded spin)
  nondeterminism = 5,       // a replay diverged from its schedule
  exception = 6,            // an exception escaped a fiber's function
  stall = 10,               // every live fiber blocked, time about to jump, and the stall probe sees work
  data_race = 11,           // two accesses to one Cell with no happens-before, at least one a write
  livelock = 13,            // no progress for Options::livelock_decisions decisions (simulator.hpp)
  resource_limit = 14,      // the process's resident memory exceeded Options::memory_limit_bytes
};

// outcome_name returns the stable name of an outcome ("pass", "lost_wakeup", ...).
const char* outcome_name(Outcome o) noexcept;

}  // namespace weft::sim
