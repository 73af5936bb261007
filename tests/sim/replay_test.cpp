// Replay: a recorded schedule replays decision by decision, survives JSON, and a
// replay that cannot follow its schedule stops with nondeterminism at the first
// divergent decision.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

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

// tree_text renders a schedule the way a JSON tree of it dumps: the writer
// streams instead, and must give the same bytes.
std::string tree_text(const Schedule& s) {
  nlohmann::json j;
  j["format"] = "weft-schedule";
  j["version"] = s.reads_listed ? 3 : s.switches.empty() ? 1 : 2;
  j["seed"] = s.seed;
  j["strategy"] = s.strategy;
  j["pct_depth"] = s.pct_depth;
  j["pct_steps"] = s.pct_steps;
  if (!s.memory_model.empty()) j["memory_model"] = s.memory_model;
  if (s.history_depth != 0) j["history_depth"] = s.history_depth;
  auto& ds = j["decisions"] = nlohmann::json::array();
  for (const Decision& d : s.decisions)
    ds.push_back(nlohmann::json::array({op_name(d.op), d.kind == DecisionKind::fiber ? "f" : "r", d.value}));
  if (!s.switches.empty() || s.reads_listed) {
    auto& ws = j["switches"] = nlohmann::json::array();
    for (const Switch& w : s.switches) ws.push_back(nlohmann::json::array({w.fiber, w.step, w.to}));
  }
  if (s.reads_listed) {
    auto& rs = j["reads"] = nlohmann::json::array();
    for (const ReadDraw& d : s.reads) rs.push_back(nlohmann::json::array({d.fiber, d.step, d.value}));
  }
  return j.dump();
}

TEST(Replay, TheStreamedScheduleWriterWritesTheBytesOfAJsonTree) {
  std::uint64_t v = 0;
  std::vector<Schedule> cases;
  for (std::uint64_t seed = 0; seed < 8; ++seed)
    cases.push_back(run_with(options_for(seed, seed % 2 ? StrategySpec::pct(2) : StrategySpec::random()),
                             entropy_body(v)).schedule);
  Schedule empty;
  cases.push_back(empty);
  Schedule odd = cases[1];
  odd.seed = UINT64_MAX;
  odd.strategy = "quote \" back \\ nl \n tab \t ctl \x01 \xc3\xa9";
  odd.memory_model = "c11";
  odd.history_depth = kHistoryDepthMax;
  odd.switches = {{1, 0, 2}, {2, kSwitchPlaceMax, 0}};
  cases.push_back(odd);
  Schedule listed = odd;
  listed.switches.clear();
  listed.reads_listed = true;
  listed.reads = {{0, 3, 1}, {4, kSwitchPlaceMax, UINT64_MAX}};
  cases.push_back(listed);
  listed.reads.clear();
  cases.push_back(listed);
  for (const Schedule& s : cases) {
    ASSERT_FALSE(s.decisions.empty() && &s != &cases[8]);
    EXPECT_EQ(s.to_json(), tree_text(s));
    std::string error;
    const std::optional<Schedule> back = Schedule::from_json(s.to_json(), error);
    ASSERT_TRUE(back) << error;
    EXPECT_EQ(*back, s);
  }
  // Invalid UTF-8 in a string becomes U+FFFD instead of an exception.
  Schedule bad = cases[0];
  bad.strategy = "x\xff";
  EXPECT_NE(bad.to_json().find("\"strategy\":\"x\xef\xbf\xbd\""), std::string::npos);
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
  const std::string c11 = R"({"format":"weft-schedule","version":1,"seed":1,"decisions":[],"memory_model":"c11",)";
  for (const char* depth : {"0", "65", "-1", "\"4\""}) {
    EXPECT_FALSE(Schedule::from_json(c11 + R"("history_depth":)" + depth + "}", error)) << depth;
    EXPECT_NE(error.find("$.history_depth: expected an integer from 1 to 64"), std::string::npos) << error;
  }
  EXPECT_FALSE(Schedule::from_json(R"({"format":"weft-schedule","version":1,"seed":1,"decisions":[],"history_depth":8})",
                                   error));
  EXPECT_NE(error.find("$.history_depth: expected no history_depth in a schedule without"), std::string::npos) << error;
}

// A schedule replays only under the model and history depth it was recorded
// under: Simulation::run refuses another before the run starts, whichever entry
// point built the options (simrun and the testing API say so earlier, in their terms).
TEST(Replay, AReplayUnderAnotherMemoryModelOrHistoryDepthIsRefusedBeforeItRuns) {
  std::uint64_t v = 0;
  Options rec = options_for(3);
  rec.history_depth = 8;
  const RunResult r = run_with(rec, entropy_body(v));
  ASSERT_EQ(r.schedule.memory_model, "c11");
  ASSERT_EQ(r.schedule.history_depth, 8u);
  for (const bool lenient : {false, true}) {
    const StrategySpec spec = lenient ? StrategySpec::lenient(r.schedule) : StrategySpec::replay(r.schedule);
    Options same = options_for(0, spec);
    same.history_depth = 8;
    EXPECT_EQ(run_with(same, entropy_body(v)).outcome, Outcome::pass);
    Options depth4 = options_for(0, spec);
    try {
      run_with(depth4, entropy_body(v));
      ADD_FAILURE() << "no error";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("recorded keeping 8 stores per atomic and this run keeps 4"),
                std::string::npos) << e.what();
    }
    Options sc = in_sc(same);
    try {
      run_with(sc, entropy_body(v));
      ADD_FAILURE() << "no error";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("recorded under the c11 memory model and this run is sc"), std::string::npos)
          << e.what();
    }
  }
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
