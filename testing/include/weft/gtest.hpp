// GoogleTest integration of weft::testing: WEFT_SIM_TEST registers a test whose
// body is explored over many seeded schedules; a failure is an ordinary GoogleTest
// failure whose message has the outcome, the fiber's assertion, the schedule file
// and the line that replays it.
//
//   WEFT_SIM_TEST(Counter, TwoIncrementsMakeTwo) {
//     weft::sync::atomic<int> n{0};
//     weft::thread t([&] { n.fetch_add(1); });
//     n.fetch_add(1);
//     t.join();
//     WEFT_CHECK(n.load() == 2);
//   }
//
// WEFT_SIM_TEST_WITH(Suite, Name, options) takes weft::testing::Options (seeds,
// strategy, bounds); the environment variables of weft/testing.hpp apply to all.
//
// WEFT_SIM_TEST_F(Fixture, Name) is TEST_F's twin: the state under test is the
// members of `Fixture` (a plain default-constructible class, not a
// ::testing::Test), built afresh inside every run and destroyed at its end, and
// the body reads them as its own:
//
//   struct Counter { weft::sync::atomic<int> n{0}; };
//   WEFT_SIM_TEST_F(Counter, TwoIncrementsMakeTwo) {
//     weft::thread t([this] { n.fetch_add(1); });
//     n.fetch_add(1);
//     t.join();
//     WEFT_CHECK(n.load() == 2);
//   }
//
// It registers a plain TEST named after the fixture: that suite cannot also hold
// a TEST_F, and the fixture needs a public default constructor.
// Link weft::gtest (it brings weft::sim and GTest::gtest).
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <type_traits>

#include "weft/facade.hpp"
#include "weft/testing.hpp"

namespace weft::testing {

// expect_pass adds a GoogleTest failure carrying result.report() unless it passed,
// located at file:line (the test's own, for WEFT_SIM_TEST).
inline void expect_pass(const Result& result, const char* file = __FILE__, int line = __LINE__) {
  if (!result.passed()) ADD_FAILURE_AT(file, line) << result.report();
}

// run_gtest explores `body` for the running GoogleTest test: names its files after
// the test and its replay line runs only this test. A bad WEFT_* variable is a
// failure of the test with its message.
inline Result run_gtest(Options options, const std::function<void()>& body, const char* file = __FILE__,
                        int line = __LINE__) {
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string full = "weft";
  if (info != nullptr) full = std::string(info->test_suite_name()) + "." + info->name();
  if (options.name == Options{}.name) options.name = full;
  if (options.replay_command.empty() && info != nullptr) {
    options.replay_command = this_program() + " --gtest_filter=" + full;
  }
  Result result;
  try {
    result = explore(std::move(options), body);
  } catch (const UsageError& e) {
    ADD_FAILURE_AT(file, line) << "weft: " << e.what();
    return result;
  }
  expect_pass(result, file, line);
  if (result.passed()) std::printf("%s\n", result.report().c_str());
  return result;
}

}  // namespace weft::testing

// WEFT_SIM_TEST(Suite, Name) { body } explores body with the default Options.
#define WEFT_SIM_TEST(Suite, Name) WEFT_SIM_TEST_WITH(Suite, Name, ::weft::testing::Options{})

// WEFT_SIM_TEST_WITH(Suite, Name, options) { body } explores body with `options`.
#define WEFT_SIM_TEST_WITH(Suite, Name, options)                                   \
  static void weft_sim_body_##Suite##_##Name();                                    \
  TEST(Suite, Name) {                                                              \
    ::weft::testing::run_gtest((options), &weft_sim_body_##Suite##_##Name, __FILE__, __LINE__); \
  }                                                                                \
  static void weft_sim_body_##Suite##_##Name()

// WEFT_SIM_TEST_F(Fixture, Name) { body } explores body as a member of a class
// derived from Fixture, one object per run (weft::testing::explore_in).
#define WEFT_SIM_TEST_F(Fixture, Name) WEFT_SIM_TEST_F_WITH(Fixture, Name, ::weft::testing::Options{})

// WEFT_SIM_TEST_F_WITH(Fixture, Name, options) { body } is WEFT_SIM_TEST_F with `options`.
#define WEFT_SIM_TEST_F_WITH(Fixture, Name, options)                                            \
  static_assert(!std::is_base_of_v<::testing::Test, Fixture>,                                     \
                "WEFT_SIM_TEST_F's fixture is a plain class built in every run, not a ::testing::Test"); \
  struct weft_sim_fixture_##Fixture##_##Name : Fixture {                                          \
    void weft_sim_body();                                                                         \
  };                                                                                              \
  TEST(Fixture, Name) {                                                                           \
    ::weft::testing::run_gtest(                                                                   \
        (options), [] { weft_sim_fixture_##Fixture##_##Name().weft_sim_body(); }, __FILE__, __LINE__); \
  }                                                                                               \
  void weft_sim_fixture_##Fixture##_##Name::weft_sim_body()
