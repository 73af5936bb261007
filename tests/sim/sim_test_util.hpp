// Helpers shared by the simulator core tests: the seam types and run shortcuts.
#pragma once

#include <cstdint>
#include <functional>

#include "weft/platform/sim.hpp"
#include "weft/sim/simulator.hpp"

namespace weft::sim::testing {

using P = ::weft::sim_backend::SimPlatform;
using ::weft::platform_contract::Order;
using Strategy = ::weft::sim::StrategySpec;

// options_for returns Options with `seed` and `strategy` and a small step bound.
inline Options options_for(std::uint64_t seed, StrategySpec strategy = StrategySpec::random(),
                           std::uint64_t step_bound = 100'000) {
  Options o;
  o.seed = seed;
  o.strategy = std::move(strategy);
  o.step_bound = step_bound;
  return o;
}

// in_sc is `o` under the sc memory model: for tests about interleavings alone
// (c11, the default, may also lose an update through a stale read).
inline Options in_sc(Options o) {
  o.memory_model = MemoryModel::sc;
  return o;
}

// run_with runs fn once under `options`.
inline RunResult run_with(const Options& options, std::function<void()> fn) {
  Simulation sim(options);
  return sim.run(std::move(fn));
}

// lost_update_body: two fibers each add 1 twice with a load-then-store (a racy
// read-modify-write); `final_value` gets the counter after both joined.
inline std::function<void()> lost_update_body(std::uint64_t& final_value) {
  return [&final_value] {
    P::Atomic<std::uint64_t> counter{0};
    auto add_twice = [&counter] {
      for (int i = 0; i < 2; ++i) {
        const std::uint64_t v = counter.load(Order::relaxed);
        counter.store(v + 1, Order::relaxed);
      }
    };
    P::Thread a("adder-a", add_twice);
    P::Thread b("adder-b", add_twice);
    a.join();
    b.join();
    final_value = counter.load(Order::seq_cst);
  };
}

}  // namespace weft::sim::testing
