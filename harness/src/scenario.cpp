// Loading and validating scenario files. Every rejection names the file, the JSON
// path and what was expected, so a bad file costs one line to fix.
#include "weft/harness/scenario.hpp"

#include "weft/sim/json_input.hpp"

#include <cstdio>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

namespace weft::sim {
namespace {

using json = nlohmann::json;

constexpr std::uint64_t kMaxCount = 10'000'000;
constexpr std::uint64_t kMaxNs = 3'600'000'000'000ull;  // one virtual hour
constexpr int kMaxDepth = 16;

using Reader = JsonReader;

std::string describe(const json& v) { return JsonReader::describe(v); }

std::vector<Step> parse_steps(const Reader& r, const json& arr, const std::string& path, int depth) {
  if (depth > kMaxDepth) r.fail(path, "at most " + std::to_string(kMaxDepth) + " nested repeats");
  if (!arr.is_array()) r.fail(path, "an array of steps, got " + describe(arr));
  std::vector<Step> out;
  for (std::size_t i = 0; i < arr.size(); ++i) {
    const json& s = arr[i];
    std::string p = path + "[" + std::to_string(i) + "]";
    if (!s.is_object() || s.size() == 0) r.fail(p, "a step object such as {\"yield\": 1}, got " + describe(s));
    Step st;
    if (s.contains("spawn")) {
      r.only_keys(s, p, {"spawn", "count", "detach"});
      st.kind = Step::Kind::spawn;
      st.name = r.string(s, "spawn", p, std::nullopt);
      st.count = r.uint(s, "count", p, 1, kMaxCount, 1);
      st.detach = r.boolean(s, "detach", p, false);
    } else if (s.contains("ask")) {
      r.only_keys(s, p, {"ask", "count"});
      st.kind = Step::Kind::ask;
      st.name = r.string(s, "ask", p, std::nullopt);
      st.count = r.uint(s, "count", p, 1, kMaxCount, 1);
    } else if (s.contains("join")) {
      r.only_keys(s, p, {"join"});
      if (!s.at("join").is_boolean() || !s.at("join").get<bool>()) r.fail(p + ".join", "true");
      st.kind = Step::Kind::join;
    } else if (s.contains("abort_children")) {
      r.only_keys(s, p, {"abort_children"});
      if (!s.at("abort_children").is_boolean() || !s.at("abort_children").get<bool>()) r.fail(p + ".abort_children", "true");
      st.kind = Step::Kind::abort_children;
    } else if (s.contains("yield")) {
      r.only_keys(s, p, {"yield"});
      st.kind = Step::Kind::yield;
      st.count = r.uint_value(s.at("yield"), p + ".yield", 1, kMaxCount);
    } else if (s.contains("work_ns")) {
      r.only_keys(s, p, {"work_ns"});
      st.kind = Step::Kind::work;
      st.ns = r.uint_value(s.at("work_ns"), p + ".work_ns", 1, kMaxNs);
    } else if (s.contains("sleep_ns")) {
      r.only_keys(s, p, {"sleep_ns"});
      st.kind = Step::Kind::sleep;
      st.ns = r.uint_value(s.at("sleep_ns"), p + ".sleep_ns", 0, kMaxNs);
    } else if (s.contains("send")) {
      r.only_keys(s, p, {"send", "count"});
      st.kind = Step::Kind::send;
      st.name = r.string(s, "send", p, std::nullopt);
      st.count = r.uint(s, "count", p, 1, kMaxCount, 1);
    } else if (s.contains("recv")) {
      r.only_keys(s, p, {"recv", "count"});
      st.kind = Step::Kind::recv;
      st.name = r.string(s, "recv", p, std::nullopt);
      st.count = r.uint(s, "count", p, 1, kMaxCount, 1);
    } else if (s.contains("notify")) {
      r.only_keys(s, p, {"notify"});
      st.kind = Step::Kind::notify;
      st.name = r.string(s, "notify", p, std::nullopt);
    } else if (s.contains("notified")) {
      r.only_keys(s, p, {"notified"});
      st.kind = Step::Kind::notified;
      st.name = r.string(s, "notified", p, std::nullopt);
    } else if (s.contains("repeat")) {
      r.only_keys(s, p, {"repeat", "steps"});
      st.kind = Step::Kind::repeat;
      st.count = r.uint_value(s.at("repeat"), p + ".repeat", 1, kMaxCount);
      if (!s.contains("steps")) r.fail(p + ".steps", "an array of steps (the field is required)");
      st.body = parse_steps(r, s.at("steps"), p + ".steps", depth + 1);
    } else if (s.contains("racy_increment")) {
      r.only_keys(s, p, {"racy_increment"});
      st.kind = Step::Kind::racy_increment;
      st.name = r.string(s, "racy_increment", p, std::nullopt);
    } else if (s.contains("throw")) {
      r.only_keys(s, p, {"throw"});
      st.kind = Step::Kind::throw_error;
      st.name = r.string(s, "throw", p, std::nullopt);
    } else if (s.contains("dump")) {
      r.only_keys(s, p, {"dump"});
      if (!s.at("dump").is_boolean() || !s.at("dump").get<bool>()) r.fail(p + ".dump", "true");
      st.kind = Step::Kind::dump;
    } else if (s.contains("blocking_ns")) {
      r.only_keys(s, p, {"blocking_ns"});
      st.kind = Step::Kind::blocking;
      st.ns = r.uint_value(s.at("blocking_ns"), p + ".blocking_ns", 0, kMaxNs);
    } else {
      r.fail(p, "a step: one of spawn, ask, join, abort_children, yield, work_ns, sleep_ns, send, recv, notify, notified, "
                "repeat, racy_increment, throw, blocking_ns, dump; got " + describe(s));
    }
    out.push_back(std::move(st));
  }
  return out;
}

void check_refs(const Reader& r, const Scenario& sc, const std::vector<Step>& steps, const std::string& path) {
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const Step& s = steps[i];
    std::string p = path + "[" + std::to_string(i) + "]";
    if ((s.kind == Step::Kind::spawn || s.kind == Step::Kind::ask) && !sc.programs.count(s.name))
      r.fail(p + (s.kind == Step::Kind::spawn ? ".spawn" : ".ask"),
             "the name of a program in $.programs, got \"" + s.name + "\"");
    if ((s.kind == Step::Kind::send || s.kind == Step::Kind::recv) && !sc.channels.count(s.name))
      r.fail(p + (s.kind == Step::Kind::send ? ".send" : ".recv"),
             "the name of a channel in $.channels, got \"" + s.name + "\"");
    if (s.kind == Step::Kind::repeat) check_refs(r, sc, s.body, p + ".steps");
  }
}

std::string fnv1a_hex(const std::string& text) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

// parse_runtime reads $.runtime (the runtime the scenario builds).
void parse_runtime(const Reader& r, const json& root, Scenario& sc) {
  if (root.contains("runtime")) {
    const json& rt = root.at("runtime");
    r.only_keys(rt, "$.runtime", {"flavor", "workers", "local_queue_capacity", "global_queue_interval", "event_interval",
                                  "lifo", "max_lifo_polls", "budget", "dump_timeout_ns"});
    weft::Config& c = sc.runtime.config;
    const weft::Config d = scenario_config();  // what a key left out means
    c.flavor = r.one_of(rt, "flavor", "$.runtime", {"multi_thread", "current_thread"}, "multi_thread") == "multi_thread"
                   ? weft::Flavor::multi_thread
                   : weft::Flavor::current_thread;
    c.worker_threads = static_cast<std::uint32_t>(r.uint(rt, "workers", "$.runtime", 1, 64, d.worker_threads));
    auto cap = r.uint(rt, "local_queue_capacity", "$.runtime", weft::kLocalQueueCapacityMin, weft::kLocalQueueCapacityMax,
                      d.local_queue_capacity);
    if (cap & (cap - 1)) {
      r.fail("$.runtime.local_queue_capacity", "a power of two from " + std::to_string(weft::kLocalQueueCapacityMin) +
                                                   " to " + std::to_string(weft::kLocalQueueCapacityMax) + ", got " +
                                                   std::to_string(cap));
    }
    c.local_queue_capacity = static_cast<std::uint32_t>(cap);
    c.global_queue_interval = static_cast<std::uint32_t>(
        r.uint(rt, "global_queue_interval", "$.runtime", 1, 100000, d.global_queue_interval));
    c.event_interval = static_cast<std::uint32_t>(r.uint(rt, "event_interval", "$.runtime", 1, 100000, d.event_interval));
    c.lifo_enabled = r.boolean(rt, "lifo", "$.runtime", d.lifo_enabled);
    c.max_lifo_polls = static_cast<std::uint32_t>(r.uint(rt, "max_lifo_polls", "$.runtime", 1, 100000, d.max_lifo_polls));
    c.budget = static_cast<std::uint32_t>(r.uint(rt, "budget", "$.runtime", 1, 1000000, d.budget));
    c.dump_timeout_ns = r.uint(rt, "dump_timeout_ns", "$.runtime", 1, kMaxNs, d.dump_timeout_ns);
  }
}

// parse_channels reads $.channels (name -> capacity).
void parse_channels(const Reader& r, const json& root, Scenario& sc) {
  if (root.contains("channels")) {
    const json& ch = root.at("channels");
    if (!ch.is_object()) r.fail("$.channels", "an object mapping channel names to {\"capacity\": n}, got " + describe(ch));
    for (auto it = ch.begin(); it != ch.end(); ++it) {
      std::string p = "$.channels." + it.key();
      r.only_keys(it.value(), p, {"capacity"});
      sc.channels[it.key()] = r.uint(it.value(), "capacity", p, 1, 1'000'000, 1);
    }
  }
}

// parse_programs reads $.programs and $.main, and checks that every
// program a step or $.main names exists.
void parse_programs(const Reader& r, const json& root, Scenario& sc) {
  if (!root.contains("programs")) r.fail("$.programs", "an object of named programs (the field is required)");
  const json& progs = root.at("programs");
  if (!progs.is_object() || progs.empty()) r.fail("$.programs", "a non-empty object of named programs, got " + describe(progs));
  for (auto it = progs.begin(); it != progs.end(); ++it) {
    Program pr;
    pr.name = it.key();
    pr.steps = parse_steps(r, it.value(), "$.programs." + it.key(), 0);
    sc.programs[pr.name] = std::move(pr);
  }
  for (const auto& [name, pr] : sc.programs) check_refs(r, sc, pr.steps, "$.programs." + name);

  sc.main = r.string(root, "main", "$", std::nullopt);
  if (!sc.programs.count(sc.main)) r.fail("$.main", "the name of a program in $.programs, got \"" + sc.main + "\"");
}

// parse_outside reads $.outside (threads spawning from outside the runtime).
void parse_outside(const Reader& r, const json& root, Scenario& sc) {
  if (root.contains("outside")) {
    const json& out = root.at("outside");
    if (!out.is_array()) r.fail("$.outside", "an array of outside threads, got " + describe(out));
    for (std::size_t i = 0; i < out.size(); ++i) {
      std::string p = "$.outside[" + std::to_string(i) + "]";
      const json& o = out[i];
      r.only_keys(o, p, {"program", "threads", "count", "interval_ns", "die_after"});
      OutsideThread ot;
      ot.program = r.string(o, "program", p, std::nullopt);
      if (!sc.programs.count(ot.program)) r.fail(p + ".program", "the name of a program in $.programs, got \"" + ot.program + "\"");
      ot.threads = static_cast<std::uint32_t>(r.uint(o, "threads", p, 1, 16, 1));
      ot.count = r.uint(o, "count", p, 0, kMaxCount, 1);
      ot.interval_ns = r.uint(o, "interval_ns", p, 0, kMaxNs, 0);
      if (o.contains("die_after")) ot.die_after = r.uint(o, "die_after", p, 0, kMaxCount, 0);
      sc.outside.push_back(ot);
    }
  }
}

// parse_dumpers reads $.dumpers (threads taking dumps with dump_blocking).
void parse_dumpers(const Reader& r, const json& root, Scenario& sc) {
  if (root.contains("dumpers")) {
    const json& ds = root.at("dumpers");
    if (!ds.is_array()) r.fail("$.dumpers", "an array of dumper threads, got " + describe(ds));
    for (std::size_t i = 0; i < ds.size(); ++i) {
      std::string p = "$.dumpers[" + std::to_string(i) + "]";
      r.only_keys(ds[i], p, {"threads", "at_ns", "count", "interval_ns", "until_shutdown"});
      Dumper d;
      d.threads = static_cast<std::uint32_t>(r.uint(ds[i], "threads", p, 1, 8, 1));
      d.at_ns = r.uint(ds[i], "at_ns", p, 0, kMaxNs, 0);
      d.count = r.uint(ds[i], "count", p, 1, 10000, 1);
      d.interval_ns = r.uint(ds[i], "interval_ns", p, 0, kMaxNs, 0);
      d.until_shutdown = r.boolean(ds[i], "until_shutdown", p, false);
      sc.dumpers.push_back(d);
    }
  }
}

// parse_faults reads $.faults (stalls and spurious wake-ups).
void parse_faults(const Reader& r, const json& root, Scenario& sc) {
  if (root.contains("faults")) {
    const json& f = root.at("faults");
    r.only_keys(f, "$.faults", {"stalls", "spurious_wakeup_per_mille"});
    if (f.contains("stalls")) {
      const json& st = f.at("stalls");
      if (!st.is_array()) r.fail("$.faults.stalls", "an array of {\"at_ns\", \"duration_ns\"}, got " + describe(st));
      for (std::size_t i = 0; i < st.size(); ++i) {
        std::string p = "$.faults.stalls[" + std::to_string(i) + "]";
        r.only_keys(st[i], p, {"at_ns", "duration_ns"});
        sc.stalls.push_back(Stall{r.uint(st[i], "at_ns", p, 0, kMaxNs, 0), r.uint(st[i], "duration_ns", p, 1, kMaxNs, 1)});
        if (!st[i].contains("duration_ns")) r.fail(p + ".duration_ns", "an integer from 1 (the field is required)");
      }
    }
    sc.spurious_wakeup_per_mille = static_cast<std::uint32_t>(r.uint(f, "spurious_wakeup_per_mille", "$.faults", 0, 1000, 0));
  }
}

// parse_exploration reads $.exploration (strategy, step bound, test seeds).
void parse_exploration(const Reader& r, const json& root, Scenario& sc) {
  if (root.contains("exploration")) {
    const json& e = root.at("exploration");
    r.only_keys(e, "$.exploration",
                {"strategy", "why", "pct_depth", "step_bound", "livelock_decisions", "test_seeds", "memory_model",
                 "history_depth"});
    sc.strategy = r.one_of(e, "strategy", "$.exploration", {"mixed", "random", "pct", "hold"}, "mixed");
    sc.strategy_why = r.string(e, "why", "$.exploration", std::string());
    sc.pct_depth = static_cast<std::uint32_t>(r.uint(e, "pct_depth", "$.exploration", 1, 16, 3));
    sc.step_bound = r.uint(e, "step_bound", "$.exploration", 1, 1'000'000'000, 2'000'000);
    sc.livelock_decisions =
        r.uint(e, "livelock_decisions", "$.exploration", 0, 1'000'000'000, kLivelockDecisionsDefault);
    sc.test_seeds = static_cast<std::uint32_t>(r.uint(e, "test_seeds", "$.exploration", 1, 100000, 5));
    sc.memory_model = r.one_of(e, "memory_model", "$.exploration", {"sc", "c11"}, "c11");
    sc.memory_model_given = e.contains("memory_model");
    sc.history_depth = static_cast<std::uint32_t>(
        r.uint(e, "history_depth", "$.exploration", 1, sim::kHistoryDepthMax, sim::kHistoryDepthDefault));
    // A store history exists only under c11 (a schedule refuses the pair alike).
    if (e.contains("history_depth") && sc.memory_model != "c11")
      r.fail("$.exploration.history_depth", "no history_depth with memory_model \"" + sc.memory_model +
                                                "\" (the store history is the c11 model's)");
  }
}

// parse_checks reads $.checks (default: every check but counters_exact).
void parse_checks(const Reader& r, const json& root, Scenario& sc) {
  static const std::set<std::string> kChecks = {"exactly_once", "no_leak",  "metrics_match_trace", "counters_exact",
                                                "dump_consistent", "stall", "fairness", "budget", "lost_parallelism"};
  if (root.contains("checks")) {
    const json& c = root.at("checks");
    if (!c.is_array()) r.fail("$.checks", "an array of check names, got " + describe(c));
    for (std::size_t i = 0; i < c.size(); ++i) {
      std::string p = "$.checks[" + std::to_string(i) + "]";
      if (!c[i].is_string() || !kChecks.count(c[i].get<std::string>()))
        r.fail(p, "one of \"exactly_once\", \"no_leak\", \"metrics_match_trace\", \"counters_exact\", "
                  "\"dump_consistent\", \"stall\", \"fairness\", \"budget\", got " + describe(c[i]));
      sc.checks.push_back(c[i].get<std::string>());
    }
  } else {
    sc.checks = default_checks();
  }
}

// parse_coverage reads $.coverage (mark names).
void parse_coverage(const Reader& r, const json& root, Scenario& sc) {
  if (root.contains("coverage")) {
    const json& c = root.at("coverage");
    if (!c.is_array()) r.fail("$.coverage", "an array of mark names, got " + describe(c));
    for (std::size_t i = 0; i < c.size(); ++i) {
      std::string p = "$.coverage[" + std::to_string(i) + "]";
      bool known = false;
      if (c[i].is_string()) {
        for (const char* m : kCoverageMarks) known = known || c[i].get<std::string>() == m;
      }
      if (!known) {
        std::string list;
        for (const char* m : kCoverageMarks) list += (list.empty() ? "" : ", ") + std::string(m);
        r.fail(p, "a mark name (" + list + "), got " + describe(c[i]));
      }
      sc.coverage.push_back(c[i].get<std::string>());
    }
  }
}

// parse_root reads a whole scenario, section by section in the order errors are reported.
Scenario parse_root(const Reader& r, const json& root) {
  Scenario sc;
  sc.file = r.file();
  r.only_keys(root, "$", {"name", "description", "runtime", "programs", "channels", "main", "outside", "faults",
                          "exploration", "checks", "expect", "coverage", "dumpers", "shutdown_at_ns"});
  sc.name = r.string(root, "name", "$", std::nullopt);
  sc.description = r.string(root, "description", "$", std::string());
  parse_runtime(r, root, sc);
  parse_channels(r, root, sc);
  parse_programs(r, root, sc);
  parse_outside(r, root, sc);
  parse_dumpers(r, root, sc);
  parse_faults(r, root, sc);
  parse_exploration(r, root, sc);
  parse_checks(r, root, sc);
  parse_coverage(r, root, sc);
  if (root.contains("shutdown_at_ns")) sc.shutdown_at_ns = r.uint(root, "shutdown_at_ns", "$", 0, kMaxNs, 0);
  sc.expect = r.one_of(root, "expect", "$",
                       {"pass", "assertion", "deadlock", "lost_wakeup", "step_bound_exceeded", "exception", "stall", "lost_parallelism", "livelock", "data_race", "use_after_free"},
                       "pass");
  return sc;
}

}  // namespace

std::optional<Scenario> parse_scenario(const std::string& text, const std::string& file, ScenarioError& error) {
  auto root = parse_json_input(text, file, error);
  if (!root) return std::nullopt;
  try {
    Scenario sc = parse_root(Reader(file), *root);
    sc.text_hash = fnv1a_hex(text);
    return sc;
  } catch (const InputFailure& f) {
    error = f.error;
    return std::nullopt;
  }
}

std::optional<Scenario> load_scenario(const std::string& path, ScenarioError& error) {
  std::string text;
  if (!read_input_file(path, kScenarioBytesMax, text, error)) return std::nullopt;
  return parse_scenario(text, path, error);
}

}  // namespace weft::sim
