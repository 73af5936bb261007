// The hold strategy: a reader held across a counted number of other fibers' writes
// finds an ABA the random walk cannot, a run depends only on its seed, a hold never
// makes a deadlock or a livelock the program does not have, and a hold run replays.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "sim_test_util.hpp"

namespace weft::sim::testing {
namespace {

// aba_body: an owner bumps a counter by CAS 600 times; a reader reads it twice in
// a row and asserts that the two reads differ by a multiple of 256 only if they
// are equal, as an 8-bit comparison would need. Only a reader preempted across
// exactly 256 (or 512) of the owner's writes fails.
std::function<void()> aba_body() {
  return [] {
    // On the heap, so that an address could differ between runs of one seed.
    auto counter = std::make_unique<P::Atomic<std::uint32_t>>(0);
    P::Thread owner("owner", [&counter] {
      for (int i = 0; i < 600; ++i) {
        std::uint32_t v = counter->load(Order::acquire);
        while (!counter->compare_exchange(v, v + 1, Order::acq_rel, Order::acquire)) {
        }
      }
    });
    P::Thread reader("reader", [&counter] {
      for (int i = 0; i < 40; ++i) {
        const std::uint32_t first = counter->load(Order::acquire);
        const std::uint32_t second = counter->load(Order::acquire);
        const std::uint32_t moved = second - first;
        if (moved != 0 && moved % 256 == 0) P::assertion_failed("8-bit ABA: the counter moved by 256", __FILE__, 0);
      }
    });
    owner.join();
    reader.join();
  };
}

constexpr std::uint64_t kAbaSeeds = 300;

// first_failing_seed returns the first seed below kAbaSeeds whose aba_body run
// fails under `spec`, or kAbaSeeds.
std::uint64_t first_failing_seed(const StrategySpec& spec) {
  for (std::uint64_t seed = 0; seed < kAbaSeeds; ++seed) {
    const RunResult r = run_with(options_for(seed, spec), aba_body());
    if (r.outcome != Outcome::pass) return seed;
  }
  return kAbaSeeds;
}

TEST(Hold, FindsAnAbaThatNeedsAReaderHeldAcross256Writes) {
  const std::uint64_t seed = first_failing_seed(StrategySpec::hold());
  ASSERT_LT(seed, kAbaSeeds) << "hold found no ABA in " << kAbaSeeds << " seeds";
  const RunResult r = run_with(options_for(seed, StrategySpec::hold()), aba_body());
  EXPECT_EQ(r.outcome, Outcome::assertion) << r.summary();
  EXPECT_NE(r.message.find("8-bit ABA"), std::string::npos) << r.message;
  EXPECT_EQ(r.schedule.strategy, "hold");
}

TEST(Hold, RandomWalkDoesNotFindThatAba) {
  // The reason the strategy exists: the same seeds under the random walk pass.
  EXPECT_EQ(first_failing_seed(StrategySpec::random()), kAbaSeeds);
}

TEST(Hold, SameSeedSameRunWhateverTheHeap) {
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    const RunResult a = run_with(options_for(seed, StrategySpec::hold()), aba_body());
    // Shift the allocator's state, so the run's atomics may land elsewhere.
    std::vector<std::unique_ptr<char[]>> junk;
    for (std::size_t i = 0; i < 64 + seed; ++i) junk.push_back(std::make_unique<char[]>(24 + 8 * i));
    const RunResult b = run_with(options_for(seed, StrategySpec::hold()), aba_body());
    ASSERT_EQ(a.outcome, b.outcome) << "seed " << seed;
    ASSERT_EQ(a.schedule.decisions, b.schedule.decisions) << "seed " << seed;
  }
}

TEST(Hold, SeedsGiveDifferentRuns) {
  const RunResult a = run_with(options_for(1, StrategySpec::hold()), aba_body());
  const RunResult b = run_with(options_for(2, StrategySpec::hold()), aba_body());
  EXPECT_NE(a.schedule.decisions, b.schedule.decisions);
}

// held_reader_body: `reader` loads x (an atomic some CAS touched) 64 times and
// notes the largest change between two of its loads, then signals `done`. The
// writer adds to x 200 times, then waits for the signal: by parking on a
// Parker (`spin` false) or by spinning on a flag with spin_hint (`spin` true). A
// reader held past the writer's last write must be released, or the run would
// deadlock or exceed its step bound.
std::function<void()> held_reader_body(bool spin, std::uint64_t& largest_gap) {
  return [spin, &largest_gap] {
    P::Atomic<std::uint64_t> x{0};
    P::Atomic<bool> done{false};
    P::Parker parker;
    std::uint64_t expected = 0;
    x.compare_exchange(expected, 0, Order::seq_cst, Order::seq_cst);
    P::Thread reader("reader", [&] {
      std::uint64_t last = 0;
      for (int i = 0; i < 64; ++i) {
        const std::uint64_t seen = x.load(Order::acquire);
        largest_gap = std::max(largest_gap, seen - last);
        last = seen;
      }
      done.store(true, Order::release);
      parker.unpark();
    });
    P::Thread writer("writer", [&] {
      for (int i = 0; i < 200; ++i) x.fetch_add(1, Order::acq_rel);
      if (spin) {
        while (!done.load(Order::acquire)) P::spin_hint();
      } else {
        parker.park();
      }
    });
    reader.join();
    writer.join();
  };
}

void expect_held_readers_are_released(bool spin) {
  std::uint64_t held_across = 0;  // runs where the reader sat out 150+ writes in a row
  for (std::uint64_t seed = 0; seed < 100; ++seed) {
    std::uint64_t gap = 0;
    const RunResult r = run_with(options_for(seed, StrategySpec::hold(), 20'000), held_reader_body(spin, gap));
    ASSERT_EQ(r.outcome, Outcome::pass) << "seed " << seed << ": " << r.summary();
    if (gap >= 150) ++held_across;
  }
  // The random walk almost never leaves the reader out of 150 writes in a row.
  EXPECT_GE(held_across, 5u);
}

TEST(Hold, ReleasesTheHeldFiberWhenEveryOtherBlocks) { expect_held_readers_are_released(false); }

TEST(Hold, ReleasesTheHeldFiberWhenTheOthersOnlySpin) { expect_held_readers_are_released(true); }

TEST(Hold, ReplayOfAHoldScheduleIsByteIdentical) {
  const std::uint64_t failing = first_failing_seed(StrategySpec::hold());
  ASSERT_LT(failing, kAbaSeeds);
  for (std::uint64_t seed : {std::uint64_t{0}, std::uint64_t{7}, failing}) {
    const RunResult rec = run_with(options_for(seed, StrategySpec::hold()), aba_body());
    std::string error;
    const std::optional<Schedule> loaded = Schedule::from_json(rec.schedule.to_json(), error);
    ASSERT_TRUE(loaded) << error;
    const RunResult rep = run_with(options_for(0, StrategySpec::replay(*loaded)), aba_body());
    EXPECT_EQ(rep.outcome, rec.outcome) << rep.summary();
    EXPECT_EQ(rep.message, rec.message);
    Schedule replayed = rep.schedule;
    replayed.strategy = rec.schedule.strategy;  // "replay" versus "hold": informational
    EXPECT_EQ(replayed.to_json(), rec.schedule.to_json()) << "seed " << seed;
  }
}

}  // namespace
}  // namespace weft::sim::testing
