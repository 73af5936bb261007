// The scenario runner: runs a scenario on the real engine compiled against the
// simulator backend.
//
// One run, on the simulation's main fiber:
//  1. Build the runtime as the scenario describes (its victim-choice seed drawn
//     from the simulation) and open the programs' channels.
//  2. Start the threads, in this order: outside spawners, the stall injector, the
//     metrics sampler, the dumpers (those that dump until shutdown are "late":
//     joined only after the shutdown refuses them).
//  3. Run the main program with block_on, then shut the runtime down and join the
//     threads (or, with shutdown_at_ns, spawn the main program as a task and shut
//     down at that moment whatever still runs).
//  4. Check the scenario's invariants (checks/invariants.hpp).
// The progress checks run during the run instead: stall (a probe of the runtime
// the simulator asks before every jump of virtual time), fairness and budget (fed
// by the recorder and the interpreter) and lost_parallelism (an idle sample at
// each event the recorder sees); each only reads, adding no decision. So does the
// place observer (RunConfig::observe_places, places.hpp), which samples where
// tasks sit at each shutdown, each dumper thread's dump and each abort_children.
// The order of step 2 and every call on the runtime are part of the run's
// schedule: changing them changes every trace.
#include "weft/runtime_hooks.hpp"
#include "weft/harness/runner.hpp"

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>

#include "checks/invariants.hpp"
#include "checks/leaks.hpp"
#include "interpreter.hpp"
#include "places.hpp"
#include "recorder.hpp"
#include "weft/events.hpp"
#include "weft/runtime.hpp"
#include "weft/sim/detail/heap.hpp"
#include "weft/sim/detail/kernel.hpp"
#include "weft/time.hpp"

namespace weft::sim {
namespace {

using weft::Task;

// The metrics sampler's bound (RunConfig::metrics_interval_ns).
constexpr std::uint32_t kMaxMetricsSnapshots = 10'000;
// The bound on the dumps of a dumper that dumps until shutdown.
constexpr std::uint64_t kMaxDumpsUntilShutdown = 100'000;

Options options_of(const Scenario& sc, const RunConfig& cfg) {
  Options opts;
  opts.seed = cfg.seed;
  opts.strategy = cfg.strategy;
  opts.step_bound = cfg.step_bound ? cfg.step_bound : sc.step_bound;
  opts.livelock_decisions = cfg.livelock_decisions ? *cfg.livelock_decisions : sc.livelock_decisions;
  opts.record = cfg.record_schedule;
  opts.spurious_wakeup_per_mille = sc.spurious_wakeup_per_mille;
  opts.memory_limit_bytes = cfg.memory_limit_bytes;
  opts.race_detection = cfg.race_detection;
  opts.teardown = cfg.teardown;
  opts.memory_model = sc.memory_model == "c11" ? MemoryModel::c11 : MemoryModel::sc;
  opts.history_depth = sc.history_depth;
  opts.weaken_order = cfg.weaken_order;
  opts.census_orders = cfg.census_orders;
  return opts;
}

// Threads are the simulated threads of step 2: `outside` joined before (or, with
// shutdown_at_ns, just after) the shutdown, `late` after it.
// Threads are the simulated threads the run starts outside the runtime. When
// the teardown of a failed run unwinds the main program (sim/src/kernel.cpp,
// Step T4) they may still run, reading the programs' state and the runtime,
// which die after this: the destructor shuts the runtime down (dumpers that run
// until shutdown stop) and joins them first, as the normal end does.
struct Threads {
  weft::Runtime* rt = nullptr;
  std::vector<weft::Thread> outside, late;
  Threads() = default;
  Threads(const Threads&) = delete;
  Threads& operator=(const Threads&) = delete;
  ~Threads() {
    if (!weft::Platform::unwinding()) return;
    if (rt != nullptr) rt->shutdown();
    for (auto& t : outside) {
      if (t.joinable()) t.join();
    }
    for (auto& t : late) {
      if (t.joinable()) t.join();
    }
  }
};

void start_spawners(const Scenario& sc, ProgramState& st, const weft::Handle& h, Threads& th) {
  for (const OutsideThread& ot : sc.outside) {
    for (std::uint32_t k = 0; k < ot.threads; ++k) {
      th.outside.emplace_back("outside", [&st, &ot, h] {
        std::uint64_t limit = ot.die_after ? std::min(*ot.die_after, ot.count) : ot.count;
        for (std::uint64_t i = 0; i < limit; ++i) {
          if (ot.interval_ns) sleep_virtual(ot.interval_ns);
          h.spawn(program_task(st, st.sc->programs.at(ot.program))).detach();
        }
      });
    }
  }
}

void start_stall_injector(const Scenario& sc, const weft::Handle& h, Threads& th) {
  if (sc.stalls.empty()) return;
  th.outside.emplace_back("stall-injector", [&sc, h] {
    std::uint64_t now = 0;
    for (const Stall& s : sc.stalls) {
      if (s.at_ns > now) sleep_virtual(s.at_ns - now);
      now = std::max(now, s.at_ns);
      std::uint64_t d = s.duration_ns;
      h.spawn([](std::uint64_t d) -> Task<void> {
        consume(d);  // whichever worker runs this is stuck for d
        co_return;
      }(d)).detach();
    }
  });
}

// start_metrics_sampler snapshots the metrics until shutdown begins; bounded, so
// a run whose program hangs still ends as a deadlock once the sampler stops.
void start_metrics_sampler(const RunConfig& cfg, ProgramState& st, const weft::Handle& h, RunReport& report,
                           Threads& th) {
  if (!cfg.metrics_interval_ns) return;
  th.late.emplace_back("metrics", [&st, &report, h, every = cfg.metrics_interval_ns] {
    detail::Uncounted uncounted;  // the snapshots are the report's (heap.hpp, Step H2)
    for (std::uint32_t i = 0; i < kMaxMetricsSnapshots; ++i) {
      sleep_virtual(every);
      if (st.shutdown_begun || tearing_down()) return;  // a failed run's report is final
      // One moment of the run: read detached, so no other fiber moves between the
      // reads of the queues (each read a decision, the snapshot spread over dozens).
      auto* k = detail::tls_kernel;
      MetricsSnapshot m{k->now_ns(), k->steps(), {}};
      const std::string error = k->observe([&] { m.json = h.metrics_json(); });
      if (!error.empty()) k->fail(Outcome::assertion, "metrics snapshot threw: " + error);
      report.metrics_snapshots.push_back(std::move(m));
    }
  });
}

void start_dumpers(const Scenario& sc, ProgramState& st, const weft::Handle& h, Threads& th) {
  for (const Dumper& dd : sc.dumpers) {
    for (std::uint32_t k = 0; k < dd.threads; ++k) {
      auto body = [&st, &dd, h] {
        if (dd.at_ns) sleep_virtual(dd.at_ns);
        for (std::uint64_t i = 0; dd.until_shutdown || i < dd.count; ++i) {
          if (i > 0 && dd.interval_ns) sleep_virtual(dd.interval_ns);
          st.dump_begin();
          try {
            const std::uint32_t places = st.places ? st.places->sample(nullptr) : 0;
            st.dumps.push_back(h.dump_blocking());
            if (st.places) st.places->note(st.dumps.back().complete ? Action::dump_complete : Action::dump_partial, places);
          } catch (const weft::DumpError&) {
            st.dump_refused();
            st.dump_end();
            return;
          }
          st.dump_end();
          if (dd.until_shutdown && i + 1 >= kMaxDumpsUntilShutdown) return;  // bounded
        }
      };
      (dd.until_shutdown ? th.late : th.outside).emplace_back("dumper", body);
    }
  }
}

// run_main is step 3: the main program, the shutdown and the joins.
void run_main(const Scenario& sc, ProgramState& st, weft::Runtime& rt, Threads& th) {
  const Program& main = sc.programs.at(sc.main);
  if (sc.shutdown_at_ns) {
    rt.block_on([](ProgramState* st, const Program* main, std::uint64_t at_ns) -> Task<void> {
      weft::spawn(program_task(*st, *main)).detach();
      co_await weft::sleep_for(std::chrono::nanoseconds(at_ns));
    }(&st, &main, *sc.shutdown_at_ns));
    if (st.places) st.places->note(Action::shutdown, st.places->sample(nullptr));
    st.shutdown_begun = true;
    rt.shutdown();
    for (auto& t : th.outside) t.join();
  } else {
    rt.block_on(program_task(st, main));
    for (auto& t : th.outside) t.join();
    if (st.places) st.places->note(Action::shutdown, st.places->sample(nullptr));
    st.shutdown_begun = true;
    rt.shutdown();
  }
  for (auto& t : th.late) t.join();
}

// count_bookkeeping adds what the programs and dumpers did to the run's stats.
void count_bookkeeping(const ProgramState& st, RunStats& stats) {
  stats.tasks_cancelled = 0;
  for (std::uint8_t c : st.cancelled) stats.tasks_cancelled += c;
  stats.dumps_complete = stats.dumps_partial = 0;
  for (const weft::Dump& d : st.dumps) ++(d.complete ? stats.dumps_complete : stats.dumps_partial);
  stats.dumps_from_task = st.dumps_from_task;
  stats.dumps_from_outside = stats.dumps_complete + stats.dumps_partial - st.dumps_from_task;
  stats.dumps_concurrent = st.dumps_concurrent;
  stats.dump_errors = st.dump_errors;
}

// run_once runs the scenario once under cfg's strategy (PCT with its steps set).
RunReport run_once(const Scenario& sc, const RunConfig& cfg) {
  Simulation sim(options_of(sc, cfg));
  Recorder rec(cfg.keep_trace, sc.runtime.resolved().worker_threads);
  RunReport report;
  std::shared_ptr<weft::detail::RuntimeCore> core;  // for the idle probe
  sim.set_idle_probe([&core] { return core && core->has_pending_work(); });
  auto has_check = [&sc](const char* c) { return std::find(sc.checks.begin(), sc.checks.end(), c) != sc.checks.end(); };
  std::uint64_t stall_probes = 0;
  if (has_check("stall")) {
    sim.set_stall_probe([&core, &stall_probes] {
      ++stall_probes;
      return core && core->has_stalled_work();
    });
  }
  // What blocked programs await, named as the scenario names it, for the message
  // of a run that ends with every fiber blocked.
  const ProgramState* live_state = nullptr;
  sim.set_blocked_describer([&live_state] { return live_state ? live_state->describe_waits() : std::string(); });
  // The online checks, made afresh for each run of the simulation, like the recorder's counts.
  std::optional<FairnessMonitor> fairness;
  std::optional<BudgetMonitor> budget;
  std::optional<ParallelismMonitor> parallelism;
  // lost_parallelism's bound in virtual time is judged at every jump of time too.
  sim.set_jump_probe([&parallelism](std::uint64_t now_ns, std::uint64_t to_ns) {
    return parallelism ? parallelism->before_jump(now_ns, to_ns) : std::string();
  });
  std::optional<PlaceObserver> places;  // RunConfig::observe_places
  if (cfg.observe_places) {
    rec.track_polling();
    places.emplace(rec);
  }

  weft::EventSink* prev_sink = weft::event_sink();
  weft::set_event_sink(&rec);
  RunStats bookkeeping;  // the harness's counts, filled before the invariants run
  std::uint32_t heap_run = 0;  // the run's name in the heap count (Step H1), 0: not counted
  report.result = sim.run([&] {
    rec.reset();  // only the last run's events count, should the simulation run twice
    if (places) places->reset();
    bookkeeping = {};
    stall_probes = 0;
    fairness.reset();
    budget.reset();
    if (has_check("fairness")) fairness.emplace(fairness_bound(sc.runtime));
    if (has_check("budget")) budget.emplace(sc.runtime.resolved().budget);
    parallelism.reset();
    if (has_check("lost_parallelism")) {
      // --lost-parallelism-bound 0 measures both rules and judges neither.
      const std::uint64_t polls = cfg.parallelism_bound.value_or(kLostParallelismPolls);
      parallelism.emplace(polls, polls == 0 ? 0 : kLostParallelismNs);
    }
    rec.watch(fairness ? &*fairness : nullptr, budget ? &*budget : nullptr, parallelism ? &*parallelism : nullptr);
    // Step H2: from here until the runtime and the programs are gone, what the
    // simulated threads allocate outside the simulator's and the harness's own
    // work is counted; the leak check requires all of it freed.
    if (cfg.check_held && has_check("no_leak") && detail::heap_counting()) {
      detail::tls_kernel->set_count_heap(true);
      heap_run = detail::tls_kernel->heap_run();
    }
    {
      ProgramState st(sc);
      live_state = &st;
      struct Forget {  // however the body ends, the describer stops reading st
        const ProgramState*& p;
        ~Forget() { p = nullptr; }
      } forget{live_state};
      st.budget = budget ? &*budget : nullptr;
      weft::Config c = sc.runtime.config;  // the runtime resolves it
      c.has_seed = true;
      c.seed = weft::Platform::entropy();  // victim choice: seeded by the simulation
      weft::Runtime rt(c);
      weft::Handle h = rt.handle();
      core = std::shared_ptr<weft::detail::RuntimeCore>(weft::hooks::runtime_core(h)->shared_from_this());
      if (parallelism) parallelism->attach(core.get());
      if (places) {
        places->attach(core.get(), &st);
        st.places = &*places;
      }

      Threads th;
      th.rt = &rt;
      start_spawners(sc, st, h, th);
      start_stall_injector(sc, h, th);
      start_metrics_sampler(cfg, st, h, report, th);
      start_dumpers(sc, st, h, th);
      run_main(sc, st, rt, th);
      // In the teardown of a failed run (the main program went on from where the
      // failure stopped it) the report is final: nothing from here reaches it.
      const bool failed = tearing_down();
      if (!failed) count_bookkeeping(st, bookkeeping);
      st.channels.clear();  // channel ends held by the context, not by tasks
      detail::Uncounted uncounted;  // the report's and the checks' (Step H2)
      if (!failed) {
        // Reading the metrics takes locks, each a decision: a step bound can end
        // the run right here, and then the teardown's metrics must not reach the
        // report either (a run without teardown stops at that decision).
        std::string metrics = h.metrics_json();
        if (!tearing_down()) {
          report.metrics_json = std::move(metrics);
          check_invariants(sc, st, h, rec);
        }
      }
    }
    detail::tls_kernel->set_count_heap(false);
    // The runtime, its handle and the programs' state are gone (in the order they
    // always went); only the idle probe's reference to the core remains.
    if (places) places->attach(nullptr, nullptr);
    if (cfg.check_held && !tearing_down()) check_nothing_held(sc, core);
  });
  weft::set_event_sink(prev_sink);
  rec.watch(nullptr, nullptr, nullptr);
  if (parallelism) parallelism->attach(nullptr);
  core.reset();
  // Step H6: the core the idle probe held was the last of what the run's simulated
  // threads allocated; a block of theirs still allocated now is a leak. Checked
  // here, after the run, since the core's destructor makes decisions; the run
  // fails as if its check had (an assertion of the main fiber), so a replay or a
  // shrink sees the same failure.
  if (heap_run != 0 && report.result.outcome == Outcome::pass) {
    if (std::string leak = heap_left_allocated(heap_run); !leak.empty()) {
      report.result.outcome = Outcome::assertion;
      report.result.message = std::move(leak);
    }
  }
  report.stats = rec.stats();
  report.stats.tasks_cancelled = bookkeeping.tasks_cancelled;
  report.stats.dumps_complete = bookkeeping.dumps_complete;
  report.stats.dumps_partial = bookkeeping.dumps_partial;
  report.stats.dumps_from_task = bookkeeping.dumps_from_task;
  report.stats.dumps_from_outside = bookkeeping.dumps_from_outside;
  report.stats.dumps_concurrent = bookkeeping.dumps_concurrent;
  report.stats.dump_errors = bookkeeping.dump_errors;
  report.stats.stall_probes = stall_probes;
  if (fairness) {
    report.stats.fairness_windows = fairness->result().windows;
    report.stats.fairness_censored = fairness->result().censored;
    report.stats.fairness_worst = fairness->result().worst;
    report.stats.fairness_bound = fairness->result().bound;
  }
  if (budget) report.stats.budget_worst = budget->worst();
  if (parallelism) {
    report.stats.parallelism_samples = parallelism->result().samples;
    report.stats.parallelism_lost = parallelism->result().lost_samples;
    report.stats.parallelism_stretches = parallelism->result().stretches;
    report.stats.parallelism_longest = parallelism->result().longest;
    report.stats.parallelism_longest_decisions = parallelism->result().longest_decisions;
    report.stats.parallelism_longest_ns = parallelism->result().longest_ns;
  }
  if (places) report.place_samples = places->take_samples();
  report.events = rec.take_events();
  report.event_fibers = rec.take_event_fibers();
  report.fiber_names = rec.take_fiber_names();
  report.expected = outcome_matches(sc, report.result.outcome);
  return report;
}

}  // namespace

StrategySpec strategy_of(const Scenario& sc) {
  // PCT spreads its change points over the run's measured length (steps 0: the
  // simulation measures it with a first run of the same seed).
  if (sc.strategy == "hold") return StrategySpec::hold();
  if (sc.strategy == "random") return StrategySpec::random();
  return sc.strategy == "pct" ? StrategySpec::pct(sc.pct_depth, 0) : StrategySpec::mixed();
}

bool outcome_matches(const Scenario& sc, Outcome o) { return sc.expect == outcome_name(o); }

RunReport run_scenario(const Scenario& sc, const RunConfig& given) {
  // The default exploration runs the strategy its seed names (the same run).
  RunConfig cfg = given;
  cfg.strategy = given.strategy.for_seed(given.seed);
  if (cfg.strategy.kind == StrategySpec::Kind::pct && cfg.strategy.pct_steps == 0) {
    // PCT spreads its change points over the run's length: measure it with a
    // random-walk run of the same seed, then run PCT over that many decisions.
    RunConfig probe = cfg;
    probe.strategy = StrategySpec::random();
    probe.keep_trace = false;
    probe.record_schedule = false;
    const RunReport measured = run_once(sc, probe);
    if (measured.result.outcome == Outcome::resource_limit) {
      // A walk that ran out of its budget is reported as it ended: running it again
      // for its trace would only meet the memory it left behind, before its first
      // decision, and blame that instead.
      RunReport r = measured;
      r.result.measuring_pct = true;
      return r;
    }
    if (measured.result.outcome != Outcome::pass) {
      // A failure found while measuring is a failure reported: the same walk again,
      // with the trace and schedule the caller asked for.
      RunConfig walk = cfg;
      walk.strategy = StrategySpec::random();
      RunReport r = run_once(sc, walk);
      r.result.measuring_pct = true;
      return r;
    }
    const std::uint64_t k = measured.result.steps;
    RunConfig real = cfg;
    real.strategy.pct_steps = std::max<std::uint64_t>(k, 1);
    return run_once(sc, real);
  }
  return run_once(sc, cfg);
}

}  // namespace weft::sim
