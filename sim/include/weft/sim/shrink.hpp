// Schedule shrinking: given a failing run's schedule and a way to run a candidate
// schedule under lenient replay, find a smaller schedule that fails the same way.
//
// Passes, repeated until none improves or the budget runs out:
//  1. Shorten: the shortest prefix of the schedule that still fails (binary search
//     over the length; past its end lenient replay takes its default).
//  2. Remove switches: ddmin over the switch points (fiber decisions that choose a
//     fiber other than the one chosen before), replacing chunks of them by
//     kLenientDefault (continue the current fiber), halving the chunk size.
//  3. Move switches later: a switch at i becomes "continue" at i and the same
//     choice at i + k (k = 1, 2, 4, ...), keeping the furthest move that fails.
// A candidate is kept only if its failure signature (failure_signature) equals the
// original's: the same outcome and, for assertions and exceptions, the same
// message up to numbers.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "weft/sim/outcome.hpp"
#include "weft/sim/schedule.hpp"

namespace weft::sim {

// failure_signature names a failure class: the outcome, plus for assertion and
// exception the message with every run of digits replaced by '#' (counts and
// fiber ids change as a schedule shrinks; the assertion text does not). Deadlock,
// lost wake-up and step-bound messages list fibers, so only the outcome counts.
std::string failure_signature(Outcome outcome, const std::string& message);

// Probe is what running one candidate schedule gave.
struct Probe {
  std::string signature;  // failure_signature of the run
  std::uint64_t steps = 0;
  std::uint64_t preemptions = 0;
};

// ScheduleSize measures a schedule and the run it gives.
struct ScheduleSize {
  std::uint64_t decisions = 0;    // entries of the schedule
  std::uint64_t switches = 0;     // explicit switch points in it (count_switches)
  std::uint64_t preemptions = 0;  // preemptions of the run
  std::uint64_t steps = 0;        // decisions the run took
};

struct ShrinkOptions {
  std::uint64_t max_runs = 4000;    // candidate runs, in all
  double max_seconds = 60.0;        // wall-clock budget (checked between runs)
  std::uint32_t max_rounds = 8;     // repetitions of passes 1 to 3
};

struct ShrinkResult {
  bool reproduced = false;  // lenient replay of the original schedule failed the same way
  std::string signature;    // the failure class kept throughout
  Schedule schedule;        // the smallest failing schedule found (replay it leniently)
  ScheduleSize before;
  ScheduleSize after;
  std::uint64_t runs = 0;   // candidate runs spent
  bool budget_exhausted = false;
};

// count_switches counts the fiber decisions of s that choose a fiber other than
// the last explicitly chosen one (kLenientDefault entries continue it).
std::uint64_t count_switches(const Schedule& s);

// shrink_schedule minimises `failing` (the recorded schedule of a failing run
// whose size is `original`) against `run`, which runs a candidate under lenient
// replay and reports what happened. `run` must be deterministic.
ShrinkResult shrink_schedule(const Schedule& failing, const ScheduleSize& original,
                             const std::function<Probe(const Schedule&)>& run, const ShrinkOptions& options = {});

}  // namespace weft::sim
