// Lenient replay and schedule shrinking on the simulator core: lenient replay of a
// full schedule is the recorded run, past its end it takes the default; strict
// replay still stops at the first divergent decision; the shrinker reduces a lost
// update to a schedule with a single switch that still loses the update; planted
// races late in long runs shrink to the one or two switches they need; shrunk
// schedules (switches) survive JSON.
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim_test_util.hpp"
#include "weft/sim/shrink.hpp"

namespace weft::sim::testing {
namespace {

// lost_update_failure wraps lost_update_body so that a lost update is a failure
// (an exception escaping main, with the counter in the message).
std::function<void()> lost_update_failure() {
  return [] {
    std::uint64_t value = 0;
    lost_update_body(value)();
    if (value != 4) throw std::runtime_error("lost update: counter is " + std::to_string(value) + " after 4 adds");
  };
}

// failing_seed finds a seed whose random walk loses an update.
RunResult failing_run() {
  for (std::uint64_t seed = 0; seed < 200; ++seed) {
    RunResult r = run_with(options_for(seed), lost_update_failure());
    if (r.outcome == Outcome::exception) return r;
  }
  ADD_FAILURE() << "no seed in 0..199 loses an update";
  return {};
}

Probe probe_of(const Schedule& s) {
  const RunResult r = run_with(options_for(0, StrategySpec::lenient(s)), lost_update_failure());
  return Probe{failure_signature(r.outcome, r.message), r.steps, r.preemptions};
}

TEST(LenientReplay, AFullScheduleReplaysTheRecordedRun) {
  const RunResult rec = failing_run();
  ASSERT_EQ(rec.outcome, Outcome::exception);
  const RunResult rep = run_with(options_for(999, StrategySpec::lenient(rec.schedule)), lost_update_failure());
  EXPECT_EQ(rep.outcome, rec.outcome);
  EXPECT_EQ(rep.message, rec.message);
  EXPECT_EQ(rep.schedule.decisions, rec.schedule.decisions);
  EXPECT_EQ(rep.preemptions, rec.preemptions);
}

TEST(LenientReplay, AnEmptyScheduleRunsTheDefaultWithoutPreemptions) {
  Schedule empty;
  empty.seed = 5;
  empty.memory_model = "c11";  // the runs' model (a schedule names the model it replays under)
  const RunResult a = run_with(options_for(0, StrategySpec::lenient(empty)), lost_update_failure());
  const RunResult b = run_with(options_for(1, StrategySpec::lenient(empty)), lost_update_failure());
  // Keep-running-the-current-fiber never interleaves the load and the store.
  EXPECT_EQ(a.outcome, Outcome::pass) << a.summary();
  EXPECT_EQ(a.preemptions, 0u);
  EXPECT_EQ(a.schedule.decisions, b.schedule.decisions);  // deterministic
}

TEST(LenientReplay, ImpossibleChoicesFallBackInsteadOfDiverging) {
  const RunResult rec = failing_run();
  Schedule s = rec.schedule;
  ASSERT_GT(s.decisions.size(), 4u);
  // Fiber 77 never exists: every choice falls back to the default.
  for (Decision& d : s.decisions) {
    if (d.kind == DecisionKind::fiber) d.value = 77;
  }
  const RunResult lenient = run_with(options_for(0, StrategySpec::lenient(s)), lost_update_failure());
  EXPECT_EQ(lenient.outcome, Outcome::pass) << lenient.summary();
  const RunResult strict = run_with(options_for(0, StrategySpec::replay(s)), lost_update_failure());
  EXPECT_EQ(strict.outcome, Outcome::nondeterminism);
  EXPECT_EQ(strict.divergence_index, 0u) << strict.message;
}

TEST(Shrink, FailureSignatureKeepsTheTextAndDropsTheNumbers) {
  EXPECT_EQ(failure_signature(Outcome::assertion, "counter is 27 after 30 increments"),
            "assertion: counter is # after # increments");
  EXPECT_EQ(failure_signature(Outcome::deadlock, "blocked: 0 main (park)"), "deadlock");
  EXPECT_NE(failure_signature(Outcome::assertion, "x"), failure_signature(Outcome::exception, "x"));
}

TEST(Shrink, ALostUpdateShrinksToASmallScheduleThatStillLosesIt) {
  const RunResult rec = failing_run();
  ASSERT_EQ(rec.outcome, Outcome::exception);
  const ScheduleSize original{rec.schedule.decisions.size(), count_switches(rec.schedule), rec.preemptions, rec.steps};
  const ShrinkResult s = shrink_schedule(rec.schedule, original, probe_of);
  ASSERT_TRUE(s.reproduced);
  EXPECT_EQ(s.signature, failure_signature(rec.outcome, rec.message));
  std::printf("lost update: %llu -> %llu decisions, %llu -> %llu switches, %llu -> %llu preemptions, %llu runs\n",
              static_cast<unsigned long long>(s.before.decisions), static_cast<unsigned long long>(s.after.decisions),
              static_cast<unsigned long long>(s.before.switches), static_cast<unsigned long long>(s.after.switches),
              static_cast<unsigned long long>(s.before.preemptions), static_cast<unsigned long long>(s.after.preemptions),
              static_cast<unsigned long long>(s.runs));
  EXPECT_LE(s.after.decisions, s.before.decisions);
  EXPECT_LT(s.after.switches, s.before.switches + 1);
  // A lost update needs one fiber preempted between its load and its store; with
  // the default continuing the current fiber, at most a couple of switches remain.
  EXPECT_GE(s.after.switches, 1u);
  EXPECT_LE(s.after.switches, 3u);
  // The shrunk schedule still fails the same way, deterministically.
  const Probe again = probe_of(s.schedule);
  EXPECT_EQ(again.signature, s.signature);
  EXPECT_EQ(again.steps, s.after.steps);
}

// late_race: `adders` fibers each do `noise` fetch_adds on a private atomic (a
// long run of decisions), then one racy load-then-store add on a shared counter,
// then `noise` more. The run fails (an exception) when the counter ends at 1: with
// two adders one lost update, which needs one switch (the first adder stopped
// between its load and its store while the second adds); with three adders two
// lost updates, which need two switches.
std::function<void()> late_race(int adders, int noise) {
  return [adders, noise] {
    P::Atomic<std::uint64_t> counter{0};
    auto add = [&counter, noise] {
      P::Atomic<std::uint64_t> own{0};
      for (int i = 0; i < noise; ++i) own.fetch_add(1, Order::relaxed);
      const std::uint64_t v = counter.load(Order::relaxed);
      counter.store(v + 1, Order::relaxed);
      for (int i = 0; i < noise; ++i) own.fetch_add(1, Order::relaxed);
    };
    std::vector<std::unique_ptr<P::Thread>> threads;
    for (int i = 0; i < adders; ++i) threads.push_back(std::make_unique<P::Thread>("adder", add));
    for (auto& t : threads) t->join();
    const std::uint64_t value = counter.load(Order::seq_cst);
    if (value == 1) throw std::runtime_error("lost updates: counter is 1 after " + std::to_string(adders) + " adds");
  };
}

// shrink_late_race finds a failing random walk of late_race and shrinks it.
ShrinkResult shrink_late_race(int adders, int noise) {
  const auto body = late_race(adders, noise);
  for (std::uint64_t seed = 0; seed < 4000; ++seed) {
    // sc: the race is to be lost by switches (under c11 a stale read needs none).
    const RunResult rec = run_with(in_sc(options_for(seed)), body);
    if (rec.outcome != Outcome::exception) continue;
    const ScheduleSize original{rec.schedule.decisions.size(), count_switches(rec.schedule), rec.preemptions,
                                rec.steps};
    auto probe = [&body](const Schedule& s) {
      const RunResult r = run_with(in_sc(options_for(0, StrategySpec::lenient(s))), body);
      return Probe{failure_signature(r.outcome, r.message), r.steps, r.preemptions};
    };
    const ShrinkResult res = shrink_schedule(rec.schedule, original, probe);
    std::printf("late race, %d adders: seed %llu, %llu -> %llu decisions, %llu -> %llu switches, %llu runs\n", adders,
                static_cast<unsigned long long>(seed), static_cast<unsigned long long>(res.before.steps),
                static_cast<unsigned long long>(res.after.steps), static_cast<unsigned long long>(res.before.switches),
                static_cast<unsigned long long>(res.after.switches), static_cast<unsigned long long>(res.runs));
    return res;
  }
  ADD_FAILURE() << "no seed in 0..3999 loses the updates";
  return {};
}

TEST(Shrink, ALateRaceInALongRunShrinksToTheOneSwitchItNeeds) {
  const ShrinkResult s = shrink_late_race(2, 400);
  ASSERT_TRUE(s.reproduced);
  EXPECT_GT(s.before.switches, 100u);
  EXPECT_EQ(s.after.switches, 1u);
  EXPECT_EQ(s.after.preemptions, 1u);
  EXPECT_GT(s.after.steps, 1000u);  // the run stays long: the switch is late in it
  EXPECT_TRUE(s.schedule.decisions.empty());
}

TEST(Shrink, TwoLostUpdatesShrinkToTheTwoSwitchesTheyNeed) {
  const ShrinkResult s = shrink_late_race(3, 100);
  ASSERT_TRUE(s.reproduced);
  // The second switch may come where a fiber exits (not a preemption).
  EXPECT_EQ(s.after.switches, 2u);
}

TEST(Shrink, SwitchesSurviveJsonAndOldVersionsStillLoad) {
  Schedule s;
  s.seed = 7;
  s.strategy = "lenient";
  s.switches = {Switch{1, 403, 2}, Switch{2, 17, 0}};
  std::string error;
  const std::string text = s.to_json();
  EXPECT_NE(text.find("\"version\":2"), std::string::npos) << text;
  const std::optional<Schedule> back = Schedule::from_json(text, error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(*back, s);
  EXPECT_EQ(count_switches(*back), 2u);
  // Without switches a schedule is written as version 1, as before.
  s.switches.clear();
  EXPECT_NE(s.to_json().find("\"version\":1"), std::string::npos);
  EXPECT_FALSE(Schedule::from_json(R"({"format":"weft-schedule","version":4,"seed":1,"decisions":[]})", error));
  EXPECT_NE(error.find("versions 1 to 3"), std::string::npos) << error;
  // Listed reads (a shrunk c11 schedule) are version 3 and come back as written.
  s.reads_listed = true;
  s.reads = {ReadDraw{1, 4, 999}};
  EXPECT_NE(s.to_json().find("\"version\":3"), std::string::npos);
  const std::optional<Schedule> listed = Schedule::from_json(s.to_json(), error);
  ASSERT_TRUE(listed) << error;
  EXPECT_EQ(*listed, s);
  EXPECT_FALSE(Schedule::from_json(R"({"format":"weft-schedule","version":2,"seed":1,"decisions":[],"switches":[],"reads":[]})",
                                   error));
  EXPECT_NE(error.find("$.reads"), std::string::npos) << error;
  EXPECT_FALSE(Schedule::from_json(R"({"format":"weft-schedule","version":2,"seed":1,"decisions":[],"switches":[[1,2]]})",
                                   error));
}

TEST(Shrink, ARunThatDoesNotReproduceIsReportedNotShrunk) {
  Schedule s;
  s.seed = 1;
  s.memory_model = "c11";  // probe_of's runs' model
  const ScheduleSize original{0, 0, 0, 12345};  // a step count no lenient run gives
  const ShrinkResult r = shrink_schedule(s, original, probe_of);
  EXPECT_FALSE(r.reproduced);
  EXPECT_EQ(r.runs, 1u);
}

}  // namespace
}  // namespace weft::sim::testing
