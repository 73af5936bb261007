// Reproduction files: save, load, replay, and the shrinking pipeline that makes
// them from a failing scenario run.
#include "weft/harness/repro.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace weft::sim {
namespace {

using ojson = nlohmann::ordered_json;

constexpr const char* kFormat = "weft-repro";
constexpr int kVersion = 1;

ojson size_json(const ScheduleSize& s) {
  return {{"decisions", s.decisions}, {"switches", s.switches}, {"preemptions", s.preemptions}, {"steps", s.steps}};
}

ScheduleSize size_from(const nlohmann::json& j) {
  ScheduleSize s;
  if (!j.is_object()) return s;
  s.decisions = j.value("decisions", std::uint64_t{0});
  s.switches = j.value("switches", std::uint64_t{0});
  s.preemptions = j.value("preemptions", std::uint64_t{0});
  s.steps = j.value("steps", std::uint64_t{0});
  return s;
}

std::optional<Outcome> outcome_from(const std::string& name) {
  for (int i = 0; i <= static_cast<int>(Outcome::exception); ++i) {
    if (name == outcome_name(static_cast<Outcome>(i))) return static_cast<Outcome>(i);
  }
  if (name == outcome_name(Outcome::stall)) return Outcome::stall;
  return std::nullopt;
}

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

std::string repro_to_json(const Repro& r) {
  ojson j;
  j["format"] = kFormat;
  j["version"] = kVersion;
  j["seed"] = r.seed;
  j["strategy"] = r.strategy;
  j["step_bound"] = r.step_bound;
  j["replay"] = "lenient";
  j["scenario"] = ojson::parse(scenario_to_json(r.scenario));
  j["failure"] = {{"outcome", outcome_name(r.outcome)}, {"message", r.message}, {"signature", r.signature}};
  j["sizes"] = {{"before", size_json(r.before)}, {"after", size_json(r.after)}};
  j["schedule"] = ojson::parse(r.schedule.to_json());
  return j.dump(1) + "\n";
}

std::optional<Repro> parse_repro(const std::string& text, const std::string& file, std::string& error) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    error = file + ": not valid JSON";
    return std::nullopt;
  }
  if (j.value("format", "") != kFormat || !j.contains("version") || !j["version"].is_number_integer() ||
      j["version"].get<int>() != kVersion) {
    error = file + ": not a weft-repro document of version 1";
    return std::nullopt;
  }
  for (const char* key : {"seed", "scenario", "failure", "schedule"}) {
    if (!j.contains(key)) {
      error = file + ": missing field \"" + key + "\"";
      return std::nullopt;
    }
  }
  Repro r;
  if (!j["seed"].is_number_unsigned()) {
    error = file + ": $.seed: expected a non-negative integer";
    return std::nullopt;
  }
  r.seed = j["seed"].get<std::uint64_t>();
  r.strategy = j.value("strategy", "");
  r.step_bound = j.contains("step_bound") && j["step_bound"].is_number_unsigned() ? j["step_bound"].get<std::uint64_t>() : 0;
  ScenarioError serr;
  auto sc = parse_scenario(j["scenario"].dump(), file + "#scenario", serr);
  if (!sc) {
    error = serr.message();
    return std::nullopt;
  }
  r.scenario = std::move(*sc);
  const auto& f = j["failure"];
  auto oc = f.is_object() ? outcome_from(f.value("outcome", "")) : std::nullopt;
  if (!oc) {
    error = file + ": $.failure.outcome: expected an outcome name";
    return std::nullopt;
  }
  r.outcome = *oc;
  r.message = f.value("message", "");
  r.signature = f.value("signature", failure_signature(r.outcome, r.message));
  if (j.contains("sizes") && j["sizes"].is_object()) {
    r.before = size_from(j["sizes"].value("before", nlohmann::json::object()));
    r.after = size_from(j["sizes"].value("after", nlohmann::json::object()));
  }
  std::string serror;
  auto sched = Schedule::from_json(j["schedule"].dump(), serror);
  if (!sched) {
    error = file + ": $.schedule: " + serror;
    return std::nullopt;
  }
  r.schedule = std::move(*sched);
  if (r.schedule.seed != r.seed) {
    error = file + ": $.schedule.seed differs from $.seed";
    return std::nullopt;
  }
  return r;
}

std::optional<Repro> load_repro(const std::string& path, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = path + ": cannot open";
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parse_repro(text.str(), path, error);
}

bool save_repro(const std::string& path, const Repro& r, std::string& error) {
  std::error_code ec;
  const std::filesystem::path p(path);
  if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path(), ec);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) {
    error = path + ": cannot open for writing";
    return false;
  }
  out << repro_to_json(r);
  if (!out.flush()) {
    error = path + ": cannot write";
    return false;
  }
  return true;
}

RunReport replay_repro(const Repro& r, bool keep_trace) { return run_scenario(r.scenario, replay_config(r, keep_trace)); }

Repro repro_of(const Scenario& sc, const RunConfig& cfg, const RunReport& failing) {
  Repro r;
  r.scenario = sc;
  r.seed = failing.result.seed;
  r.strategy = cfg.strategy.label();
  r.step_bound = cfg.step_bound;
  r.outcome = failing.result.outcome;
  r.message = failing.result.message;
  r.signature = failure_signature(r.outcome, r.message);
  r.schedule = failing.result.schedule;
  r.schedule.seed = r.seed;
  r.before = ScheduleSize{failing.result.schedule.decisions.size(), count_switches(failing.result.schedule),
                          failing.result.preemptions, failing.result.steps};
  r.after = r.before;
  return r;
}

Repro shrink_failure(const Scenario& sc, const RunConfig& cfg, const RunReport& failing, const ShrinkOptions& options,
                     ShrinkResult* result) {
  Repro r = repro_of(sc, cfg, failing);
  auto run = [&r](const Schedule& candidate) {
    Repro c = r;
    c.schedule = candidate;
    c.schedule.seed = r.seed;
    const RunReport rep = replay_repro(c);
    return Probe{failure_signature(rep.result.outcome, rep.result.message), rep.result.steps, rep.result.preemptions};
  };
  ShrinkResult s = shrink_schedule(r.schedule, r.before, run, options);
  if (s.reproduced) {
    r.schedule = s.schedule;
    r.schedule.seed = r.seed;
    r.after = s.after;
    // Keep the message of the shrunk run: it is what a replay prints.
    const RunReport rep = replay_repro(r);
    r.message = rep.result.message;
  }
  if (result) *result = std::move(s);
  return r;
}

std::string repro_dir(const std::string& fallback) {
  if (const char* d = std::getenv("WEFT_REPRO_DIR"); d != nullptr && *d != '\0') return d;
  return fallback;
}

std::string repro_command(const std::string& path) { return "tools/simrun repro " + path; }

}  // namespace weft::sim
