// Reproduction files: writing, reading (as hostile input: size cap, strict
// fields, one-line errors) and the command that replays one.
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "weft/harness/repro.hpp"
#include "weft/sim/json_input.hpp"

namespace weft::sim {
namespace {

using ojson = nlohmann::ordered_json;

constexpr const char* kFormat = "weft-repro";
constexpr int kVersion = 1;

// size_json writes stale_reads only when there are some (c11 runs), so the
// files of sc runs read as before.
ojson size_json(const ScheduleSize& s) {
  ojson j = {{"decisions", s.decisions}, {"switches", s.switches}, {"preemptions", s.preemptions}, {"steps", s.steps}};
  if (s.stale_reads != 0) j["stale_reads"] = s.stale_reads;
  return j;
}

ScheduleSize size_from(const JsonReader& r, const nlohmann::json& obj, const char* key, const std::string& path) {
  ScheduleSize s;
  if (!obj.contains(key)) return s;
  const std::string p = path + "." + key;
  const nlohmann::json& j = obj.at(key);
  r.only_keys(j, p, {"decisions", "switches", "preemptions", "steps", "stale_reads"});
  s.decisions = r.uint(j, "decisions", p, 0, UINT64_MAX, 0);
  s.switches = r.uint(j, "switches", p, 0, UINT64_MAX, 0);
  s.preemptions = r.uint(j, "preemptions", p, 0, UINT64_MAX, 0);
  s.steps = r.uint(j, "steps", p, 0, UINT64_MAX, 0);
  s.stale_reads = r.uint(j, "stale_reads", p, 0, UINT64_MAX, 0);
  return s;
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
  return dump_safe(j, 1) + "\n";
}

std::string replay_model(Scenario& sc, const Schedule& s) {
  std::string recorded = s.memory_model.empty() ? "sc" : s.memory_model;
  if (!sc.memory_model_given) sc.memory_model = recorded;
  return recorded;
}

std::optional<Repro> parse_repro(const std::string& text, const std::string& file, std::string& error) {
  InputError e;
  ScheduleStream stream(file, "$.schedule");
  const auto j = parse_json_input(text, file, e, stream.streams());
  if (!j) {
    error = e.message();
    return std::nullopt;
  }
  const JsonReader r(file);
  try {
    r.only_keys(*j, "$", {"format", "version", "seed", "strategy", "step_bound", "replay", "scenario", "failure", "sizes",
                          "schedule"});
    if (!j->contains("format") || j->at("format") != kFormat)
      r.fail("$.format", "\"weft-repro\" (a reproduction file), got " +
                             (j->contains("format") ? JsonReader::describe(j->at("format")) : std::string("no format")));
    r.uint_value(r.required(*j, "version", "$", "1"), "$.version", kVersion, kVersion);
    Repro rep;
    rep.seed = r.uint_value(r.required(*j, "seed", "$", "an integer"), "$.seed", 0, UINT64_MAX);
    rep.strategy = r.string(*j, "strategy", "$", std::string());
    rep.step_bound = r.uint(*j, "step_bound", "$", 0, 1'000'000'000, 0);
    r.one_of(*j, "replay", "$", {"lenient"}, "lenient");
    const auto& scenario = r.required(*j, "scenario", "$", "a scenario object");
    r.object(scenario, "$.scenario");
    ScenarioError serr;
    auto sc = parse_scenario(dump_safe(scenario), file + "#scenario", serr);
    if (!sc) {
      error = serr.message();
      return std::nullopt;
    }
    rep.scenario = std::move(*sc);
    const auto& f = r.required(*j, "failure", "$", "an object with the failure's outcome");
    r.only_keys(f, "$.failure", {"outcome", "message", "signature"});
    const std::string outcome = r.string(f, "outcome", "$.failure", std::nullopt);
    const auto oc = outcome_from(outcome);
    if (!oc) r.fail("$.failure.outcome", "an outcome name such as \"assertion\", got " + JsonReader::describe(outcome));
    rep.outcome = *oc;
    rep.message = r.string(f, "message", "$.failure", std::string());
    rep.signature = r.string(f, "signature", "$.failure", failure_signature(rep.outcome, rep.message));
    if (j->contains("sizes")) {
      const auto& sizes = j->at("sizes");
      r.only_keys(sizes, "$.sizes", {"before", "after"});
      rep.before = size_from(r, sizes, "before", "$.sizes");
      rep.after = size_from(r, sizes, "after", "$.sizes");
    }
    auto sched = Schedule::from_value(r.required(*j, "schedule", "$", "a weft-schedule object"), file, "$.schedule", e,
                                      &stream);
    if (!sched) {
      error = e.message();
      return std::nullopt;
    }
    rep.schedule = std::move(*sched);
    if (rep.schedule.seed != rep.seed) r.fail("$.schedule.seed", "the same seed as $.seed");
    const std::string recorded = replay_model(rep.scenario, rep.schedule);
    if (recorded != rep.scenario.memory_model)
      r.fail("$.scenario.exploration.memory_model",
             "\"" + recorded + "\", the memory model the schedule was recorded under (a replay under another model diverges)");
    const std::string why = replay_mismatch(rep.schedule, rep.scenario.memory_model == "c11" ? MemoryModel::c11 : MemoryModel::sc,
                                            rep.scenario.history_depth);
    if (!why.empty())
      r.fail("$.scenario.exploration.history_depth",
             std::to_string(recorded_history_depth(rep.schedule)) +
                 ", the stores per atomic the schedule was recorded keeping (a replay under another depth diverges)");
    return rep;
  } catch (const InputFailure& f) {
    error = f.error.message();
    return std::nullopt;
  }
}

std::optional<Repro> load_repro(const std::string& path, std::string& error) {
  std::string text;
  InputError e;
  if (!read_input_file(path, kScheduleBytesMax, text, e)) {
    error = e.message();
    return std::nullopt;
  }
  return parse_repro(text, path, error);
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

std::string repro_command(const std::string& path) { return "tools/simrun repro " + shell_quote(path); }

}  // namespace weft::sim
