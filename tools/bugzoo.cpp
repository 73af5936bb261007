// bugzoo: proves that the simulator finds real bugs. Runs every bug planted in the
// engine (engine/src/zoo/bug_hooks.hpp) against the default exploration, shrinks
// the first failure of each, and writes reports/bugzoo.md and reports/bugzoo.json.
//
// Exploration, one "seed" s at a time (seeds_to_find counts them):
//  1. every scenario under scenarios/zoo/ and scenarios/*.json that expects to
//     pass, under random walk, PCT (depth 3) and hold (a reader held across a
//     counted number of other fibers' writes: ABA), each with seed s; or, with
//     --default-exploration, once under the scenario's own exploration, as
//     `simrun SCENARIO --seed s` runs it (the default: random, pct:1, pct:2,
//     pct:3 or hold by s mod 5, sim::kMixedCycle);
//  2. one scenario drawn by the property-test generator (weft/harness/generator.hpp) from s,
//     under random walk (with --default-exploration, the default exploration).
// A run fails when its outcome is not pass (engine assertion, scenario invariant
// including the progress checks stall, fairness and budget, deadlock, lost
// wake-up, step bound, exception) or when a trace property
// (harness/checks/trace_properties.hpp, shared with the property tests) fails:
//  - fairness: a task placed on a worker is polled within the bound of the
//    property tests (multi-thread runs; only where the scenario's own online
//    "fairness" check is off, e.g. the generated scenarios);
//  - queue_model: on one worker, polls follow the queues as the design says (the
//    local queue is FIFO, overflow moves the newest half, batches come from the
//    head of the injection queue);
//  - dump_hold: no worker that arrived at a dump round polls while its leader
//    collects.
// --memory-model c11 runs every scenario under the C11 model (stale reads); the
// report's "memory" column names what a failure needed: stale_read or data_race.
// Each run is forked, so a planted bug that corrupts memory is a finding (class
// crash), not the end of the zoo. For the same reason the teardown of a failed
// run is off here (RunConfig::teardown, docs/teardown.md): what a failed run
// keeps dies with its child, and tearing down an engine a planted bug corrupted
// would only turn the failure it was found by into a crash.
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "bug_hooks.hpp"  // the zoo targets' include path (engine/CMakeLists.txt)
#include "checks/trace_properties.hpp"
#include "weft/events.hpp"
#include "weft/harness/repro.hpp"
#include "weft/harness/runner.hpp"
#include "build_id.hpp"
#include "weft/harness/scenario.hpp"
#include "weft/sim/detail/heap.hpp"
#include "weft/sim/shrink.hpp"
#if defined(WEFT_ZOO_GENERATED)
#include "weft/harness/generator.hpp"
#endif

namespace {

using namespace weft::sim;
namespace fs = std::filesystem;

// ---- one run ----

struct Target {
  std::string label;  // scenario name and strategy
  Scenario sc;
  StrategySpec st;
};

struct Verdict {
  bool failed = false;
  std::string klass;    // outcome, "invariant <check>", "property <name>" or "crash"
  std::string message;
  std::string signature;  // what the shrinker keeps
  std::uint64_t decisions = 0;
  // memory: the failure's memory mechanism: "stale_read" (a c11 run whose failure
  // goes away when the same schedule replays with every load reading the newest
  // store: needs_stale_read, whatever the outcome), else "data_race" (the race
  // detector's outcome), else empty (an interleaving alone shows it).
  std::string memory;
};

// g_no_check names the checks left out (--no-check): removed from every target's
// scenario, and "fairness" from the trace properties too.
std::vector<std::string> g_no_check;

// judge turns a run into a verdict: outcome first, then the trace properties.
Verdict judge(const Scenario& sc, const RunReport& r) {
  Verdict v;
  v.decisions = r.result.steps;
  if (r.result.outcome != Outcome::pass) {
    v.failed = true;
    v.klass = outcome_name(r.result.outcome);
    v.message = r.result.message;
    const std::string inv = "invariant ";
    auto p = v.message.find(inv);
    if (r.result.outcome == Outcome::assertion && p != std::string::npos) {
      std::string rest = v.message.substr(p + inv.size());
      v.klass = "invariant " + rest.substr(0, rest.find(':'));
    }
    v.signature = failure_signature(r.result.outcome, r.result.message);
    return v;
  }
  const bool fairness = std::find(g_no_check.begin(), g_no_check.end(), "fairness") == g_no_check.end();
  const PropertyViolation broken = check_trace_properties(sc, r, fairness);
  const std::string why = broken.message;
  if (!why.empty()) v.klass = "property " + broken.property;
  if (!why.empty()) {
    v.failed = true;
    v.message = why;
    v.signature = v.klass;
  }
  return v;
}

// in_child runs fn in a forked child and returns its verdict; a child that dies
// by a signal is a crash. The parent keeps no state the run could corrupt.
Verdict in_child(const std::function<Verdict()>& fn) {
  int fds[2];
  if (pipe(fds) != 0) {
    std::perror("bugzoo: pipe");
    std::exit(2);
  }
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid < 0) {
    std::perror("bugzoo: fork");
    std::exit(2);
  }
  if (pid == 0) {
    close(fds[0]);
    Verdict v = fn();
    nlohmann::json j = {{"failed", v.failed}, {"class", v.klass}, {"message", v.message},
                        {"signature", v.signature}, {"decisions", v.decisions}, {"memory", v.memory}};
    std::string s = j.dump();
    for (std::size_t off = 0; off < s.size();) {
      ssize_t n = write(fds[1], s.data() + off, s.size() - off);
      if (n <= 0) break;
      off += static_cast<std::size_t>(n);
    }
    close(fds[1]);
    std::fflush(nullptr);
    _exit(0);
  }
  close(fds[1]);
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  Verdict v;
  if (WIFSIGNALED(status) || out.empty()) {
    v.failed = true;
    v.klass = "crash";
    v.message = WIFSIGNALED(status) ? "the run died of signal " + std::to_string(WTERMSIG(status))
                                    : "the run exited without a verdict";
    v.signature = "crash";
    return v;
  }
  auto j = nlohmann::json::parse(out);
  v.failed = j["failed"];
  v.klass = j["class"];
  v.message = j["message"];
  v.signature = j["signature"];
  v.decisions = j["decisions"];
  v.memory = j["memory"];
  return v;
}

// g_race_detection is --no-race-detection's opposite: with it off the zoo shows
// which bugs only the happens-before check finds.
bool g_race_detection = true;
// g_memory_model is --memory-model: the model every scenario runs under ("sc" or
// "c11"), or empty for each scenario's own.
std::string g_memory_model;
// g_earlier_checks_only leaves out no_leak's exact count and the livelock oracle
// (--earlier-checks-only): what the checks before them find of a bug.
bool g_earlier_checks_only = false;

RunConfig config_for(const Target& t, std::uint64_t seed) {
  RunConfig cfg;
  cfg.teardown = false;  // forked: the child's end frees what a failed run keeps
  cfg.race_detection = g_race_detection;
  if (g_earlier_checks_only) {
    cfg.check_held = false;
    cfg.livelock_decisions = 0;
  }
  cfg.seed = seed;
  cfg.strategy = t.st;
  cfg.keep_trace = true;
  cfg.record_schedule = true;
  return cfg;
}

// needs_stale_read says whether the failure of a c11 run (its recorded schedule
// `failing`, its signature `signature`) needs one of its stale reads: a lenient
// replay of the same schedule with every memory draw reading the newest store
// (Schedule::reads_listed, none listed) does not fail the same way.
bool needs_stale_read(const Target& t, std::uint64_t seed, const Schedule& failing, const std::string& signature) {
  if (t.sc.memory_model != "c11" || count_stale_reads(failing) == 0) return false;
  Schedule newest = failing;
  newest.reads_listed = true;
  newest.reads.clear();
  RunConfig cfg = config_for(t, seed);
  cfg.strategy = StrategySpec::lenient(newest);
  const Verdict v = judge(t.sc, run_scenario(t.sc, cfg));
  return !v.failed || v.signature != signature;
}

Verdict run_target(weft::Bug bug, const Target& t, std::uint64_t seed) {
  return in_child([&] {
    weft::active_bug = bug;
    const RunReport r = run_scenario(t.sc, config_for(t, seed));
    Verdict v = judge(t.sc, r);
    if (v.failed && needs_stale_read(t, seed, r.result.schedule, v.signature)) v.memory = "stale_read";
    if (v.failed && v.memory.empty() && r.result.outcome == Outcome::data_race) v.memory = "data_race";
    return v;
  });
}

// shrink runs in a child (the bug may crash the shrinker's runs too); each
// candidate schedule runs in a grandchild. Returns the sizes before and after:
// decisions of the run, explicit switches of the schedule.
struct Shrunk {
  std::uint64_t before = 0, after = 0, runs = 0;
  std::uint64_t switches_before = 0, switches_after = 0;
  std::uint64_t stale_before = 0, stale_after = 0;  // stale reads (ScheduleSize::stale_reads)
  double seconds = 0;
  bool reproduced = false;
  std::string file;
};

Shrunk shrink(weft::Bug bug, const Target& t, std::uint64_t seed, const std::string& signature, double seconds,
              const std::string& repro_path) {
  Shrunk out;
  const auto start = std::chrono::steady_clock::now();
  Verdict v = in_child([&]() -> Verdict {
    weft::active_bug = bug;
    RunConfig cfg = config_for(t, seed);
    RunReport first = run_scenario(t.sc, cfg);
    ScheduleSize size{first.result.schedule.decisions.size(), count_switches(first.result.schedule),
                      first.result.preemptions, first.result.steps};
    auto probe = [&](const Schedule& s) {
      Probe p;
      Verdict c = in_child([&] {
        RunConfig lc = cfg;
        lc.strategy = StrategySpec::lenient(s);
        return judge(t.sc, run_scenario(t.sc, lc));
      });
      p.signature = c.failed ? c.signature : "pass";
      p.steps = c.decisions;
      return p;
    };
    ShrinkOptions opts;
    opts.max_seconds = seconds;
    ShrinkResult res = shrink_schedule(first.result.schedule, size, probe, opts);
    if (res.reproduced && !repro_path.empty()) {
      Repro rp = repro_of(t.sc, cfg, first);
      rp.schedule = res.schedule;
      rp.before = res.before;
      rp.after = res.after;
      rp.signature = signature;
      std::string err;
      save_repro(repro_path, rp, err);
    }
    Verdict r;
    r.failed = res.reproduced;
    r.message = std::to_string(res.before.steps) + " " + std::to_string(res.after.steps) + " " +
                std::to_string(res.runs) + " " + std::to_string(res.before.switches) + " " +
                std::to_string(res.after.switches) + " " + std::to_string(res.before.stale_reads) + " " +
                std::to_string(res.after.stale_reads);
    return r;
  });
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (v.klass == "crash") return out;
  out.reproduced = v.failed;
  unsigned long long n[7] = {};
  std::sscanf(v.message.c_str(), "%llu %llu %llu %llu %llu %llu %llu", &n[0], &n[1], &n[2], &n[3], &n[4], &n[5], &n[6]);
  out.before = n[0];
  out.after = n[1];
  out.runs = n[2];
  out.switches_before = n[3];
  out.switches_after = n[4];
  out.stale_before = n[5];
  out.stale_after = n[6];
  if (out.reproduced) out.file = repro_path;
  return out;
}

// ---- exploration ----

std::vector<Scenario> load_dir(const fs::path& dir) {
  std::vector<fs::path> files;
  if (fs::is_directory(dir)) {
    for (auto& e : fs::directory_iterator(dir)) {
      if (e.path().extension() == ".json") files.push_back(e.path());
    }
  }
  std::sort(files.begin(), files.end());
  std::vector<Scenario> out;
  for (auto& f : files) {
    ScenarioError err;
    auto sc = load_scenario(f.string(), err);
    if (!sc) {
      std::fprintf(stderr, "bugzoo: %s\n", err.message().c_str());
      std::exit(8);
    }
    if (sc->expect == "pass") out.push_back(std::move(*sc));
  }
  return out;
}

// g_default_exploration is --default-exploration: each scenario runs once per seed,
// under its own exploration (strategy_of), instead of under all three strategies.
bool g_default_exploration = false;

// label_at names the strategy target t ran at seed s: under the default
// exploration, the seed's own (the one its replay line names).
std::string label_at(const Target& t, std::uint64_t s) {
  if (t.st.kind != StrategySpec::Kind::mixed) return t.label;
  return t.sc.name + " (" + t.st.for_seed(s).label() + ")";
}

// targets_of pairs every scenario with random walk, PCT and hold. PCT draws its change
// points from [1, k], with k the length of a bug-free random run of the scenario
// (measured once here: letting the simulator estimate k runs the scenario twice
// in one Simulation, and the runner's recorder would see both runs' events).
std::vector<Target> targets_of(const std::vector<Scenario>& scenarios) {
  std::vector<Target> out;
  if (g_default_exploration) {
    for (const Scenario& sc : scenarios) out.push_back({sc.name + " (default)", sc, strategy_of(sc)});
    return out;
  }
  for (const Scenario& sc : scenarios) {
    Target rnd{sc.name + " (random)", sc, StrategySpec::random()};
    Verdict v = run_target(weft::Bug::none, rnd, 0);
    out.push_back(rnd);
    out.push_back({sc.name + " (pct:3)", sc, StrategySpec::pct(3, std::max<std::uint64_t>(v.decisions, 100))});
    out.push_back({sc.name + " (hold)", sc, StrategySpec::hold()});
  }
  return out;
}

#if defined(WEFT_ZOO_GENERATED)
// generated draws the property tests' scenario for seed s, with the checks of
// their ExactlyOnce property plus no_leak and lost_parallelism (metrics_match_trace
// is left out, as the property tests do without the no_blocking and no_spawn_race
// knobs).
Target generated(std::uint64_t s) {
  auto c = property::gen_case(property::Knobs{})(rc::Random(s * 0x9e3779b97f4a7c15ull + 1), 50).value();
  c.sc.name = "generated";
  c.sc.checks = {"exactly_once", "no_leak", "lost_parallelism"};
  for (const std::string& off : g_no_check) std::erase(c.sc.checks, off);
  if (!g_memory_model.empty()) c.sc.memory_model = g_memory_model;
  if (g_default_exploration) return {"property generator (default)", c.sc, StrategySpec::mixed()};
  return {"property generator (random)", c.sc, StrategySpec::random()};
}
#endif

struct Finding {
  std::string bug;
  std::vector<std::string> all;  // the control: every failing target and seed
  bool found = false;
  std::string by, klass, message, memory;
  std::uint64_t seeds = 0, seed = 0, runs = 0;
  double seconds = 0;
  Shrunk shrunk;
};

Finding explore(weft::Bug bug, const std::vector<Target>& targets, std::uint64_t budget, bool use_generated,
                double shrink_seconds, const std::string& repro_dir, bool verbose, bool collect = false) {
  Finding f;
  f.bug = std::string(weft::kBugNames[static_cast<std::size_t>(bug)]);
  auto t0 = std::chrono::steady_clock::now();
  for (std::uint64_t s = 0; s < budget && (collect || !f.found); ++s) {
    std::vector<Target> round = targets;
#if defined(WEFT_ZOO_GENERATED)
    if (use_generated) round.push_back(generated(s));
#else
    (void)use_generated;
#endif
    for (const Target& t : round) {
      ++f.runs;
      Verdict v = run_target(bug, t, s);
      if (!v.failed) continue;
      if (collect) {
        f.all.push_back(label_at(t, s) + " seed " + std::to_string(s) + ": " + v.klass + ": " + v.message);
        if (verbose) std::fprintf(stderr, "  %s\n", f.all.back().c_str());
        if (f.found) continue;
      }
      f.found = true;
      f.seeds = s + 1;
      f.seed = s;
      f.by = label_at(t, s);
      f.klass = v.klass;
      f.memory = v.memory;
      f.message = v.message;
      f.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (verbose) std::fprintf(stderr, "  %s: found at seed %llu by %s: %s: %s\n", f.bug.c_str(),
                                static_cast<unsigned long long>(s), f.by.c_str(), v.klass.c_str(), v.message.c_str());
      if (shrink_seconds > 0 && bug != weft::Bug::none) {
        std::string path = repro_dir.empty() ? "" : repro_dir + "/" + f.bug + ".repro.json";
        f.shrunk = shrink(bug, t, s, v.signature, shrink_seconds, path);
      }
      if (!collect) break;
    }
  }
  if (!f.found) f.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return f;
}

// ---- reports ----

std::string json_report(const std::vector<Finding>& fs, std::uint64_t budget, const Finding& control) {
  nlohmann::ordered_json j;
  j["budget_seeds"] = budget;
  j["control"] = {{"bug", "none"}, {"found", control.found}, {"seeds", control.runs ? control.seeds : 0},
                  {"runs", control.runs}, {"message", control.message}};
  auto& bugs = j["bugs"] = nlohmann::ordered_json::array();
  for (const Finding& f : fs) {
    nlohmann::ordered_json b;
    b["name"] = f.bug;
    b["found"] = f.found;
    b["by"] = f.found ? nlohmann::ordered_json(f.by) : nlohmann::ordered_json(nullptr);
    b["class"] = f.found ? nlohmann::ordered_json(f.klass) : nlohmann::ordered_json(nullptr);
    b["memory"] = f.found && !f.memory.empty() ? nlohmann::ordered_json(f.memory) : nlohmann::ordered_json(nullptr);
    b["seeds_to_find"] = f.found ? nlohmann::ordered_json(f.seeds) : nlohmann::ordered_json(nullptr);
    b["seconds_to_find"] = std::round(f.seconds * 100) / 100;
    auto shrunk = [&f](auto value) { return f.shrunk.reproduced ? nlohmann::ordered_json(value) : nlohmann::ordered_json(nullptr); };
    b["shrunk_decisions"] = shrunk(f.shrunk.after);  // decisions of the shrunk run
    b["decisions_before_shrink"] = shrunk(f.shrunk.before);
    b["shrunk_switches"] = shrunk(f.shrunk.switches_after);  // explicit switches of the shrunk schedule
    b["switches_before_shrink"] = shrunk(f.shrunk.switches_before);
    b["stale_reads_before_shrink"] = shrunk(f.shrunk.stale_before);
    b["shrunk_stale_reads"] = shrunk(f.shrunk.stale_after);
    b["shrink_runs"] = shrunk(f.shrunk.runs);
    b["shrink_seconds"] = shrunk(std::round(f.shrunk.seconds * 100) / 100);
    b["seed"] = f.found ? nlohmann::ordered_json(f.seed) : nlohmann::ordered_json(nullptr);
    b["runs"] = f.runs;
    b["message"] = f.message;
    b["repro"] = f.shrunk.file;
    bugs.push_back(b);
  }
  return j.dump(2) + "\n";
}

std::string md_report(const std::vector<Finding>& fs, std::uint64_t budget, const Finding& control,
                      const std::string& command) {
  const std::string per_seed =
      g_default_exploration
          ? "every zoo and shipped scenario once, under its own exploration as `simrun SCENARIO --seed s` runs it (the "
            "default exploration: random, pct:1, pct:2, pct:3 or hold by s mod 5, unless the scenario pins one), plus "
            "one scenario from the property-test generator under the default exploration"
          : "every zoo and shipped scenario under random walk, PCT (depth 3) and hold, plus one scenario from the "
            "property-test generator under random walk";
  std::string s = "# Bug zoo\n\nGenerated by `" + command +
                  "`. Each planted bug (engine/src/zoo/bug_hooks.hpp) runs against the exploration: per seed s, " +
                  per_seed + ". Budget: " + std::to_string(budget) + " seeds per bug. Memory model: " +
                  (g_memory_model.empty() ? std::string("each scenario's own (c11 unless it names sc)") : g_memory_model) +
                  (g_race_detection ? ", race detection on" : ", race detection off") + ". Built by " +
                  weft::build_id::identity() + ".\n\n";
  s += "| bug | found | by | class | memory | seeds | seconds | decisions before shrink | shrunk decisions | switches before "
       "shrink | shrunk switches |\n";
  s += "|---|---|---|---|---|---:|---:|---:|---:|---:|---:|\n";
  std::vector<std::uint64_t> seeds;
  for (const Finding& f : fs) {
    char secs[32];
    std::snprintf(secs, sizeof secs, "%.2f", f.seconds);
    s += "| " + f.bug + " | " + (f.found ? "yes" : "**no**") + " | " + (f.found ? f.by : "-") + " | " +
         (f.found ? f.klass : "-") + " | " + (f.found && !f.memory.empty() ? f.memory : "-") + " | " + (f.found ? std::to_string(f.seeds) : "> " + std::to_string(budget)) +
         " | " + secs + " | " + (f.shrunk.reproduced ? std::to_string(f.shrunk.before) : "-") + " | " +
         (f.shrunk.reproduced ? std::to_string(f.shrunk.after) : "-") + " | " +
         (f.shrunk.reproduced ? std::to_string(f.shrunk.switches_before) : "-") + " | " +
         (f.shrunk.reproduced ? std::to_string(f.shrunk.switches_after) : "-") + " |\n";
    seeds.push_back(f.found ? f.seeds : UINT64_MAX);
  }
  std::sort(seeds.begin(), seeds.end());
  std::uint64_t found = std::count_if(fs.begin(), fs.end(), [](const Finding& f) { return f.found; });
  s += "\nFound " + std::to_string(found) + " of " + std::to_string(fs.size()) + " planted bugs";
  if (!seeds.empty()) {
    std::uint64_t med = seeds[(seeds.size() - 1) / 2];
    s += "; median seeds to find: " + (med == UINT64_MAX ? std::string("not found") : std::to_string(med));
  }
  s += ".\n\nControl (no bug planted): " +
       (control.found ? "**FOUND A FAILURE** at seed " + std::to_string(control.seed) + " by " + control.by + ": " +
                            control.klass + ": " + control.message
                      : std::string("nothing found in ") + std::to_string(control.runs) + " runs") +
       ".\n\nFirst failure of each bug:\n\n";
  for (const Finding& f : fs) {
    if (f.found) s += "- **" + f.bug + "** (seed " + std::to_string(f.seed) + ", " + f.by + "): " + f.message + "\n";
  }
  return s;
}

// replay runs a reproduction file that bugzoo wrote (under --out, bugzoo/) with
// `bug` planted, judged as the exploration judges, and says whether the same
// failure came back: exit 0 if so, 1 if not, 8 for an unreadable file.
int replay(const std::string& file, weft::Bug bug) {
  std::string error;
  const std::optional<Repro> rp = load_repro(file, error);
  if (!rp) {
    std::fprintf(stderr, "bugzoo: %s\n", error.c_str());
    return 8;
  }
  const Verdict v = in_child([&] {
    weft::active_bug = bug;
    return judge(rp->scenario, replay_repro(*rp, true, 0, false));
  });
  const bool same = v.failed && v.signature == rp->signature;
  std::printf("%s: %s (%s)%s%s\n", file.c_str(), same ? "reproduced" : "NOT reproduced",
              rp->scenario.memory_model.c_str(), v.failed ? ": " : "", v.failed ? (v.klass + ": " + v.message).c_str() : "");
  return same ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bugzoo: run every planted engine bug against the default exploration and report what finds it"};
  std::uint64_t budget = 100, control_budget = 0;
  std::vector<std::string> only, excluded, known_miss, skipped;
  std::string scenarios_dir = "scenarios", out_dir = "reports";
  double shrink_seconds = 30;
  bool check = false, no_generated = false, quiet = false;
  app.add_option("--budget", budget, "seeds per bug (default 100)");
  app.add_option("--control-budget", control_budget, "seeds for the no-bug control (default: --budget)");
  // A bug's name must be a planted bug's (a misspelt one would select nothing and pass).
  const std::vector<std::string> planted(std::begin(weft::kBugNames) + 1, std::end(weft::kBugNames));
  app.add_option("--bug", only, "run only these bugs (repeatable)")->check(CLI::IsMember(planted));
  app.add_option("--skip-bug", skipped, "leave these bugs out (repeatable): e.g. the stale-read ones in an sc run")
      ->check(CLI::IsMember(planted));
  app.add_option("--known-miss", known_miss, "with --check: these bugs may go unfound (reported, not failed)")
      ->check(CLI::IsMember(planted));
  bool list = false;
  app.add_flag("--list", list, "print the planted bugs' names, one per line, and exit");
  app.add_option("--exclude", excluded, "leave out these scenarios, by name (repeatable)");
  app.add_option("--no-check", g_no_check, "leave this check out of every scenario (repeatable), to show what finds a bug without it");
  app.add_option("--scenarios", scenarios_dir, "the scenarios folder (default scenarios; zoo/ inside it too)");
  app.add_option("--out", out_dir, "where bugzoo.md, bugzoo.json and the reproductions go (default reports; '' for none)");
  app.add_option("--shrink-seconds", shrink_seconds, "shrink budget per bug, 0 to skip shrinking (default 30)");
  app.add_flag("--check", check, "exit 1 unless every bug is found and the control finds nothing");
  app.add_flag("--no-generated", no_generated, "leave out the property-test generator");
  app.add_flag("--quiet", quiet, "no progress lines");
  bool no_race_detection = false;
  app.add_flag("--no-race-detection", no_race_detection,
               "run without the happens-before check on Cells (data races go unseen)");
  bool no_report = false;
  app.add_flag("--no-report", no_report, "write no report and no reproductions (same as --out '')");
  app.add_flag("--default-exploration", g_default_exploration,
               "run each scenario once per seed under its own exploration (the default: a strategy by seed mod 5) "
               "instead of under random walk, PCT and hold; reports go to bugzoo-default.md and .json");
  app.add_flag("--earlier-checks-only", g_earlier_checks_only,
               "leave out no_leak's exact count and the livelock oracle, to show what the other checks find");
  app.add_option("--memory-model", g_memory_model,
                 "sc or c11: every scenario runs under it (default: each scenario's own, c11 unless it says)")
      ->check(CLI::IsMember({"sc", "c11"}));
  std::string replay_file;
  app.add_option("--replay", replay_file,
                 "replay this reproduction file (one that bugzoo wrote) with the one --bug planted; exit 0 if it fails as recorded");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "bugzoo: %s (see bugzoo --help)\n", e.what());
    return 9;  // a usage error, as simrun's
  }
  // A bug only the heap count can find is left out where there is none (an
  // AddressSanitizer build keeps ASan's operator new: weft/sim/detail/heap.hpp):
  // --list omits it and a run of every bug skips it, saying so.
  auto needs_heap_count = [](const std::string& name) { return name == "queue_buffer_leaked"; };
  const bool heap_counted = weft::sim::detail::heap_counting();
  if (list) {
    for (const std::string& name : planted) {
      if (heap_counted || !needs_heap_count(name)) std::printf("%s\n", name.c_str());
    }
    return 0;
  }
  if (!replay_file.empty()) {
    const auto* name = only.size() == 1 ? std::find(std::begin(weft::kBugNames), std::end(weft::kBugNames), only[0])
                                        : std::end(weft::kBugNames);
    if (name == std::end(weft::kBugNames)) {
      std::fprintf(stderr, "bugzoo: --replay needs exactly one --bug, a planted bug's name\n");
      return 9;
    }
    return replay(replay_file, static_cast<weft::Bug>(name - std::begin(weft::kBugNames)));
  }
  g_race_detection = !no_race_detection;
  if (!control_budget) control_budget = budget;
  if (no_report) out_dir.clear();

  std::vector<Scenario> scenarios = load_dir(fs::path(scenarios_dir) / "zoo");
  for (Scenario& sc : load_dir(scenarios_dir)) scenarios.push_back(std::move(sc));
  std::erase_if(scenarios, [&](const Scenario& sc) {
    return std::find(excluded.begin(), excluded.end(), sc.name) != excluded.end();
  });
  for (Scenario& sc : scenarios) {
    for (const std::string& c : g_no_check) std::erase(sc.checks, c);
    if (!g_memory_model.empty()) sc.memory_model = g_memory_model;
  }
  const std::vector<Target> targets = targets_of(scenarios);
  std::string repro_dir;
  if (!out_dir.empty()) {
    repro_dir = out_dir + (g_default_exploration ? "/bugzoo-default" : "/bugzoo");
    fs::create_directories(repro_dir);
  }

  std::vector<Finding> findings;
  for (std::size_t i = 1; i < static_cast<std::size_t>(weft::Bug::count_); ++i) {
    const std::string name(weft::kBugNames[i]);
    if (!only.empty() && std::find(only.begin(), only.end(), name) == only.end()) continue;
    if (std::find(skipped.begin(), skipped.end(), name) != skipped.end()) continue;
    if (!heap_counted && needs_heap_count(name) && only.empty()) {
      std::fprintf(stderr, "bugzoo: %s left out: this build does not count the heap (AddressSanitizer)\n", name.c_str());
      continue;
    }
    if (!quiet) std::fprintf(stderr, "bugzoo: %s\n", name.c_str());
    findings.push_back(explore(static_cast<weft::Bug>(i), targets, budget, !no_generated, shrink_seconds, repro_dir, !quiet));
    const Finding& f = findings.back();
    std::printf("%-28s %s", name.c_str(), f.found ? "found" : "NOT FOUND");
    if (f.found) {
      std::printf(" after %llu seeds (%.2f s) by %s: %s%s", static_cast<unsigned long long>(f.seeds), f.seconds,
                  f.by.c_str(), f.klass.c_str(), f.memory.empty() ? "" : (" (" + f.memory + ")").c_str());
      if (f.shrunk.reproduced) {
        std::printf("; shrunk %llu -> %llu decisions, %llu -> %llu switches, %llu -> %llu stale reads (%llu runs, %.2f s)",
                    static_cast<unsigned long long>(f.shrunk.before), static_cast<unsigned long long>(f.shrunk.after),
                    static_cast<unsigned long long>(f.shrunk.switches_before),
                    static_cast<unsigned long long>(f.shrunk.switches_after),
                    static_cast<unsigned long long>(f.shrunk.stale_before),
                    static_cast<unsigned long long>(f.shrunk.stale_after),
                    static_cast<unsigned long long>(f.shrunk.runs), f.shrunk.seconds);
      }
    }
    std::printf("\n");
    std::fflush(stdout);
  }
  if (!quiet) std::fprintf(stderr, "bugzoo: control (no bug), %llu seeds\n", static_cast<unsigned long long>(control_budget));
  Finding control = explore(weft::Bug::none, targets, control_budget, !no_generated, 0, "", !quiet, true);
  std::printf("%-28s %s\n", "control (none)", control.found ? ("FOUND: " + control.klass + ": " + control.message).c_str()
                                                             : "nothing found");

  if (!out_dir.empty() && only.empty() && skipped.empty()) {
    std::string command = "tools/bugzoo --budget " + std::to_string(budget) +
                          (g_memory_model.empty() ? "" : " --memory-model " + g_memory_model);
    std::string base = out_dir + "/bugzoo";
    if (g_default_exploration) {
      command += " --default-exploration";
      base += "-default";
    }
    std::ofstream(base + ".json") << json_report(findings, budget, control);
    std::ofstream(base + ".md") << md_report(findings, budget, control, command);
    std::printf("wrote %s.md and %s.json\n", base.c_str(), base.c_str());
  }
  if (!check) return 0;
  bool ok = !control.found;
  for (const Finding& f : findings) {
    ok = ok && (f.found || std::find(known_miss.begin(), known_miss.end(), f.bug) != known_miss.end());
  }
  return ok ? 0 : 1;
}
