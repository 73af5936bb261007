// A first end-to-end check: spawn, run, complete, on both schedulers.
#include <gtest/gtest.h>

#include "weft/runtime.hpp"

namespace {

weft::Task<int> add(int a, int b) { co_return a + b; }

weft::Task<int> root() {
  auto jh = weft::spawn(add(2, 3));
  int v = co_await jh;
  co_return v + co_await add(1, 1);
}

TEST(Smoke, MultiThreadSpawnRunComplete) {
  auto rt = weft::Builder::multi_thread().worker_threads(2).build();
  EXPECT_EQ(rt.block_on(root()), 7);
}

TEST(Smoke, CurrentThreadSpawnRunComplete) {
  auto rt = weft::Builder::current_thread().build();
  EXPECT_EQ(rt.block_on(root()), 7);
}

}  // namespace
