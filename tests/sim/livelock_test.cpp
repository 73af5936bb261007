// The livelock oracle (Options::livelock_decisions): a run without progress ends as
// livelock with the cycle it repeated; progress of any kind restarts the count; a
// spinner that gives a yield hint lets the thread it waits for run under PCT.
#include <gtest/gtest.h>

#include <string>

#include "sim_test_util.hpp"

namespace weft::sim::testing {
namespace {

// waiter_and_setter: the main fiber starts a setter that sets `flag`, then spins
// until it is set, with or without a yield hint each turn.
std::function<void()> waiter_and_setter(bool hint) {
  return [hint] {
    P::Atomic<std::uint32_t> flag{0};
    P::Atomic<std::uint32_t> noise{0};
    P::Thread setter("setter", [&] { flag.store(1, Order::release); });
    while (flag.load(Order::acquire) == 0) {
      noise.fetch_add(1, Order::relaxed);  // a second operation in the cycle
      if (hint) P::spin_hint();
    }
    setter.join();
  };
}

Options livelock_options(std::uint64_t seed, StrategySpec strategy, std::uint64_t livelock_decisions) {
  Options o = options_for(seed, std::move(strategy), 1'000'000);
  o.livelock_decisions = livelock_decisions;
  return o;
}

TEST(Livelock, ASpinWithoutAYieldHintUnderPctIsALivelockWithItsCycle) {
  // PCT depth 1: no change points, the main fiber (created first) keeps its
  // priority whenever it is above the setter's; some seeds order them that way.
  int livelocks = 0;
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    const RunResult r = run_with(livelock_options(seed, StrategySpec::pct(1, 100), 2'000), waiter_and_setter(false));
    if (r.outcome != Outcome::livelock) {
      EXPECT_EQ(r.outcome, Outcome::pass) << r.summary();
      continue;
    }
    ++livelocks;
    EXPECT_EQ(r.exit_code(), 13);
    // The count starts at the setter's creation, within the first decisions.
    EXPECT_GE(r.steps, 2'000u + kLivelockWatch - 1) << r.summary();
    EXPECT_LE(r.steps, 2'000u + kLivelockWatch + 2) << r.summary();
    EXPECT_NE(r.message.find("fiber 0 (main) made 4096 decisions, repeating a cycle"), std::string::npos) << r.message;
    EXPECT_NE(r.message.find("(1 variant; the most common, 2 operations: load fetch_add)"), std::string::npos)
        << r.message;
  }
  EXPECT_GT(livelocks, 0);
}

TEST(Livelock, WithTheOracleOffTheSameSpinRunsToTheStepBound) {
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    const RunResult with = run_with(livelock_options(seed, StrategySpec::pct(1, 100), 2'000), waiter_and_setter(false));
    if (with.outcome != Outcome::livelock) continue;
    const RunResult without = run_with(livelock_options(seed, StrategySpec::pct(1, 100), 0), waiter_and_setter(false));
    EXPECT_EQ(without.outcome, Outcome::step_bound_exceeded) << without.summary();
    EXPECT_EQ(without.steps, 1'000'000u);
    return;
  }
  FAIL() << "no seed livelocked";
}

TEST(Livelock, ASpinWithAYieldHintLetsTheSetterRunUnderEveryStrategy) {
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    for (const StrategySpec& st : {StrategySpec::pct(1, 100), StrategySpec::pct(3, 100), StrategySpec::random(),
                                   StrategySpec::hold()}) {
      const RunResult r = run_with(livelock_options(seed, st, 2'000), waiter_and_setter(true));
      EXPECT_EQ(r.outcome, Outcome::pass) << st.label() << " " << r.summary();
      EXPECT_LT(r.longest_quiet, 2'000u);
    }
  }
}

TEST(Livelock, ProgressRestartsTheCount) {
  // 10,000 decisions in all, never 1,000 without progress: no livelock.
  const RunResult r = run_with(livelock_options(0, StrategySpec::random(), 1'000), [] {
    P::Atomic<std::uint32_t> a{0};
    for (int i = 0; i < 10'000; ++i) {
      a.fetch_add(1, Order::relaxed);
      if (i % 500 == 0) note_progress();
    }
  });
  EXPECT_EQ(r.outcome, Outcome::pass) << r.summary();
  EXPECT_GE(r.longest_quiet, 499u);
  EXPECT_LE(r.longest_quiet, 501u);
}

TEST(Livelock, VirtualTimePassingIsProgress) {
  const RunResult r = run_with(livelock_options(0, StrategySpec::random(), 1'000), [] {
    P::Atomic<std::uint32_t> a{0};
    for (int i = 0; i < 10'000; ++i) {
      a.fetch_add(1, Order::relaxed);
      if (i % 500 == 0) sleep_virtual(10);
    }
  });
  EXPECT_EQ(r.outcome, Outcome::pass) << r.summary();
}

}  // namespace
}  // namespace weft::sim::testing
