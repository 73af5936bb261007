// weft::testing: explore a body of concurrent code over many seeded schedules on
// the simulator, stop at the first failure, shrink it, and say how to replay it.
//
// Usage (link weft::sim):
//   weft::testing::Options opts;
//   opts.name = "counter";
//   weft::testing::Result r = weft::testing::explore(opts, [] {
//     weft::sync::atomic<int> n{0};               // state is built inside the body
//     weft::thread t([&] { n.fetch_add(1); });
//     n.fetch_add(1);
//     t.join();
//     WEFT_CHECK(n.load() == 2);
//   });
//   if (!r.passed()) std::puts(r.report().c_str());
//
// The body runs once per seed as the simulation's main fiber. Build the state under
// test inside it: each run must start from the same state (a run that found what
// the previous one left would not replay), and the facade's types throw
// UsageError when used outside a run. A run fails when a WEFT_CHECK (or an engine assertion) fails, an
// exception escapes a fiber, every fiber blocks (deadlock), or it makes more than
// Options::step_bound decisions (livelock, an unbounded spin).
//
// Environment variables change an exploration without recompiling (read by
// explore() unless Options::read_env is false; a bad value throws UsageError):
//   WEFT_SEEDS=A..B    the seeds A to B inclusive (WEFT_SEEDS=N: seed N alone)
//   WEFT_STRATEGY=S    random, pct:D (PCT of depth D) or hold
//   WEFT_REPLAY=FILE   replay the schedule file a failure wrote, once, instead
//   WEFT_TIME_BOUND=S  the time bound in seconds (a positive number), or "none"
//   WEFT_ARTIFACT_DIR  where failures' schedule files go (default ./weft-failures)
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>

#include "weft/sim/shrink.hpp"
#include "weft/sim/simulator.hpp"
#include "weft/testing/usage_error.hpp"

namespace weft::testing {

// kDefaultSeeds is how many seeds an exploration runs unless told otherwise.
inline constexpr std::uint64_t kDefaultSeeds = 300;
// kDefaultStepBound is the decisions one run may make (a run of a unit test is short).
inline constexpr std::uint64_t kDefaultStepBound = 100'000;

// Options configure one exploration.
struct Options {
  // name names the files a failure writes (<name>-seed<N>.schedule.json).
  std::string name = "explore";
  std::uint64_t first_seed = 0;
  std::uint64_t seeds = kDefaultSeeds;
  // strategy: random by default (a seeded random walk); pct(D) and hold() as in
  // weft/sim/simulator.hpp. PCT without a step count first runs the seed under the
  // random walk to estimate it; a failure of that run is reported, not dropped.
  sim::StrategySpec strategy = sim::StrategySpec::random();
  std::uint64_t step_bound = kDefaultStepBound;
  // time_bound_seconds stops starting new seeds after this much wall-clock time
  // (never cuts a run); the result says how many seeds ran. Infinity: no bound.
  double time_bound_seconds = 120;
  std::size_t stack_size = sim::kStackSizeDefault;  // bytes per simulated thread
  std::uint32_t spurious_wakeup_per_mille = 0;      // inject spurious wake-ups
  // memory_model: c11 (the default: a load may return an older store the C++
  // memory model allows; weft/sim/simulator.hpp, "Model") or sc (every atomic
  // sequentially consistent); WEFT_MEMORY_MODEL=sc|c11 overrides it.
  // history_depth bounds the older stores a c11 load may return.
  sim::MemoryModel memory_model = sim::MemoryModel::c11;
  std::uint32_t history_depth = sim::kHistoryDepthDefault;
  // teardown: after a failed run, unwind the other threads so their destructors
  // run and their memory comes back (sim::Options::teardown; on by default, see
  // docs/teardown.md). Off, a failed run's threads keep what they hold.
  bool teardown = true;
  bool shrink = true;
  double shrink_seconds = 30;
  // artifact_dir: where failures are written; empty means $WEFT_ARTIFACT_DIR, else
  // "weft-failures" under the working directory.
  std::string artifact_dir;
  // replay_command is the command the replay line runs (WEFT_REPLAY=FILE is put in
  // front); empty means this program. WEFT_SIM_TEST adds its --gtest_filter.
  std::string replay_command;
  bool read_env = true;
};

// Result is what an exploration found.
struct Result {
  sim::Outcome outcome = sim::Outcome::pass;  // pass, or the first failure's class
  std::string message;         // the failure: the fiber's assertion, the blocked fibers...
  std::uint64_t seed = 0;      // the failing seed
  std::string strategy;        // the strategy label that ran ("random", "pct:3", "replay")
  std::uint64_t seeds_run = 0;
  bool time_bound_hit = false;  // stopped before the last seed (no failure found)
  bool replayed = false;        // WEFT_REPLAY ran instead of an exploration
  std::string schedule_path;    // the schedule file written for the failure
  // trace_path: the failing run's trace (Trace Event JSON: a lane per thread, a
  // slice per decision; open it in ui.perfetto.dev), written beside the schedule;
  // empty when it could not be, and trace_error says why.
  std::string trace_path;
  std::string trace_error;
  std::string replay;           // the one line that replays it
  std::uint64_t steps = 0;      // decisions of the failing run
  std::uint64_t switches_before = 0;  // context switches of the failing run
  std::uint64_t switches_after = 0;   // explicit switches of the written schedule
  bool shrunk = false;          // the schedule written is a shrunk one

  bool passed() const noexcept { return outcome == sim::Outcome::pass; }
  // report renders the result for a person: one line when it passed; when it
  // failed, the outcome, the message, the seed, the files and the replay line.
  std::string report() const;
};

// apply_env applies WEFT_SEEDS, WEFT_STRATEGY, WEFT_TIME_BOUND, WEFT_REPLAY and WEFT_ARTIFACT_DIR
// to `options` (explore() calls it unless read_env is false). Returns the replay
// file named by WEFT_REPLAY, or "". Throws UsageError naming the variable, its
// value and what was expected.
std::string apply_env(Options& options);

// parse_seeds reads "A..B" or "N" into a first seed and a count; throws UsageError.
void parse_seeds(const std::string& text, std::uint64_t& first, std::uint64_t& count);
// parse_time_bound reads a positive number of seconds or "none" (infinity); throws UsageError.
double parse_time_bound(const std::string& text);
// parse_strategy reads "random", "pct:D" or "hold"; throws UsageError.
sim::StrategySpec parse_strategy(const std::string& text);

// this_program returns the path of the running executable (for replay lines).
std::string this_program();

// explore runs `body` under options.seeds seeds and returns at the first failure,
// after shrinking it and writing its schedule file. Deterministic: the same body,
// options and environment give the same result.
Result explore(Options options, const std::function<void()>& body);

// explore_in explores `body(state)` with a fresh `State` per run: the state is
// default-constructed inside the run, before the body, and destroyed at the
// run's end (or by the teardown of a failed run), so the state under test is
// declared once as a class, not rebuilt by hand at the top of every body.
//
//   struct Account { weft::sync::mutex m; int balance = 100; };
//   explore_in<Account>(opts, [](Account& a) { ... });
template <class State, class Body>
Result explore_in(Options options, Body body) {
  return explore(std::move(options), [&body] {
    State state{};
    body(state);
  });
}

// replay runs `body` once under the schedule saved in `path` (strictly when it is a
// full recorded schedule, leniently when it is a shrunk one) and reports as explore.
Result replay(const Options& options, const std::string& path, const std::function<void()>& body);

}  // namespace weft::testing
