// Schedules as JSON: the format a failing run is saved in and replayed from.
//
// {"format": "weft-schedule", "version": 1, "seed": 42, "strategy": "pct",
//  "pct_depth": 3, "pct_steps": 120,
//  "decisions": [["load", "f", 1], ["entropy", "r", 1234567], ...]}
// Each decision is [op, kind, value]: kind "f" chose fiber `value`, kind "r" drew
// the random number `value`.
//
// Version 2 adds switches, for lenient replay: "switches": [[fiber, step, to], ...]
// (Switch: when `fiber` reaches its `step`-th fiber decision, `to` runs). A
// schedule without switches (every recorded one) is written as version 1, byte
// for byte as before, so older builds still read it.
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "weft/sim/schedule.hpp"

namespace weft::sim {

namespace {
constexpr const char* kFormat = "weft-schedule";
constexpr int kVersion = 1;
constexpr int kVersionSwitches = 2;

constexpr const char* kOpNames[kOpCount] = {
    "load",  "store",    "exchange", "cas",    "fetch_add", "fetch_sub", "fetch_or", "fetch_and",
    "lock",  "try_lock", "unlock",   "park",   "park_for",  "unpark",    "spawn",    "join",
    "exit",  "now",      "entropy",  "yield",  "spin",      "sleep",     "random",
};
static_assert(sizeof(kOpNames) / sizeof(kOpNames[0]) == kOpCount);
}  // namespace

const char* op_name(Op op) noexcept {
  const auto i = static_cast<int>(op);
  return i < kOpCount ? kOpNames[i] : "?";
}

std::optional<Op> op_from_name(std::string_view name) noexcept {
  for (int i = 0; i < kOpCount; ++i) {
    if (name == kOpNames[i]) return static_cast<Op>(i);
  }
  return std::nullopt;
}

std::string Schedule::to_json() const {
  nlohmann::json j;
  j["format"] = kFormat;
  j["version"] = switches.empty() ? kVersion : kVersionSwitches;
  j["seed"] = seed;
  j["strategy"] = strategy;
  j["pct_depth"] = pct_depth;
  j["pct_steps"] = pct_steps;
  auto& ds = j["decisions"] = nlohmann::json::array();
  for (const Decision& d : decisions) {
    ds.push_back(nlohmann::json::array({op_name(d.op), d.kind == DecisionKind::fiber ? "f" : "r", d.value}));
  }
  if (!switches.empty()) {
    auto& ss = j["switches"] = nlohmann::json::array();
    for (const Switch& w : switches) ss.push_back(nlohmann::json::array({w.fiber, w.step, w.to}));
  }
  return j.dump();
}

std::optional<Schedule> Schedule::from_json(std::string_view text, std::string& error) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    error = "schedule: not valid JSON";
    return std::nullopt;
  }
  if (!j.is_object() || j.value("format", "") != kFormat) {
    error = "schedule: not a weft-schedule document";
    return std::nullopt;
  }
  const int version = j.contains("version") && j["version"].is_number_integer() ? j["version"].get<int>() : 0;
  if (version != kVersion && version != kVersionSwitches) {
    error = "schedule: unsupported version (this build reads versions 1 and 2)";
    return std::nullopt;
  }
  if (version == kVersionSwitches && !(j.contains("switches") && j["switches"].is_array())) {
    error = "schedule: version 2 without switches";
    return std::nullopt;
  }
  if (!j.contains("seed") || !j["seed"].is_number_unsigned() || !j.contains("decisions") ||
      !j["decisions"].is_array()) {
    error = "schedule: missing seed or decisions";
    return std::nullopt;
  }
  Schedule s;
  s.seed = j["seed"].get<std::uint64_t>();
  if (j.contains("strategy") && j["strategy"].is_string()) s.strategy = j["strategy"].get<std::string>();
  if (j.contains("pct_depth") && j["pct_depth"].is_number_unsigned()) s.pct_depth = j["pct_depth"].get<std::uint32_t>();
  if (j.contains("pct_steps") && j["pct_steps"].is_number_unsigned()) s.pct_steps = j["pct_steps"].get<std::uint64_t>();
  const auto& ds = j["decisions"];
  s.decisions.reserve(ds.size());
  for (std::size_t i = 0; i < ds.size(); ++i) {
    const auto& d = ds[i];
    const bool shape = d.is_array() && d.size() == 3 && d[0].is_string() && d[1].is_string() &&
                       (d[2].is_number_unsigned() || (d[2].is_number_integer() && d[2].get<std::int64_t>() >= 0));
    std::optional<Op> op = shape ? op_from_name(d[0].get<std::string>()) : std::nullopt;
    const std::string kind = shape ? d[1].get<std::string>() : "";
    if (!op || (kind != "f" && kind != "r")) {
      error = "schedule: decision " + std::to_string(i) + " is not [op, \"f\"|\"r\", value]";
      return std::nullopt;
    }
    s.decisions.push_back(Decision{kind == "f" ? DecisionKind::fiber : DecisionKind::random, *op,
                                   d[2].get<std::uint64_t>()});
  }
  if (version == kVersion) return s;
  const auto& ss = j["switches"];
  s.switches.reserve(ss.size());
  for (std::size_t i = 0; i < ss.size(); ++i) {
    const auto& w = ss[i];
    const bool shape = w.is_array() && w.size() == 3 && w[0].is_number_unsigned() && w[1].is_number_unsigned() &&
                       w[2].is_number_unsigned() && w[0].get<std::uint64_t>() < kNoFiber &&
                       w[2].get<std::uint64_t>() < kNoFiber;
    if (!shape) {
      error = "schedule: switch " + std::to_string(i) + " is not [fiber, step, to]";
      return std::nullopt;
    }
    s.switches.push_back(Switch{w[0].get<FiberId>(), w[1].get<std::uint64_t>(), w[2].get<FiberId>()});
  }
  return s;
}

bool Schedule::save(const std::string& path, std::string& error) const {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) {
    error = "schedule: cannot open " + path + " for writing";
    return false;
  }
  out << to_json() << '\n';
  if (!out.flush()) {
    error = "schedule: cannot write " + path;
    return false;
  }
  return true;
}

std::optional<Schedule> Schedule::load(const std::string& path, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "schedule: cannot open " + path;
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return from_json(text.str(), error);
}

}  // namespace weft::sim
