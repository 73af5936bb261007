// Schedule shrinking: given a failing run's schedule and a way to run a candidate
// schedule under lenient replay, find a smaller schedule that fails the same way.
//
// The size that matters to a reader is the number of explicit switches, not the
// run's length: a failure late in a long run may need the whole run but only a
// couple of switches in it. So the shrinker restates the run as switches placed
// by each fiber's own progress (Switch: when fiber f reaches its n-th decision,
// run g; everything else lenient replay's default, keep the current fiber) and
// minimises that list. A switch placed by the fiber's progress keeps its meaning
// when an earlier one is removed; a decision index would not (removing one switch
// shifts every later index onto another fiber's code).
//
// Passes:
//  1. Start: the default alone (no switch); if that does not fail, the run
//     restated as switches; if that does not reproduce it (a schedule already
//     holding defaults), its explicit decisions by index, pass 2 only.
//  2. ddmin (delta debugging): keep one chunk alone if it fails, else drop one
//     chunk if the rest fails, else split finer, down to single switches.
//  3. Move switches later: each moves k = 1, 2, 4, ... of its fiber's decisions
//     later, keeping the furthest move that fails.
//  4. Reads (c11 runs, whose memory draws choose the store a load reads): first
//     every memory draw reads the newest store (Schedule::reads_listed with no
//     read listed); if the failure needs stale reads, the original run's stale
//     ones, listed by place, shrunk by ddmin to those the failure needs.
// Passes 2 and 3 repeat while they improve, within the budget; pass 4 runs once,
// after them. A candidate is
// kept only if its failure signature (failure_signature) equals the original's:
// the same outcome and, for assertions and exceptions, the same message up to
// numbers.
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
  std::uint64_t decisions = 0;    // entries of the schedule (defaults included)
  std::uint64_t switches = 0;     // explicit switch points in it (count_switches)
  std::uint64_t preemptions = 0;  // preemptions of the run
  std::uint64_t steps = 0;        // decisions the run took
  // stale_reads: memory draws that read an older store than the newest or fail
  // a weak compare-exchange spuriously (recorded ones, or the listed reads of a
  // shrunk schedule; a shrunk schedule that lists none keeps its source's count)
  std::uint64_t stale_reads = 0;
};

struct ShrinkOptions {
  std::uint64_t max_runs = 4000;    // candidate runs, in all
  double max_seconds = 60.0;        // wall-clock budget (checked between runs)
  std::uint32_t max_rounds = 8;     // repetitions of passes 2 and 3
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

// count_switches counts the explicit switches of s: its fiber decisions that are
// not kLenientDefault and choose a fiber other than the previous fiber decision
// chose (a default before one counts as another choice). For a recorded schedule
// that is its context switches; for a shrunk one, the choices a reader must follow.
std::uint64_t count_switches(const Schedule& s);
// count_stale_reads counts the memory draws of s that read a stale store or fail
// spuriously: its listed reads if it lists them, else its recorded memory draws
// whose value picks the rarer branch (stale_draw).
std::uint64_t count_stale_reads(const Schedule& s);

// shrink_schedule minimises `failing` (the recorded schedule of a failing run
// whose size is `original`) against `run`, which runs a candidate under lenient
// replay and reports what happened. `run` must be deterministic.
ShrinkResult shrink_schedule(const Schedule& failing, const ScheduleSize& original,
                             const std::function<Probe(const Schedule&)>& run, const ShrinkOptions& options = {});

}  // namespace weft::sim
