// The OS backend's Parker: a token given before a park is never lost, a look
// (park_for(0)) takes a waiting token without sleeping, and a timed park that no
// token ends returns false. No assertion on how long anything takes.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "weft/platform/platform.hpp"

namespace {

using weft::Parker;

TEST(OsParker, ALookTakesAWaitingTokenOnceAndNeverSleeps) {
  Parker p;
  EXPECT_FALSE(p.park_for(0));  // no token: a look, not a sleep
  p.unpark();
  EXPECT_TRUE(p.park_for(0));   // the token, taken
  EXPECT_FALSE(p.park_for(0));  // and gone
}

TEST(OsParker, ATimedParkThatNoTokenEndsReturnsFalseAndLeavesNoToken) {
  Parker p;
  EXPECT_FALSE(p.park_for(1'000'000));  // 1 ms, through the yields and the futex
  EXPECT_FALSE(p.park_for(0));
  p.unpark();
  EXPECT_TRUE(p.park_for(1'000'000'000));  // a waiting token ends it at once
}

TEST(OsParker, AnUnparkFromAnotherThreadIsNeverLost) {
  // Each round, the other thread unparks once; the park returns (a lost token
  // would hang here, which the test's timeout reports).
  Parker p;
  std::atomic<int> round{0};
  constexpr int kRounds = 2'000;
  std::thread other([&] {
    for (int i = 1; i <= kRounds; ++i) {
      while (round.load() != i) std::this_thread::yield();
      p.unpark();
    }
  });
  for (int i = 1; i <= kRounds; ++i) {
    round.store(i);
    if (i % 2 == 0) {
      p.park();
    } else {
      while (!p.park_for(50'000'000)) {
      }
    }
  }
  other.join();
  EXPECT_FALSE(p.park_for(0));  // every token was taken by its own round
}

}  // namespace
