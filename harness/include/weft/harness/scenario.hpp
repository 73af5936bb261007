// Scenarios: what a simulated run builds, runs, injects and checks, loaded from
// JSON and validated field by field (schema: scenarios/README.md).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace weft::sim {

// ScenarioError is a validation failure: the file, the JSON path and what was expected.
struct ScenarioError {
  std::string file;
  std::string path;      // e.g. "$.runtime.workers"
  std::string expected;  // e.g. "an integer from 1 to 64, got 1000000"
  // message renders the one line simrun prints.
  std::string message() const { return file + ": " + path + ": expected " + expected; }
};

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

struct RuntimeSpec {
  bool multi_thread = true;
  std::uint32_t workers = 4;
  std::uint32_t local_queue_capacity = 256;
  std::uint32_t global_queue_interval = 0;  // 0: the flavor's default
  std::uint32_t event_interval = 61;
  bool lifo = true;
  std::uint32_t max_lifo_polls = 3;
  std::uint32_t budget = 128;
  std::uint64_t dump_timeout_ns = 250'000'000;
};

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
  std::string strategy = "random";  // "random", "pct" or "hold"
  std::uint32_t pct_depth = 3;
  std::uint64_t step_bound = 2'000'000;
  std::uint32_t test_seeds = 5;  // seeds a scenario test runs by default
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

// kCoverageMarks lists the mark names a scenario's coverage may name (weft::Mark).
inline constexpr const char* kCoverageMarks[] = {"overflow",     "steal_half",           "lifo_cap",
                                                 "budget_exhausted", "inject_batch", "last_searcher_notify",
                                                 "spurious_wake", "timer_driver_handoff", "dump_timeout",
                                                 "dump_partial", "dump_late_arrival"};

// load_scenario reads and validates a scenario file.
std::optional<Scenario> load_scenario(const std::string& path, ScenarioError& error);
// parse_scenario validates scenario text; `file` names it in errors.
std::optional<Scenario> parse_scenario(const std::string& text, const std::string& file, ScenarioError& error);
// scenario_to_json renders a scenario as scenario-file JSON that parse_scenario
// reads back to the same scenario (file, text_hash aside). Used to make
// self-contained reproductions of generated scenarios.
std::string scenario_to_json(const Scenario& sc);

}  // namespace weft::sim
