// simrun: runs a scenario on the simulated engine, once or over many seeds, and
// reports the outcome with the one line that replays it.
#include <unistd.h>

#include <cmath>
#include <new>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "weft/harness/repro.hpp"
#include "weft/harness/runner.hpp"
#include "weft/harness/scenario.hpp"
#include "weft/sim/json_input.hpp"
#include "weft/sim/simulator.hpp"
#include "build_id.hpp"
#include "report/run_report.hpp"
#include "sweeps/sweep.hpp"

namespace {

using namespace weft::sim;

// Exit codes beyond the outcomes (0 to 6, and 10 on): 7 to 9.
constexpr int kExitExpectedFailureNotObserved = 7;
constexpr int kExitBadScenario = 8;
constexpr int kExitUsage = 9;
static_assert(static_cast<int>(Outcome::resource_limit) == 14, "exit code 14 is the memory budget's");
static_assert(
    [] {
      for (const weft::sim::OutcomeInfo& o : weft::sim::kOutcomes) {
        const int code = static_cast<int>(o.outcome);
        if (code >= kExitExpectedFailureNotObserved && code <= kExitUsage) return false;
      }
      return true;
    }(),
    "exit codes 7 to 9 are simrun's own, never an outcome's");

// Limits of the command line's numbers (a scenario's own are in scenarios/README.md).
constexpr std::uint64_t kStepBoundMax = 1'000'000'000;     // as $.exploration.step_bound
constexpr std::uint64_t kLivelockDecisionsMax = 1'000'000'000;  // as $.exploration.livelock_decisions
constexpr std::uint64_t kLostParallelismBoundMax = 1'000'000'000;  // polls of the holders
constexpr std::uint64_t kMetricsEveryMax = 3'600'000'000'000ull;  // one virtual hour
constexpr double kShrinkSecondsMax = 86'400;
constexpr std::uint64_t kMemoryLimitDefault = std::uint64_t{4} << 30;
constexpr std::uint64_t kMemoryLimitMin = std::uint64_t{64} << 20;
constexpr std::uint64_t kMemoryLimitMax = std::uint64_t{1} << 50;  // 1 PiB: far above any machine, no overflow
constexpr std::size_t kUsageShownMax = 600;  // bytes of a usage error shown

// exit_codes is simrun --help's list: the outcomes (sim::kOutcomes) and simrun's own 7 to 9.
std::string exit_codes() {
  std::string s = "Exit codes:\n";
  const auto line = [&s](int code, std::string_view text) {
    s += (code < 10 ? "  " : " ") + std::to_string(code) + "  " + std::string(text) + "\n";
  };
  bool tools_listed = false;
  for (const weft::sim::OutcomeInfo& o : weft::sim::kOutcomes) {
    const int code = static_cast<int>(o.outcome);
    if (code > kExitUsage && !tools_listed) {
      line(kExitExpectedFailureNotObserved, "the scenario expects a failure and no run showed it");
      line(kExitBadScenario, "the scenario file (or the reproduction file of simrun repro) is malformed or absurd");
      line(kExitUsage, "usage error (a bad flag or value, a bad --strategy replay: file, an unwritable output)");
      tools_listed = true;
    }
    line(code, std::string(o.name) + ": " + std::string(o.help));
  }
  s += "Limits: scenario files 4 MiB, schedule and reproduction files 64 MiB, JSON nested 64 deep;\n"
       "  --step-bound 1 to 1e9, --memory-limit from 64M (default 4G).\n";
  return s;
}

struct Cli {
  std::string scenario;
  std::optional<std::uint64_t> seed;
  std::string seed_text;
  std::string seeds;
  std::uint64_t runs = 0;
  std::string runs_text;
  std::string strategy;
  std::uint64_t step_bound = 0;
  std::optional<std::uint64_t> livelock_decisions;
  std::string livelock_decisions_text;
  std::optional<std::uint64_t> parallelism_bound;
  std::string parallelism_bound_text;
  std::string step_bound_text;
  std::string record;
  std::string trace;
  std::string trace_format = "weft";
  bool json = false;
  bool check_determinism = false;
  bool collect = false;
  bool quiet = false;
  bool no_race_detection = false;
  bool no_teardown = false;
  std::string memory_model;  // --memory-model: overrides the scenario's
  std::string history_depth;  // --history-depth (empty: the scenario's)
  bool shrink = false;
  std::string out;
  double shrink_seconds = 120;
  std::string shrink_seconds_text;
  std::uint64_t metrics_every_ns = 0;
  std::vector<std::string> no_check;
  std::string metrics_every_text;
  std::uint64_t memory_limit_bytes = kMemoryLimitDefault;
  std::string memory_limit_text;
  std::string shard;    // --shard I/N or auto/N
  std::string summary;  // --summary FILE: the sweep's summary (weft-sweep JSON)
  std::string report;   // --report FILE.html: the run's (or the sweep's) HTML report
  std::string weaken_order_text;  // --weaken-order FILE:LINE[/failure]=ORDER
  std::optional<weft::sim::OrderWeakening> weaken_order;
  std::string order_sites;  // --order-sites FILE: the census of every run, merged
};

// What every run of this invocation did to order sites: the census merged over
// the runs (--order-sites) and the operations --weaken-order changed.
std::vector<weft::sim::OrderSite> g_order_sites;
std::uint64_t g_orders_weakened = 0;

void note_orders(const RunReport& r) {
  weft::sim::merge_order_sites(g_order_sites, r.result.order_sites);
  g_orders_weakened += r.result.orders_weakened;
}

[[noreturn]] void usage_error(const std::string& msg) {
  // Shortened: a flag's value (a megabyte-long path) cannot flood the terminal.
  std::fprintf(stderr, "simrun: %s (see simrun --help)\n", shortened(printable(msg), kUsageShownMax).c_str());
  std::exit(kExitUsage);
}

// parse_u64 reads a decimal integer in [lo, hi] strictly: no sign, no space, no
// wrap-around (CLI11 would read -1 as 2^64-1).
std::uint64_t parse_u64(const std::string& s, const char* what, std::uint64_t lo = 0,
                        std::uint64_t hi = UINT64_MAX) {
  const std::string range = "an integer from " + std::to_string(lo) + " to " + std::to_string(hi);
  if (s.empty() || s.size() > 20 || s.find_first_not_of("0123456789") != std::string::npos)
    usage_error(std::string(what) + ": expected " + range + ", got '" + s + "'");
  std::uint64_t v = 0;
  for (char c : s) {
    const auto d = static_cast<std::uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) usage_error(std::string(what) + ": expected " + range + ", got '" + s + "' (too large)");
    v = v * 10 + d;
  }
  if (v < lo || v > hi) usage_error(std::string(what) + ": expected " + range + ", got " + s);
  return v;
}

// parse_seconds reads a finite, non-negative number of seconds.
double parse_seconds(const std::string& s, const char* what, double hi) {
  char* end = nullptr;
  const double v = s.empty() ? NAN : std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(v) || v < 0 || v > hi)
    usage_error(std::string(what) + ": expected seconds from 0 to " + std::to_string(static_cast<long long>(hi)) +
                ", got '" + s + "'");
  return v;
}

// parse_bytes reads a size: an integer of bytes with an optional K, M or G (powers
// of 1024), from `lo` to kMemoryLimitMax. Errors say the unit of what was read.
std::uint64_t parse_bytes(const std::string& s, const char* what, std::uint64_t lo) {
  const std::string expected = std::string(what) + ": expected a size from " + std::to_string(lo >> 20) + "M to " +
                               std::to_string(kMemoryLimitMax >> 30) + "G (bytes, or a number with K, M or G: 512M, 4G)";
  if (s.empty()) usage_error(expected + ", got ''");
  std::string digits = s;
  unsigned shift = 0;
  if (digits.back() == 'K' || digits.back() == 'M' || digits.back() == 'G') {
    shift = digits.back() == 'K' ? 10 : digits.back() == 'M' ? 20 : 30;
    digits.pop_back();
  }
  if (digits.empty() || digits.size() > 19 || digits.find_first_not_of("0123456789") != std::string::npos)
    usage_error(expected + ", got '" + s + "'");
  const std::uint64_t n = std::stoull(digits);  // at most 19 digits: no overflow
  if (n > (kMemoryLimitMax >> shift)) usage_error(expected + ", got '" + s + "' (more than " + std::to_string(kMemoryLimitMax >> 30) + "G)");
  const std::uint64_t bytes = n << shift;
  if (bytes < lo) {
    usage_error(expected + ", got '" + s + "' (" +
                (shift == 0 ? std::to_string(bytes) + " bytes" : std::to_string(bytes >> 10) + " KiB") + ")");
  }
  return bytes;
}

// check_output refuses, before any run, an output path that cannot be written:
// a directory, a missing folder (unless `create_folders`), a read-only place.
void check_output(const std::string& path, const char* flag, bool create_folders) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path p(path);
  if (path.empty()) usage_error(std::string(flag) + ": expected a file name, got ''");
  if (fs::is_directory(p, ec)) usage_error(std::string(flag) + ": '" + path + "' is a directory, expected a file");
  if (fs::exists(p, ec)) {
    if (access(path.c_str(), W_OK) != 0) usage_error(std::string(flag) + ": cannot write '" + path + "' (not writable)");
    return;
  }
  fs::path folder = p.parent_path().empty() ? fs::path(".") : p.parent_path();
  if (create_folders) {
    while (!fs::exists(folder, ec) && folder.has_parent_path() && folder != folder.parent_path()) folder = folder.parent_path();
  }
  if (!fs::is_directory(folder, ec))
    usage_error(std::string(flag) + ": cannot write '" + path + "': the folder '" + folder.string() + "' does not exist");
  if (access(folder.c_str(), W_OK) != 0)
    usage_error(std::string(flag) + ": cannot write '" + path + "': the folder '" + folder.string() + "' is not writable");
}

// same_file says whether two paths name one file: by std::filesystem::equivalent
// when both exist (links, `./x`, symlinks), else by where they would be created.
bool same_file(const std::string& a, const std::string& b) {
  namespace fs = std::filesystem;
  std::error_code ec_a, ec_b;
  if (fs::exists(a, ec_a) && fs::exists(b, ec_b)) return fs::equivalent(a, b, ec_a) && !ec_a;
  const fs::path pa = fs::weakly_canonical(a, ec_a), pb = fs::weakly_canonical(b, ec_b);
  return !ec_a && !ec_b && pa == pb;
}

// check_distinct refuses, before any run, an output that would overwrite the
// input or another output: `files` pairs each flag (or "the scenario file") with its path.
void check_distinct(const std::vector<std::pair<std::string, std::string>>& files) {
  for (std::size_t i = 0; i < files.size(); ++i) {
    for (std::size_t j = i + 1; j < files.size(); ++j) {
      if (same_file(files[i].second, files[j].second))
        usage_error(files[j].first + ": '" + files[j].second + "' is the same file as " + files[i].first + " ('" +
                    files[i].second + "'), expected a file of its own");
    }
  }
}

StrategySpec parse_strategy(const std::string& s, const Scenario& sc) {
  if (s.empty()) return strategy_of(sc);
  if (s == "mixed") return StrategySpec::mixed();
  if (s == "random") return StrategySpec::random();
  if (s == "pct") return StrategySpec::pct(sc.pct_depth, 0);
  if (s == "hold") return StrategySpec::hold();
  if (s.rfind("pct:", 0) == 0) {
    std::uint64_t d = parse_u64(s.substr(4), "--strategy pct:D");
    if (d < 1 || d > 16) usage_error("--strategy pct:D: D must be from 1 to 16");
    return StrategySpec::pct(static_cast<std::uint32_t>(d), 0);  // 0: measure the run's length first
  }
  if (s.rfind("replay:", 0) == 0) {
    if (s.size() == 7) usage_error("--strategy replay:FILE: expected a file name after 'replay:', got ''");
    std::string err;
    auto sched = Schedule::load(s.substr(7), err);
    if (!sched) usage_error("--strategy " + s + ": " + err);
    if (!sched->switches.empty() || sched->decisions.empty())
      usage_error("--strategy " + s + ": a shrunk schedule (switches, or no decisions) replays only leniently, "
                  "from a reproduction: 'simrun SCENARIO --seed N --shrink' writes one, 'simrun repro FILE' runs it");
    return StrategySpec::replay(std::move(*sched));
  }
  usage_error("--strategy: expected mixed, random, pct:D, hold or replay:FILE, got '" + s + "'");
}

// run_options renders the flags that change a run besides the scenario, the seed
// and the strategy: the tail of a replay line, and what shards of one sweep share.
std::string run_options(const Cli& cli) {
  std::string line;
  if (cli.step_bound) line += " --step-bound " + std::to_string(cli.step_bound);
  if (cli.livelock_decisions) line += " --livelock-decisions " + std::to_string(*cli.livelock_decisions);
  if (cli.parallelism_bound) line += " --lost-parallelism-bound " + std::to_string(*cli.parallelism_bound);
  if (cli.no_race_detection) line += " --no-race-detection";
  if (!cli.memory_model.empty()) line += " --memory-model " + cli.memory_model;
  if (!cli.history_depth.empty()) line += " --history-depth " + cli.history_depth;
  if (cli.metrics_every_ns) line += " --metrics-every " + std::to_string(cli.metrics_every_ns);  // changes the schedule
  for (const std::string& c : cli.no_check) line += " --no-check " + c;
  if (cli.memory_limit_bytes != kMemoryLimitDefault) line += " --memory-limit " + shell_quote(cli.memory_limit_text);
  if (cli.weaken_order) line += " --weaken-order " + shell_quote(weft::sim::order_weakening_text(*cli.weaken_order));
  return line;
}

// strategy_text names a sweep's strategy; for the default exploration, with its cycle.
std::string strategy_text(const StrategySpec& st) {
  if (st.kind != StrategySpec::Kind::mixed) return st.label();
  std::string s = "mixed (by seed mod " + std::to_string(std::size(kMixedCycle)) + ":";
  for (std::size_t i = 0; i < std::size(kMixedCycle); ++i) s += (i ? ", " : " ") + st.for_seed(i).label();
  return s + ")";
}

// replay_line is the command that runs seed `seed` again: under the default
// exploration it names the seed's own strategy (pct:2, hold...), the same run.
std::string replay_line(const Cli& cli, const StrategySpec& st, std::uint64_t seed) {
  std::string line = "tools/simrun " + shell_quote(cli.scenario) + " --seed " + std::to_string(seed);
  if (st.kind != StrategySpec::Kind::replay) {
    line += " --strategy " + st.for_seed(seed).label();
  } else {
    line += " --strategy " + shell_quote(cli.strategy);  // the same recorded schedule
  }
  return line + run_options(cli);
}

// run_record is what a sweep's summary keeps of one run.
weft::sweep::RunRecord run_record(const Scenario& sc, const Cli& cli, const StrategySpec& st, std::uint64_t seed,
                                  const RunReport& r) {
  weft::sweep::RunRecord rec;
  const StrategySpec ran = st.for_seed(seed);  // counted under the seed's own strategy
  rec.seed = seed;
  rec.strategy = ran.label();
  rec.outcome = outcome_name(r.result.outcome);
  rec.expected = r.expected;
  rec.unexpected = !r.expected && !(sc.expect != "pass" && r.result.outcome == Outcome::pass);
  rec.steps = r.result.steps;
  rec.quiet = r.result.longest_quiet;
  rec.fibers = r.result.fibers;
  rec.pct_depth = ran.kind == StrategySpec::Kind::pct ? ran.pct_depth : 0;
  rec.pct_steps = r.result.pct_steps;
  rec.marks = r.stats.marks;
  rec.message = r.result.message;
  if (r.result.outcome != Outcome::pass) rec.replay = replay_line(cli, st, seed);
  return rec;
}

nlohmann::ordered_json report_json(const Scenario& sc, const Cli& cli, const StrategySpec& st, std::uint64_t seed,
                                   const RunReport& r) {
  nlohmann::ordered_json j;
  j["scenario"] = sc.name;
  j["seed"] = seed;
  j["strategy"] = st.for_seed(seed).label();
  j["outcome"] = outcome_name(r.result.outcome);
  j["expected"] = sc.expect;
  j["matches_expectation"] = r.expected;
  j["message"] = r.result.message;
  j["virtual_time_ns"] = r.result.virtual_time_ns;
  j["steps"] = r.result.steps;
  // PCT: the range [1, pct_steps] its change points were drawn from (0: the
  // measuring walk failed and ran instead); a run with more steps outlasted it.
  if (st.for_seed(seed).kind == StrategySpec::Kind::pct) j["pct_steps"] = r.result.pct_steps;
  j["context_switches"] = r.result.context_switches;
  j["preemptions"] = r.result.preemptions;
  j["longest_quiet"] = r.result.longest_quiet;
  j["tasks"] = r.stats.tasks_spawned;
  j["polls"] = r.stats.polls;
  j["steals"] = r.stats.steals;
  j["steal_operations"] = r.stats.steal_operations;
  j["overflows"] = r.stats.overflows;
  j["inject_pushes"] = r.stats.inject_pushes;
  j["inject_batches"] = r.stats.inject_batches;
  j["parks"] = r.stats.parks;
  j["timers_fired"] = r.stats.timers_fired;
  j["marks"] = r.stats.marks;
  j["progress"] = {{"stall_probes", r.stats.stall_probes},       {"fairness_windows", r.stats.fairness_windows},
                   {"fairness_censored", r.stats.fairness_censored}, {"fairness_worst", r.stats.fairness_worst},
                   {"fairness_bound", r.stats.fairness_bound},     {"budget_worst", r.stats.budget_worst},
                   {"parallelism_samples", r.stats.parallelism_samples},
                   {"parallelism_lost", r.stats.parallelism_lost},
                   {"parallelism_stretches", r.stats.parallelism_stretches},
                   {"parallelism_longest", r.stats.parallelism_longest},
                   {"parallelism_longest_decisions", r.stats.parallelism_longest_decisions},
                   {"parallelism_longest_ns", r.stats.parallelism_longest_ns}};
  if (!r.metrics_json.empty()) j["metrics"] = nlohmann::ordered_json::parse(r.metrics_json);
  if (r.result.outcome != Outcome::pass) j["replay"] = replay_line(cli, st, seed);
  return j;
}

void print_human(const Scenario& sc, const Cli& cli, const StrategySpec& st, std::uint64_t seed, const RunReport& r) {
  const auto& s = r.stats;
  std::printf("%s seed=%llu strategy=%s: %s (scenario expects %s)\n", printable(sc.name).c_str(),
              static_cast<unsigned long long>(seed), st.for_seed(seed).label().c_str(), outcome_name(r.result.outcome),
              sc.expect.c_str());
  if (!r.result.message.empty()) std::printf("  %s\n", printable(r.result.message).c_str());
  std::printf("  virtual time %.3f ms, %llu steps, %llu tasks, %llu polls, %llu steals in %llu operations, "
              "%llu overflows, %llu injection pushes, %llu parks\n",
              static_cast<double>(r.result.virtual_time_ns) / 1e6, static_cast<unsigned long long>(r.result.steps),
              static_cast<unsigned long long>(s.tasks_spawned), static_cast<unsigned long long>(s.polls),
              static_cast<unsigned long long>(s.steals), static_cast<unsigned long long>(s.steal_operations),
              static_cast<unsigned long long>(s.overflows), static_cast<unsigned long long>(s.inject_pushes),
              static_cast<unsigned long long>(s.parks));
  if (!s.marks.empty()) {
    std::printf("  marks:");
    for (auto& [k, v] : s.marks) std::printf(" %s=%llu", k.c_str(), static_cast<unsigned long long>(v));
    std::printf("\n");
  }
  if (!r.metrics_json.empty()) {
    // The runtime's own metrics at the end of the run, one line per worker.
    auto m = nlohmann::json::parse(r.metrics_json);
    std::printf("  metrics: %llu spawned, %llu alive, %llu budget-forced yields\n",
                m.value("spawned_tasks_count", 0ull), m.value("num_alive_tasks", 0ull),
                m.value("budget_forced_yield_count", 0ull));
    std::size_t i = 0;
    for (const auto& w : m["workers"]) {
      std::printf("    worker %zu: %llu polls, %llu stolen in %llu steals, %llu parks (%llu no-op), %llu overflows, "
                  "busy %.3f ms\n",
                  i++, w.value("poll_count", 0ull), w.value("steal_count", 0ull), w.value("steal_operations", 0ull),
                  w.value("park_count", 0ull), w.value("noop_count", 0ull), w.value("overflow_count", 0ull),
                  static_cast<double>(w.value("busy_duration_ns", 0ull)) / 1e6);
    }
  }
  if (cli.weaken_order)
    std::printf("  weakened: %llu operations ran with a weaker order (--weaken-order %s)\n",
                static_cast<unsigned long long>(r.result.orders_weakened),
                weft::sim::order_weakening_text(*cli.weaken_order).c_str());
  if (r.result.outcome != Outcome::pass) std::printf("  replay: %s\n", replay_line(cli, st, seed).c_str());
  if (r.result.outcome == Outcome::resource_limit)
    std::printf("  (raise --memory-limit, now %llu MiB, or lower the scenario's counts or --step-bound)\n",
                static_cast<unsigned long long>(cli.memory_limit_bytes >> 20));
}

// default_repro_path is --shrink's reproduction file when --out is not given.
std::string default_repro_path(const std::string& scenario, std::uint64_t seed) {
  return std::filesystem::path(scenario).stem().string() + "-seed" + std::to_string(seed) + ".repro.json";
}

bool write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  return static_cast<bool>(out);
}

// shrink_one minimises a failing run's schedule, writes the reproduction file and
// prints the sizes and the line that replays it. Exits with the failure's code.
int shrink_one(const Scenario& sc, const Cli& cli, const RunConfig& cfg, const RunReport& r) {
  if (r.result.outcome == Outcome::pass) {
    std::printf("shrink: the run passed, nothing to shrink\n");
    return 0;
  }
  if (r.result.outcome == Outcome::nondeterminism) {
    std::printf("shrink: a nondeterministic run cannot be shrunk\n");
    return r.result.exit_code();
  }
  ShrinkOptions opts;
  opts.max_seconds = cli.shrink_seconds;
  ShrinkResult res;
  auto t0 = std::chrono::steady_clock::now();
  Repro repro = shrink_failure(sc, cfg, r, opts, &res);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!res.reproduced) {
    std::printf("shrink: lenient replay of the recorded schedule did not fail the same way; writing it unshrunk\n");
  }
  const std::string path = cli.out.empty() ? default_repro_path(cli.scenario, cfg.seed) : cli.out;
  std::string err;
  if (!save_repro(path, repro, err)) usage_error("--out: " + err);
  std::printf("shrink: %s in %llu runs, %.2f s%s\n", printable(res.signature).c_str(), static_cast<unsigned long long>(res.runs),
              secs, res.budget_exhausted ? " (budget exhausted)" : "");
  // The run's decisions and the schedule's explicit switches (what a reader follows).
  for (const auto& [label, size] : {std::pair{"before", repro.before}, std::pair{"after: ", repro.after}}) {
    std::printf("  %s %llu decisions in the run, %llu switches in the schedule (%llu preemptions)\n", label,
                static_cast<unsigned long long>(size.steps), static_cast<unsigned long long>(size.switches),
                static_cast<unsigned long long>(size.preemptions));
  }
  std::printf("  wrote %s\n  replay: %s\n", printable(path).c_str(), repro_command(path).c_str());
  return r.result.exit_code();
}

// repro_main is `simrun repro FILE`: replay a reproduction file and exit with the
// outcome of the replay; say whether it is still the recorded failure.
int repro_main(int argc, char** argv) {
  CLI::App app{"simrun repro: replay a reproduction file written by --shrink (or by a test)"};
  app.footer(exit_codes());
  std::string file;
  std::string trace;
  app.add_option("file", file, "reproduction file (weft-repro JSON)")->required();
  app.add_option("--trace", trace, "write the replay's trace to FILE (weft format)");
  std::string memory_limit_text;
  app.add_option("--memory-limit", memory_limit_text, "memory budget of the replay (default 4G)");
  bool no_teardown = false;
  app.add_flag("--no-teardown", no_teardown, "abandon a failed replay's threads instead of unwinding them");
  try {
    app.parse(argc - 1, argv + 1);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "simrun repro: %s (see simrun repro --help)\n", shortened(printable(e.what()), kUsageShownMax).c_str());
    return kExitUsage;
  }
  const std::uint64_t memory_limit = app.count("--memory-limit") == 0
                                         ? kMemoryLimitDefault
                                         : parse_bytes(memory_limit_text, "--memory-limit", kMemoryLimitMin);
  if (app.count("--trace") > 0) {
    check_output(trace, "--trace", false);
    check_distinct({{"the reproduction file", file}, {"--trace", trace}});
  }
  std::string err;
  auto repro = load_repro(file, err);
  if (!repro) {
    std::fprintf(stderr, "simrun: %s\n", err.c_str());
    return kExitBadScenario;
  }
  RunReport r = replay_repro(*repro, !trace.empty(), memory_limit, !no_teardown);
  const std::string sig = failure_signature(r.result.outcome, r.result.message);
  std::printf("%s seed=%llu (repro %s, %llu switches, %llu decisions): %s\n", printable(repro->scenario.name).c_str(),
              static_cast<unsigned long long>(repro->seed), printable(file).c_str(),
              static_cast<unsigned long long>(count_switches(repro->schedule)),
              static_cast<unsigned long long>(r.result.steps), outcome_name(r.result.outcome));
  if (!r.result.message.empty()) std::printf("  %s\n", printable(r.result.message).c_str());
  std::printf("  %s the recorded failure (%s)\n", sig == repro->signature ? "same as" : "DIFFERS from",
              printable(repro->signature).c_str());
  if (!trace.empty()) {
    RunConfig cfg;
    cfg.seed = repro->seed;
    cfg.strategy = StrategySpec::lenient(repro->schedule);
    if (!write_file(trace, trace_json(repro->scenario, cfg, r, "weft"))) usage_error("--trace: cannot write '" + trace + "'");
  }
  return r.result.exit_code();
}

// replay_config is one seed's run as its replay line runs it (the trace not kept).
RunConfig replay_config(const Cli& cli, const StrategySpec& st, std::uint64_t seed) {
  RunConfig cfg;
  cfg.seed = seed;
  cfg.strategy = st;
  cfg.step_bound = cli.step_bound;
  cfg.livelock_decisions = cli.livelock_decisions;
  cfg.race_detection = !cli.no_race_detection;
  cfg.teardown = !cli.no_teardown;
  cfg.parallelism_bound = cli.parallelism_bound;
  cfg.record_schedule = true;
  cfg.metrics_interval_ns = cli.metrics_every_ns;
  cfg.memory_limit_bytes = cli.memory_limit_bytes;
  cfg.weaken_order = cli.weaken_order;
  cfg.census_orders = !cli.order_sites.empty();
  return cfg;
}

// with_order_sites writes --order-sites's census of every run and returns `code`.
int with_order_sites(const Cli& cli, int code) {
  if (cli.order_sites.empty()) return code;
  nlohmann::json sites = nlohmann::json::array();
  for (const weft::sim::OrderSite& s : g_order_sites) {
    nlohmann::json weaker = nlohmann::json::array();
    for (weft::sim::Order o : weft::sim::one_step_weaker(s.order, weft::sim::order_kind(s.op, s.failure)))
      weaker.push_back(weft::sim::order_name(o));
    sites.push_back({{"file", s.file},
                     {"line", s.line},
                     {"op", weft::sim::op_name(s.op)},
                     {"argument", s.failure ? "failure" : "order"},
                     {"order", weft::sim::order_name(s.order)},
                     {"count", s.count},
                     {"weaker", weaker}});
  }
  const nlohmann::json doc = {{"format", "weft-order-sites"}, {"version", 1}, {"sites", sites}};
  if (!write_file(cli.order_sites, dump_safe(doc, 2) + "\n")) usage_error("--order-sites: cannot write '" + cli.order_sites + "'");
  return code;
}

int run_one(const Scenario& sc, const Cli& cli, const StrategySpec& st, std::uint64_t seed) {
  RunConfig cfg = replay_config(cli, st, seed);
  cfg.keep_trace = !cli.trace.empty() || cli.check_determinism || !cli.report.empty();
  RunReport r = run_scenario(sc, cfg);
  note_orders(r);
  if (cli.check_determinism) {
    RunReport again = run_scenario(sc, cfg);
    std::string a = trace_json(sc, cfg, r, "weft"), b = trace_json(sc, cfg, again, "weft");
    if (a != b) {
      std::size_t n = std::min(r.events.size(), again.events.size()), i = 0;
      while (i < n && std::memcmp(&r.events[i], &again.events[i], sizeof(TraceEvent)) == 0) ++i;
      std::printf("%s seed=%llu: nondeterminism: two runs differ first at event %zu of %zu/%zu (decisions %llu vs %llu)\n",
                  printable(sc.name).c_str(), static_cast<unsigned long long>(seed), i, r.events.size(), again.events.size(),
                  static_cast<unsigned long long>(r.result.steps), static_cast<unsigned long long>(again.result.steps));
      return static_cast<int>(Outcome::nondeterminism);
    }
    if (!cli.quiet) std::printf("determinism: two runs gave identical traces (%zu events, %zu bytes)\n", r.events.size(), a.size());
  }
  if (!cli.trace.empty() && !write_file(cli.trace, trace_json(sc, cfg, r, cli.trace_format)))
    usage_error("--trace: cannot write '" + cli.trace + "'");
  if (!cli.record.empty()) {
    std::string err;
    if (!r.result.schedule.save(cli.record, err)) usage_error("--record: " + err);
  }
  if (!cli.report.empty() && !write_file(cli.report, weft::report::run_report_html(sc, cfg, r, replay_line(cli, st, seed))))
    usage_error("--report: cannot write '" + cli.report + "'");
  if (cli.json) {
    std::printf("%s\n", dump_safe(report_json(sc, cli, st, seed, r)).c_str());
  } else if (!cli.quiet || r.result.outcome != Outcome::pass) {
    print_human(sc, cli, st, seed, r);  // --quiet still reports a failure
  }
  if (cli.shrink) return shrink_one(sc, cli, cfg, r);
  return r.result.exit_code();
}

// run_many explores `count` seeds from `first` (a shard's, when sharded) and adds
// each run to `summary`.
int run_many(const Scenario& sc, const Cli& cli, const StrategySpec& st, std::uint64_t first, std::uint64_t count,
             weft::sweep::Summary& summary) {
  bool tty = isatty(STDERR_FILENO);
  std::uint64_t unexpected = 0, matched_failures = 0, done = 0;
  int first_code = 0;
  std::vector<std::string> replays;
  auto t0 = std::chrono::steady_clock::now();
  RunStats total;
  std::uint64_t longest_quiet = 0, longest_quiet_seed = 0;  // decisions without progress (livelock oracle)
  std::uint64_t longest_lost = 0, longest_lost_seed = 0;    // the lost-parallelism check's longest stretch
  for (std::uint64_t i = 0; i < count; ++i) {
    std::uint64_t seed = first + i;
    // The replay line's run, without its schedule and metrics (a failing seed is replayed for those).
    RunConfig cfg = replay_config(cli, st, seed);
    cfg.record_schedule = false;
    cfg.metrics_interval_ns = 0;
    RunReport r = run_scenario(sc, cfg);
    note_orders(r);
    summary.add(run_record(sc, cli, st, seed, r));
    ++done;
    total.steals += r.stats.steals;
    total.overflows += r.stats.overflows;
    total.polls += r.stats.polls;
    if (r.result.longest_quiet > longest_quiet) {
      longest_quiet = r.result.longest_quiet;
      longest_quiet_seed = seed;
    }
    if (r.stats.parallelism_longest > longest_lost) {
      longest_lost = r.stats.parallelism_longest;
      longest_lost_seed = seed;
    }
    if (cli.json) std::printf("%s\n", dump_safe(report_json(sc, cli, st, seed, r)).c_str());
    if (r.result.outcome != Outcome::pass && r.expected) ++matched_failures;
    // A negative scenario may pass on some seeds; only another failure class is unexpected.
    bool negative_pass = sc.expect != "pass" && r.result.outcome == Outcome::pass;
    if (!r.expected && !negative_pass) {
      ++unexpected;
      if (!first_code) first_code = r.result.outcome == Outcome::pass ? 0 : r.result.exit_code();
      if (r.result.outcome != Outcome::pass) {
        replays.push_back(replay_line(cli, st, seed) + "   # " + outcome_name(r.result.outcome) + ": " +
                          printable(r.result.message));
        if (!cli.collect) break;
      }
    }
    // A run that ended before its first decision on memory kept by earlier failed
    // runs would be followed by more of the same: the sweep stops here (--collect too).
    if (r.result.outcome == Outcome::resource_limit && r.result.steps == 0) break;
    if (tty && !cli.quiet && (i % 16 == 0 || i + 1 == count)) {
      int width = 30, filled = static_cast<int>(width * (i + 1) / count);
      std::fprintf(stderr, "\r[%s%s] %llu/%llu seeds, %llu unexpected", std::string(filled, '#').c_str(),
                   std::string(width - filled, ' ').c_str(), static_cast<unsigned long long>(i + 1),
                   static_cast<unsigned long long>(count), static_cast<unsigned long long>(unexpected));
    }
  }
  if (tty && !cli.quiet) std::fprintf(stderr, "\n");
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  summary.seconds = secs;
  if (cli.json) std::printf("%s\n", dump_safe(summary.to_json()).c_str());
  if (!cli.summary.empty() && !write_file(cli.summary, dump_safe(summary.to_json(), 2) + "\n"))
    usage_error("--summary: cannot write '" + cli.summary + "'");
  // The first failures link to the run page their replay line (plus --report)
  // writes; each is written here, the seed run again as its replay line runs it
  // with the trace kept for the page.
  const std::string run_link = std::filesystem::path(cli.scenario).stem().string() + "-seedSEED.html";
  const std::vector<weft::sweep::Failure> paged = weft::sweep::run_page_failures(summary);
  std::set<std::uint64_t> linked;
  for (const auto& f : paged) linked.insert(f.seed);
  if (!cli.report.empty() && !write_file(cli.report, weft::sweep::sweep_report_html(summary, run_link, linked)))
    usage_error("--report: cannot write '" + cli.report + "'");
  for (std::size_t i = 0; !cli.report.empty() && i < paged.size(); ++i) {
    const std::uint64_t seed = paged[i].seed;
    const std::string page =
        (std::filesystem::path(cli.report).parent_path() / weft::sweep::run_page_name(run_link, seed)).string();
    RunConfig cfg = replay_config(cli, st, seed);
    cfg.keep_trace = true;
    RunReport again = run_scenario(sc, cfg);
    if (!write_file(page, weft::report::run_report_html(sc, cfg, again, replay_line(cli, st, seed))))
      usage_error("--report: cannot write '" + page + "'");
  }
  if (!cli.json) {
    std::printf("%s: %llu seeds in %.2f s (%.0f seeds/s), strategy %s\n", printable(sc.name).c_str(),
                static_cast<unsigned long long>(done), secs, static_cast<double>(done) / (secs > 0 ? secs : 1),
                strategy_text(st).c_str());
    // Outcomes, marks, decisions and, per strategy, the seeds run, the marks reached
    // and the PCT statement: what the sweep covered (the text merge prints).
    std::fputs(weft::sweep::describe(summary).c_str(), stdout);
    std::printf("  total: %llu polls, %llu steals, %llu overflows\n", static_cast<unsigned long long>(total.polls),
                static_cast<unsigned long long>(total.steals), static_cast<unsigned long long>(total.overflows));
    std::printf("  longest stretch without progress: %llu decisions (seed %llu; livelock oracle at %llu)\n",
                static_cast<unsigned long long>(longest_quiet), static_cast<unsigned long long>(longest_quiet_seed),
                static_cast<unsigned long long>(cli.livelock_decisions.value_or(sc.livelock_decisions)));
    std::printf("  longest stretch of lost parallelism: %llu polls of the holders (seed %llu)\n",
                static_cast<unsigned long long>(longest_lost), static_cast<unsigned long long>(longest_lost_seed));
    if (cli.weaken_order)
      std::printf("  weakened: %llu operations ran with a weaker order (--weaken-order %s)\n",
                  static_cast<unsigned long long>(g_orders_weakened),
                  weft::sim::order_weakening_text(*cli.weaken_order).c_str());
    for (auto& line : replays) std::printf("  replay: %s\n", line.c_str());
  }
  // A shard cannot know whether another shard saw a negative scenario's failure:
  // simrun merge applies that rule to the whole sweep.
  if (summary.shards > 1) return unexpected ? (first_code ? first_code : kExitExpectedFailureNotObserved) : 0;
  if (unexpected) return first_code ? first_code : kExitExpectedFailureNotObserved;
  if (sc.expect != "pass" && matched_failures == 0) return kExitExpectedFailureNotObserved;
  return 0;
}

}  // namespace

int simrun_main(int argc, char** argv) {
  if (argc >= 2 && std::string(argv[1]) == "repro") return repro_main(argc, argv);
  if (argc >= 2 && std::string(argv[1]) == "merge") {
    // merge --report reruns failures for their pages: it checks the scenario file
    // still has the sweep's text, as the loader hashes it.
    weft::sweep::RerunHooks hooks;
    hooks.version = weft::build_id::identity();
    hooks.scenario_hash = [](const std::string& path, std::string& error) -> std::optional<std::string> {
      ScenarioError err;
      auto sc = load_scenario(path, err);
      if (!sc) {
        error = err.message();
        return std::nullopt;
      }
      return sc->text_hash;
    };
    return weft::sweep::merge_main(argc, argv, hooks);
  }
  Cli cli;
  CLI::App app{"simrun: run a weft scenario on the simulated engine.\n"
               "  simrun SCENARIO --seed N            one run, with a summary\n"
               "  simrun SCENARIO --seeds A..B        explore seeds A to B inclusive\n"
               "  simrun SCENARIO --seed N --runs K   explore K seeds from N\n"
               "  simrun SCENARIO --seed N --shrink   shrink a failing run, write a reproduction file\n"
               "  simrun repro FILE                   replay a reproduction file\n"
               "  simrun SCENARIO --seeds A..B --shard I/N --summary F   part I of N of a sweep\n"
               "  simrun merge FILES...               combine shards' summaries into the sweep's\n"};
  app.footer(exit_codes());
  app.add_option("scenario", cli.scenario, "scenario file (JSON; schema in scenarios/README.md)")->required();
  app.add_option("--seed", cli.seed_text, "seed of one run (default 0), from 0 to 2^64-1");
  app.add_option("--seeds", cli.seeds, "explore a range of seeds, A..B (not with --seed or --runs)");
  app.add_option("--runs", cli.runs_text, "explore this many seeds (at least 1), from --seed");
  app.add_option("--strategy", cli.strategy,
                 "mixed (random, pct:1, pct:2, pct:3 and hold in turn, by seed mod 5), random, pct:D (depth D), "
                 "hold (holds a reader across counted writes: ABA) or replay:FILE (default: the scenario's "
                 "exploration.strategy, mixed unless it pins one; a replay line names the seed's own strategy)");
  app.add_option("--step-bound", cli.step_bound_text,
                 "decisions before step_bound_exceeded, 1 to 1e9 (default: the scenario's)");
  app.add_option("--memory-limit", cli.memory_limit_text,
                 "memory budget: a run whose resident memory exceeds it ends as resource_limit (exit 14); "
                 "bytes or K, M, G (default 4G, at least 64M)");
  app.add_option("--livelock-decisions", cli.livelock_decisions_text,
                 "decisions without progress before livelock; 0 turns the oracle off (default: the scenario's)");
  app.add_option("--lost-parallelism-bound", cli.parallelism_bound_text,
                 "polls the workers holding stealable work may make while a worker sleeps and none searches; 0 only measures "
                 "(default: the check's measured bound)");
  app.add_option("--record", cli.record, "save the run's schedule to FILE (replay it with --strategy replay:FILE)");
  app.add_option("--trace", cli.trace, "write the run's trace to FILE");
  app.add_option("--trace-format", cli.trace_format, "weft (default) or chrome (Perfetto, chrome://tracing)")
      ->check(CLI::IsMember({"weft", "chrome"}));
  app.add_option("--metrics-every", cli.metrics_every_text,
                 "with --trace: snapshot the runtime's metrics every NS of virtual time into the trace (an extra "
                 "simulated thread: the schedule differs from a run without)");
  app.add_flag("--json", cli.json, "machine-readable output: one JSON object per run");
  app.add_flag("--check-determinism", cli.check_determinism, "run the seed twice and compare the traces byte for byte");
  app.add_flag("--collect", cli.collect, "over many seeds, keep going after a failure and list them all");
  app.add_flag("--quiet", cli.quiet, "print only failures and the final summary");
  app.add_option("--memory-model", cli.memory_model,
                 "sc (every load reads the latest store) or c11 (a load may read an older store the C++ model "
                 "allows); default: the scenario's exploration.memory_model, else c11");
  app.add_option("--history-depth", cli.history_depth, "with c11: stores kept per atomic (1 to 64, default 4)");
  app.add_flag("--no-race-detection", cli.no_race_detection,
               "do not track happens-before or check Cells for data races (on by default; it adds no decision)");
  app.add_flag("--no-teardown", cli.no_teardown,
               "after a failed run, abandon its threads with what they hold instead of unwinding them "
               "(docs/teardown.md; it changes no outcome)");
  app.add_flag("--shrink", cli.shrink, "shrink the failing run's schedule and write a reproduction file");
  app.add_option("--out", cli.out, "with --shrink: the reproduction file (default SCENARIO-seedN.repro.json)");
  app.add_option("--shrink-seconds", cli.shrink_seconds_text, "with --shrink: wall-clock budget (default 120)");
  app.add_option("--no-check", cli.no_check, "leave check NAME out of the scenario's checks (repeatable)");
  app.add_option("--shard", cli.shard,
                 "over many seeds: run only part I of N of the range (I from 0), or auto/N: I from "
                 "the first set of WEFT_SHARD_INDEX, JOB_COMPLETION_INDEX, SLURM_ARRAY_TASK_ID (docs/sweeps.md)");
  app.add_option("--report", cli.report,
                 "write an HTML report: of the run (lanes per worker and thread, queue depths, the failure and "
                 "the decisions before it), or over many seeds of the sweep (outcomes, marks, histogram, failures)");
  app.add_option("--weaken-order", cli.weaken_order_text,
                 "run a mutant: every atomic operation at FILE:LINE (FILE:LINE/failure: a compare-exchange's failure "
                 "order) runs with at most ORDER (relaxed, acquire, release, acq_rel); FILE as --order-sites names it "
                 "(tools/order_mutants)");
  app.add_option("--order-sites", cli.order_sites,
                 "write FILE: every atomic operation's source line, operation and order that the runs reached, with "
                 "counts and the one-step weaker orders (weft-order-sites JSON)");
  app.add_option("--summary", cli.summary,
                 "over many seeds: write the sweep's summary (weft-sweep JSON, what simrun merge reads) to FILE");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "simrun: %s (see simrun --help)\n", shortened(printable(e.what()), kUsageShownMax).c_str());
    return kExitUsage;
  }
  // Numbers strictly, flags that exclude each other, outputs: all before the run.
  // A flag counts as given when it is on the line, even with an empty value
  // (`--seed ''` is an error, not the default).
  const auto given = [&app](const char* flag) { return app.count(flag) > 0; };
  if (given("--seed")) cli.seed = parse_u64(cli.seed_text, "--seed");
  if (given("--runs")) cli.runs = parse_u64(cli.runs_text, "--runs", 1, UINT64_MAX);
  if (given("--step-bound")) cli.step_bound = parse_u64(cli.step_bound_text, "--step-bound", 1, kStepBoundMax);
  if (given("--livelock-decisions"))
    cli.livelock_decisions = parse_u64(cli.livelock_decisions_text, "--livelock-decisions", 0, kLivelockDecisionsMax);
  if (given("--lost-parallelism-bound"))
    cli.parallelism_bound = parse_u64(cli.parallelism_bound_text, "--lost-parallelism-bound", 0, kLostParallelismBoundMax);
  if (given("--metrics-every"))
    cli.metrics_every_ns = parse_u64(cli.metrics_every_text, "--metrics-every", 1, kMetricsEveryMax);
  if (given("--shrink-seconds"))
    cli.shrink_seconds = parse_seconds(cli.shrink_seconds_text, "--shrink-seconds", kShrinkSecondsMax);
  if (given("--memory-limit"))
    cli.memory_limit_bytes = parse_bytes(cli.memory_limit_text, "--memory-limit", kMemoryLimitMin);
  if (given("--seeds") && cli.seeds.empty()) usage_error("--seeds: expected A..B, got ''");
  if (given("--strategy") && cli.strategy.empty())
    usage_error("--strategy: expected mixed, random, pct:D, hold or replay:FILE, got ''");
  if (!cli.seeds.empty() && cli.seed) usage_error("--seed and --seeds: give one (--seeds A..B names every seed)");
  if (!cli.seeds.empty() && given("--runs")) usage_error("--seeds and --runs: give one (--seed N --runs K is N..N+K-1)");
  if (!cli.shrink && (given("--out") || given("--shrink-seconds")))
    usage_error("--out and --shrink-seconds go with --shrink");
  if (given("--trace")) check_output(cli.trace, "--trace", false);
  if (given("--record")) check_output(cli.record, "--record", false);
  if (given("--out")) check_output(cli.out, "--out", true);
  if (given("--summary")) check_output(cli.summary, "--summary", false);
  if (given("--report")) check_output(cli.report, "--report", false);
  if (given("--order-sites")) check_output(cli.order_sites, "--order-sites", false);
  if (given("--weaken-order")) {
    std::string why;
    cli.weaken_order = weft::sim::parse_order_weakening(cli.weaken_order_text, why);
    if (!cli.weaken_order) usage_error("--weaken-order: " + why + ", got '" + cli.weaken_order_text + "'");
    if (cli.shrink) usage_error("--weaken-order and --shrink: a reproduction file does not record the weakening");
  }
  {
    std::vector<std::pair<std::string, std::string>> files = {{"the scenario file", cli.scenario}};
    if (cli.strategy.rfind("replay:", 0) == 0) files.emplace_back("--strategy replay:", cli.strategy.substr(7));
    for (const auto& [flag, path] : {std::pair<const char*, const std::string*>{"--out", &cli.out}, {"--trace", &cli.trace},
                                     {"--record", &cli.record}, {"--summary", &cli.summary}, {"--report", &cli.report},
                                     {"--order-sites", &cli.order_sites}})
      if (given(flag)) files.emplace_back(flag, *path);
    check_distinct(files);
  }
  std::optional<weft::sweep::Shard> shard;
  if (given("--shard")) {
    std::string why;
    shard = weft::sweep::parse_shard(cli.shard, [](const char* v) { return std::getenv(v); }, why);
    if (!shard) usage_error("--shard: " + why);
  }

  ScenarioError err;
  auto sc = load_scenario(cli.scenario, err);
  if (!sc) {
    std::fprintf(stderr, "simrun: %s\n", err.message().c_str());
    return kExitBadScenario;
  }
  for (const std::string& c : cli.no_check) {
    auto it = std::find(sc->checks.begin(), sc->checks.end(), c);
    const std::vector<std::string> all = default_checks();
    if (it == sc->checks.end() && std::find(all.begin(), all.end(), c) == all.end() && c != "counters_exact")
      usage_error("--no-check: expected a check name (exactly_once, no_leak, stall, ...), got '" + c + "'");
    if (it != sc->checks.end()) sc->checks.erase(it);
  }
  if (!cli.memory_model.empty()) {
    if (!weft::sim::memory_model_from(cli.memory_model))
      usage_error("--memory-model: expected sc or c11, got '" + cli.memory_model + "'");
    sc->memory_model = cli.memory_model;
    sc->memory_model_given = true;
  }
  if (!cli.history_depth.empty()) {
    const std::uint64_t depth = parse_u64(cli.history_depth, "--history-depth");
    if (depth < 1 || depth > weft::sim::kHistoryDepthMax)
      usage_error("--history-depth: expected 1 to 64, got '" + cli.history_depth + "'");
    sc->history_depth = static_cast<std::uint32_t>(depth);
  }
  StrategySpec st = parse_strategy(cli.strategy, *sc);
  if (st.schedule) {
    const std::string recorded = weft::sim::replay_model(*sc, *st.schedule);
    if (recorded != sc->memory_model)
      usage_error("--strategy " + cli.strategy + ": the schedule was recorded under the " + recorded +
                  " memory model and this run is " + sc->memory_model + " (a replay would diverge): pass --memory-model " +
                  recorded);
    // The models agree: what is left to disagree on is the history depth.
    const std::string why = weft::sim::replay_mismatch(*st.schedule, *weft::sim::memory_model_from(sc->memory_model),
                                                       sc->history_depth);
    if (!why.empty())
      usage_error("--strategy " + cli.strategy + ": " + why + " (a replay would diverge): pass --history-depth " +
                  std::to_string(weft::sim::recorded_history_depth(*st.schedule)));
  }

  std::uint64_t first = cli.seed.value_or(0), count = 1;
  bool many = false;
  if (!cli.seeds.empty()) {
    auto dots = cli.seeds.find("..");
    if (dots == std::string::npos) usage_error("--seeds: expected A..B, got '" + cli.seeds + "'");
    first = parse_u64(cli.seeds.substr(0, dots), "--seeds A");
    std::uint64_t last = parse_u64(cli.seeds.substr(dots + 2), "--seeds B");
    if (last < first) usage_error("--seeds: B must not be below A");
    if (last - first == UINT64_MAX) usage_error("--seeds: at most 2^64-1 seeds in a range");
    count = last - first + 1;
    many = true;
  } else if (cli.runs > 0) {
    if (cli.runs - 1 > UINT64_MAX - first) usage_error("--seed N --runs K: N+K-1 must stay below 2^64");
    count = cli.runs;
    many = true;
  }
  if (many && (!cli.trace.empty() || !cli.record.empty() || cli.check_determinism || cli.shrink))
    usage_error("--trace, --record, --check-determinism and --shrink take a single --seed");
  if (cli.shrink && cli.out.empty()) {
    // The default reproduction file, checked now, not after minutes of shrinking.
    cli.out = default_repro_path(cli.scenario, first);
    check_output(cli.out, "--out (default)", true);
    std::vector<std::pair<std::string, std::string>> files = {{"the scenario file", cli.scenario}};
    if (cli.strategy.rfind("replay:", 0) == 0) files.emplace_back("--strategy replay:", cli.strategy.substr(7));
    for (const auto& [flag, path] : {std::pair<const char*, const std::string*>{"--trace", &cli.trace}, {"--record", &cli.record}})
      if (!path->empty()) files.emplace_back(flag, *path);
    files.emplace_back("--out (default)", cli.out);
    check_distinct(files);
  }
  if (cli.metrics_every_ns && cli.trace.empty())
    usage_error("--metrics-every: goes with --trace, where the snapshots are written");
  if (many && st.kind == StrategySpec::Kind::replay) usage_error("--strategy replay:FILE replays one run: use --seed");
  if (!many && (shard || !cli.summary.empty())) usage_error("--shard and --summary go with many seeds (--seeds A..B or --runs K)");
  if (many) {
    weft::sweep::Summary summary;
    summary.scenario = sc->name;
    summary.scenario_hash = sc->text_hash;
    summary.version = weft::build_id::identity();
    summary.expect = sc->expect;
    summary.strategy_flag = cli.strategy;
    summary.options = run_options(cli);
    summary.range = {first, count};
    summary.shards = shard ? shard->of : 1;
    summary.parts = {shard ? shard->index : 0};
    const weft::sweep::SeedRange part = shard ? weft::sweep::shard_range(summary.range, *shard) : summary.range;
    summary.seeds_assigned = part.count;
    return with_order_sites(cli, run_many(*sc, cli, st, part.first, part.count, summary));
  }
  return with_order_sites(cli, run_one(*sc, cli, st, first));
}

int main(int argc, char** argv) {
  // Memory running out before the budget sees it (a process limit below
  // --memory-limit) is still the resource_limit outcome, with a message.
  try {
    const int code = simrun_main(argc, argv);
    // A failed run's teardown ran its other fibers on in the state the failure
    // left: memory the code under test broke (a weakened order's mutant can
    // corrupt a queue, then the task blocks the engine caches). The verdict is
    // out (flushed here); a failed process ends without the exit-time
    // destructors that would walk that memory and die of it without a word.
    std::fflush(nullptr);
    if (code != 0) std::_Exit(code);
    return code;
  } catch (const InputOutOfMemory& e) {
    // Reading an input within its caps needs at most the file's size plus
    // kInputTreeBytesMax; a process limit below that ends here.
    std::fprintf(stderr, "simrun: %s: %s: resource_limit: out of memory while reading it (the process's memory limit is "
                 "below what a file within the caps needs: its size plus %zu MiB)\n",
                 shortened(printable(e.file), kFileShownMax).c_str(), shortened(printable(e.path), kPathShownMax).c_str(),
                 kInputTreeBytesMax >> 20);
    return static_cast<int>(Outcome::resource_limit);
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "simrun: resource_limit: out of memory (the process's limit is below --memory-limit?)\n");
    return static_cast<int>(Outcome::resource_limit);
  }
}
