// The outcome of a simulated run, with the stable exit codes tools report.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

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
  lost_parallelism = 12,    // stealable work waited while a worker slept and nobody searched (harness check)
  livelock = 13,            // no progress for Options::livelock_decisions decisions (simulator.hpp)
  resource_limit = 14,      // resident memory exceeded Options::memory_limit_bytes, or a thread overflowed its stack
  use_after_free = 15,      // an atomic or Cell in a task block the engine freed was touched (detail/retired.hpp)
};

// OutcomeInfo is one row of the table of outcomes: the outcome (its exit code),
// its stable name (traces, reproduction files, a scenario's "expect") and the one
// line that explains it (simrun --help).
struct OutcomeInfo {
  Outcome outcome;
  std::string_view name;
  std::string_view help;
};

// kOutcomes is the one table of outcomes, in exit-code order; outcome_name,
// outcome_from and simrun's list of exit codes read it.
inline constexpr std::array<OutcomeInfo, 13> kOutcomes{{
    {Outcome::pass, "pass", "every simulated thread finished (over many seeds: every run had the expected outcome)"},
    {Outcome::assertion, "assertion", "an engine assertion or a scenario invariant was violated"},
    {Outcome::deadlock, "deadlock", "every simulated thread blocked, nothing pending"},
    {Outcome::lost_wakeup, "lost_wakeup", "runnable work exists but every worker is parked and nothing will wake one"},
    {Outcome::step_bound_exceeded, "step_bound_exceeded", "more decisions than the step bound (livelock, unfair spin)"},
    {Outcome::nondeterminism, "nondeterminism", "a replay diverged, or two runs of one seed differed"},
    {Outcome::exception, "exception", "an exception escaped the engine"},
    {Outcome::stall, "stall",
     "every simulated thread blocked and time about to jump while the runtime sleeps on runnable work"},
    {Outcome::data_race, "data_race", "two accesses to one plain Cell with no happens-before, one a write"},
    {Outcome::lost_parallelism, "lost_parallelism",
     "stealable work waited too many polls of the workers holding it while a worker slept and none searched"},
    {Outcome::livelock, "livelock",
     "no progress (no poll returned, no task or thread started or ended, no virtual time passed) for the "
     "livelock_decisions bound; the message names each thread's cycle"},
    {Outcome::resource_limit, "resource_limit",
     "the run's resident memory exceeded its budget (or memory ran out), or a simulated thread overflowed its stack"},
    {Outcome::use_after_free, "use_after_free",
     "a simulated thread touched an atomic or plain cell in a task block the engine had freed"},
}};

static_assert(
    [] {
      for (std::size_t i = 1; i < kOutcomes.size(); ++i) {
        if (kOutcomes[i - 1].outcome >= kOutcomes[i].outcome) return false;
      }
      return true;
    }(),
    "kOutcomes lists each outcome once, in exit-code order");

// outcome_name returns the stable name of an outcome ("pass", "lost_wakeup", ...).
constexpr const char* outcome_name(Outcome o) noexcept {
  for (const OutcomeInfo& i : kOutcomes) {
    if (i.outcome == o) return i.name.data();
  }
  return "?";
}
// outcome_from returns the outcome a stable name names, if any.
constexpr std::optional<Outcome> outcome_from(std::string_view name) noexcept {
  for (const OutcomeInfo& i : kOutcomes) {
    if (i.name == name) return i.outcome;
  }
  return std::nullopt;
}

}  // namespace weft::sim
