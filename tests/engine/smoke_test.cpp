// A first end-to-end check: spawn, run, complete, on both schedulers.
#include <gtest/gtest.h>

#include "weft/runtime.hpp"
#include "weft/runtime_hooks.hpp"

namespace {

// An application sees no test hooks on a handle: its core is reached only through
// weft/runtime_hooks.hpp.
template <class H>
concept ExposesCore = requires(const H& h) { h.core(); };
static_assert(!ExposesCore<weft::Handle>);

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

TEST(Smoke, TheRuntimeHooksHeaderReachesTheCoreBehindAHandle) {
  auto rt = weft::Builder::current_thread().build();
  ASSERT_NE(weft::hooks::runtime_core(rt.handle()), nullptr);
  EXPECT_FALSE(weft::hooks::runtime_core(rt.handle())->has_pending_work());
  EXPECT_EQ(weft::hooks::runtime_core(weft::Handle()), nullptr);
}

TEST(Smoke, CurrentThreadSpawnRunComplete) {
  auto rt = weft::Builder::current_thread().build();
  EXPECT_EQ(rt.block_on(root()), 7);
}

}  // namespace
