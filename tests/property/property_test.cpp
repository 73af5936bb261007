// Property tests: generated scenarios (weft/harness/generator.hpp) run on the simulated
// engine, one property per test. Each property counts how often its cases reached
// the rare paths it exists for (RC_CLASSIFY prints the distribution) and fails if
// one was never reached. A failing case is written as a reproduction file to
// $WEFT_REPRO_DIR or build/<preset>/repros/ (schedule-shrunk when the failure is a
// run outcome) and the line that replays it is printed.
//
// Cases per property: WEFT_PROPERTY_CASES (default kDefaultCases); RapidCheck's
// RC_PARAMS (seed, reproduce=...) applies as usual. WEFT_MEMORY_MODEL=sc|c11 runs
// every case under that memory model (default: the generated scenario's, sc).
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "weft/harness/generator.hpp"
#include "weft/harness/repro.hpp"
#include "weft/harness/runner.hpp"
#include "checks/trace_properties.hpp"
#include "places.hpp"

namespace weft::sim::property {
namespace {

constexpr int kDefaultCases = 300;

// cases is WEFT_PROPERTY_CASES, else `fallback` (kDefaultCases for most properties).
int cases(int fallback = kDefaultCases) {
  if (const char* s = std::getenv("WEFT_PROPERTY_CASES")) {
    const long n = std::strtol(s, nullptr, 10);
    if (n > 0) return static_cast<int>(n);
  }
  return fallback;
}

// Reached accumulates, across all cases of a property, how often each
// interesting path was reached.
using Reached = std::map<std::string, std::uint64_t>;

void count_run(Reached& reached, const RunReport& r) {
  const RunStats& s = r.stats;
  if (s.steals > 0) ++reached["steal"];
  if (s.overflows > 0) ++reached["overflow"];
  if (s.inject_batches > 0) ++reached["inject_batch"];
  if (s.tasks_cancelled > 0) ++reached["cancelled"];
  for (const auto& [mark, n] : s.marks) {
    if (n > 0) ++reached[mark];
  }
  RC_CLASSIFY(s.steals > 0, "steal");
  RC_CLASSIFY(s.overflows > 0, "overflow");
  RC_CLASSIFY(s.inject_batches > 0, "inject_batch");
  RC_CLASSIFY(s.marks.count("lifo_cap") > 0, "lifo_cap");
  RC_CLASSIFY(s.marks.count("budget_exhausted") > 0, "budget_exhausted");
  RC_CLASSIFY(s.marks.count("spurious_wake") > 0, "spurious_wake");
  RC_CLASSIFY(s.tasks_cancelled > 0, "cancelled");
  RC_CLASSIFY(s.marks.count("dump_timeout") > 0, "dump_timeout");
}

// LastFailure remembers the most recent failing case; RapidCheck's last failing
// run is its shrunk counterexample, so after check() it is the minimal one.
struct LastFailure {
  bool set = false;
  Case c;
  RunConfig cfg;
  std::string what;
};

std::string repro_path(const std::string& property) {
  return repro_dir(WEFT_REPRO_DEFAULT_DIR) + "/property-" + property + ".repro.json";
}

// memory_model is WEFT_MEMORY_MODEL ("sc" or "c11"), or empty when unset; any
// other value fails the test at once.
std::string memory_model() {
  const char* m = std::getenv("WEFT_MEMORY_MODEL");
  if (m == nullptr || *m == '\0') return {};
  if (!memory_model_from(m)) {
    ADD_FAILURE() << "WEFT_MEMORY_MODEL='" << m << "': expected sc or c11";
    std::exit(8);
  }
  return m;
}

// weaken_order is WEFT_WEAKEN_ORDER (FILE:LINE[/failure]=ORDER, as simrun's
// --weaken-order): every case runs that mutant of the engine (tools/order_mutants).
// A bad value fails the test at once. Reproductions do not record it.
std::optional<OrderWeakening> weaken_order() {
  const char* w = std::getenv("WEFT_WEAKEN_ORDER");
  if (w == nullptr || *w == '\0') return std::nullopt;
  std::string why;
  auto parsed = parse_order_weakening(w, why);
  if (!parsed) {
    ADD_FAILURE() << "WEFT_WEAKEN_ORDER='" << w << "': " << why;
    std::exit(8);
  }
  return parsed;
}

// run_case runs a case with its seed under the random strategy (and the memory
// model WEFT_MEMORY_MODEL names, which the case then carries into its reproduction).
RunReport run_case(Case& c, RunConfig& cfg, bool keep_trace) {
  static const std::string model = memory_model();
  static const std::optional<OrderWeakening> weaken = weaken_order();
  if (!model.empty()) c.sc.memory_model = model;
  cfg.weaken_order = weaken;
  cfg.seed = c.seed;
  cfg.strategy = StrategySpec::random();
  cfg.keep_trace = keep_trace;
  cfg.record_schedule = true;
  return run_scenario(c.sc, cfg);
}

// check_property runs `prop` for cases(), then, on failure, writes the minimal
// counterexample's reproduction (schedule-shrunk when it failed as a run outcome);
// then asserts that every name in `required` was reached.
void check_property(const std::string& name, const std::function<void()>& prop, LastFailure& last,
                    const Reached& reached, const std::vector<std::string>& required, int default_cases = kDefaultCases) {
  rc::detail::TestParams params = rc::detail::configuration().testParams;
  params.maxSuccess = cases(default_cases);
  // A different stream per property (RapidCheck's seed is one per process).
  for (char ch : name) params.seed = (params.seed ^ static_cast<unsigned char>(ch)) * 0x100000001b3ull;
  rc::detail::TestMetadata meta;
  meta.id = "Properties/" + name;
  meta.description = name;
  const auto result = rc::detail::checkProperty(rc::detail::toProperty(prop), meta, params);
  std::ostringstream msg;
  rc::detail::printResultMessage(result, msg);
  std::cout << msg.str() << std::endl;
  if (!result.template is<rc::detail::SuccessResult>()) {
    std::string where = "(no case recorded)";
    if (last.set) {
      RunConfig cfg = last.cfg;
      RunReport r = run_case(last.c, cfg, false);
      Repro repro;
      if (r.result.outcome != Outcome::pass && r.result.outcome != Outcome::nondeterminism) {
        ShrinkOptions opts;
        opts.max_seconds = 30;
        ShrinkResult sr;
        repro = shrink_failure(last.c.sc, cfg, r, opts, &sr);
        std::cout << "schedule shrink: " << sr.before.decisions << " -> " << sr.after.decisions << " decisions, "
                  << sr.before.preemptions << " -> " << sr.after.preemptions << " preemptions" << std::endl;
      } else {
        repro = repro_of(last.c.sc, cfg, r);  // a trace property: the whole run is the reproduction
      }
      std::string err;
      const std::string path = repro_path(name);
      where = save_repro(path, repro, err) ? "replay: " + repro_command(path) : "could not save the reproduction: " + err;
    }
    FAIL() << msg.str() << "\n" << last.what << "\n" << where;
  }
  std::ostringstream counts;
  for (const auto& [k, v] : reached) counts << " " << k << "=" << v;
  std::cout << name << ": " << params.maxSuccess << " cases; runs reaching:" << counts.str() << std::endl;
  for (const std::string& r : required) {
    EXPECT_GT(reached.count(r) ? reached.at(r) : 0u, 0u)
        << name << ": no case reached " << r << " (the property exists for it); reached:" << counts.str();
  }
}

// expect_pass fails the case (and remembers it) unless the run passed.
void expect_pass(const Case& c, const RunConfig& cfg, const RunReport& r, LastFailure& last) {
  if (r.result.outcome != Outcome::pass) {
    last = LastFailure{true, c, cfg, std::string(outcome_name(r.result.outcome)) + ": " + r.result.message};
  }
  RC_ASSERT(r.result.outcome == Outcome::pass);
}

TEST(Properties, EverySpawnedTaskCompletesExactlyOnceOrIsCancelled) {
  LastFailure last;
  Reached reached;
  check_property(
      "ExactlyOnce",
      [&] {
        Case c = *gen_case(Knobs{});
        c.sc.checks = {"exactly_once"};
        RunConfig cfg;
        RunReport r = run_case(c, cfg, false);
        count_run(reached, r);
        expect_pass(c, cfg, r, last);
      },
      last, reached, {"steal", "cancelled", "overflow"});
}

TEST(Properties, NoDeadlockAndNoLostWakeup) {
  LastFailure last;
  Reached reached;
  check_property(
      "NoDeadlock",
      [&] {
        Knobs k;
        k.checks_none = true;
        Case c = *gen_case(k);
        RunConfig cfg;
        RunReport r = run_case(c, cfg, false);
        count_run(reached, r);
        if (r.stats.parks > 0) ++reached["park"];
        RC_CLASSIFY(r.stats.parks > 0, "park");
        expect_pass(c, cfg, r, last);
      },
      last, reached, {"park", "spurious_wake", "last_searcher_notify", "timer_driver_handoff"});
}

TEST(Properties, ARunnableTaskIsPolledWithinTheFairnessBound) {
  LastFailure last;
  Reached reached;
  std::uint64_t windows = 0, censored = 0, tight = 0;
  double worst_ratio = 0;
  check_property(
      "Fairness",
      [&] {
        Knobs k;
        k.multi_thread_only = true;
        k.min_interval = 3;  // 1/gqi + 1/event_interval < 1, so step 3 bounds K
        k.checks_none = true;
        Case c = *gen_case(k);
        RunConfig cfg;
        RunReport r = run_case(c, cfg, true);
        count_run(reached, r);
        expect_pass(c, cfg, r, last);
        // The bound and its derivation: harness/checks/trace_properties.hpp and .cpp.
        FairnessCheck f = check_fairness(r, c.sc.runtime);
        RC_ASSERT(f.bound > 0);  // the knobs keep gqi and event_interval >= 3
        windows += f.windows;
        censored += f.censored;
        if (f.windows > 0) ++reached["checked_window"];
        // A window that used more than half of the bound: the bound is not vacuous.
        if (f.bound > 0) worst_ratio = std::max(worst_ratio, static_cast<double>(f.worst) / static_cast<double>(f.bound));
        if (4 * f.worst > f.bound) ++tight;
        RC_CLASSIFY(4 * f.worst > f.bound, "over a quarter of the bound");
        if (!f.violation.empty()) last = LastFailure{true, c, cfg, "fairness: " + f.violation};
        RC_ASSERT(f.violation.empty());
      },
      last, reached, {"checked_window", "lifo_cap", "budget_exhausted", "inject_batch"});
  std::cout << "fairness: " << windows << " windows checked, " << censored << " censored, " << tight
            << " runs used over a quarter of the bound, worst window " << worst_ratio << " of its bound" << std::endl;
}

// worker_sum adds a field over the workers of a run's metrics JSON.
std::uint64_t worker_sum(const nlohmann::json& m, const char* field) {
  std::uint64_t sum = 0;
  for (const auto& w : m["workers"]) sum += w.value(field, std::uint64_t{0});
  return sum;
}

TEST(Properties, MetricsAgreeWithTheTrace) {
  LastFailure last;
  Reached reached;
  check_property(
      "MetricsMatchTrace",
      [&] {
        Knobs k;
        k.no_blocking = true;
        k.no_spawn_race = true;
        Case c = *gen_case(k);
        c.sc.checks = {"metrics_match_trace"};
        RunConfig cfg;
        RunReport r = run_case(c, cfg, false);
        count_run(reached, r);
        expect_pass(c, cfg, r, last);
        // Beyond the runner's check (polls per worker, spawned tasks): steals and
        // overflows, which the multi-thread flavor counts per worker.
        if (c.sc.runtime.multi_thread()) {
          const nlohmann::json m = nlohmann::json::parse(r.metrics_json);
          const std::uint64_t steals = worker_sum(m, "steal_count");
          const std::uint64_t ops = worker_sum(m, "steal_operations");
          if (steals != r.stats.steals || ops != r.stats.steal_operations) {
            last = LastFailure{true, c, cfg,
                               "metrics: steal_count " + std::to_string(steals) + "/" + std::to_string(ops) +
                                   " ops, trace " + std::to_string(r.stats.steals) + "/" +
                                   std::to_string(r.stats.steal_operations)};
          }
          RC_ASSERT(steals == r.stats.steals);
          RC_ASSERT(ops == r.stats.steal_operations);
        }
      },
      last, reached, {"steal", "overflow"});
}

// A dump is complete or correctly partial: the runner's dump_consistent check
// (one leader per round; the missed workers are exactly those that had not
// arrived when the leader began; a complete dump lists every live task once,
// inspected, with matching queue depths) and the trace's dump hold (no worker that
// arrived polls while the leader collects). Dumps come from tasks and outside
// threads, back to back and concurrent, during stalls longer than the barrier
// timeout (partial dumps) and up to the shutdown (refused with DumpError).
TEST(Properties, ADumpIsCompleteOrCorrectlyPartial) {
  LastFailure last;
  Reached reached;
  check_property(
      "DumpCompleteOrPartial",
      [&] {
        Knobs k;
        k.dumps = true;
        k.shutdown_early = *rc::gen::weightedElement<bool>({{3, false}, {1, true}});
        Case c = *gen_case(k);
        c.sc.checks = {"exactly_once", "no_leak", "dump_consistent"};
        RunConfig cfg;
        RunReport r = run_case(c, cfg, true);
        count_run(reached, r);
        const RunStats& s = r.stats;
        const std::pair<bool, const char*> cases[] = {
            {s.dumps_complete > 0, "complete_dump"},
            {s.dumps_partial > 0, "partial_dump"},
            {s.dump_errors > 0, "dump_refused_at_shutdown"},
            {s.dumps_concurrent > 0, "concurrent_dumps"},
            {s.dumps_from_task > 0, "dump_from_task"},
            {s.dumps_from_outside > 0, "dump_from_outside"},
        };
        for (const auto& [hit, name] : cases) {
          if (hit) ++reached[name];
          RC_CLASSIFY(hit, name);
        }
        expect_pass(c, cfg, r, last);
        const std::string hold = check_dump_hold(r);
        if (!hold.empty()) last = LastFailure{true, c, cfg, "dump_hold: " + hold};
        RC_ASSERT(hold.empty());
      },
      last, reached,
      {"complete_dump", "partial_dump", "dump_timeout", "dump_refused_at_shutdown", "concurrent_dumps", "dump_from_task",
       "dump_from_outside"});
}

TEST(Properties, ShutdownAtAnyMomentFreesEveryTask) {
  LastFailure last;
  Reached reached;
  check_property(
      "ShutdownFreesEveryTask",
      [&] {
        Knobs k;
        k.shutdown_early = true;
        Case c = *gen_case(k);
        c.sc.checks = {"exactly_once", "no_leak"};
        RunConfig cfg;
        RunReport r = run_case(c, cfg, false);
        count_run(reached, r);
        expect_pass(c, cfg, r, last);
      },
      last, reached, {"cancelled"});
}

// Shutdown, dump and abort with tasks in every place (tests/property/places.hpp):
// every case passes the end-of-run checks, and every (flavor, action, place) that
// exists is reached over the run. More cases by default than the other properties:
// the rarest pair (current_thread abort from the injection queue) was reached 4 to
// 10 times in runs of 1,000 cases (a miss near e^-6.5, a flake) and 23 to 24 times
// in runs of 2,000 (RapidCheck's sizes grow with the count), so 2,000 cases miss
// it with a chance near e^-23 (some 7 s of CPU); WEFT_PROPERTY_CASES sets them.
constexpr int kPlacesDefaultCases = 2000;

TEST(Properties, ShutdownDumpAndAbortReachEveryPlaceATaskCanSitAndLeakNothing) {
  LastFailure last;
  Reached reached;
  PlaceCoverage coverage;
  check_property(
      "Places",
      [&] {
        Case c = *gen_places_case();
        RunConfig cfg;
        RunReport r = run_places_case(c, cfg);
        count_run(reached, r);
        coverage.add(c.sc.runtime.multi_thread(), r);
        expect_pass(c, cfg, r, last);
      },
      last, reached, {"cancelled"}, kPlacesDefaultCases);
  std::cout << "places reached (cases), " << coverage.cases << " cases:\n" << coverage.table() << std::flush;
  const std::vector<std::string> missing = coverage.missing();
  std::string list;
  for (const std::string& m : missing) list += "\n  " + m;
  EXPECT_TRUE(missing.empty()) << "Places: no case reached" << list;
}

TEST(Properties, SameSeedGivesTheSameTraceBytes) {
  LastFailure last;
  Reached reached;
  check_property(
      "Determinism",
      [&] {
        Case c = *gen_case(Knobs{});
        RunConfig cfg;
        RunReport a = run_case(c, cfg, true);
        RunConfig cfg2;
        RunReport b = run_case(c, cfg2, true);
        count_run(reached, a);
        const std::string ta = trace_json(c.sc, cfg, a, "weft"), tb = trace_json(c.sc, cfg2, b, "weft");
        if (ta != tb) last = LastFailure{true, c, cfg, "determinism: two runs of the seed gave different traces"};
        RC_ASSERT(ta == tb);
        RC_ASSERT(a.result.schedule == b.result.schedule);
      },
      last, reached, {"steal", "spurious_wake"});
}

TEST(Properties, GeneratedScenariosRoundTripThroughJson) {
  LastFailure last;
  Reached reached;
  check_property(
      "ScenarioJsonRoundTrip",
      [&] {
        Knobs k;
        k.shutdown_early = *rc::gen::arbitrary<bool>();
        k.dumps = *rc::gen::arbitrary<bool>();
        const Case c = *gen_case(k);
        const std::string text = scenario_to_json(c.sc);
        ScenarioError err;
        auto back = parse_scenario(text, "<generated>", err);
        RC_ASSERT(back.has_value());
        RC_ASSERT(scenario_to_json(*back) == text);
        ++reached["parsed"];
        if (back->shutdown_at_ns) ++reached["shutdown_at_ns"];
        if (!back->dumpers.empty()) ++reached["dumpers"];
      },
      last, reached, {"parsed", "shutdown_at_ns", "dumpers"});
}

}  // namespace
}  // namespace weft::sim::property
