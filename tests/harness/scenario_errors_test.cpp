// Malformed and absurd scenario files are rejected with one line naming the file,
// the JSON path and what was expected.
#include <gtest/gtest.h>

#include <string>

#include "weft/harness/scenario.hpp"

namespace {

using namespace weft::sim;

const char* kGood = R"({"name": "t", "programs": {"m": [{"yield": 1}]}, "main": "m"})";

ScenarioError reject(const std::string& text) {
  ScenarioError err;
  auto sc = parse_scenario(text, "bad.json", err);
  EXPECT_FALSE(sc.has_value()) << text;
  return err;
}

TEST(ScenarioErrors, AcceptsAMinimalScenario) {
  ScenarioError err;
  auto sc = parse_scenario(kGood, "good.json", err);
  ASSERT_TRUE(sc.has_value()) << err.message();
  EXPECT_EQ(sc->runtime.config.worker_threads, 4u);
  EXPECT_EQ(sc->expect, "pass");
}

TEST(ScenarioErrors, NotJsonNamesTheByte) {
  auto e = reject("{\"name\": ");
  EXPECT_EQ(e.file, "bad.json");
  EXPECT_EQ(e.path, "$");
  EXPECT_NE(e.expected.find("valid JSON"), std::string::npos);
}

TEST(ScenarioErrors, WrongTypeNamesThePath) {
  auto e = reject(R"({"name": "t", "runtime": {"workers": "four"}, "programs": {"m": []}, "main": "m"})");
  EXPECT_EQ(e.path, "$.runtime.workers");
  EXPECT_NE(e.expected.find("integer from 1 to 64"), std::string::npos);
  EXPECT_EQ(e.message(), "bad.json: $.runtime.workers: expected an integer from 1 to 64, got \"four\"");
}

TEST(ScenarioErrors, UnknownFieldIsRejected) {
  auto e = reject(R"({"name": "t", "runtime": {"wrokers": 2}, "programs": {"m": []}, "main": "m"})");
  EXPECT_EQ(e.path, "$.runtime.wrokers");
  EXPECT_NE(e.expected.find("no such field"), std::string::npos);
}

TEST(ScenarioErrors, AMillionWorkersIsAbsurd) {
  auto e = reject(R"({"name": "t", "runtime": {"workers": 1000000}, "programs": {"m": []}, "main": "m"})");
  EXPECT_EQ(e.path, "$.runtime.workers");
}

TEST(ScenarioErrors, NegativeDurationIsRejected) {
  auto e = reject(R"({"name": "t", "programs": {"m": [{"sleep_ns": -5}]}, "main": "m"})");
  EXPECT_EQ(e.path, "$.programs.m[0].sleep_ns");
}

TEST(ScenarioErrors, UnknownProgramReferenceIsRejected) {
  auto e = reject(R"({"name": "t", "programs": {"m": [{"spawn": "nope"}]}, "main": "m"})");
  EXPECT_EQ(e.path, "$.programs.m[0].spawn");
}

TEST(ScenarioErrors, QueueCapacityMustBeAPowerOfTwo) {
  auto e = reject(R"({"name": "t", "runtime": {"local_queue_capacity": 12}, "programs": {"m": []}, "main": "m"})");
  EXPECT_EQ(e.path, "$.runtime.local_queue_capacity");
}

TEST(ScenarioErrors, UnknownExpectedOutcomeIsRejected) {
  auto e = reject(R"({"name": "t", "programs": {"m": []}, "main": "m", "expect": "crash"})");
  EXPECT_EQ(e.path, "$.expect");
}

TEST(ScenarioErrors, AnUnknownMemoryModelNamesThePathAndTheModels) {
  auto e = reject(R"({"name": "t", "programs": {"m": []}, "main": "m", "exploration": {"memory_model": "tso"}})");
  EXPECT_EQ(e.path, "$.exploration.memory_model");
  EXPECT_NE(e.expected.find("\"sc\""), std::string::npos) << e.message();
  EXPECT_NE(e.expected.find("\"c11\""), std::string::npos) << e.message();
}

TEST(ScenarioErrors, AHistoryDepthOfZeroOrAboveTheMaximumIsRejected) {
  for (const std::uint64_t depth : {std::uint64_t{0}, std::uint64_t{kHistoryDepthMax} + 1}) {
    auto e = reject(R"({"name": "t", "programs": {"m": []}, "main": "m", "exploration": {"history_depth": )" +
                    std::to_string(depth) + "}}");
    EXPECT_EQ(e.path, "$.exploration.history_depth");
    EXPECT_NE(e.expected.find("from 1 to " + std::to_string(kHistoryDepthMax)), std::string::npos) << e.message();
  }
  ScenarioError err;
  const auto ok = parse_scenario(
      R"({"name": "t", "programs": {"m": []}, "main": "m", "exploration": {"history_depth": )" +
          std::to_string(kHistoryDepthMax) + "}}",
      "good.json", err);
  ASSERT_TRUE(ok.has_value()) << err.message();
  EXPECT_EQ(ok->history_depth, kHistoryDepthMax);
}

TEST(ScenarioErrors, AHistoryDepthUnderTheScModelIsRejected) {
  auto e = reject(
      R"({"name": "t", "programs": {"m": []}, "main": "m", "exploration": {"memory_model": "sc", "history_depth": 8}})");
  EXPECT_EQ(e.path, "$.exploration.history_depth");
  EXPECT_NE(e.expected.find("memory_model \"sc\""), std::string::npos) << e.message();
}

TEST(ScenarioErrors, MissingFileIsAnError) {
  ScenarioError err;
  EXPECT_FALSE(load_scenario("/nonexistent/weft.json", err).has_value());
  EXPECT_EQ(err.file, "/nonexistent/weft.json");
}

}  // namespace

TEST(ScenarioErrors, AnAskOfAnUnknownProgramNamesTheAskField) {
  auto e = reject(R"({"name": "t", "programs": {"m": [{"ask": "nope", "count": 2}]}, "main": "m"})");
  EXPECT_EQ(e.path, "$.programs.m[0].ask");
  EXPECT_NE(e.expected.find("the name of a program in $.programs"), std::string::npos);
}

TEST(ScenarioErrors, AnAskWithNoRepliesOrAStrayFieldIsRejected) {
  EXPECT_EQ(reject(R"({"name": "t", "programs": {"m": [{"ask": "m", "count": 0}]}, "main": "m"})").path,
            "$.programs.m[0].count");
  EXPECT_EQ(reject(R"({"name": "t", "programs": {"m": [{"ask": "m", "detach": true}]}, "main": "m"})").path,
            "$.programs.m[0].detach");
}
