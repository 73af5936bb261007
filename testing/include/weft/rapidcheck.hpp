// RapidCheck integration of weft::testing: a property generates its input with
// RapidCheck and explores the schedules of the code under test for that input.
// A failure fails the property with weft's report, so RapidCheck shrinks the
// input (re-exploring each candidate) and weft shrinks the schedule of the
// failure it reports; the two lines RapidCheck and weft print (RC_PARAMS with
// reproduce=..., and WEFT_REPLAY=FILE) together rerun the final counterexample.
//
//   RC_GTEST_PROP(Ring, DeliversInOrder, ()) {
//     const int count = *rc::gen::inRange(1, 20);
//     weft::testing::rc_explore(options, [count] { WEFT_CHECK(transfer(count)); });
//   }
//
// Link weft::sim and rapidcheck (and rapidcheck_gtest for RC_GTEST_PROP).
#pragma once

#include <rapidcheck.h>

#include "weft/testing.hpp"

namespace weft::testing {

// kPropertySeeds and kPropertyShrinkSeconds bound the work per generated input:
// RapidCheck runs 100 inputs by default, and shrinking re-explores many more.
inline constexpr std::uint64_t kPropertySeeds = 50;
inline constexpr double kPropertyShrinkSeconds = 2;

// property_options are explore()'s defaults scaled for one input of a property.
inline Options property_options() {
  Options o;
  o.name = "property";
  o.seeds = kPropertySeeds;
  o.shrink_seconds = kPropertyShrinkSeconds;
  return o;
}

// rc_explore explores `body` (which holds the generated input) and fails the
// running RapidCheck property with the result's report if any schedule fails.
inline Result rc_explore(const Options& options, const std::function<void()>& body) {
  Result r = explore(options, body);
  if (!r.passed()) RC_FAIL(r.report());
  return r;
}

}  // namespace weft::testing
