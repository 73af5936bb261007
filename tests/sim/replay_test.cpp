// Replay: a recorded schedule replays decision by decision, survives JSON, and a
// replay that cannot follow its schedule stops with nondeterminism at the first
// divergent decision.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "sim_test_util.hpp"
#include "weft/assert.hpp"

namespace weft::sim::testing {
namespace {

// entropy_body draws entropy in two fibers and races on a counter.
std::function<void()> entropy_body(std::uint64_t& out) {
  return [&out] {
    P::Atomic<std::uint64_t> acc{0};
    auto work = [&acc] {
      const std::uint64_t e = P::entropy();
      acc.fetch_add(e & 0xff, Order::relaxed);
      acc.fetch_add(1, Order::relaxed);
    };
    P::Thread a("a", work);
    P::Thread b("b", work);
    a.join();
    b.join();
    out = acc.load(Order::seq_cst) + random_below(1000);
  };
}

TEST(Replay, RecordThenReplayGivesTheSameDecisions) {
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    for (auto spec : {StrategySpec::random(), StrategySpec::pct(3)}) {
      std::uint64_t v1 = 0;
      std::uint64_t v2 = 0;
      const RunResult rec = run_with(options_for(seed, spec), entropy_body(v1));
      ASSERT_EQ(rec.outcome, Outcome::pass) << rec.summary();
      const RunResult rep = run_with(options_for(999, StrategySpec::replay(rec.schedule)), entropy_body(v2));
      ASSERT_EQ(rep.outcome, Outcome::pass) << rep.summary();
      EXPECT_EQ(rep.seed, seed);
      EXPECT_EQ(rep.schedule.decisions, rec.schedule.decisions);
      EXPECT_EQ(v1, v2);
      EXPECT_EQ(rep.context_switches, rec.context_switches);
    }
  }
}

TEST(Replay, ReplayReproducesAFailure) {
  // Find a seed that loses an update, then replay it from its JSON.
  for (std::uint64_t seed = 0; seed < 100; ++seed) {
    std::uint64_t value = 0;
    const RunResult rec = run_with(options_for(seed), lost_update_body(value));
    if (value == 4) continue;
    std::string error;
    const std::optional<Schedule> loaded = Schedule::from_json(rec.schedule.to_json(), error);
    ASSERT_TRUE(loaded) << error;
    std::uint64_t replayed = 0;
    const RunResult rep = run_with(options_for(0, StrategySpec::replay(*loaded)), lost_update_body(replayed));
    EXPECT_EQ(rep.outcome, Outcome::pass) << rep.summary();
    EXPECT_EQ(replayed, value);
    return;
  }
  FAIL() << "no seed lost an update";
}

TEST(Replay, TamperedFiberChoiceReportsNondeterminismAtItsIndex) {
  std::uint64_t v = 0;
  const RunResult rec = run_with(options_for(5), entropy_body(v));
  ASSERT_EQ(rec.outcome, Outcome::pass);
  ASSERT_GT(rec.schedule.decisions.size(), 10u);
  for (std::size_t index : {std::size_t{0}, std::size_t{3}, rec.schedule.decisions.size() / 2}) {
    Schedule bad = rec.schedule;
    std::size_t i = index;
    while (bad.decisions[i].kind != DecisionKind::fiber) ++i;
    bad.decisions[i].value = 77;  // no such fiber
    const RunResult rep = run_with(options_for(5, StrategySpec::replay(bad)), entropy_body(v));
    EXPECT_EQ(rep.outcome, Outcome::nondeterminism);
    EXPECT_EQ(rep.divergence_index, i) << rep.summary();
    EXPECT_NE(rep.message.find("not runnable"), std::string::npos) << rep.message;
    EXPECT_EQ(rep.steps, i);
  }
}

TEST(Replay, TamperedOpOrKindReportsNondeterminism) {
  std::uint64_t v = 0;
  const RunResult rec = run_with(options_for(6), entropy_body(v));
  std::size_t draw = 0;
  while (rec.schedule.decisions[draw].kind != DecisionKind::random) ++draw;

  Schedule wrong_kind = rec.schedule;
  wrong_kind.decisions[draw].kind = DecisionKind::fiber;
  RunResult rep = run_with(options_for(6, StrategySpec::replay(wrong_kind)), entropy_body(v));
  EXPECT_EQ(rep.outcome, Outcome::nondeterminism);
  EXPECT_EQ(rep.divergence_index, draw) << rep.summary();

  Schedule wrong_op = rec.schedule;
  wrong_op.decisions[2].op = Op::park;
  rep = run_with(options_for(6, StrategySpec::replay(wrong_op)), entropy_body(v));
  EXPECT_EQ(rep.outcome, Outcome::nondeterminism);
  EXPECT_EQ(rep.divergence_index, 2u) << rep.summary();
  EXPECT_NE(rep.message.find("recorded op park"), std::string::npos) << rep.message;
}

TEST(Replay, ScheduleEndingEarlyOrLateIsNondeterminism) {
  std::uint64_t v = 0;
  const RunResult rec = run_with(options_for(8), entropy_body(v));
  Schedule shorter = rec.schedule;
  shorter.decisions.resize(shorter.decisions.size() - 3);
  RunResult rep = run_with(options_for(8, StrategySpec::replay(shorter)), entropy_body(v));
  EXPECT_EQ(rep.outcome, Outcome::nondeterminism);
  EXPECT_EQ(rep.divergence_index, shorter.decisions.size()) << rep.summary();

  Schedule longer = rec.schedule;
  longer.decisions.push_back(Decision{DecisionKind::fiber, Op::load, 0});
  rep = run_with(options_for(8, StrategySpec::replay(longer)), entropy_body(v));
  EXPECT_EQ(rep.outcome, Outcome::nondeterminism);
  EXPECT_EQ(rep.divergence_index, rec.schedule.decisions.size()) << rep.summary();
}

TEST(Replay, ProgramNondeterminismIsCaught) {
  // A program that behaves differently on its second run (hidden state outside
  // the seam) cannot follow its first run's schedule.
  int runs = 0;
  auto body = [&runs] {
    P::Atomic<std::uint32_t> x{0};
    P::Thread t("t", [&] { x.fetch_add(1, Order::relaxed); });
    if (++runs > 1) x.load(Order::relaxed);  // an extra decision on replay
    t.join();
  };
  const RunResult rec = run_with(options_for(1), body);
  const RunResult rep = run_with(options_for(1, StrategySpec::replay(rec.schedule)), body);
  EXPECT_EQ(rep.outcome, Outcome::nondeterminism) << rep.summary();
}

TEST(Replay, ScheduleJsonRoundTripsThroughAFile) {
  std::uint64_t v = 0;
  const RunResult rec = run_with(options_for(11, StrategySpec::pct(2, 30)), entropy_body(v));
  const std::string path = ::testing::TempDir() + "weft_schedule_roundtrip.json";
  std::string error;
  ASSERT_TRUE(rec.schedule.save(path, error)) << error;
  const std::optional<Schedule> loaded = Schedule::load(path, error);
  std::remove(path.c_str());
  ASSERT_TRUE(loaded) << error;
  EXPECT_EQ(*loaded, rec.schedule);
  EXPECT_EQ(loaded->strategy, "pct");
  EXPECT_EQ(loaded->pct_depth, 2u);
  EXPECT_EQ(loaded->pct_steps, 30u);
  EXPECT_EQ(loaded->to_json(), rec.schedule.to_json());
}

TEST(Replay, MalformedScheduleJsonIsAnError) {
  std::string error;
  EXPECT_FALSE(Schedule::from_json("{", error));
  EXPECT_FALSE(error.empty());
  EXPECT_FALSE(Schedule::from_json(R"({"format":"other","version":1})", error));
  EXPECT_FALSE(Schedule::from_json(R"({"format":"weft-schedule","version":2,"seed":1,"decisions":[]})", error));
  EXPECT_FALSE(Schedule::from_json(R"({"format":"weft-schedule","version":1,"seed":1,"decisions":[["nope","f",1]]})",
                                   error));
  EXPECT_NE(error.find("$.decisions[0][0]: expected an op name"), std::string::npos) << error;
  EXPECT_TRUE(Schedule::from_json(R"({"format":"weft-schedule","version":1,"seed":1,"decisions":[["load","f",1]]})",
                                  error));
  EXPECT_FALSE(Schedule::load("/nonexistent/dir/x.json", error));
}

}  // namespace
}  // namespace weft::sim::testing

namespace weft::sim::testing {
namespace {

TEST(Replay, PctReportsAFailureThatItsMeasuringWalkFoundAndTheRecordingReplaysIt) {
  // PCT without a step count runs each seed's random walk first; every seed whose
  // walk fails must be reported as failed by PCT, with a schedule that replays it.
  auto racy = [] {
    P::Atomic<std::uint64_t> counter{0};
    auto add = [&counter] { counter.store(counter.load(Order::relaxed) + 1, Order::relaxed); };
    P::Thread a("adder-a", add);
    P::Thread b("adder-b", add);
    a.join();
    b.join();
    WEFT_CHECK(counter.load(Order::seq_cst) == 2);
  };
  int walk_failures = 0;
  for (std::uint64_t seed = 0; seed < 100; ++seed) {
    const RunResult walk = run_with(options_for(seed), racy);
    const RunResult pct = run_with(options_for(seed, StrategySpec::pct(3)), racy);
    if (walk.outcome == Outcome::pass) continue;
    ++walk_failures;
    ASSERT_EQ(pct.outcome, walk.outcome) << "seed " << seed << ": " << pct.summary();
    EXPECT_TRUE(pct.measuring_pct);
    EXPECT_EQ(pct.message, walk.message);
    EXPECT_EQ(pct.seed, seed);
    const RunResult again = run_with(options_for(0, StrategySpec::replay(pct.schedule)), racy);
    EXPECT_EQ(again.outcome, walk.outcome) << again.summary();
  }
  EXPECT_GT(walk_failures, 0) << "the race was never hit: the test reaches nothing";
}

}  // namespace
}  // namespace weft::sim::testing
