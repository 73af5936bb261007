// sim_decisions_bench: how many simulator decisions per second, and how many short
// runs per second, on this machine. Prints one JSON document.
//
// Each case runs `fibers` fibers that each do `ops` atomic fetch_adds under a
// strategy; decisions/s = decisions of the run / wall time of the run. The wall
// clock here measures the simulator; it never reaches a simulated run.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "weft/platform/sim.hpp"
#include "weft/sim/simulator.hpp"

namespace {

using P = weft::sim_backend::SimPlatform;
using weft::platform_contract::Order;
namespace sim = weft::sim;

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// atomic_workload: `fibers` fibers doing `ops` fetch_adds each on one counter.
std::function<void()> atomic_workload(int fibers, int ops) {
  return [fibers, ops] {
    P::Atomic<std::uint64_t> counter{0};
    std::vector<P::Thread> threads;
    threads.reserve(static_cast<std::size_t>(fibers));
    for (int f = 0; f < fibers; ++f) {
      std::string name = "w";  // (not "w" + to_string: a GCC 12 -Wrestrict false positive)
      name += std::to_string(f);
      threads.emplace_back(std::move(name), [&counter, ops] {
        for (int i = 0; i < ops; ++i) counter.fetch_add(1, Order::relaxed);
      });
    }
    for (auto& t : threads) t.join();
  };
}

// decisions_case runs `runs` runs (seeds 1..runs, after one warm-up run) and
// reports total decisions over total wall time, run setup included.
nlohmann::json decisions_case(const char* name, sim::StrategySpec spec, bool record, int fibers, int ops, int runs) {
  std::uint64_t steps = 0;
  std::uint64_t switches = 0;
  double secs = 0;
  for (int r = 0; r <= runs; ++r) {
    sim::Options o;
    o.seed = static_cast<std::uint64_t>(r);
    o.strategy = spec;
    o.record = record;
    o.step_bound = 1ull << 40;
    sim::Simulation s(o);
    const auto t0 = std::chrono::steady_clock::now();
    const sim::RunResult res = s.run(atomic_workload(fibers, ops));
    const double t = seconds_since(t0);
    if (res.outcome != sim::Outcome::pass) {
      std::cerr << "bench run failed: " << res.summary() << "\n";
      std::exit(1);
    }
    if (r == 0) continue;  // warm-up: stacks and record buffer
    secs += t;
    steps += res.steps;
    switches += res.context_switches;
  }
  const double per_sec = static_cast<double>(steps) / secs;
  return {{"case", name},
          {"strategy", spec.kind == sim::StrategySpec::Kind::pct ? "pct" : "random"},
          {"record", record},
          {"fibers", fibers},
          {"runs", runs},
          {"decisions_per_run", steps / static_cast<std::uint64_t>(runs)},
          {"switches_per_decision", static_cast<double>(switches) / static_cast<double>(steps)},
          {"decisions_per_sec", per_sec},
          {"ns_per_decision", 1e9 / per_sec}};
}

nlohmann::json runs_case(int runs) {
  // Short runs: 2 fibers racing on a load/store counter (the lost-update test).
  const auto t0 = std::chrono::steady_clock::now();
  std::uint64_t steps = 0;
  for (int r = 0; r < runs; ++r) {
    sim::Options o;
    o.seed = static_cast<std::uint64_t>(r);
    sim::Simulation s(o);
    steps += s.run([] {
               P::Atomic<std::uint64_t> c{0};
               auto add = [&c] {
                 for (int i = 0; i < 2; ++i) c.store(c.load(Order::relaxed) + 1, Order::relaxed);
               };
               P::Thread a("a", add);
               P::Thread b("b", add);
               a.join();
               b.join();
             }).steps;
  }
  const double secs = seconds_since(t0);
  return {{"case", "short_runs"}, {"runs", runs}, {"runs_per_sec", runs / secs},
          {"runs_per_min", 60 * runs / secs}, {"mean_decisions", static_cast<double>(steps) / runs}};
}

}  // namespace

// Usage: sim_decisions_bench [scale [case-substring]]
int main(int argc, char** argv) {
  const int scale = std::max(argc > 1 ? std::atoi(argv[1]) : 1, 1);
  const std::string only = argc > 2 ? argv[2] : "";
  const int ops = 1'000'000 * scale;
  nlohmann::json out;
  out["bench"] = "sim_decisions";
  auto& cases = out["cases"] = nlohmann::json::array();
  auto run = [&](const char* name, sim::StrategySpec spec, bool record, int fibers, int per_fiber, int runs) {
    if (!only.empty() && std::string(name).find(only) == std::string::npos) return;
    cases.push_back(decisions_case(name, std::move(spec), record, fibers, per_fiber, runs));
  };
  const auto random = sim::StrategySpec::random();
  // Long runs (1M decisions each): includes the schedule's memory.
  run("long_1_fiber", random, true, 1, ops, 3);
  run("long_4_fibers", random, true, 4, ops / 4, 3);
  run("long_4_fibers_norecord", random, false, 4, ops / 4, 3);
  // Medium runs (10k decisions each), the shape of a seed sweep.
  run("sweep_1_fiber", random, true, 1, 10'000 * scale, 100);
  run("sweep_2_fibers", random, true, 2, 5'000 * scale, 100);
  run("sweep_4_fibers", random, true, 4, 2'500 * scale, 100);
  run("sweep_4_fibers_norecord", random, false, 4, 2'500 * scale, 100);
  run("sweep_16_fibers", random, true, 16, 625 * scale, 100);
  run("sweep_4_fibers_pct3", sim::StrategySpec::pct(3, 10'000), true, 4, 2'500 * scale, 100);
  if (only.empty() || std::string("short_runs").find(only) != std::string::npos) cases.push_back(runs_case(20'000));
  std::cout << out.dump(2) << std::endl;
  return 0;
}
