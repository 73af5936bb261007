// WEFT_SIM_TEST: an explored body registered as a GoogleTest test; a failure is a
// normal GoogleTest failure carrying the outcome, the assertion and the replay line.
#include "weft/gtest.hpp"

#include <gtest/gtest-spi.h>

#include "quiet_options.hpp"

#include <cstdlib>

namespace {

WEFT_SIM_TEST(SimTest, TwoFetchAddsMakeTwo) {
  weft::sync::atomic<int> n{0};
  weft::thread t([&] { n.fetch_add(1); });
  n.fetch_add(1);
  t.join();
  WEFT_CHECK(n.load() == 2);
}

weft::testing::Options few_seeds() {
  weft::testing::Options o;
  o.seeds = 25;
  return o;
}

WEFT_SIM_TEST_WITH(SimTest, TakesOptions, few_seeds()) {
  weft::sync::mutex m;
  std::lock_guard<weft::sync::mutex> g(m);
}

void lost_update() {
  weft::sync::atomic<int> n{0};
  weft::thread t([&] { n.store(n.load() + 1); });
  n.store(n.load() + 1);
  t.join();
  WEFT_CHECK(n.load() == 2);
}

TEST(SimTest, AFailureIsAGoogleTestFailureWithTheReplayLine) {
  weft::testing::Options o = weft::testing::test::quiet_options("gtest-failure", weft::testing::kDefaultSeeds);
  o.name = weft::testing::Options{}.name;  // run_gtest names the files after the test
  // Each part of the message is checked by its own expectation.
  for (const char* part : {"weft: assertion at seed", "n.load() == 2", "schedule: ", "trace: ", "replay: WEFT_REPLAY=",
                           "--gtest_filter=SimTest.AFailureIsAGoogleTestFailureWithTheReplayLine"}) {
    EXPECT_NONFATAL_FAILURE(weft::testing::run_gtest(o, lost_update), part);
  }
}

// A fixture's members are the state under test, declared once: built inside
// every run (so its facade types are the run's) and destroyed at the run's end.
struct Counter {
  static inline int built = 0;
  static inline int destroyed = 0;
  weft::sync::atomic<int> n{0};
  Counter() { ++built; }
  ~Counter() { ++destroyed; }
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;
};

WEFT_SIM_TEST_F_WITH(Counter, FixtureMembersAreTheBodysState, few_seeds()) {
  weft::thread t([this] { n.fetch_add(1); });
  n.fetch_add(1);
  t.join();
  WEFT_CHECK(n.load() == 2);
}

TEST(SimTest, AFixtureIsBuiltAfreshInsideEveryRunAndDestroyedAtItsEnd) {
  const int before = Counter::built;
  weft::testing::Options o = weft::testing::test::quiet_options("fixture-fresh", 40);
  const weft::testing::Result r = weft::testing::explore_in<Counter>(o, [](Counter& c) {
    WEFT_CHECK(c.n.load() == 0);  // what an earlier run left would show here
    c.n.fetch_add(1);
  });
  EXPECT_TRUE(r.passed()) << r.report();
  EXPECT_EQ(Counter::built - before, 40);
  EXPECT_EQ(Counter::built, Counter::destroyed);
}

// The fixture's lost update is found like a body's, and the message names it.
struct RacyCounter {
  static inline int live = 0;
  weft::sync::atomic<int> n{0};
  RacyCounter() { ++live; }
  ~RacyCounter() { --live; }
  RacyCounter(const RacyCounter&) = delete;
  RacyCounter& operator=(const RacyCounter&) = delete;
  void bump() { n.store(n.load() + 1); }
};

TEST(SimTest, AFailureInAFixtureTestIsFoundAndItsFixtureFreedByTheTeardown) {
  weft::testing::Options o = weft::testing::test::quiet_options("fixture-race", weft::testing::kDefaultSeeds);
  const int before = RacyCounter::live;
  const weft::testing::Result r = weft::testing::explore_in<RacyCounter>(o, [](RacyCounter& c) {
    weft::thread t([&c] { c.bump(); });
    c.bump();
    t.join();
    WEFT_CHECK(c.n.load() == 2);
  });
  EXPECT_EQ(r.outcome, weft::sim::Outcome::assertion) << r.report();
  EXPECT_NE(r.report().find("c.n.load() == 2"), std::string::npos) << r.report();
  // Every run's fixture, the failed runs' too (the search's, the shrink's, the
  // trace's), was destroyed: the teardown unwound the body that held it.
  EXPECT_EQ(RacyCounter::live, before);
}

TEST(SimTest, ABadEnvironmentValueIsAFailureNamingIt) {
  ::setenv("WEFT_SEEDS", "ten", 1);
  EXPECT_NONFATAL_FAILURE(weft::testing::run_gtest({}, [] {}), "WEFT_SEEDS='ten': expected");
  ::unsetenv("WEFT_SEEDS");
}

}  // namespace
