// Interleavings: the simulator explores different orders per seed, reproduces one
// order per seed, and the strategies find a lost update a mutex prevents.
#include <gtest/gtest.h>

#include "sim_test_util.hpp"

namespace weft::sim::testing {
namespace {

constexpr std::uint64_t kSeeds = 200;

TEST(Interleaving, RacyIncrementLosesAnUpdateOnSomeSeedsOnly) {
  int lost = 0;
  int kept = 0;
  for (std::uint64_t seed = 0; seed < kSeeds; ++seed) {
    std::uint64_t value = 0;
    const RunResult r = run_with(options_for(seed), lost_update_body(value));
    ASSERT_EQ(r.outcome, Outcome::pass) << r.summary();
    ASSERT_GE(value, 2u);
    ASSERT_LE(value, 4u);
    (value < 4 ? lost : kept)++;
  }
  EXPECT_GT(lost, 0);
  EXPECT_GT(kept, 0);
}

TEST(Interleaving, SameSeedGivesTheSameSchedule) {
  for (std::uint64_t seed : {1u, 17u, 12345u}) {
    std::uint64_t v1 = 0;
    std::uint64_t v2 = 0;
    const RunResult r1 = run_with(options_for(seed), lost_update_body(v1));
    const RunResult r2 = run_with(options_for(seed), lost_update_body(v2));
    EXPECT_EQ(v1, v2);
    EXPECT_EQ(r1.schedule, r2.schedule);
    EXPECT_EQ(r1.schedule.to_json(), r2.schedule.to_json());
    EXPECT_EQ(r1.steps, r2.steps);
    EXPECT_EQ(r1.context_switches, r2.context_switches);
    EXPECT_EQ(r1.preemptions, r2.preemptions);
    EXPECT_EQ(r1.steps, r1.schedule.decisions.size());
  }
}

TEST(Interleaving, DifferentSeedsGiveDifferentSchedules) {
  std::uint64_t v = 0;
  const RunResult a = run_with(options_for(1), lost_update_body(v));
  int differ = 0;
  for (std::uint64_t seed = 2; seed < 12; ++seed) {
    differ += run_with(options_for(seed), lost_update_body(v)).schedule.decisions != a.schedule.decisions;
  }
  EXPECT_GT(differ, 0);
}

TEST(Interleaving, MutexProtectsTheCounter) {
  for (std::uint64_t seed = 0; seed < kSeeds; ++seed) {
    std::uint64_t value = 0;
    const RunResult r = run_with(options_for(seed), [&value] {
      P::Mutex mu;
      P::Atomic<std::uint64_t> counter{0};
      auto add_twice = [&] {
        for (int i = 0; i < 2; ++i) {
          mu.lock();
          const std::uint64_t v = counter.load(Order::relaxed);
          counter.store(v + 1, Order::relaxed);
          mu.unlock();
        }
      };
      P::Thread a("a", add_twice);
      P::Thread b("b", add_twice);
      P::Thread c("c", add_twice);
      a.join();
      b.join();
      c.join();
      value = counter.load(Order::seq_cst);
    });
    ASSERT_EQ(r.outcome, Outcome::pass) << r.summary();
    ASSERT_EQ(value, 6u) << "seed " << seed;
  }
}

TEST(Interleaving, TryLockFailsWhileHeld) {
  const RunResult r = run_with(options_for(3), [] {
    P::Mutex mu;
    ASSERT_TRUE(mu.try_lock());
    bool other_got_it = true;
    P::Thread t("t", [&] { other_got_it = mu.try_lock(); });
    t.join();
    EXPECT_FALSE(other_got_it);
    mu.unlock();
  });
  EXPECT_EQ(r.outcome, Outcome::pass) << r.summary();
}

TEST(Interleaving, PctFindsTheLostUpdate) {
  for (std::uint32_t depth : {1u, 2u, 3u}) {
    int lost = 0;
    for (std::uint64_t seed = 0; seed < kSeeds; ++seed) {
      std::uint64_t value = 0;
      const RunResult r = run_with(in_sc(options_for(seed, StrategySpec::pct(depth))), lost_update_body(value));
      ASSERT_EQ(r.outcome, Outcome::pass) << r.summary();
      ASSERT_GT(r.pct_steps, 0u);
      lost += value < 4;
    }
    // Depth 1 never preempts a fiber that does not block: no lost update.
    if (depth == 1) {
      EXPECT_EQ(lost, 0);
    } else {
      EXPECT_GT(lost, 0) << "depth " << depth;
    }
  }
}

TEST(Interleaving, PctWithAGivenStepCountIsReproducible) {
  std::uint64_t v1 = 0;
  std::uint64_t v2 = 0;
  const RunResult a = run_with(options_for(9, StrategySpec::pct(3, 40)), lost_update_body(v1));
  const RunResult b = run_with(options_for(9, StrategySpec::pct(3, 40)), lost_update_body(v2));
  EXPECT_EQ(a.schedule, b.schedule);
  EXPECT_EQ(a.pct_steps, 40u);
  EXPECT_EQ(a.schedule.pct_steps, 40u);
  EXPECT_EQ(v1, v2);
}

TEST(Interleaving, YieldPrefersAnotherRunnableFiber) {
  // A spinner that waits for a flag set by another fiber must not starve it.
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    for (auto spec : {StrategySpec::random(), StrategySpec::pct(3, 50)}) {
      const RunResult r = run_with(options_for(seed, spec, 10'000), [] {
        P::Atomic<std::uint32_t> flag{0};
        P::Thread setter("setter", [&] { flag.store(1, Order::release); });
        while (flag.load(Order::acquire) == 0) P::spin_hint();
        setter.join();
      });
      ASSERT_EQ(r.outcome, Outcome::pass) << r.summary();
    }
  }
}

}  // namespace
}  // namespace weft::sim::testing
