// sim_bench: how fast the simulator is, against the fiber floor measured in the
// same process. Writes one JSON document (see reports/bench/sim.md).
//
// Cases:
//  1. floor_resume: one Boost.Context fiber resume (two fibers ping-ponging).
//  2. floor_decision_N: N bare fibers; each step draws the next fiber with the
//     simulator's own Prng::below and switches to it directly. No kernel, no
//     strategy interface, no bookkeeping: the least a random decision can cost.
//  3. sim_decisions_*: the simulator running N fibers that each do fetch_adds on a
//     seam Atomic (every fetch_add is a decision), random strategy.
//  4. steal_storm: seeds per second of a scenario on the real engine, as
//     `simrun --seeds` runs them (schedule recording and trace off): with race
//     detection, without, and under the c11 model, interleaved block by block.
//  5. --cost-of CHECK...: what those checks cost the same sweep. The seeds run in
//     blocks of kCostBlock, each block once with every check and once without the
//     named ones, alternating which goes first, so both configurations share the
//     machine's load; the CPU times add up per configuration.
// Each time is reported as wall time and as the thread's CPU time: on a shared
// machine the CPU time is the honest "one core" figure, the wall time the felt one.
#include <time.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <boost/context/fiber.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <tuple>
#include <vector>

#include "weft/platform/sim.hpp"
#include "weft/sim/prng.hpp"
#include "weft/harness/runner.hpp"
#include "weft/harness/scenario.hpp"
#include "weft/sim/simulator.hpp"

namespace {

namespace ctx = boost::context;
namespace sim = weft::sim;
using P = weft::sim_backend::SimPlatform;
using weft::platform_contract::Order;
using ojson = nlohmann::ordered_json;

// Clock pairs a wall-clock and a thread-CPU-clock reading.
struct Clock {
  double wall;
  double cpu;
  static Clock now() {
    timespec ts{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
    return {wall, static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9};
  }
  Clock operator-(const Clock& o) const { return {wall - o.wall, cpu - o.cpu}; }
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// floor_resume returns ns per fiber resume: main and one fiber switch to each other.
double floor_resume(std::uint64_t resumes) {
  volatile std::uint64_t sink = 0;
  ctx::fiber f{[&sink](ctx::fiber&& back) {
    for (;;) {
      sink = sink + 1;
      back = std::move(back).resume();
    }
    return std::move(back);
  }};
  const Clock t0 = Clock::now();
  for (std::uint64_t i = 0; i < resumes / 2; ++i) f = std::move(f).resume();
  const Clock d = Clock::now() - t0;
  // The fiber is left suspended; unwinding it when f is destroyed ends its loop.
  return d.cpu * 1e9 / static_cast<double>(resumes / 2 * 2);
}

// FloorSwitch is the bare decision loop: fibers switch to each other directly, as
// the kernel does, choosing the next with the simulator's Prng.
struct FloorSwitch {
  std::vector<ctx::fiber> conts;  // suspended continuation of each fiber; [n] is the host
  sim::Prng prng{42};
  std::uint64_t left = 0;
  std::uint32_t n = 0;
  std::uint32_t current = 0;
  std::uint32_t prev = 0;
  std::uint64_t switches = 0;

  // step is one decision of fiber `self`: draw, then switch if another was drawn.
  // Returns false when the budget of decisions is spent.
  bool step(std::uint32_t self) {
    if (left == 0) return false;
    --left;
    const auto next = static_cast<std::uint32_t>(prng.below(n));
    if (next == self) return true;
    ++switches;
    prev = self;
    current = next;
    ctx::fiber from = std::move(conts[next]).resume();
    if (from) conts[prev] = std::move(from);
    return true;
  }
};

// floor_decision returns ns per decision of n bare fibers.
double floor_decision(std::uint32_t n, std::uint64_t decisions, double* switches_per_decision) {
  FloorSwitch fs;
  fs.n = n;
  fs.left = decisions;
  fs.conts.resize(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    fs.conts[i] = ctx::fiber{[&fs, i](ctx::fiber&& from) {
      if (from) fs.conts[fs.prev] = std::move(from);
      while (fs.step(i)) {
      }
      // Budget spent: hand control to the host; this fiber is never resumed again.
      return std::move(fs.conts[fs.n]);
    }};
  }
  const Clock t0 = Clock::now();
  fs.prev = n;  // the host
  fs.current = 0;
  fs.conts.emplace_back();  // slot n: the host's continuation
  ctx::fiber from = std::move(fs.conts[0]).resume();
  (void)from;
  const Clock d = Clock::now() - t0;
  *switches_per_decision = static_cast<double>(fs.switches) / static_cast<double>(decisions);
  // Suspended fibers are unwound by their destructors (forced_unwind) here.
  return d.cpu * 1e9 / static_cast<double>(decisions);
}

// atomic_workload: `fibers` fibers doing `ops` fetch_adds each on one counter.
std::function<void()> atomic_workload(int fibers, int ops) {
  return [fibers, ops] {
    P::Atomic<std::uint64_t> counter{0};
    std::vector<P::Thread> threads;
    threads.reserve(static_cast<std::size_t>(fibers));
    for (int f = 0; f < fibers; ++f) {
      std::string name = "w";
      name += std::to_string(f);
      threads.emplace_back(std::move(name), [&counter, ops] {
        for (int i = 0; i < ops; ++i) counter.fetch_add(1, Order::relaxed);
      });
    }
    for (auto& t : threads) t.join();
  };
}

struct DecisionSample {
  double ns_cpu;
  double ns_wall;
  std::uint64_t steps;
  double switches_per_decision;
};

DecisionSample sim_decisions(int fibers, int ops, bool record, std::uint64_t seed, bool race_detection) {
  sim::Options o;
  o.seed = seed;
  o.record = record;
  o.race_detection = race_detection;
  // The per-decision cases measure the sc kernel (the c11 model is the
  // `sweep_c11` case): the figures stay comparable across the default's change.
  o.memory_model = sim::MemoryModel::sc;
  o.step_bound = 1ull << 40;
  sim::Simulation s(o);
  const Clock t0 = Clock::now();
  const sim::RunResult r = s.run(atomic_workload(fibers, ops));
  const Clock d = Clock::now() - t0;
  if (r.outcome != sim::Outcome::pass) {
    std::cerr << "sim_bench: run failed: " << r.summary() << "\n";
    std::exit(1);
  }
  const auto steps = static_cast<double>(r.steps);
  return {d.cpu * 1e9 / steps, d.wall * 1e9 / steps, r.steps, static_cast<double>(r.context_switches) / steps};
}

}  // namespace

int main(int argc, char** argv) {
  std::string scenario_path = "scenarios/steal_storm.json";
  std::uint64_t seeds = 10'000;
  std::uint64_t decisions = 4'000'000;
  int reps = 5;
  std::string out_path;
  CLI::App app{"sim_bench: simulator decisions/s and steal_storm seeds/s, with the fiber floor"};
  app.add_option("--scenario", scenario_path, "scenario for the seed sweep (default scenarios/steal_storm.json)");
  app.add_option("--seeds", seeds, "seeds in the sweep (default 10000; 0 skips it)");
  app.add_option("--decisions", decisions, "decisions per micro-benchmark repetition (default 4M)");
  app.add_option("--reps", reps, "repetitions of each micro-benchmark; the median is reported (default 5)");
  app.add_option("--out", out_path, "write the JSON here as well as to stdout");
  std::vector<std::string> no_check;
  app.add_option("--no-check", no_check, "leave this check out of the sweep's scenario (repeatable): the checks' cost");
  std::vector<std::string> cost_of;
  app.add_option("--cost-of", cost_of,
                 "also measure the sweep with and without these checks, interleaved block by block (repeatable)");
  CLI11_PARSE(app, argc, argv);
  reps = std::max(reps, 1);

  ojson out;
  out["bench"] = "sim";
  out["version"] = weft::trace::version_string();
  {
    char buf[32];
    const std::time_t t = std::time(nullptr);
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
    out["date"] = buf;
  }
  out["method"] = "ns are thread CPU time / count (median of reps); wall time alongside";

  // 1 and 2: the floor.
  {
    std::vector<double> resume, dec4, dec2;
    double sw4 = 0, sw2 = 0;
    floor_resume(decisions / 4);  // warm-up
    for (int r = 0; r < reps; ++r) {
      resume.push_back(floor_resume(decisions));
      dec2.push_back(floor_decision(2, decisions, &sw2));
      dec4.push_back(floor_decision(4, decisions, &sw4));
    }
    out["floor"] = {{"resume_ns", median(resume)},
                    {"decision_2_fibers_ns", median(dec2)},
                    {"decision_2_fibers_switches_per_decision", sw2},
                    {"decision_4_fibers_ns", median(dec4)},
                    {"decision_4_fibers_switches_per_decision", sw4}};
  }

  // 3: the simulator's decisions.
  {
    auto& cases = out["decisions"] = ojson::array();
    struct Case {
      const char* name;
      int fibers;
      bool record;
      bool race_detection;
    };
    // Race detection (happens-before on every atomic) is on by default; the
    // _no_race_detection cases measure the interleaving-only kernel in the same run.
    const Case all[] = {{"1_fiber_norecord", 1, false, true},
                        {"2_fibers_norecord", 2, false, true},
                        {"4_fibers_norecord", 4, false, true},
                        {"4_fibers_record", 4, true, true},
                        {"16_fibers_norecord", 16, false, true},
                        {"1_fiber_norecord_no_race_detection", 1, false, false},
                        {"4_fibers_norecord_no_race_detection", 4, false, false},
                        {"4_fibers_record_no_race_detection", 4, true, false},
                        {"16_fibers_norecord_no_race_detection", 16, false, false}};
    for (const Case& c : all) {
      sim_decisions(c.fibers, 10'000, c.record, 0, c.race_detection);  // warm-up: stacks, record buffer
      std::vector<double> cpu, wall;
      DecisionSample last{};
      for (int r = 0; r < reps; ++r) {
        last = sim_decisions(c.fibers, static_cast<int>(decisions / static_cast<std::uint64_t>(c.fibers)), c.record,
                             static_cast<std::uint64_t>(r + 1), c.race_detection);
        cpu.push_back(last.ns_cpu);
        wall.push_back(last.ns_wall);
      }
      const double ns = median(cpu);
      cases.push_back({{"case", c.name},
                       {"fibers", c.fibers},
                       {"record", c.record},
                       {"race_detection", c.race_detection},
                       {"memory_model", "sc"},
                       {"decisions_per_run", last.steps},
                       {"switches_per_decision", last.switches_per_decision},
                       {"ns_per_decision", ns},
                       {"ns_per_decision_wall", median(wall)},
                       {"decisions_per_sec", 1e9 / ns}});
    }
  }

  // 4: the seed sweep, with race detection (the default) and without, and under
  // the c11 memory model (with race detection), in one run. The seeds run in
  // blocks of kSweepBlock, each block once per configuration, the order rotating
  // from block to block, so the three share the machine's load and their ratios
  // can be read even on a busy machine.
  struct Sweep {
    const char* key;
    bool race_detection;
    const char* memory_model;
    sim::Scenario scenario;
    sim::RunConfig cfg;
    std::uint64_t steps = 0, switches = 0, polls = 0, tasks = 0, steals = 0, unexpected = 0;
    Clock d{0, 0};
  };
  std::vector<Sweep> sweeps;
  for (const auto& [key, race_detection, memory_model] :
       {std::tuple{"sweep", true, "sc"}, std::tuple{"sweep_no_race_detection", false, "sc"},
        std::tuple{"sweep_c11", true, "c11"}}) {
    if (seeds == 0) break;
    sim::ScenarioError err;
    auto sc = sim::load_scenario(scenario_path, err);
    if (!sc) {
      std::cerr << "sim_bench: " << err.message() << "\n";
      return 2;
    }
    for (const std::string& c : no_check) std::erase(sc->checks, c);
    sc->memory_model = memory_model;
    Sweep& sw = sweeps.emplace_back(Sweep{key, race_detection, memory_model, *sc, {}});
    sw.cfg.race_detection = race_detection;
    sw.cfg.strategy = sim::strategy_of(sw.scenario);
    sw.cfg.record_schedule = false;  // as simrun --seeds
    sw.cfg.keep_trace = false;
    sw.cfg.seed = 1'000'000;  // warm-up seed, outside the measured range
    (void)sim::run_scenario(sw.scenario, sw.cfg);
  }
  constexpr std::uint64_t kSweepBlock = 25;
  for (std::uint64_t first = 0, b = 0; first < seeds && !sweeps.empty(); first += kSweepBlock, ++b) {
    const std::uint64_t n = std::min(kSweepBlock, seeds - first);
    for (std::size_t i = 0; i < sweeps.size(); ++i) {
      Sweep& sw = sweeps[(b + i) % sweeps.size()];
      const Clock t0 = Clock::now();
      for (std::uint64_t s = first; s < first + n; ++s) {
        sw.cfg.seed = s;
        const sim::RunReport r = sim::run_scenario(sw.scenario, sw.cfg);
        sw.steps += r.result.steps;
        sw.switches += r.result.context_switches;
        sw.polls += r.stats.polls;
        sw.tasks += r.stats.tasks_spawned;
        sw.steals += r.stats.steals;
        if (!r.expected) ++sw.unexpected;
      }
      const Clock d = Clock::now() - t0;
      sw.d = Clock{sw.d.wall + d.wall, sw.d.cpu + d.cpu};
    }
  }
  for (const Sweep& sw : sweeps) {
    const Clock d = sw.d;
    const auto n = static_cast<double>(seeds);
    out[sw.key] = {{"scenario", sw.scenario.name},
                    {"race_detection", sw.race_detection},
                    {"memory_model", sw.memory_model},
                    {"workers", sw.scenario.runtime.resolved().worker_threads},
                    {"seeds", seeds},
                    {"block_seeds", kSweepBlock},
                    {"unexpected_outcomes", sw.unexpected},
                    {"tasks_per_seed", static_cast<double>(sw.tasks) / n},
                    {"polls_per_seed", static_cast<double>(sw.polls) / n},
                    {"steals_per_seed", static_cast<double>(sw.steals) / n},
                    {"decisions_per_seed", static_cast<double>(sw.steps) / n},
                    {"switches_per_decision", static_cast<double>(sw.switches) / static_cast<double>(sw.steps)},
                    {"cpu_s", d.cpu},
                    {"wall_s", d.wall},
                    {"seeds_per_sec", n / d.cpu},
                    {"seeds_per_sec_wall", n / d.wall},
                    {"ns_per_decision", d.cpu * 1e9 / static_cast<double>(sw.steps)},
                    {"s_per_10000_seeds", d.cpu / n * 10'000},
                    {"s_per_10000_seeds_wall", d.wall / n * 10'000}};
    if (sw.unexpected) {
      std::cerr << "sim_bench: " << sw.unexpected << " seeds had an unexpected outcome (" << sw.key << ")\n";
    }
  }

  // 5: what the named checks cost, on and off interleaved in one run.
  if (seeds > 0 && !cost_of.empty()) {
    sim::ScenarioError err;
    auto on = sim::load_scenario(scenario_path, err);
    if (!on) {
      std::cerr << "sim_bench: " << err.message() << "\n";
      return 2;
    }
    for (const std::string& c : no_check) std::erase(on->checks, c);
    sim::Scenario off = *on;
    for (const std::string& c : cost_of) {
      if (std::find(off.checks.begin(), off.checks.end(), c) == off.checks.end()) {
        std::cerr << "sim_bench: --cost-of " << c << ": the scenario does not run that check\n";
        return 2;
      }
      std::erase(off.checks, c);
    }
    sim::RunConfig cfg;
    cfg.strategy = sim::strategy_of(*on);
    cfg.record_schedule = false;
    cfg.keep_trace = false;
    cfg.seed = 1'000'000;  // warm-up, outside the measured range
    (void)sim::run_scenario(*on, cfg);
    (void)sim::run_scenario(off, cfg);
    double cpu_on = 0, cpu_off = 0;
    std::uint64_t steps_on = 0, steps_off = 0, unexpected = 0;
    std::vector<double> block_ratio;
    const auto block = [&](const sim::Scenario& sc, std::uint64_t first, std::uint64_t n, std::uint64_t& steps) {
      const Clock t0 = Clock::now();
      for (std::uint64_t s = first; s < first + n; ++s) {
        cfg.seed = s;
        const sim::RunReport r = sim::run_scenario(sc, cfg);
        steps += r.result.steps;
        if (!r.expected) ++unexpected;
      }
      return (Clock::now() - t0).cpu;
    };
    constexpr std::uint64_t kCostBlock = 50;
    for (std::uint64_t first = 0, b = 0; first < seeds; first += kCostBlock, ++b) {
      const std::uint64_t n = std::min(kCostBlock, seeds - first);
      double a_on = 0, a_off = 0;
      if (b % 2 == 0) {
        a_on = block(*on, first, n, steps_on);
        a_off = block(off, first, n, steps_off);
      } else {
        a_off = block(off, first, n, steps_off);
        a_on = block(*on, first, n, steps_on);
      }
      cpu_on += a_on;
      cpu_off += a_off;
      if (a_off > 0) block_ratio.push_back(a_on / a_off);
    }
    const auto n = static_cast<double>(seeds);
    out["checks_cost"] = {{"scenario", on->name},
                          {"seeds", seeds},
                          {"block_seeds", kCostBlock},
                          {"checks_measured", cost_of},
                          {"unexpected_outcomes", unexpected},
                          {"decisions_on", steps_on},
                          {"decisions_off", steps_off},
                          {"s_per_10000_seeds_on", cpu_on / n * 10'000},
                          {"s_per_10000_seeds_off", cpu_off / n * 10'000},
                          {"overhead_percent", (cpu_on / cpu_off - 1) * 100},
                          {"median_block_overhead_percent", (median(block_ratio) - 1) * 100}};
  }

  // Targets from issue 3.
  double ns4 = 0;
  for (auto& c : out["decisions"]) {
    if (c["case"] == "4_fibers_norecord") ns4 = c["ns_per_decision"].get<double>();
  }
  ojson targets;
  targets["decision_ns_max"] = 50;
  targets["decision_4_fibers_ns"] = ns4;
  targets["decision_over_floor"] = ns4 / out["floor"]["decision_4_fibers_ns"].get<double>();
  targets["decisions_met"] = ns4 <= 50;
  if (out.contains("sweep")) {
    targets["s_per_10000_seeds_max"] = 60;
    targets["s_per_10000_seeds"] = out["sweep"]["s_per_10000_seeds"];
    targets["seeds_met"] = out["sweep"]["s_per_10000_seeds"].get<double>() < 60 &&
                           out["sweep"]["unexpected_outcomes"].get<std::uint64_t>() == 0;
  }
  if (out.contains("sweep") && out.contains("sweep_no_race_detection") && out.contains("sweep_c11")) {
    // Issue 11's limits: c11 at most 2.5x sc per decision; race detection's cost
    // (the issue asks for at most 1.5x of the interleaving-only kernel).
    const double on = out["sweep"]["ns_per_decision"].get<double>();
    const double off = out["sweep_no_race_detection"]["ns_per_decision"].get<double>();
    const double c11 = out["sweep_c11"]["ns_per_decision"].get<double>();
    targets["race_detection_over_off"] = on / off;
    targets["race_detection_over_off_max"] = 1.5;
    targets["c11_over_sc"] = c11 / on;
    targets["c11_over_sc_max"] = 2.5;
  }
  out["targets"] = targets;

  const std::string text = out.dump(2) + "\n";
  std::cout << text;
  if (!out_path.empty()) {
    std::ofstream f(out_path);
    f << text;
    if (!f) {
      std::cerr << "sim_bench: cannot write " << out_path << "\n";
      return 2;
    }
  }
  return 0;
}
