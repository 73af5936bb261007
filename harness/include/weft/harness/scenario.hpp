// Scenarios: what a simulated run builds, runs, injects and checks, loaded from
// JSON and validated field by field (schema: scenarios/README.md).
#pragma once

#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "weft/config.hpp"
#include "weft/events.hpp"
#include "weft/sim/json_input.hpp"
#include "weft/sim/simulator.hpp"

namespace weft::sim {

// ScenarioError is a validation failure: the file, the JSON path and what was
// expected (the one error type of every input file, weft/sim/json_input.hpp).
using ScenarioError = InputError;

// kScenarioBytesMax caps a scenario file, checked before it is read.
inline constexpr std::size_t kScenarioBytesMax = 4 * 1024 * 1024;

// Step is one instruction of a task program.
struct Step {
  enum class Kind : std::uint8_t {
    spawn,           // spawn `count` tasks running program `name`
    join,            // await every joinable child spawned so far
    abort_children,  // abort every joinable child spawned so far
    yield,           // yield_now `count` times
    work,            // virtual work of `ns` on the current worker (a long poll)
    sleep,           // sleep_for `ns` on the runtime timer
    send,            // send `count` values on channel `name`
    recv,            // receive `count` values from channel `name`
    notify,          // notify_one on Notify `name`
    notified,        // await Notify `name`
    repeat,          // run `body` `count` times
    racy_increment,  // a deliberate lost-update race on counter `name` (canary)
    throw_error,     // throw an exception out of the task
    blocking,        // spawn_blocking work of `ns`, awaited
    dump,            // co_await the runtime's dump() from this task
    ask,             // spawn `count` detached tasks running `name`, each answering on a oneshot; await the replies
  };
  Kind kind = Kind::yield;
  std::string name;
  std::uint64_t count = 1;
  std::uint64_t ns = 0;
  bool detach = false;
  std::vector<Step> body;
};

struct Program {
  std::string name;
  std::vector<Step> steps;
};

struct OutsideThread {
  std::string program;
  std::uint32_t threads = 1;
  std::uint64_t count = 1;
  std::uint64_t interval_ns = 0;
  std::optional<std::uint64_t> die_after;  // fault: the thread stops after this many spawns
};

// Dumper is an outside thread that takes dumps with dump_blocking.
struct Dumper {
  std::uint32_t threads = 1;
  std::uint64_t at_ns = 0;        // first dump
  std::uint64_t count = 1;        // dumps per thread
  std::uint64_t interval_ns = 0;  // between dumps
  bool until_shutdown = false;    // keep dumping until the runtime refuses (shutdown)
};

struct Stall {
  std::uint64_t at_ns = 0;
  std::uint64_t duration_ns = 0;
};

// scenario_config is the Config a scenario starts from: the engine's defaults but
// for 4 workers, a small blocking pool that lets its threads go after a virtual
// second, and no report of the exceptions scenarios throw on purpose.
inline weft::Config scenario_config() {
  weft::Config c;
  c.worker_threads = 4;
  c.max_blocking_threads = 4;
  c.blocking_keep_alive_ns = 1'000'000'000ull;
  c.unhandled_exception = [](std::exception_ptr) {};
  return c;
}

// RuntimeSpec is the runtime a scenario builds: the engine's Config as the file
// sets it (a 0 still means "the default"), from scenario_config().
struct RuntimeSpec {
  weft::Config config = scenario_config();
  bool multi_thread() const noexcept { return config.flavor == weft::Flavor::multi_thread; }
  // resolved is what the runtime runs with (weft::resolve): the trace header and
  // the trace properties read it.
  weft::Config resolved() const { return weft::resolve(config); }
};

// kLivelockDecisionsDefault is the livelock oracle's count unless a scenario sets
// one: 13 times the longest stretch without progress measured in correct runs
// (3,821 decisions: steal_storm's join of 1,000 children, one poll; every shipped
// scenario, seeds 0..199, random, pct:1..3 and hold; reports/livelock-quiet-stretches.json).
inline constexpr std::uint64_t kLivelockDecisionsDefault = 50'000;

// Scenario is a validated scenario file.
struct Scenario {
  std::string file;
  std::string name;
  std::string description;
  std::string text_hash;  // FNV-1a of the file's bytes, hex
  RuntimeSpec runtime;
  std::map<std::string, Program> programs;
  std::map<std::string, std::uint64_t> channels;  // name -> capacity
  std::string main;
  std::vector<OutsideThread> outside;
  std::vector<Stall> stalls;
  std::vector<Dumper> dumpers;
  std::uint32_t spurious_wakeup_per_mille = 0;
  // "mixed" (the default exploration: random, pct:1, pct:2, pct:3 and hold by
  // seed, sim::kMixedCycle), or one pinned: "random", "pct" (at pct_depth) or "hold".
  std::string strategy = "mixed";
  std::string strategy_why;  // $.exploration.why: why the scenario pins a strategy (for people)
  std::uint32_t pct_depth = 3;
  std::uint64_t step_bound = 2'000'000;
  // The livelock oracle's count: decisions without progress before `livelock`
  // (simulator.hpp, Options::livelock_decisions); 0 turns it off.
  std::uint64_t livelock_decisions = kLivelockDecisionsDefault;
  std::uint32_t test_seeds = 5;  // seeds a scenario test runs by default
  // The simulator's memory model ("sc" or "c11", simulator.hpp model point 1) and
  // the c11 model's stores kept per atomic. memory_model_given: the scenario
  // names its model ($.exploration.memory_model); when it does not, a replay
  // takes the model its schedule was recorded under (schedules and reproductions
  // written before c11 became the default were recorded under sc).
  std::string memory_model = "c11";
  bool memory_model_given = false;
  std::uint32_t history_depth = sim::kHistoryDepthDefault;
  std::vector<std::string> checks;
  // coverage names the marks (rare paths) the scenario exists to reach; its test
  // fails if its seeds never reach one of them.
  std::vector<std::string> coverage;
  std::string expect = "pass";  // "pass" or an outcome name
  // shutdown_at_ns: the main program is spawned as a task and the runtime shut
  // down at this virtual time, whatever is still running (then the outside
  // threads are joined). Unset: the main program runs under block_on to its end.
  std::optional<std::uint64_t> shutdown_at_ns;
};

// kCoverageMarks lists the mark names a scenario's coverage may name: the engine's
// (weft/events.hpp).
inline constexpr const auto& kCoverageMarks = weft::kMarkNames;

// default_checks is the check set of a scenario file without `checks`: every
// check but counters_exact (scenarios/README.md, "Checks").
inline std::vector<std::string> default_checks() {
  return {"exactly_once", "no_leak", "metrics_match_trace", "dump_consistent", "stall", "fairness", "budget", "lost_parallelism"};
}

// load_scenario reads and validates a scenario file.
std::optional<Scenario> load_scenario(const std::string& path, ScenarioError& error);
// parse_scenario validates scenario text; `file` names it in errors.
std::optional<Scenario> parse_scenario(const std::string& text, const std::string& file, ScenarioError& error);
// scenario_to_json renders a scenario as scenario-file JSON that parse_scenario
// reads back to the same scenario (file, text_hash aside). Used to make
// self-contained reproductions of generated scenarios.
std::string scenario_to_json(const Scenario& sc);

}  // namespace weft::sim
