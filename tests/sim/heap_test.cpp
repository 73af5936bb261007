// The heap count (weft/sim/detail/heap.hpp, Steps H1-H6): what simulated threads
// allocate is counted per run, what the simulator does for them is not, and the
// scope that says so belongs to the fiber that opened it.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim_test_util.hpp"
#include "weft/sim/detail/heap.hpp"
#include "weft/sim/detail/kernel.hpp"

namespace weft::sim::testing {
namespace {

using detail::heap_live;
using detail::HeapLive;
using detail::tls_kernel;
using detail::Uncounted;

// counted_run runs fn on a simulated thread of a run that counts the heap, and
// returns the run's name in the count (0 if this build does not count).
std::uint32_t counted_run(std::uint64_t seed, std::function<void()> fn) {
  std::uint32_t run = 0;
  const RunResult r = run_with(options_for(seed), [&] {
    tls_kernel->set_count_heap(true);
    run = tls_kernel->heap_run();
    P::Thread t("allocator", fn);
    t.join();
    tls_kernel->set_count_heap(false);
  });
  EXPECT_EQ(r.outcome, Outcome::pass) << r.summary();
  return run;
}

TEST(HeapCount, ABlockASimulatedThreadKeepsIsCountedWithItsSizeAndCaller) {
  if (!detail::heap_counting()) GTEST_SKIP() << "AddressSanitizer build: its own operator new, no count";
  int* kept = nullptr;
  const std::uint32_t run = counted_run(1, [&] { kept = new int[10]; });
  const HeapLive live = heap_live(run, 4);
  EXPECT_EQ(live.count, 1u);
  EXPECT_EQ(live.bytes, 10 * sizeof(int));
  ASSERT_EQ(live.newest.size(), 1u);
  EXPECT_EQ(live.newest[0].bytes, 10 * sizeof(int));
  EXPECT_NE(detail::describe_caller(live.newest[0].caller).find("offset "), std::string::npos);
  delete[] kept;  // freed outside the run: it leaves the live list
  EXPECT_EQ(heap_live(run, 4).count, 0u);
}

TEST(HeapCount, ABlockFreedInTheRunIsNotLeftCounted) {
  if (!detail::heap_counting()) GTEST_SKIP() << "AddressSanitizer build: its own operator new, no count";
  std::uint64_t during = 0;
  const std::uint32_t run = counted_run(2, [&] {
    auto v = std::make_unique<std::vector<int>>(100, 7);
    during = heap_live(tls_kernel->heap_run(), 0).count;  // the vector and its buffer
  });
  EXPECT_EQ(during, 2u);
  EXPECT_EQ(heap_live(run, 4).count, 0u);
}

TEST(HeapCount, WhatAnUncountedScopeAllocatesIsNotCounted) {
  if (!detail::heap_counting()) GTEST_SKIP() << "AddressSanitizer build: its own operator new, no count";
  std::unique_ptr<int> theirs;
  const std::uint32_t run = counted_run(3, [&] {
    Uncounted u;
    theirs = std::make_unique<int>(1);
  });
  EXPECT_EQ(heap_live(run, 4).count, 0u);
}

TEST(HeapCount, ARunThatDoesNotCountLeavesItsThreadsBlocksUncounted) {
  if (!detail::heap_counting()) GTEST_SKIP() << "AddressSanitizer build: its own operator new, no count";
  std::unique_ptr<int> fiber_block;
  std::uint32_t run = 0;
  const RunResult r = run_with(options_for(4), [&] {
    run = tls_kernel->heap_run();
    P::Thread t("allocator", [&] { fiber_block = std::make_unique<int>(2); });  // counting is off
    t.join();
  });
  ASSERT_EQ(r.outcome, Outcome::pass) << r.summary();
  EXPECT_EQ(heap_live(run, 4).count, 0u);
}

// The scope's depth is the fiber's own (Step H2): a fiber switched out inside an
// Uncounted scope (as every fiber inside a seam operation is) must not stop
// another fiber's allocations from being counted. Every seed switches at the
// yield; over 20 seeds the allocator runs while the other fiber sits in its scope.
TEST(HeapCount, AFiberSwitchedOutInsideAnUncountedScopeDoesNotHideAnotherFibersBlocks) {
  if (!detail::heap_counting()) GTEST_SKIP() << "AddressSanitizer build: its own operator new, no count";
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    std::unique_ptr<int> kept;
    std::uint32_t run = 0;
    const RunResult r = run_with(options_for(seed), [&] {
      tls_kernel->set_count_heap(true);
      run = tls_kernel->heap_run();
      P::Atomic<int> inside{0};
      P::Thread quiet("in-scope", [&] {
        Uncounted u;
        inside.store(1, Order::seq_cst);
        while (inside.load(Order::seq_cst) != 2) P::yield_thread();  // switched out inside the scope
      });
      P::Thread allocator("allocator", [&] {
        while (inside.load(Order::seq_cst) != 1) P::yield_thread();
        kept = std::make_unique<int>(4);
        inside.store(2, Order::seq_cst);
      });
      quiet.join();
      allocator.join();
      tls_kernel->set_count_heap(false);
    });
    ASSERT_EQ(r.outcome, Outcome::pass) << r.summary();
    EXPECT_EQ(heap_live(run, 4).count, 1u) << "seed " << seed;
  }
}

}  // namespace
}  // namespace weft::sim::testing
