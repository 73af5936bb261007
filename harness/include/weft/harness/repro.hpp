// Reproductions: one self-contained JSON file per failure, holding the scenario,
// the seed, the failure and the minimal schedule that replays it (leniently), so
// that `simrun repro FILE` and tests/regressions/ replay it without other files.
//
// {"format": "weft-repro", "version": 1, "seed": 42, "strategy": "random",
//  "step_bound": 2000000, "scenario": {...scenario file...},
//  "failure": {"outcome": "assertion", "message": "...", "signature": "..."},
//  "sizes": {"before": {"decisions", "switches", "preemptions", "steps"}, "after": {...}},
//  "schedule": {...weft-schedule, replayed with StrategySpec::lenient...}}
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "weft/harness/runner.hpp"
#include "weft/harness/scenario.hpp"
#include "weft/sim/shrink.hpp"

namespace weft::sim {

// Repro is a failure ready to be saved and replayed.
struct Repro {
  Scenario scenario;
  std::uint64_t seed = 0;
  std::string strategy;         // the strategy that found it (informational)
  std::uint64_t step_bound = 0;  // 0: the scenario's
  Outcome outcome = Outcome::pass;
  std::string message;
  std::string signature;  // failure_signature(outcome, message)
  ScheduleSize before;
  ScheduleSize after;
  Schedule schedule;  // replayed with StrategySpec::lenient
};

// replay_model returns the memory model schedule `s` was recorded under ("sc"
// for a schedule that names none) and, when scenario `sc` names no model
// (Scenario::memory_model_given), makes it the scenario's: files written while
// sc was the default replay as recorded. The caller refuses a mismatch.
std::string replay_model(Scenario& sc, const Schedule& s);

// repro_to_json renders a reproduction file.
std::string repro_to_json(const Repro& r);
// parse_repro reads text written by repro_to_json; on error sets `error`.
std::optional<Repro> parse_repro(const std::string& text, const std::string& file, std::string& error);
// load_repro reads a reproduction file.
std::optional<Repro> load_repro(const std::string& path, std::string& error);
// save_repro writes a reproduction file (creating its folder).
bool save_repro(const std::string& path, const Repro& r, std::string& error);

// replay_repro runs the reproduction's schedule under lenient replay, within a
// memory budget if `memory_limit_bytes` is not 0 (RunConfig::memory_limit_bytes),
// tearing a failed replay down unless `teardown` is false (RunConfig::teardown).
RunReport replay_repro(const Repro& r, bool keep_trace = false, std::uint64_t memory_limit_bytes = 0,
                       bool teardown = true);

// shrink_failure minimises the failing run `failing` (of `sc` under `cfg`, which
// must have recorded its schedule) and returns the reproduction of the smallest
// schedule found; `result`, if given, receives the shrinker's report.
Repro shrink_failure(const Scenario& sc, const RunConfig& cfg, const RunReport& failing,
                     const ShrinkOptions& options = {}, ShrinkResult* result = nullptr);

// repro_without_shrinking packages a failing run as is (its full schedule).
Repro repro_of(const Scenario& sc, const RunConfig& cfg, const RunReport& failing);

// repro_dir is where tests write the reproductions of the failures they find:
// $WEFT_REPRO_DIR if set, else `fallback` (tests pass build/<preset>/repros).
std::string repro_dir(const std::string& fallback);

// repro_command is the one line that replays a saved reproduction.
std::string repro_command(const std::string& path);

}  // namespace weft::sim
