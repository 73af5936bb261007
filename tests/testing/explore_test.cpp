// weft::testing::explore: stops at the first failure, shrinks it, writes a schedule
// file whose WEFT_REPLAY line reproduces it; the environment variables and their
// errors; every outcome class reaches the result.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "weft/facade.hpp"
#include "quiet_options.hpp"
#include "weft/testing.hpp"

namespace {

using weft::sim::Outcome;
using weft::testing::explore;
using weft::testing::Options;
using weft::testing::UsageError;

Options options(const std::string& name, std::uint64_t seeds = 300) {
  return weft::testing::test::quiet_options(name, seeds);
}

// lost_update: two threads increment with a load then a store; one update can be lost.
void lost_update() {
  weft::sync::atomic<int> n{0};
  auto inc = [&] { n.store(n.load() + 1); };
  weft::thread t(inc);
  weft::thread u(inc);
  inc();
  t.join();
  u.join();
  WEFT_CHECK(n.load() == 3);
}

// ScopedEnv sets an environment variable for one test and restores it.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old, had_ = true;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (had_) {
      ::setenv(name_, old_.c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::string old_;
  bool had_ = false;
};

TEST(Explore, StopsAtTheFirstFailureAndItsReplayLineReproducesIt) {
  const auto r = explore(options("explore-first"), lost_update);
  ASSERT_FALSE(r.passed());
  EXPECT_EQ(r.outcome, Outcome::assertion);
  EXPECT_EQ(r.seeds_run, r.seed + 1);  // seeds run from 0 and the failing one is the last run
  ASSERT_TRUE(std::filesystem::exists(r.schedule_path)) << r.report();
  EXPECT_EQ(r.replay.rfind("WEFT_REPLAY=" + r.schedule_path + " ", 0), 0u) << r.replay;
  EXPECT_TRUE(r.shrunk) << r.report();
  EXPECT_LE(r.switches_after, r.switches_before);
  const std::string report = r.report();
  for (const char* part : {"assertion at seed", "n.load() == 3", "schedule: ", "replay: WEFT_REPLAY="}) {
    EXPECT_NE(report.find(part), std::string::npos) << part << " in\n" << report;
  }

  // The replay: the environment variable the line sets, read by explore().
  ScopedEnv env("WEFT_REPLAY", r.schedule_path);
  Options o = options("explore-first");
  o.read_env = true;
  const auto again = explore(o, lost_update);
  EXPECT_TRUE(again.replayed);
  EXPECT_EQ(again.outcome, Outcome::assertion);
  EXPECT_EQ(weft::sim::failure_signature(again.outcome, again.message),
            weft::sim::failure_signature(r.outcome, r.message));
}

// A failure's trace: the run of the schedule written, a lane per simulated
// thread, one slice per decision on the lane of the thread that reached it, in
// decision order, and the outcome with its message last. WEFT_REPLAY writes one
// for the run it replays.
TEST(Explore, AFailureWritesATraceWithALanePerThreadAndEveryDecision) {
  const auto r = explore(options("explore-trace"), lost_update);
  ASSERT_FALSE(r.passed());
  ASSERT_FALSE(r.trace_path.empty()) << r.trace_error;
  EXPECT_NE(r.report().find("trace: " + r.trace_path), std::string::npos) << r.report();
  auto check = [](const std::string& path) {
    std::ifstream in(path);
    const nlohmann::json j = nlohmann::json::parse(in);
    std::set<std::uint64_t> lanes;
    std::set<std::string> names;
    std::uint64_t slices = 0;
    std::int64_t last_ts = -1;
    std::set<std::uint64_t> lanes_used;
    for (const auto& e : j.at("traceEvents")) {
      if (e.at("ph") == "M" && e.at("name") == "thread_name") {
        lanes.insert(e.at("tid").get<std::uint64_t>());
        names.insert(e.at("args").at("name").get<std::string>());
      } else if (e.at("ph") == "X") {
        ++slices;
        EXPECT_EQ(e.at("ts").get<std::int64_t>(), last_ts + 1) << "decisions in order, none missing";
        last_ts = e.at("ts").get<std::int64_t>();
        lanes_used.insert(e.at("tid").get<std::uint64_t>());
      }
    }
    EXPECT_EQ(lanes.size(), 3u) << "main and the two incrementing threads";
    EXPECT_EQ(names.count("main (0)"), 1u);
    EXPECT_GT(slices, 0u);
    EXPECT_EQ(lanes_used, lanes) << "every thread made decisions";
    const auto& last = j.at("traceEvents").back();
    EXPECT_EQ(last.at("name"), "assertion");
    EXPECT_NE(last.at("args").at("message").get<std::string>().find("n.load() == 3"), std::string::npos);
  };
  check(r.trace_path);

  ScopedEnv env("WEFT_REPLAY", r.schedule_path);
  Options o = options("explore-trace");
  o.read_env = true;
  const auto again = explore(o, lost_update);
  ASSERT_FALSE(again.trace_path.empty()) << again.trace_error;
  EXPECT_NE(again.trace_path, r.trace_path);
  check(again.trace_path);
}

// Keeping the trace adds no decision: the same seed records the same schedule
// with it and without it, and the trace has one step per decision.
TEST(Explore, TheTraceChangesNoDecision) {
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    weft::sim::Options so;
    so.seed = seed;
    weft::sim::Simulation plain(so);
    const weft::sim::RunResult a = plain.run(lost_update);
    so.trace = true;
    weft::sim::Simulation traced(so);
    const weft::sim::RunResult b = traced.run(lost_update);
    EXPECT_EQ(a.schedule.decisions, b.schedule.decisions) << "seed " << seed;
    EXPECT_EQ(a.outcome, b.outcome) << "seed " << seed;
    EXPECT_EQ(b.trace.size(), b.steps) << "seed " << seed;
    EXPECT_TRUE(a.trace.empty());
  }
}

// A thread that overflows its stack is a failure of the exploration, not the end
// of the test program: its report names the thread, the size and the option.
int deep(int depth) {
  volatile char frame[1024];
  frame[0] = static_cast<char>(depth);
  if (depth == 0) return frame[0];
  return deep(depth - 1) + frame[0];
}

TEST(Explore, AStackOverflowIsAFailureNamingTheThreadTheSizeAndTheOption) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer reports a stack overflow itself";
#else
  Options o = options("explore-overflow", 5);
  o.stack_size = 64 * 1024;
  const auto r = explore(o, [] {
    weft::thread t([] { (void)deep(1000); });
    t.join();
  });
  ASSERT_EQ(r.outcome, Outcome::resource_limit) << r.report();
  const std::string report = r.report();
  for (const char* part : {"overflowed its stack of 65536 bytes", "raise it with stack_size", "replay: "}) {
    EXPECT_NE(report.find(part), std::string::npos) << part << " in\n" << report;
  }
  o.stack_size = 4 * 1024 * 1024;
  EXPECT_TRUE(explore(o, [] {
                weft::thread t([] { (void)deep(1000); });
                t.join();
              }).passed());
#endif
}

// Guarded counts its live instances and its destructions, across every run an
// exploration makes (the search, the shrink, the check of the replay).
struct Guarded {
  static inline int live = 0;
  static inline int destroyed = 0;
  Guarded() { ++live; }
  ~Guarded() {
    --live;
    ++destroyed;
  }
  Guarded(const Guarded&) = delete;
  Guarded& operator=(const Guarded&) = delete;
};

TEST(Explore, AnObjectAnotherThreadHoldsWhenTheBodyFailsIsDestroyedAfterTheFailure) {
  Guarded::live = Guarded::destroyed = 0;
  Options o = options("explore-teardown", 5);
  o.teardown = true;
  const auto r = explore(o, [] {
    weft::sync::mutex m;        // the holder's, held when the body fails
    weft::sync::mutex gate;     // main's: the holder blocks on it for good
    weft::sync::atomic<bool> holding{false};
    gate.lock();
    weft::thread holder([&] {
      std::lock_guard<weft::sync::mutex> hold(m);
      Guarded g;
      holding.store(true);
      gate.lock();  // never granted
      gate.unlock();
    });
    while (!holding.load()) weft::this_thread::yield();
    WEFT_CHECK(false && "the body fails while the holder holds m and g");
    gate.unlock();
    holder.join();
  });
  ASSERT_EQ(r.outcome, Outcome::assertion) << r.report();
  EXPECT_GT(Guarded::destroyed, 0);
  EXPECT_EQ(Guarded::live, 0);
}

// A waits on a condition variable for good, ahead of C, while holding m; the run
// deadlocks. Teardown unwinds A first (the newest), which frees m; B takes it and
// notifies one waiter. A's waiter record died with A's stack, so the notify must
// reach C: a record left in the queue would take the notify and C would never wake.
TEST(Explore, AThreadUnwoundWhileWaitingOnAConditionVariableLeavesItsQueue) {
  static bool c_woke = false;
  c_woke = false;
  Options o = options("explore-cv-teardown", 1);
  o.teardown = true;
  o.shrink = false;
  const auto r = explore(o, [] {
    weft::sync::mutex m;   // A's while it waits
    weft::sync::mutex mc;  // the condition variable's; guards a_waiting and go
    weft::sync::condition_variable cv;
    bool a_waiting = false;
    bool go = false;
    weft::sync::atomic<bool> a_holds{false};
    weft::thread b([&] {
      while (!a_holds.load()) weft::this_thread::yield();
      std::lock_guard<weft::sync::mutex> hold(m);  // granted once A is unwound
      {
        std::lock_guard<weft::sync::mutex> g(mc);
        go = true;
      }
      cv.notify_one();
    });
    weft::thread c([&] {
      std::unique_lock<weft::sync::mutex> lk(mc);
      while (!a_waiting) {  // A queued and let mc go: C queues behind it
        lk.unlock();
        weft::this_thread::yield();
        lk.lock();
      }
      cv.wait(lk, [&] { return go; });
      c_woke = true;
    });
    weft::thread a([&] {
      std::lock_guard<weft::sync::mutex> hold(m);
      a_holds.store(true);
      std::unique_lock<weft::sync::mutex> lk(mc);
      a_waiting = true;
      cv.wait(lk, [] { return false; });  // for good
    });
    b.join();
    c.join();
    a.join();
  });
  ASSERT_EQ(r.outcome, Outcome::deadlock) << r.report();
  EXPECT_TRUE(c_woke) << "B's notify went to the unwound waiter";
}

TEST(Explore, IsDeterministic) {
  Options o = options("explore-det");
  o.shrink = false;
  const auto a = explore(o, lost_update);
  const auto b = explore(o, lost_update);
  ASSERT_FALSE(a.passed());
  EXPECT_EQ(a.seed, b.seed);
  EXPECT_EQ(a.steps, b.steps);
  EXPECT_EQ(a.message, b.message);
}

TEST(Explore, PctAndHoldFindTheLostUpdateToo) {
  for (auto spec : {weft::sim::StrategySpec::pct(3), weft::sim::StrategySpec::hold()}) {
    Options o = options("explore-" + spec.label());
    o.strategy = spec;
    o.shrink = false;
    const auto r = explore(o, lost_update);
    EXPECT_FALSE(r.passed()) << spec.label();
    EXPECT_EQ(r.strategy, spec.label());
  }
}

TEST(Explore, ABodyThatThrowsIsAnExceptionOutcome) {
  const auto r = explore(options("explore-throw", 1), [] { throw std::runtime_error("the body gave up"); });
  ASSERT_FALSE(r.passed());
  EXPECT_EQ(r.outcome, Outcome::exception);
  EXPECT_NE(r.message.find("the body gave up"), std::string::npos) << r.message;
}

TEST(Explore, AnUnboundedSpinHitsTheStepBound) {
  Options o = options("explore-spin", 1);
  o.step_bound = 2000;
  const auto r = explore(o, [] {
    weft::sync::atomic<bool> never{false};
    while (!never.load()) weft::this_thread::yield();
  });
  ASSERT_FALSE(r.passed());
  EXPECT_EQ(r.outcome, Outcome::step_bound_exceeded);
}

// A long failure's trace shows its last 20,000 decisions, where it failed, and
// says how many earlier ones it left out.
// 30,000 decisions: the kernel keeps them all and the file shows the last
// 20,000; 90,000: the kernel itself dropped the older ones (it keeps at most
// 40,000), and the file still shows the last 20,000, in order, without a gap.
TEST(Explore, ALongFailuresTraceKeepsItsLastDecisionsAndSaysHowManyItLeftOut) {
  for (std::uint64_t bound : {30'000u, 90'000u}) {
    Options o = options("explore-long-trace", 1);
    o.step_bound = bound;
    o.shrink = false;
    const auto r = explore(o, [] {
      weft::sync::atomic<bool> never{false};
      while (!never.load()) weft::this_thread::yield();
    });
    ASSERT_EQ(r.outcome, Outcome::step_bound_exceeded);
    ASSERT_FALSE(r.trace_path.empty()) << r.trace_error;
    std::ifstream in(r.trace_path);
    const nlohmann::json j = nlohmann::json::parse(in);
    std::uint64_t slices = 0, left_out = 0, first_ts = 0, last_ts = 0;
    bool gap = false;
    for (const auto& e : j.at("traceEvents")) {
      if (e.at("ph") == "X") {
        const auto ts = e.at("ts").get<std::uint64_t>();
        if (slices++ == 0) first_ts = ts;
        else gap = gap || ts != last_ts + 1;
        last_ts = ts;
      }
      if (e.at("name") == "earlier decisions left out") left_out = e.at("args").at("left_out").get<std::uint64_t>();
    }
    EXPECT_EQ(slices, 20'000u) << bound;
    EXPECT_EQ(left_out, r.steps - 20'000) << r.steps;
    EXPECT_EQ(first_ts, left_out);
    EXPECT_EQ(last_ts, r.steps - 1);
    EXPECT_FALSE(gap);
  }
}

// The kernel's own bound on a traced run: the last 20,000 decisions at least,
// 40,000 at most, in order up to the last.
TEST(Explore, ATracedRunKeepsABoundedTailOfItsDecisions) {
  weft::sim::Options so;
  so.trace = true;
  so.step_bound = 100'000;
  weft::sim::Simulation s(so);
  const weft::sim::RunResult r = s.run([] {
    weft::sync::atomic<bool> never{false};
    while (!never.load()) weft::this_thread::yield();
  });
  ASSERT_EQ(r.outcome, Outcome::step_bound_exceeded);
  ASSERT_GE(r.trace.size(), weft::sim::kTraceStepsKept);
  ASSERT_LE(r.trace.size(), 2 * weft::sim::kTraceStepsKept);
  for (std::size_t i = 1; i < r.trace.size(); ++i) ASSERT_EQ(r.trace[i].index, r.trace[i - 1].index + 1);
  EXPECT_EQ(r.trace.back().index, r.steps - 1);
}

// A stack overflow whose thread makes a decision at every level: the failure is
// reported with its schedule and replay line, neither shrunk nor traced (their
// replays would see every decision, where an overflow ends the process).
TEST(Explore, AStackOverflowAmidDecisionsIsReportedUnshrunkWithoutATrace) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer reports a stack overflow itself";
#else
  Options o = options("explore-overflow-decisions", 5);
  o.stack_size = 64 * 1024;
  o.memory_model = weft::sim::MemoryModel::sc;
  const auto r = explore(o, [] {
    weft::sync::atomic<int> a{1};
    std::function<int(int)> deep_loading = [&](int depth) -> int {
      volatile char frame[256];
      frame[0] = static_cast<char>(a.load(std::memory_order_relaxed));
      return depth == 0 ? frame[0] : deep_loading(depth - 1) + frame[0];
    };
    weft::thread t([&] { (void)deep_loading(4000); });
    t.join();
  });
  ASSERT_EQ(r.outcome, Outcome::resource_limit) << r.report();
  EXPECT_FALSE(r.shrunk);
  EXPECT_TRUE(r.trace_path.empty());
  EXPECT_NE(r.trace_error.find("not replayed"), std::string::npos) << r.trace_error;
  EXPECT_FALSE(r.replay.empty());
#endif
}

TEST(Explore, PassingRunsEverySeedAndAZeroTimeBoundStopsAfterOne) {
  auto ok = [] {
    weft::sync::atomic<int> n{0};
    weft::thread t([&] { n.fetch_add(1); });
    t.join();
    WEFT_CHECK(n.load() == 1);
  };
  const auto all = explore(options("explore-pass", 50), ok);
  EXPECT_TRUE(all.passed());
  EXPECT_EQ(all.seeds_run, 50u);
  EXPECT_FALSE(all.time_bound_hit);
  EXPECT_NE(all.report().find("50 seeds passed"), std::string::npos) << all.report();
  Options o = options("explore-time", 50);
  o.time_bound_seconds = 0;
  const auto cut = explore(o, ok);
  EXPECT_TRUE(cut.passed());
  EXPECT_EQ(cut.seeds_run, 1u);
  EXPECT_TRUE(cut.time_bound_hit);
}

TEST(Explore, SeedsAndStrategyComeFromTheEnvironment) {
  ScopedEnv seeds("WEFT_SEEDS", "40..49");
  ScopedEnv strategy("WEFT_STRATEGY", "pct:2");
  Options o = options("explore-env", 1);
  o.read_env = true;
  std::uint64_t runs = 0;  // host-side count of bodies started, outside the simulation's state
  const auto r = explore(o, [&] { ++runs; });
  EXPECT_TRUE(r.passed());
  EXPECT_EQ(r.seeds_run, 10u);
  EXPECT_EQ(r.strategy, "pct:2");
  EXPECT_EQ(runs, 20u);  // PCT runs each seed twice: the random walk that estimates k, then PCT
}

TEST(Explore, BadEnvironmentValuesNameTheVariableAndWhatWasExpected) {
  for (const char* bad : {"abc", "5..2", "1..", "..3", "-1", "0..x"}) {
    try {
      std::uint64_t first = 0;
      std::uint64_t count = 0;
      weft::testing::parse_seeds(bad, first, count);
      ADD_FAILURE() << bad << " parsed";
    } catch (const UsageError& e) {
      EXPECT_EQ(std::string(e.what()).rfind(std::string("WEFT_SEEDS='") + bad + "': expected", 0), 0u) << e.what();
    }
  }
  std::uint64_t first = 0;
  std::uint64_t count = 0;
  weft::testing::parse_seeds("0..9999", first, count);
  EXPECT_EQ(first, 0u);
  EXPECT_EQ(count, 10000u);
  weft::testing::parse_seeds("7", first, count);
  EXPECT_EQ(first, 7u);
  EXPECT_EQ(count, 1u);
  for (const char* bad : {"pct", "pct:0", "pct:x", "pct:65", "dfs"}) {
    try {
      (void)weft::testing::parse_strategy(bad);
      ADD_FAILURE() << bad << " parsed";
    } catch (const UsageError& e) {
      EXPECT_EQ(std::string(e.what()), std::string("WEFT_STRATEGY='") + bad +
                                           "': expected random, pct:D (D from 1 to 64, e.g. pct:3) or hold");
    }
  }
  for (const char* bad : {"0", "-2", "x", "1s"}) {
    try {
      (void)weft::testing::parse_time_bound(bad);
      ADD_FAILURE() << bad << " parsed";
    } catch (const UsageError& e) {
      EXPECT_EQ(std::string(e.what()),
                std::string("WEFT_TIME_BOUND='") + bad + "': expected a positive number of seconds or none");
    }
  }
  EXPECT_EQ(weft::testing::parse_strategy("pct:3").label(), "pct:3");
  for (const char* bad : {"0", "-2", "x", "1s", ""}) {
    EXPECT_THROW(weft::testing::parse_time_bound(bad), UsageError) << bad;
  }
  EXPECT_EQ(weft::testing::parse_time_bound("2.5"), 2.5);
  {
    ScopedEnv model("WEFT_MEMORY_MODEL", "tso");
    Options o = options("explore-bad-model");
    o.read_env = true;
    try {
      explore(o, [] {});
      ADD_FAILURE() << "no UsageError";
    } catch (const UsageError& e) {
      EXPECT_EQ(std::string(e.what()), "WEFT_MEMORY_MODEL='tso': expected sc or c11");
    }
  }
  EXPECT_TRUE(std::isinf(weft::testing::parse_time_bound("none")));
  ScopedEnv env("WEFT_SEEDS", "lots");
  Options o = options("explore-bad-env");
  o.read_env = true;
  EXPECT_THROW(explore(o, [] {}), UsageError);
}

TEST(Explore, AReplayFileThatDoesNotLoadSaysWhich) {
  ScopedEnv env("WEFT_REPLAY", "/nonexistent/weft.schedule.json");
  Options o = options("explore-bad-replay");
  o.read_env = true;
  try {
    explore(o, [] {});
    ADD_FAILURE() << "no UsageError";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("WEFT_REPLAY='/nonexistent/weft.schedule.json'"), std::string::npos)
        << e.what();
  }
}

// A schedule recorded under one memory model names it; replayed under the other
// (its memory draws would pick other stores) it is refused with the reason, not
// run into a divergence.
TEST(Explore, AReplayUnderAnotherMemoryModelIsRefusedWithTheReason) {
  Options sc_options = options("explore-model-sc");
  sc_options.memory_model = weft::sim::MemoryModel::sc;
  sc_options.shrink = false;
  const auto r = explore(sc_options, lost_update);
  ASSERT_FALSE(r.passed());
  ASSERT_TRUE(std::filesystem::exists(r.schedule_path)) << r.report();
  ScopedEnv env("WEFT_REPLAY", r.schedule_path);
  Options o = options("explore-model-c11");  // c11, the default
  o.read_env = true;
  try {
    explore(o, lost_update);
    ADD_FAILURE() << "no UsageError";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("recorded under the sc memory model and this run is c11"), std::string::npos)
        << e.what();
  }
  sc_options.read_env = true;
  const auto again = explore(sc_options, lost_update);  // under its own model it replays
  EXPECT_TRUE(again.replayed);
  EXPECT_EQ(again.outcome, r.outcome);
}

}  // namespace
