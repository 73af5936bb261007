// weft/rapidcheck.hpp: a property generates the input and explores schedules;
// RapidCheck shrinks the input of a failure to the smallest that still fails.
#include "weft/rapidcheck.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <string>
#include <vector>

#include "weft/facade.hpp"

namespace {

weft::testing::Options options(const std::string& name) {
  weft::testing::Options o = weft::testing::property_options();
  o.name = name;
  o.read_env = false;
  o.artifact_dir = WEFT_TEST_ARTIFACT_DIR;
  return o;
}

// adders: `threads` threads each add once; `racy` adds with a load then a store.
void adders(int threads, bool racy) {
  weft::sync::atomic<int> n{0};
  auto add = [&] {
    if (racy) {
      n.store(n.load() + 1);
    } else {
      n.fetch_add(1);
    }
  };
  std::vector<weft::thread> ts;
  for (int i = 1; i < threads; ++i) ts.emplace_back(add);
  add();
  for (auto& t : ts) t.join();
  WEFT_CHECK(n.load() == threads);
}

RC_GTEST_PROP(RapidCheckExplore, FetchAddCountsForEveryThreadCount, ()) {
  const int threads = *rc::gen::inRange(1, 5);
  weft::testing::rc_explore(options("rc-fetch-add"), [threads] { adders(threads, false); });
}

TEST(RapidCheckExplore, ARacyAddIsFoundAndTheInputShrinksToTwoThreads) {
  // One thread cannot race, so the smallest failing input is two threads.
  const auto result = rc::detail::checkTestable([] {
    const int threads = *rc::gen::inRange(1, 6);
    weft::testing::rc_explore(options("rc-racy"), [threads] { adders(threads, true); });
  });
  rc::detail::FailureResult failed;
  ASSERT_TRUE(result.match(failed)) << "the racy add was not found";
  const auto* failure = &failed;
  std::string shown;
  bool two = false;
  for (const auto& [type, value] : failure->counterExample) {
    shown += value + " ";
    two = two || value == "2";
  }
  EXPECT_TRUE(two) << "counterexample: " << shown;
  EXPECT_NE(failure->description.find("weft: assertion at seed"), std::string::npos) << failure->description;
  EXPECT_NE(failure->description.find("replay: WEFT_REPLAY="), std::string::npos) << failure->description;
}

}  // namespace
