// Simulation: resolves Options into a strategy and a kernel, runs, and reports.
#include <algorithm>
#include <new>
#include <stdexcept>

#include "weft/sim/detail/kernel.hpp"
#include "weft/sim/simulator.hpp"

namespace weft::sim {

std::string RunResult::summary() const {
  std::string s = std::string(outcome_name(outcome)) + " seed=" + std::to_string(seed) +
                  " strategy=" + schedule.strategy + " steps=" + std::to_string(steps) +
                  " switches=" + std::to_string(context_switches) + " preemptions=" + std::to_string(preemptions) +
                  " vtime_ns=" + std::to_string(virtual_time_ns) + " fibers=" + std::to_string(fibers);
  if (outcome == Outcome::nondeterminism) s += " divergence_index=" + std::to_string(divergence_index);
  if (measuring_pct) s += " (in the walk that measures PCT's run length)";
  if (!message.empty()) s += ": " + message;
  return s;
}

Simulation::Simulation(Options options) : options_(std::move(options)) {}

std::string replay_mismatch(const Schedule& s, MemoryModel model, std::uint32_t history_depth) {
  const MemoryModel recorded = s.memory_model.empty() ? MemoryModel::sc : MemoryModel::c11;
  if (recorded != model) {
    return std::string("the schedule was recorded under the ") + memory_model_name(recorded) +
           " memory model and this run is " + memory_model_name(model);
  }
  if (model != MemoryModel::c11) return {};
  const std::uint32_t depth = recorded_history_depth(s);
  if (depth != history_depth) {
    return "the schedule was recorded keeping " + std::to_string(depth) + " stores per atomic and this run keeps " +
           std::to_string(history_depth);
  }
  return {};
}

RunResult Simulation::run(std::function<void()> main_fn) {
  // The default exploration is the strategy its seed names, resolved once here.
  const StrategySpec spec = options_.strategy.for_seed(options_.seed);
  std::uint64_t seed = options_.seed;
  if ((spec.kind == StrategySpec::Kind::replay || spec.kind == StrategySpec::Kind::lenient) && spec.schedule) {
    seed = spec.schedule->seed;
    const std::string mismatch = replay_mismatch(*spec.schedule, options_.memory_model, options_.history_depth);
    if (!mismatch.empty()) throw std::invalid_argument("weft: a replay under another memory model: " + mismatch);
  }
  std::uint64_t pct_steps = spec.pct_steps;
  if (spec.kind == StrategySpec::Kind::pct && pct_steps == 0) {
    // First-run estimate of k: a random walk of the same seed, not recorded. A
    // failure it hits is a failure found: the walk runs again, recorded (it is
    // deterministic), and that run is returned; the same seed and strategy reach it
    // again, since the walk is part of the seed's run. Passing walks, the common
    // case, pay for no recording.
    std::unique_ptr<Strategy> estimator = make_strategy(StrategySpec::random(), seed, 0);
    RunResult estimate = run_once(main_fn, *estimator, 0, false);
    if (estimate.outcome != Outcome::pass && options_.record) {
      std::unique_ptr<Strategy> again = make_strategy(StrategySpec::random(), seed, 0);
      estimate = run_once(main_fn, *again, 0, true);
    }
    if (estimate.outcome != Outcome::pass) {
      estimate.seed = seed;
      estimate.schedule.seed = seed;
      estimate.measuring_pct = true;
      return estimate;
    }
    pct_steps = std::max<std::uint64_t>(1, estimate.steps);
  }
  std::unique_ptr<Strategy> strategy = make_strategy(spec, seed, pct_steps);
  RunResult r = run_once(main_fn, *strategy, pct_steps, options_.record);
  r.seed = seed;
  if (spec.kind == StrategySpec::Kind::replay && r.outcome != Outcome::nondeterminism && spec.schedule &&
      r.steps != spec.schedule->decisions.size()) {
    // The run ended before the schedule did: the replay did not follow it.
    r.outcome = Outcome::nondeterminism;
    r.divergence_index = r.steps;
    r.message = "diverged at decision " + std::to_string(r.steps) + ": the run ended after " +
                std::to_string(r.steps) + " decisions but the schedule has " +
                std::to_string(spec.schedule->decisions.size()) + " (earlier outcome: " + r.message + ")";
  }
  r.schedule.seed = seed;
  if (spec.kind == StrategySpec::Kind::pct) {
    r.schedule.pct_depth = spec.pct_depth;
    r.schedule.pct_steps = pct_steps;
  }
  return r;
}

RunResult Simulation::run_once(const std::function<void()>& main_fn, Strategy& strategy, std::uint64_t pct_steps,
                               bool record) {
  detail::KernelConfig config;
  config.seed = options_.seed;
  config.step_bound = options_.step_bound;
  config.livelock_decisions = options_.livelock_decisions;
  config.stack_size = options_.stack_size;
  config.record = record;
  config.spurious_wakeup_per_mille = options_.spurious_wakeup_per_mille;
  config.stall_probe = stall_probe_;
  config.jump_probe = jump_probe_;
  config.describe_blocked = describe_blocked_;
  config.memory_limit_bytes = options_.memory_limit_bytes;
  config.race_detection = options_.race_detection;
  config.c11 = options_.memory_model == MemoryModel::c11;
  config.history_depth = options_.history_depth;
  config.teardown = options_.teardown;
  std::vector<TraceStep> trace;
  if (options_.trace) config.trace = &trace;
  std::optional<detail::OrderProbe> probe;
  if (options_.weaken_order || options_.census_orders) {
    probe.emplace(options_.weaken_order, options_.census_orders);
    config.order_probe = &*probe;
  }
  detail::Kernel kernel(config, strategy, idle_probe_);
  kernel.run(main_fn);
  RunResult r;
  r.outcome = kernel.outcome();
  r.message = kernel.message();
  r.seed = options_.seed;
  r.steps = kernel.steps();
  r.context_switches = kernel.context_switches();
  r.preemptions = kernel.preemptions();
  r.virtual_time_ns = kernel.now_ns();
  r.fibers = kernel.fiber_count();
  r.divergence_index = kernel.divergence_index();
  r.pct_steps = pct_steps;
  r.longest_quiet = kernel.longest_quiet();
  r.fibers_kept = kernel.fibers_kept();
  r.held_allocations = kernel.held(0).count;
  if (options_.trace) {
    r.trace = std::move(trace);
    for (std::uint64_t id = 0; id < r.fibers; ++id) r.fiber_names.push_back(kernel.fiber_name(static_cast<FiberId>(id)));
  }
  if (probe) {
    r.orders_weakened = probe->weakened();
    r.order_sites = probe->census();
  }
  r.schedule.strategy = strategy.name();
  if (options_.memory_model == MemoryModel::c11) {
    r.schedule.memory_model = memory_model_name(options_.memory_model);
    if (options_.history_depth != kHistoryDepthDefault) r.schedule.history_depth = options_.history_depth;
  }
  try {
    r.schedule.decisions = kernel.take_decisions();
  } catch (const std::bad_alloc&) {
    // A run that ran out of memory (Kernel::out_of_memory) may leave too little
    // to expand its schedule: its outcome stands, without the schedule.
    r.message += " (its schedule was not kept: out of memory)";
  }
  return r;
}

}  // namespace weft::sim
