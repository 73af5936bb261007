// The lost-parallelism check (harness/checks/parallelism.hpp) on the correct
// engine: its stretches are reached, and stay within the bound.
#include <gtest/gtest.h>

#include <string>

#include "checks/parallelism.hpp"
#include "weft/harness/runner.hpp"
#include "weft/harness/scenario.hpp"

namespace {

using namespace weft::sim;

// The correct engine reaches stretches of lost parallelism (a worker asleep while
// spare work waits a few polls) and never passes the bound; so the check is
// exercised, not vacuous, and raises no false alarm on these seeds.
TEST(LostParallelism, CorrectEngineReachesStretchesWithinTheBound) {
  ScenarioError err;
  auto sc = load_scenario(std::string(WEFT_SCENARIO_DIR) + "/zoo/join_race.json", err);
  ASSERT_TRUE(sc) << err.message();
  std::uint64_t stretches = 0, longest = 0;
  for (std::uint64_t seed = 0; seed < 40; ++seed) {
    RunConfig cfg;
    cfg.seed = seed;
    cfg.strategy = StrategySpec::random();
    cfg.record_schedule = false;
    RunReport r = run_scenario(*sc, cfg);
    ASSERT_EQ(r.result.outcome, Outcome::pass) << "seed " << seed << ": " << r.result.message;
    stretches += r.stats.parallelism_stretches;
    longest = std::max(longest, r.stats.parallelism_longest);
  }
  EXPECT_GT(stretches, 0u);
  EXPECT_GT(longest, 0u);
  EXPECT_LE(longest, kLostParallelismPolls);
}

}  // namespace
