// The scenario runner: builds the real engine (simulator backend) as a scenario
// describes, runs its workload under a seeded strategy, checks its invariants, and
// reports the outcome, the statistics and (optionally) the trace.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "weft/harness/scenario.hpp"
#include "weft/sim/simulator.hpp"
#include "weft/trace/format.hpp"

namespace weft::sim {

// TraceEvent is one engine event stamped with virtual time and decision index.
using TraceEvent = weft::trace::EventRow;

// RunStats counts what a run did (from the engine's events and metrics).
struct RunStats {
  std::uint64_t tasks_spawned = 0;
  std::uint64_t polls = 0;
  std::uint64_t steals = 0;           // tasks moved by steals
  std::uint64_t steal_operations = 0;
  std::uint64_t overflows = 0;        // overflow events
  std::uint64_t inject_pushes = 0;
  std::uint64_t inject_batches = 0;   // pops of more than one task
  std::uint64_t parks = 0;
  std::uint64_t unparks = 0;
  std::uint64_t timers_fired = 0;
  std::uint64_t lifo_pushes = 0;
  std::uint64_t wakes = 0;
  std::uint64_t tasks_cancelled = 0;  // program instances cancelled (harness bookkeeping)
  // Dumps the programs and dumpers asked for (harness bookkeeping).
  std::uint64_t dumps_complete = 0;
  std::uint64_t dumps_partial = 0;       // some worker missed the rendezvous
  std::uint64_t dumps_from_task = 0;     // taken with co_await Handle::dump()
  std::uint64_t dumps_from_outside = 0;  // taken with dump_blocking() by a dumper thread
  std::uint64_t dumps_concurrent = 0;    // asked for while another request was in flight
  std::uint64_t dump_errors = 0;         // refused with DumpError (the runtime shut down)
  std::map<std::string, std::uint64_t> marks;  // coverage marks reached
  // What the progress checks saw (each 0 when its check is off): how often the
  // stall probe was asked (jumps of virtual time), the fairness windows checked
  // and censored with the largest count of other polls in one and its bound, and
  // the most ready awaits one poll completed.
  std::uint64_t stall_probes = 0;
  std::uint64_t fairness_windows = 0, fairness_censored = 0, fairness_worst = 0, fairness_bound = 0;
  std::uint64_t budget_worst = 0;
  // The lost-parallelism check: idle samples, those that found parallelism lost,
  // stretches of them and the longest in polls of the holders and in decisions;
  // the longest stretch of work waiting while workers slept, in virtual ns.
  std::uint64_t parallelism_samples = 0, parallelism_lost = 0, parallelism_stretches = 0, parallelism_longest = 0,
                parallelism_longest_decisions = 0, parallelism_longest_ns = 0;
};

// Place names where a task can sit at the moment of an action; Action names the
// actions (RunConfig::observe_places). places.cpp says how each place is read.
enum class Place : std::uint8_t {
  lifo_slot,
  local_queue,
  defer_list,
  injection_queue,
  blocking_queue,  // a spawn_blocking task no pool thread has taken
  timer,           // a program asleep on the runtime's timer
  channel_waiter,  // a program waiting to send on a full channel or to receive
  notify_waiter,   // a program awaiting a Notify
  mutex_waiter,    // a program waiting for a channel's receive lock (an AsyncMutex)
  running,         // a task inside a poll
  count_,
};
enum class Action : std::uint8_t { shutdown, dump_complete, dump_partial, abort, count_ };
const char* place_name(Place p);
const char* action_name(Action a);
inline constexpr std::uint32_t place_bit(Place p) { return 1u << static_cast<unsigned>(p); }

// PlaceSample is one action of a run and the places that held a task at its
// moment (bits of place_bit): every task for a shutdown and a dump, the aborted
// tasks for an abort.
struct PlaceSample {
  Action action = Action::shutdown;
  std::uint32_t places = 0;
};

struct RunConfig {
  std::uint64_t seed = 0;
  StrategySpec strategy;               // from the scenario unless overridden
  std::uint64_t step_bound = 0;        // 0: the scenario's
  std::optional<std::uint64_t> livelock_decisions;  // unset: the scenario's; 0: the oracle is off
  // unset: the default bound of the lost-parallelism check (checks/parallelism.hpp);
  // 0: measure only, never fail.
  std::optional<std::uint64_t> parallelism_bound;
  bool check_held = true;  // no_leak's exact count (checks/leaks.hpp); off only to show what the rest finds
  bool keep_trace = false;             // keep every event in RunReport::events
  bool record_schedule = true;
  // > 0: snapshot the runtime's metrics every metrics_interval_ns of virtual time
  // (an extra simulated thread, so the run's schedule differs from a run without).
  std::uint64_t metrics_interval_ns = 0;
  // memory_limit_bytes: the run ends as resource_limit when the process's resident
  // memory exceeds it (Options::memory_limit_bytes); 0: no budget.
  std::uint64_t memory_limit_bytes = 0;
  // Race detection on Cells (sim::Options::race_detection); adds no decision.
  bool race_detection = true;
  // teardown: unwind a failed run's fibers (sim::Options::teardown; on by default).
  bool teardown = true;
  // observe_places: at every shutdown, every dump a dumper thread takes and every
  // abort_children step, read (detached, no decision) where tasks sit, into
  // RunReport::place_samples.
  bool observe_places = false;
  // Memory-order mutation (sim::Options::weaken_order, census_orders).
  std::optional<OrderWeakening> weaken_order;
  bool census_orders = false;
};

// MetricsSnapshot is the runtime's metrics (metrics_json) at one moment of a run.
struct MetricsSnapshot {
  std::uint64_t t_ns = 0;  // virtual time
  std::uint64_t step = 0;  // scheduling decisions so far
  std::string json;
};

struct RunReport {
  RunResult result;                 // outcome, steps, virtual time, schedule
  RunStats stats;
  std::vector<TraceEvent> events;   // when RunConfig::keep_trace
  std::vector<std::uint32_t> event_fibers;            // with events: the simulated thread that emitted each
  std::map<std::uint32_t, std::string> fiber_names;   // with events: those threads' names
  std::string metrics_json;         // the runtime's metrics at the end of the run
  std::vector<MetricsSnapshot> metrics_snapshots;  // when RunConfig::metrics_interval_ns
  bool expected = true;             // the outcome is what the scenario expects
  std::vector<PlaceSample> place_samples;  // when RunConfig::observe_places
};

// strategy_of returns the strategy a scenario asks for.
StrategySpec strategy_of(const Scenario& sc);

// run_scenario runs sc once. Same scenario, seed and strategy: same report.
RunReport run_scenario(const Scenario& sc, const RunConfig& cfg);

// outcome_matches says whether an outcome is the one the scenario expects.
bool outcome_matches(const Scenario& sc, Outcome o);

// trace_json renders a report's trace: "weft" (the project's own schema) or
// "chrome" (Chrome trace events, which Perfetto and chrome://tracing open).
std::string trace_json(const Scenario& sc, const RunConfig& cfg, const RunReport& r, const std::string& format);

}  // namespace weft::sim
