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
  for (const char* part : {"weft: assertion at seed", "n.load() == 2", "schedule: ", "replay: WEFT_REPLAY=",
                           "--gtest_filter=SimTest.AFailureIsAGoogleTestFailureWithTheReplayLine"}) {
    EXPECT_NONFATAL_FAILURE(weft::testing::run_gtest(o, lost_update), part);
  }
}

TEST(SimTest, ABadEnvironmentValueIsAFailureNamingIt) {
  ::setenv("WEFT_SEEDS", "ten", 1);
  EXPECT_NONFATAL_FAILURE(weft::testing::run_gtest({}, [] {}), "WEFT_SEEDS='ten': expected");
  ::unsetenv("WEFT_SEEDS");
}

}  // namespace
