// Reproductions: replay, and the shrinking pipeline that makes them from a
// failing scenario run (the file format is repro_file.cpp's).
#include "weft/harness/repro.hpp"

#include <cstdlib>

namespace weft::sim {
namespace {

RunConfig replay_config(const Repro& r, bool keep_trace) {
  RunConfig cfg;
  cfg.seed = r.seed;
  cfg.strategy = StrategySpec::lenient(r.schedule);
  cfg.step_bound = r.step_bound;
  cfg.keep_trace = keep_trace;
  cfg.record_schedule = false;
  return cfg;
}

}  // namespace

RunReport replay_repro(const Repro& r, bool keep_trace, std::uint64_t memory_limit_bytes, bool teardown) {
  RunConfig cfg = replay_config(r, keep_trace);
  cfg.memory_limit_bytes = memory_limit_bytes;
  cfg.teardown = teardown;
  return run_scenario(r.scenario, cfg);
}

Repro repro_of(const Scenario& sc, const RunConfig& cfg, const RunReport& failing) {
  Repro r;
  r.scenario = sc;
  r.seed = failing.result.seed;
  r.strategy = cfg.strategy.for_seed(r.seed).label();  // the concrete strategy, never "mixed"
  r.step_bound = cfg.step_bound;
  r.outcome = failing.result.outcome;
  r.message = failing.result.message;
  r.signature = failure_signature(r.outcome, r.message);
  r.schedule = failing.result.schedule;
  r.schedule.seed = r.seed;
  r.before = ScheduleSize{failing.result.schedule.decisions.size(), count_switches(failing.result.schedule),
                          failing.result.preemptions, failing.result.steps, count_stale_reads(failing.result.schedule)};
  r.after = r.before;
  return r;
}

Repro shrink_failure(const Scenario& sc, const RunConfig& cfg, const RunReport& failing, const ShrinkOptions& options,
                     ShrinkResult* result) {
  Repro r = repro_of(sc, cfg, failing);
  auto run = [&r, &cfg](const Schedule& candidate) {
    Repro c = r;
    c.schedule = candidate;
    c.schedule.seed = r.seed;
    const RunReport rep = replay_repro(c, false, cfg.memory_limit_bytes, cfg.teardown);
    return Probe{failure_signature(rep.result.outcome, rep.result.message), rep.result.steps, rep.result.preemptions};
  };
  ShrinkResult s = shrink_schedule(r.schedule, r.before, run, options);
  if (s.reproduced) {
    r.schedule = s.schedule;
    r.schedule.seed = r.seed;
    r.after = s.after;
    // Keep the message of the shrunk run: it is what a replay prints.
    const RunReport rep = replay_repro(r, false, cfg.memory_limit_bytes, cfg.teardown);
    r.message = rep.result.message;
  }
  if (result) *result = std::move(s);
  return r;
}

std::string repro_dir(const std::string& fallback) {
  if (const char* d = std::getenv("WEFT_REPRO_DIR"); d != nullptr && *d != '\0') return d;
  return fallback;
}



}  // namespace weft::sim
