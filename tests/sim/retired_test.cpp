// Retired blocks (weft/sim/detail/retired.hpp, Steps R1-R3): inside a run the
// simulator keeps a block the engine gives up, and a later touch of an atomic or
// a cell in it ends the run as use_after_free, in every build (the block is
// still allocated, so AddressSanitizer has nothing to report first).
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <new>
#include <string>

#include "sim_test_util.hpp"

namespace weft::sim::testing {
namespace {

// Block is what an engine task block holds, for the oracle's purpose: an atomic
// and a plain cell.
struct Block {
  P::Atomic<std::uint64_t> state{1};
  P::Cell<std::uint64_t> payload{7};
};

// make_block builds a Block in a block from operator new, as the task pool does.
Block* make_block() { return new (::operator new(sizeof(Block))) Block(); }

// give_up destroys b and offers its block to the seam, as pool_free does; it
// frees the block itself when the seam keeps nothing (outside a run).
bool give_up(Block* b) {
  b->~Block();
  if (P::retire_block(b, sizeof(Block))) return true;
  ::operator delete(b);
  return false;
}

TEST(RetiredBlocks, AnAtomicTouchedAfterItsBlockWasGivenUpEndsTheRunAsUseAfterFree) {
  std::uint64_t live = 0;
  const RunResult r = run_with(options_for(0), [&] {
    Block* b = make_block();
    live = b->state.load(Order::acquire);
    EXPECT_TRUE(give_up(b));
    (void)b->state.load(Order::acquire);  // the bug: a stale pointer
  });
  ASSERT_EQ(r.outcome, Outcome::use_after_free) << r.summary();
  EXPECT_EQ(r.exit_code(), 15);
  EXPECT_STREQ(outcome_name(r.outcome), "use_after_free");
  EXPECT_NE(r.message.find("use after free: load at tests/sim/retired_test.cpp:"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("by fiber 0 (main) touches a block of " + std::to_string(sizeof(Block)) +
                           " bytes the engine freed at decision "),
            std::string::npos)
      << r.message;
  EXPECT_EQ(live, 1u);
}

TEST(RetiredBlocks, ACellReadAfterItsBlockWasGivenUpEndsTheRunAsUseAfterFree) {
  const RunResult r = run_with(options_for(0), [] {
    Block* b = make_block();
    EXPECT_EQ(b->payload.get(), 7u);
    EXPECT_TRUE(give_up(b));
    (void)b->payload.get();
  });
  ASSERT_EQ(r.outcome, Outcome::use_after_free) << r.summary();
  EXPECT_NE(r.message.find("use after free: read at tests/sim/retired_test.cpp:"), std::string::npos) << r.message;
}

// touched_on_the_plain_path gives up a block, then runs `touch` on it, in an sc
// run without race detection: atomics take their inline path, cells are unchecked.
RunResult touched_on_the_plain_path(void (*touch)(Block*)) {
  Options o = options_for(0);
  o.race_detection = false;
  o.memory_model = MemoryModel::sc;
  return run_with(o, [touch] {
    Block* b = make_block();
    EXPECT_TRUE(give_up(b));
    touch(b);
  });
}

TEST(RetiredBlocks, ACellIsCheckedWithRaceDetectionOffToo) {
  const RunResult r = touched_on_the_plain_path([](Block* b) { b->payload.set(3); });
  ASSERT_EQ(r.outcome, Outcome::use_after_free) << r.summary();
  EXPECT_NE(r.message.find("use after free: write at"), std::string::npos) << r.message;
}

TEST(RetiredBlocks, AnAtomicIsCheckedOnThePlainPathOfAnScRunWithoutRaceDetection) {
  const RunResult r = touched_on_the_plain_path([](Block* b) { b->state.fetch_add(1, Order::relaxed); });
  ASSERT_EQ(r.outcome, Outcome::use_after_free) << r.summary();
  EXPECT_NE(r.message.find("use after free: fetch_add at"), std::string::npos) << r.message;
}

// Two fibers share a block; the freer gives it up once both touched it, and the
// other touches it once more. Some schedules run the last touch first (pass), the
// others catch it, naming the freer; a failing schedule replays to the same message.
TEST(RetiredBlocks, ABlockGivenUpWhileAnotherThreadStillHoldsItIsCaughtAtThatThreadsNextOperation) {
  int caught = 0, passed = 0;
  RunResult first;
  auto body = [] {
    Block* b = make_block();
    P::Thread holder("holder", [b] {
      b->state.fetch_add(1, Order::acq_rel);
      b->state.load(Order::acquire);
    });
    P::Thread freer("freer", [b] {
      while (b->state.load(Order::acquire) == 1) P::spin_hint();
      give_up(b);
    });
    holder.join();
    freer.join();
  };
  for (std::uint64_t seed = 0; seed < 200; ++seed) {
    const RunResult r = run_with(options_for(seed), body);
    if (r.outcome == Outcome::use_after_free) {
      if (caught++ == 0) first = r;
      EXPECT_NE(r.message.find("by fiber 1 (holder) touches"), std::string::npos) << r.message;
      EXPECT_NE(r.message.find("on fiber 2 (freer)"), std::string::npos) << r.message;
    } else {
      ASSERT_EQ(r.outcome, Outcome::pass) << r.summary();
      ++passed;
    }
  }
  EXPECT_GT(caught, 0);
  EXPECT_GT(passed, 0);
  const RunResult again = run_with(options_for(0, StrategySpec::replay(first.schedule)), body);
  EXPECT_EQ(again.outcome, Outcome::use_after_free) << again.summary();
  EXPECT_EQ(again.message, first.message);
}

TEST(RetiredBlocks, OutsideARunTheSeamKeepsNothingAndTheCallerFrees) {
  Block* b = make_block();
  EXPECT_FALSE(give_up(b));
}

TEST(RetiredBlocks, ARunThatGivesUpBlocksAndNeverTouchesThemAgainPassesWithTheSameDecisions) {
  // Giving a block up is not a decision: the same run with the blocks freed by
  // hand (outside the seam) makes as many decisions.
  auto body = [](bool retire) {
    return [retire] {
      for (int i = 0; i < 50; ++i) {
        Block* b = make_block();
        b->state.store(2, Order::release);
        b->~Block();
        if (!retire || !P::retire_block(b, sizeof(Block))) ::operator delete(b);
      }
    };
  };
  const RunResult kept = run_with(options_for(3), body(true));
  const RunResult freed = run_with(options_for(3), body(false));
  ASSERT_EQ(kept.outcome, Outcome::pass) << kept.summary();
  ASSERT_EQ(freed.outcome, Outcome::pass) << freed.summary();
  EXPECT_EQ(kept.steps, freed.steps);
  EXPECT_EQ(kept.schedule.decisions, freed.schedule.decisions);
}

TEST(RetiredBlocks, ABlockGivenUpTwiceEndsTheRunBeforeItsSecondFill) {
  const RunResult r = run_with(options_for(0), [] {
    Block* b = make_block();
    EXPECT_TRUE(give_up(b));
    // The second free reads its size from the block, as a pool tag would: the pattern.
    std::size_t bytes = 0;
    std::memcpy(&bytes, reinterpret_cast<const unsigned char*>(b) + sizeof(Block) - sizeof bytes, sizeof bytes);
    (void)P::retire_block(b, bytes);
  });
  ASSERT_EQ(r.outcome, Outcome::use_after_free) << r.summary();
  EXPECT_NE(r.message.find("use after free: fiber 0 (main) frees again a block of " + std::to_string(sizeof(Block)) + " bytes"),
            std::string::npos)
      << r.message;
}

// The fiber that touched the block does not go on with the pattern's values: a
// stale pointer read from the block would otherwise be followed in teardown.
TEST(RetiredBlocks, TheFiberThatTouchedAFreedBlockDoesNotGoOnWithItsValues) {
  bool went_on = false;
  const RunResult r = run_with(options_for(0), [&] {
    Block* b = make_block();
    EXPECT_TRUE(give_up(b));
    const std::uint64_t v = b->state.load(Order::acquire);
    went_on = true;
    EXPECT_EQ(v, v);  // the value would be the pattern
  });
  ASSERT_EQ(r.outcome, Outcome::use_after_free) << r.summary();
  EXPECT_FALSE(went_on);
}

TEST(RetiredBlocks, MoreThanTheKeptBytesAreFreedOldestFirstAndTheRunStillPasses) {
  // 96 blocks of 1 MiB, past kRetiredBytesKept (64 MiB): the oldest go back to the heap.
  const RunResult r = run_with(options_for(0), [] {
    constexpr std::size_t kBytes = std::size_t{1} << 20;
    for (int i = 0; i < 96; ++i) {
      void* p = ::operator new(kBytes);
      if (!P::retire_block(p, kBytes)) ::operator delete(p);
    }
  });
  EXPECT_EQ(r.outcome, Outcome::pass) << r.summary();
  static_assert(detail::kRetiredBytesKept < std::size_t{96} << 20);
}

}  // namespace
}  // namespace weft::sim::testing
