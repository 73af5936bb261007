// Writing scenarios back as scenario-file JSON, so that a generated scenario (a
// property test's counterexample) can be saved in a self-contained reproduction
// and loaded by the same validator as a hand-written file.
#include <nlohmann/json.hpp>

#include "weft/harness/scenario.hpp"

namespace weft::sim {
namespace {

using ojson = nlohmann::ordered_json;

ojson steps_to_json(const std::vector<Step>& steps, int depth) {
  ojson out = ojson::array();
  if (depth > 64) return out;  // parse_scenario caps nesting far below this
  for (const Step& s : steps) {
    ojson j = ojson::object();
    switch (s.kind) {
      case Step::Kind::spawn:
        j["spawn"] = s.name;
        if (s.count != 1) j["count"] = s.count;
        if (s.detach) j["detach"] = true;
        break;
      case Step::Kind::ask:
        j["ask"] = s.name;
        if (s.count != 1) j["count"] = s.count;
        break;
      case Step::Kind::join: j["join"] = true; break;
      case Step::Kind::abort_children: j["abort_children"] = true; break;
      case Step::Kind::yield: j["yield"] = s.count; break;
      case Step::Kind::work: j["work_ns"] = s.ns; break;
      case Step::Kind::sleep: j["sleep_ns"] = s.ns; break;
      case Step::Kind::send:
        j["send"] = s.name;
        if (s.count != 1) j["count"] = s.count;
        break;
      case Step::Kind::recv:
        j["recv"] = s.name;
        if (s.count != 1) j["count"] = s.count;
        break;
      case Step::Kind::notify: j["notify"] = s.name; break;
      case Step::Kind::notified: j["notified"] = s.name; break;
      case Step::Kind::repeat:
        j["repeat"] = s.count;
        j["steps"] = steps_to_json(s.body, depth + 1);
        break;
      case Step::Kind::racy_increment: j["racy_increment"] = s.name; break;
      case Step::Kind::throw_error: j["throw"] = s.name; break;
      case Step::Kind::blocking: j["blocking_ns"] = s.ns; break;
      case Step::Kind::dump: j["dump"] = true; break;
    }
    out.push_back(std::move(j));
  }
  return out;
}

}  // namespace

std::string scenario_to_json(const Scenario& sc) {
  ojson j;
  j["name"] = sc.name;
  if (!sc.description.empty()) j["description"] = sc.description;
  const weft::Config& rt = sc.runtime.config;
  ojson r;
  r["flavor"] = sc.runtime.multi_thread() ? "multi_thread" : "current_thread";
  r["workers"] = rt.worker_threads;
  r["local_queue_capacity"] = rt.local_queue_capacity;
  if (rt.global_queue_interval != 0) r["global_queue_interval"] = rt.global_queue_interval;
  r["event_interval"] = rt.event_interval;
  r["lifo"] = rt.lifo_enabled;
  r["max_lifo_polls"] = rt.max_lifo_polls;
  r["budget"] = rt.budget;
  if (rt.dump_timeout_ns != scenario_config().dump_timeout_ns) r["dump_timeout_ns"] = rt.dump_timeout_ns;
  j["runtime"] = std::move(r);
  ojson progs = ojson::object();
  for (const auto& [name, p] : sc.programs) progs[name] = steps_to_json(p.steps, 0);
  j["programs"] = std::move(progs);
  if (!sc.channels.empty()) {
    ojson ch = ojson::object();
    for (const auto& [name, cap] : sc.channels) ch[name] = {{"capacity", cap}};
    j["channels"] = std::move(ch);
  }
  j["main"] = sc.main;
  if (!sc.outside.empty()) {
    ojson out = ojson::array();
    for (const OutsideThread& o : sc.outside) {
      ojson x;
      x["program"] = o.program;
      x["threads"] = o.threads;
      x["count"] = o.count;
      x["interval_ns"] = o.interval_ns;
      if (o.die_after) x["die_after"] = *o.die_after;
      out.push_back(std::move(x));
    }
    j["outside"] = std::move(out);
  }
  if (!sc.dumpers.empty()) {
    ojson ds = ojson::array();
    for (const Dumper& d : sc.dumpers) {
      ds.push_back({{"threads", d.threads}, {"at_ns", d.at_ns}, {"count", d.count}, {"interval_ns", d.interval_ns},
                    {"until_shutdown", d.until_shutdown}});
    }
    j["dumpers"] = std::move(ds);
  }
  if (!sc.stalls.empty() || sc.spurious_wakeup_per_mille != 0) {
    ojson f;
    if (!sc.stalls.empty()) {
      ojson st = ojson::array();
      for (const Stall& s : sc.stalls) st.push_back({{"at_ns", s.at_ns}, {"duration_ns", s.duration_ns}});
      f["stalls"] = std::move(st);
    }
    if (sc.spurious_wakeup_per_mille != 0) f["spurious_wakeup_per_mille"] = sc.spurious_wakeup_per_mille;
    j["faults"] = std::move(f);
  }
  j["exploration"] = {{"strategy", sc.strategy},
                      {"pct_depth", sc.pct_depth},
                      {"step_bound", sc.step_bound},
                      {"test_seeds", sc.test_seeds}};
  if (!sc.strategy_why.empty()) j["exploration"]["why"] = sc.strategy_why;
  if (sc.livelock_decisions != kLivelockDecisionsDefault) j["exploration"]["livelock_decisions"] = sc.livelock_decisions;
  j["exploration"]["memory_model"] = sc.memory_model;  // always: the default changed once (sc, then c11)
  if (sc.memory_model == "c11" && sc.history_depth != sim::kHistoryDepthDefault)
    j["exploration"]["history_depth"] = sc.history_depth;  // the c11 model's alone
  j["checks"] = sc.checks;
  if (!sc.coverage.empty()) j["coverage"] = sc.coverage;
  if (sc.shutdown_at_ns) j["shutdown_at_ns"] = *sc.shutdown_at_ns;
  j["expect"] = sc.expect;
  return dump_safe(j, 2);
}

}  // namespace weft::sim
