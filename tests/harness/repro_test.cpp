// Reproduction files and schedule shrinking on scenarios: the canary shrinks and
// still fails with its class, a reproduction survives a save/load round trip and
// replays to the same run, and every reproduction committed in tests/regressions/
// replays to its scenario's expected outcome (an expected-failure regression must
// still fail with its recorded signature).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "weft/harness/repro.hpp"

namespace weft::sim {
namespace {

Scenario load(const std::string& name) {
  ScenarioError err;
  auto sc = load_scenario(std::string(WEFT_SCENARIO_DIR) + "/" + name, err);
  EXPECT_TRUE(sc.has_value()) << err.message();
  return sc.value_or(Scenario{});
}

TEST(Repro, TheCanaryShrinksAndStillFailsWithItsClass) {
  const Scenario sc = load("canary.json");
  RunConfig cfg;
  cfg.seed = 1;
  cfg.strategy = strategy_of(sc);
  const RunReport r = run_scenario(sc, cfg);
  ASSERT_EQ(r.result.outcome, Outcome::assertion) << r.result.message;
  ShrinkResult s;
  const Repro repro = shrink_failure(sc, cfg, r, ShrinkOptions{}, &s);
  ASSERT_TRUE(s.reproduced);
  EXPECT_LE(s.after.decisions, s.before.decisions);
  EXPECT_LE(s.after.preemptions, s.before.preemptions);
  EXPECT_LT(s.after.decisions, s.before.decisions / 10) << "the canary's race needs no preemption: it should shrink far";
  const RunReport again = replay_repro(repro);
  EXPECT_EQ(again.result.outcome, Outcome::assertion);
  EXPECT_EQ(failure_signature(again.result.outcome, again.result.message), repro.signature);
  EXPECT_NE(repro.signature.find("counters_exact"), std::string::npos) << repro.signature;
}

TEST(Repro, APctRunReportsAFailureItsMeasuringWalkFoundAndItsReproductionReplaysIt) {
  const Scenario sc = load("canary.json");
  int measured = 0;
  for (std::uint64_t seed = 0; seed < 5; ++seed) {
    RunConfig walk;
    walk.seed = seed;
    walk.strategy = StrategySpec::random();
    const RunReport w = run_scenario(sc, walk);
    RunConfig cfg = walk;
    cfg.strategy = StrategySpec::pct(2, 0);
    const RunReport r = run_scenario(sc, cfg);
    if (w.result.outcome == Outcome::pass) continue;
    ++measured;
    ASSERT_EQ(r.result.outcome, w.result.outcome) << r.result.summary();
    EXPECT_TRUE(r.result.measuring_pct);
    EXPECT_EQ(r.result.schedule.decisions, w.result.schedule.decisions);
    const RunReport again = replay_repro(repro_of(sc, cfg, r));
    EXPECT_EQ(again.result.outcome, w.result.outcome) << again.result.summary();
  }
  EXPECT_GT(measured, 0) << "the canary never failed under the random walk";
}

TEST(Repro, AReproductionRoundTripsThroughItsFileAndReplaysTheSameRun) {
  const Scenario sc = load("canary.json");
  RunConfig cfg;
  cfg.seed = 3;
  cfg.strategy = strategy_of(sc);
  const RunReport r = run_scenario(sc, cfg);
  ASSERT_NE(r.result.outcome, Outcome::pass);
  const Repro repro = repro_of(sc, cfg, r);  // unshrunk: the full schedule
  const std::string path = (std::filesystem::temp_directory_path() / "weft-repro-roundtrip.json").string();
  std::string err;
  ASSERT_TRUE(save_repro(path, repro, err)) << err;
  auto loaded = load_repro(path, err);
  ASSERT_TRUE(loaded.has_value()) << err;
  EXPECT_EQ(loaded->seed, repro.seed);
  EXPECT_EQ(loaded->schedule, repro.schedule);
  EXPECT_EQ(loaded->signature, repro.signature);
  EXPECT_EQ(scenario_to_json(loaded->scenario), scenario_to_json(sc));
  const RunReport again = replay_repro(*loaded);
  EXPECT_EQ(again.result.outcome, r.result.outcome);
  EXPECT_EQ(again.result.message, r.result.message);
  EXPECT_EQ(again.result.steps, r.result.steps);
  std::filesystem::remove(path);
}

TEST(Repro, AMalformedReproductionIsRejectedWithItsReason) {
  std::string err;
  EXPECT_FALSE(parse_repro("{}", "x.json", err).has_value());
  EXPECT_NE(err.find("weft-repro"), std::string::npos) << err;
  EXPECT_FALSE(parse_repro("not json", "x.json", err).has_value());
  EXPECT_NE(err.find("x.json: $: expected valid JSON; at line 1, column 2"), std::string::npos) << err;
}

// Every field of a reproduction is checked like a scenario's: a wrong type, a
// null, an unknown or duplicate key is one line naming the JSON path, never an
// exception out of the JSON library.
TEST(Repro, AWrongTypedFieldIsRejectedWithItsJsonPath) {
  std::string text;
  {
    std::ifstream in(std::string(WEFT_REGRESSION_DIR) + "/canary-expected-failure.repro.json");
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  std::string err;
  ASSERT_TRUE(parse_repro(text, "ok.json", err).has_value()) << err;
  const auto with = [&](const std::string& from, const std::string& to) {
    std::string t = text;
    const auto at = t.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return t.replace(at, from.size(), to);
  };
  const std::pair<std::string, std::string> cases[] = {
      {with("\"strategy\": \"random\"", "\"strategy\": 5"), "ok.json: $.strategy: expected a string, got 5"},
      {with("\"outcome\": \"assertion\"", "\"outcome\": null"), "ok.json: $.failure.outcome: expected a string, got null"},
      {with("\"seed\": 1,", "\"seed\": 1e999,"), "ok.json: $.seed: expected a number within a double's range"},
      {with("\"seed\": 1,", "\"seed\": 1, \"seed\": 1,"), "ok.json: $.seed: expected each key once in an object"},
      {with("\"format\": \"weft-repro\"", "\"format\": 5"), "ok.json: $.format: expected \"weft-repro\""},
  };
  for (const auto& [bad, message] : cases) {
    EXPECT_FALSE(parse_repro(bad, "ok.json", err).has_value()) << message;
    EXPECT_EQ(err.rfind(message, 0), 0u) << err;
    EXPECT_EQ(err.find('\n'), std::string::npos) << err;
  }
}

std::vector<std::string> regression_files() {
  std::vector<std::string> out;
  if (!std::filesystem::exists(WEFT_REGRESSION_DIR)) return out;
  for (auto& e : std::filesystem::directory_iterator(WEFT_REGRESSION_DIR)) {
    if (e.path().extension() == ".json") out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(Regressions, ThereIsAtLeastOne) { EXPECT_FALSE(regression_files().empty()); }

class Regression : public ::testing::TestWithParam<std::string> {};

TEST_P(Regression, ReplaysToItsExpectedOutcome) {
  std::string err;
  auto repro = load_repro(GetParam(), err);
  ASSERT_TRUE(repro.has_value()) << err;
  const RunReport r = replay_repro(*repro);
  const std::string replay = repro_command(GetParam());
  ASSERT_EQ(outcome_name(r.result.outcome), repro->scenario.expect)
      << r.result.message << "\n  replay: " << replay;
  if (repro->scenario.expect != "pass") {
    // Expected failure: still the same failure class and assertion.
    EXPECT_EQ(failure_signature(r.result.outcome, r.result.message), repro->signature) << "replay: " << replay;
  }
}

std::string stem(const ::testing::TestParamInfo<std::string>& info) {
  std::string s = std::filesystem::path(info.param).stem().string();
  for (char& c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return s;
}

INSTANTIATE_TEST_SUITE_P(Committed, Regression, ::testing::ValuesIn(regression_files()), stem);

}  // namespace
}  // namespace weft::sim
