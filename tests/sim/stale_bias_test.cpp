// Stale reads by strategy and by the shrinker (the bias is documented at
// kStaleReadPerMille): PCT makes the memory draw after each of its change points
// read the oldest store it may, hold does so for the fiber whose hold ended, the
// random walk has only the per-draw bias; each of the three reaches the stale
// outcome of a message-passing shape; and the shrinker's reads pass keeps only the
// stale reads a failure needs, none for a failure that needs none.
#include <gtest/gtest.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "sim_test_util.hpp"
#include "weft/sim/shrink.hpp"

namespace weft::sim::testing {
namespace {

constexpr std::uint64_t kSeeds = 300;
constexpr std::uint32_t kWrites = 6;

// mp_through_cas: a writer stores the payload i and then moves a flag from i-1 to
// i by compare-exchange (so hold may hold a reader of the flag), all relaxed; a
// reader loads the flag and then the payload. `stale` is set when the payload read
// is older than the flag read (allowed: nothing orders them). With `fail`, that
// outcome throws (the failure the shrinker test minimises), and a second reader
// loads a noise atomic the writer also stores, whose stale reads change nothing.
std::function<void()> mp_through_cas(bool& stale, bool fail = false) {
  return [&stale, fail] {
    stale = false;
    P::Atomic<std::uint32_t> payload{0}, flag{0}, noise{0};
    P::Thread writer("writer", [&] {
      for (std::uint32_t i = 1; i <= kWrites; ++i) {
        payload.store(i, Order::relaxed);
        noise.store(i, Order::relaxed);
        std::uint32_t expected = i - 1;
        flag.compare_exchange(expected, i, Order::relaxed, Order::relaxed);
      }
    });
    P::Thread reader("reader", [&] {
      const std::uint32_t f = flag.load(Order::relaxed);
      const std::uint32_t p = payload.load(Order::relaxed);
      stale = p < f;
    });
    std::uint64_t sum = 0;
    P::Thread other("other", [&] {
      for (int i = 0; i < 8; ++i) sum += noise.load(Order::relaxed);
    });
    writer.join();
    reader.join();
    other.join();
    if (fail && stale) throw std::runtime_error("the payload is older than the flag");
  };
}

Options c11(std::uint64_t seed, StrategySpec strategy) {
  Options o = options_for(seed, std::move(strategy));
  o.memory_model = MemoryModel::c11;
  return o;
}

// forced_draws counts the memory draws of a schedule whose value is an
// oldest_draw(n): only a strategy's bias makes them (a seed's stream gives a value
// below 64,000 once in 2^48 draws).
std::uint64_t forced_draws(const Schedule& s) {
  std::uint64_t n = 0;
  for (const Decision& d : s.decisions) {
    n += d.kind == DecisionKind::random && is_memory_draw(d.op) && d.value < 1000 * kHistoryDepthMax && d.value % 1000 == 999;
  }
  return n;
}

struct Tally {
  std::uint64_t stale_runs = 0;   // runs that reached the stale outcome
  std::uint64_t forced_runs = 0;  // runs with at least one forced oldest read
};

Tally tally(const StrategySpec& spec) {
  Tally t;
  for (std::uint64_t seed = 0; seed < kSeeds; ++seed) {
    bool stale = false;
    const RunResult r = run_with(c11(seed, spec), mp_through_cas(stale));
    EXPECT_EQ(r.outcome, Outcome::pass) << r.summary();
    t.stale_runs += stale;
    t.forced_runs += forced_draws(r.schedule) > 0;
  }
  return t;
}

TEST(StaleBias, TheRandomWalkReachesTheStaleOutcomeWithItsPerDrawBiasAlone) {
  const Tally t = tally(StrategySpec::random());
  EXPECT_GT(t.stale_runs, 0u);
  EXPECT_EQ(t.forced_runs, 0u);
}

TEST(StaleBias, PctReadsTheOldestStoreAfterItsChangePointsAndReachesTheStaleOutcome) {
  const Tally t = tally(StrategySpec::pct(3, 40));
  EXPECT_GT(t.stale_runs, 0u);
  EXPECT_GT(t.forced_runs, kSeeds / 4) << "a change point comes before a memory draw with a choice in most runs";
  // Depth 1 has no change point, so nothing is forced.
  EXPECT_EQ(tally(StrategySpec::pct(1, 40)).forced_runs, 0u);
}

TEST(StaleBias, HoldReadsTheOldestStoreWhenAHoldEndsAndReachesTheStaleOutcome) {
  const Tally t = tally(StrategySpec::hold());
  EXPECT_GT(t.stale_runs, 0u);
  EXPECT_GT(t.forced_runs, 0u) << "a reader held on the flag reads the oldest payload when let go";
}

TEST(StaleBias, TheBiasIsOnlyInC11AnScRunMakesNoMemoryDraws) {
  for (const StrategySpec& spec : {StrategySpec::random(), StrategySpec::pct(3, 40), StrategySpec::hold()}) {
    for (std::uint64_t seed = 0; seed < 50; ++seed) {
      bool stale = false;
      const RunResult r = run_with(in_sc(options_for(seed, spec)), mp_through_cas(stale));
      EXPECT_FALSE(stale) << spec.label() << " seed " << seed;
      for (const Decision& d : r.schedule.decisions) EXPECT_FALSE(d.kind == DecisionKind::random && is_memory_draw(d.op));
    }
  }
}

// ---- the shrinker's reads pass ----

Probe probe(const Schedule& s, bool fail_on_stale, std::function<void()> (*body)(bool&, bool)) {
  bool stale = false;
  const RunResult r = run_with(c11(0, StrategySpec::lenient(s)), body(stale, fail_on_stale));
  return Probe{failure_signature(r.outcome, r.message), r.steps, r.preemptions};
}

TEST(StaleBias, TheShrinkerKeepsOnlyTheStaleReadsTheFailureNeeds) {
  for (std::uint64_t seed = 0; seed < 400; ++seed) {
    bool stale = false;
    const RunResult r = run_with(c11(seed, StrategySpec::random()), mp_through_cas(stale, true));
    const ScheduleSize size{r.schedule.decisions.size(), count_switches(r.schedule), r.preemptions, r.steps};
    if (r.outcome != Outcome::exception || count_stale_reads(r.schedule) < 3) continue;
    const ShrinkResult s =
        shrink_schedule(r.schedule, size, [](const Schedule& c) { return probe(c, true, mp_through_cas); });
    ASSERT_TRUE(s.reproduced);
    EXPECT_EQ(s.before.stale_reads, count_stale_reads(r.schedule));
    EXPECT_TRUE(s.schedule.reads_listed);
    EXPECT_GE(s.after.stale_reads, 1u) << "the failure needs the payload read stale";
    EXPECT_LT(s.after.stale_reads, s.before.stale_reads) << "seed " << seed;
    // The shrunk schedule fails alone, and with its reads all newest it does not.
    EXPECT_EQ(probe(s.schedule, true, mp_through_cas).signature, failure_signature(r.outcome, r.message));
    Schedule newest = s.schedule;
    newest.reads.clear();
    EXPECT_EQ(probe(newest, true, mp_through_cas).signature, "pass");
    return;
  }
  FAIL() << "no seed in 0..399 reads the payload stale with three stale reads";
}

// lost_update: an interleaving-only failure in c11: two adders load and then
// store a seq_cst counter (a seq_cst load reads the newest store in this model, so
// only an interleaving loses an update), reading a relaxed noise atomic that a
// third fiber stores between (stale reads that change nothing).
std::function<void()> lost_update(bool& stale, bool) {
  return [&stale] {
    stale = false;
    P::Atomic<std::uint32_t> counter{0}, noise{0};
    std::uint64_t sum = 0;
    auto add_twice = [&] {
      for (int i = 0; i < 2; ++i) {
        const std::uint32_t v = counter.load(Order::seq_cst);
        sum += noise.load(Order::relaxed);
        counter.store(v + 1, Order::seq_cst);
      }
    };
    P::Thread noisy("noisy", [&] {
      for (std::uint32_t i = 1; i <= 8; ++i) noise.store(i, Order::relaxed);
    });
    P::Thread a("a", add_twice), b("b", add_twice);
    noisy.join();
    a.join();
    b.join();
    if (counter.load(Order::relaxed) != 4) throw std::runtime_error("lost update");
  };
}

TEST(StaleBias, AFailureThatNeedsNoStaleReadShrinksToNone) {
  for (std::uint64_t seed = 0; seed < 400; ++seed) {
    bool stale = false;
    const RunResult r = run_with(c11(seed, StrategySpec::random()), lost_update(stale, false));
    const ScheduleSize size{r.schedule.decisions.size(), count_switches(r.schedule), r.preemptions, r.steps};
    if (r.outcome != Outcome::exception || count_stale_reads(r.schedule) == 0) continue;
    const ShrinkResult s = shrink_schedule(r.schedule, size, [](const Schedule& c) { return probe(c, false, lost_update); });
    ASSERT_TRUE(s.reproduced);
    EXPECT_GT(s.before.stale_reads, 0u);
    EXPECT_TRUE(s.schedule.reads_listed);
    EXPECT_EQ(s.after.stale_reads, 0u);
    EXPECT_TRUE(s.schedule.reads.empty());
    return;
  }
  FAIL() << "no seed in 0..399 loses an update with a stale read in its schedule";
}

}  // namespace
}  // namespace weft::sim::testing
