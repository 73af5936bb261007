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
//
// Version 3 adds the memory draws a shrunk schedule keeps: "reads": [[fiber,
// step, value], ...] (ReadDraw); every other memory draw of its lenient replay
// is 0, the newest store.
#include <cstdint>
#include <fstream>
#include <ostream>
#include <sstream>
#include <utility>
#include <nlohmann/json.hpp>

#include "weft/sim/json_input.hpp"
#include "weft/sim/schedule.hpp"
#include "weft/sim/simulator.hpp"

namespace weft::sim {

namespace {
constexpr const char* kFormat = "weft-schedule";
constexpr int kVersion = 1;
constexpr int kVersionSwitches = 2;
constexpr int kVersionReads = 3;

constexpr const char* kOpNames[kOpCount] = {
    "load",  "store",    "exchange", "cas",    "fetch_add", "fetch_sub", "fetch_or", "fetch_and",
    "lock",  "try_lock", "unlock",   "park",   "park_for",  "unpark",    "spawn",    "join",
    "exit",  "now",      "entropy",  "yield",  "spin",      "sleep",     "random",
    "fence",  "wake_one",
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

// write_json streams the text a JSON tree of the schedule would dump, byte for
// byte (keys in the tree's sorted order, no spaces), without building the tree:
// a schedule of millions of decisions costs no memory beyond its own vectors.
void Schedule::write_json(std::ostream& out) const {
  // Strings from outside (the strategy's name, the model) are escaped as the tree
  // escapes them; invalid UTF-8 becomes U+FFFD instead of an exception.
  const auto text = [&out](const std::string& v) { out << dump_safe(nlohmann::json(v)); };
  const auto triples = [&out](const char* key, const auto& items, const auto& fields) {
    out << ",\"" << key << "\":[";
    bool first = true;
    for (const auto& item : items) {
      out << (first ? "[" : ",[");
      fields(item);
      out << ']';
      first = false;
    }
    out << ']';
  };
  // Step 1: the keys in sorted order: decisions, format, history_depth,
  // memory_model, pct_depth, pct_steps, reads, seed, strategy, switches, version.
  out << "{\"decisions\":[";
  bool first = true;
  for (const Decision& d : decisions) {
    out << (first ? "[\"" : ",[\"") << op_name(d.op) << (d.kind == DecisionKind::fiber ? "\",\"f\"," : "\",\"r\",")
        << d.value << ']';
    first = false;
  }
  out << "],\"format\":\"" << kFormat << '"';
  if (history_depth != 0) out << ",\"history_depth\":" << history_depth;
  if (!memory_model.empty()) {
    out << ",\"memory_model\":";
    text(memory_model);
  }
  out << ",\"pct_depth\":" << pct_depth << ",\"pct_steps\":" << pct_steps;
  // Step 2: the reads (version 3 only), then the scalars and the switches.
  if (reads_listed)
    triples("reads", reads, [&out](const ReadDraw& d) { out << d.fiber << ',' << d.step << ',' << d.value; });
  out << ",\"seed\":" << seed << ",\"strategy\":";
  text(strategy);
  if (!switches.empty() || reads_listed)
    triples("switches", switches, [&out](const Switch& w) { out << w.fiber << ',' << w.step << ',' << w.to; });
  out << ",\"version\":" << (reads_listed ? kVersionReads : switches.empty() ? kVersion : kVersionSwitches) << '}';
}

std::string Schedule::to_json() const {
  std::ostringstream out;
  write_json(out);
  return std::move(out).str();
}

std::optional<Schedule> Schedule::from_json(std::string_view text, std::string& error) {
  InputError e;
  ScheduleStream stream("schedule", "$");
  auto j = parse_json_input(text, "schedule", e, stream.streams());
  std::optional<Schedule> s = j ? from_value(*j, "schedule", "$", e, &stream) : std::nullopt;
  if (!s) error = e.message();
  return s;
}

namespace {

// decision_from reads element `i` of the decisions array at `array_path`.
Decision decision_from(const JsonReader& r, const nlohmann::json& d, const std::string& array_path, std::size_t i) {
  const std::string p = array_path + "[" + std::to_string(i) + "]";
  if (!d.is_array() || d.size() != 3 || !d[0].is_string() || !d[1].is_string())
    r.fail(p, "[op, \"f\" or \"r\", value], got " + JsonReader::describe(d));
  const std::optional<Op> op = op_from_name(d[0].get_ref<const std::string&>());
  if (!op) r.fail(p + "[0]", "an op name such as \"load\", got " + JsonReader::describe(d[0]));
  const std::string& kind = d[1].get_ref<const std::string&>();
  if (kind != "f" && kind != "r") r.fail(p + "[1]", "\"f\" (a fiber) or \"r\" (a random number), got " + JsonReader::describe(d[1]));
  const std::uint64_t value = r.uint_value(d[2], p + "[2]", 0, UINT64_MAX);
  return Decision{kind == "f" ? DecisionKind::fiber : DecisionKind::random, *op, value};
}

// switch_from reads element `i` of the switches array at `array_path`.
Switch switch_from(const JsonReader& r, const nlohmann::json& w, const std::string& array_path, std::size_t i) {
  const std::string p = array_path + "[" + std::to_string(i) + "]";
  if (!w.is_array() || w.size() != 3) r.fail(p, "[fiber, step, to], got " + JsonReader::describe(w));
  const auto fiber = r.uint_value(w[0], p + "[0]", 0, kSwitchPlaceMax);
  const auto step = r.uint_value(w[1], p + "[1]", 0, kSwitchPlaceMax);
  const auto to = r.uint_value(w[2], p + "[2]", 0, kSwitchPlaceMax);
  if (to == fiber) r.fail(p + "[2]", "a fiber other than the one switched away from (" + std::to_string(fiber) + ")");
  return Switch{static_cast<FiberId>(fiber), step, static_cast<FiberId>(to)};
}

// read_from reads element `i` of the reads array at `array_path`.
ReadDraw read_from(const JsonReader& r, const nlohmann::json& d, const std::string& array_path, std::size_t i) {
  const std::string p = array_path + "[" + std::to_string(i) + "]";
  if (!d.is_array() || d.size() != 3) r.fail(p, "[fiber, step, value], got " + JsonReader::describe(d));
  const auto fiber = r.uint_value(d[0], p + "[0]", 0, kSwitchPlaceMax);
  const auto step = r.uint_value(d[1], p + "[1]", 0, kSwitchPlaceMax);
  const auto value = r.uint_value(d[2], p + "[2]", 0, UINT64_MAX);
  return ReadDraw{static_cast<FiberId>(fiber), step, value};
}

}  // namespace

std::vector<ArrayStream> ScheduleStream::streams() {
  const std::string decisions_path = path_ + ".decisions", switches_path = path_ + ".switches";
  return {ArrayStream{decisions_path,
                      [this, decisions_path](const nlohmann::json& d, std::size_t i) {
                        decisions.push_back(decision_from(reader_, d, decisions_path, i));
                      }},
          ArrayStream{switches_path, [this, switches_path](const nlohmann::json& w, std::size_t i) {
                        switches.push_back(switch_from(reader_, w, switches_path, i));
                      }}};
}

std::optional<Schedule> Schedule::from_value(const nlohmann::json& j, const std::string& file, const std::string& path,
                                             InputError& error, ScheduleStream* streamed) {
  const JsonReader r(file);
  try {
    r.only_keys(j, path,
                {"format", "version", "seed", "strategy", "pct_depth", "pct_steps", "memory_model", "history_depth",
                 "decisions", "switches", "reads"});
    if (!j.contains("format") || j.at("format") != kFormat)
      r.fail(path + ".format", "\"weft-schedule\" (a schedule file), got " +
                                   (j.contains("format") ? JsonReader::describe(j.at("format")) : std::string("no format")));
    const auto& v = r.required(j, "version", path, "1, 2 or 3");
    if (!v.is_number_integer() || (v != kVersion && v != kVersionSwitches && v != kVersionReads))
      r.fail(path + ".version", "1, 2 or 3 (this build reads versions 1 to 3), got " + JsonReader::describe(v));
    const int version = v.get<int>();
    Schedule s;
    s.seed = r.uint_value(r.required(j, "seed", path, "an integer"), path + ".seed", 0, UINT64_MAX);
    s.strategy = r.string(j, "strategy", path, std::string());
    s.pct_depth = static_cast<std::uint32_t>(r.uint(j, "pct_depth", path, 0, 16, 0));
    s.pct_steps = r.uint(j, "pct_steps", path, 0, UINT64_MAX, 0);
    if (j.contains("memory_model")) s.memory_model = r.one_of(j, "memory_model", path, {"c11"}, "c11");
    s.history_depth = static_cast<std::uint32_t>(r.uint(j, "history_depth", path, 1, kHistoryDepthMax, 0));
    if (s.history_depth != 0 && s.memory_model.empty())
      r.fail(path + ".history_depth", "no history_depth in a schedule without \"memory_model\": \"c11\"");
    const auto& ds = r.required(j, "decisions", path, "an array of decisions");
    if (!ds.is_array()) r.fail(path + ".decisions", "an array of decisions, got " + JsonReader::describe(ds));
    if (streamed != nullptr) {
      s.decisions = std::move(streamed->decisions);
    } else {
      s.decisions.reserve(ds.size());
      for (std::size_t i = 0; i < ds.size(); ++i) s.decisions.push_back(decision_from(r, ds[i], path + ".decisions", i));
    }
    if (version == kVersion) {
      if (j.contains("switches")) r.fail(path + ".switches", "no switches in version 1 (version 2 has them)");
      if (j.contains("reads")) r.fail(path + ".reads", "no reads in version 1 (version 3 has them)");
      return s;
    }
    if (version == kVersionSwitches && j.contains("reads"))
      r.fail(path + ".reads", "no reads in version 2 (version 3 has them)");
    if (version == kVersionReads) {
      const auto& rs = r.required(j, "reads", path, "an array of reads (version 3)");
      if (!rs.is_array()) r.fail(path + ".reads", "an array of reads, got " + JsonReader::describe(rs));
      s.reads_listed = true;
      s.reads.reserve(rs.size());
      for (std::size_t i = 0; i < rs.size(); ++i) s.reads.push_back(read_from(r, rs[i], path + ".reads", i));
    }
    const auto& ss = r.required(j, "switches", path, "an array of switches (version 2)");
    if (!ss.is_array()) r.fail(path + ".switches", "an array of switches, got " + JsonReader::describe(ss));
    if (streamed != nullptr) {
      s.switches = std::move(streamed->switches);
    } else {
      s.switches.reserve(ss.size());
      for (std::size_t i = 0; i < ss.size(); ++i) s.switches.push_back(switch_from(r, ss[i], path + ".switches", i));
    }
    return s;
  } catch (const InputFailure& f) {
    error = f.error;
    return std::nullopt;
  }
}

bool Schedule::save(const std::string& path, std::string& error) const {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) {
    error = "schedule: cannot open " + path + " for writing";
    return false;
  }
  write_json(out);
  out << '\n';
  if (!out.flush()) {
    error = "schedule: cannot write " + path;
    return false;
  }
  return true;
}

std::optional<Schedule> Schedule::load(const std::string& path, std::string& error) {
  std::string text;
  InputError e;
  if (read_input_file(path, kScheduleBytesMax, text, e)) {
    ScheduleStream stream(path, "$");
    if (auto j = parse_json_input(text, path, e, stream.streams())) {
      text = std::string();  // the decisions are read: give the text's memory back before the run
      if (auto s = from_value(*j, path, "$", e, &stream)) return s;
    }
  }
  error = e.message();
  return std::nullopt;
}

}  // namespace weft::sim
