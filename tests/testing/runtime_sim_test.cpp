// A user's async code on the weft runtime inside an exploration (weft::sim): the
// production engine on the simulated backend, multi-thread or current-thread, any
// number of workers, with channels, the async mutex and timers.
#include <chrono>

#include "quiet_options.hpp"
#include "weft/gtest.hpp"
#include "weft/runtime.hpp"
#include "weft/sync.hpp"
#include "weft/time.hpp"

namespace {

using weft::Task;

// pipeline sends 1..n through a bounded channel to a task that sums them under an
// AsyncMutex, sleeping 1 ms of virtual time per value; returns the sum.
Task<int> pipeline(int n) {
  auto [tx, rx] = weft::mpsc::channel<int>(1);
  weft::AsyncMutex mu;
  int sum = 0;
  auto consumer = weft::spawn([](weft::mpsc::Receiver<int> rx, weft::AsyncMutex& mu, int& sum) -> Task<void> {
    while (auto v = co_await rx.recv()) {
      co_await weft::sleep_for(std::chrono::milliseconds(1));
      auto g = co_await mu.lock();
      sum += *v;
    }
  }(std::move(rx), mu, sum));
  for (int i = 1; i <= n; ++i) co_await tx.send(i);
  tx = {};  // closes the channel: the consumer's loop ends
  co_await std::move(consumer);
  co_return sum;
}

void sums_on(weft::Builder b) {
  weft::Runtime rt = b.build();
  const int sum = rt.block_on(pipeline(4));
  WEFT_CHECK(sum == 10);
}

weft::testing::Options seeds(std::uint64_t n) {
  weft::testing::Options o;
  o.seeds = n;
  return o;
}

WEFT_SIM_TEST_WITH(RuntimeSim, RunsAPipelineOnTheCurrentThread, seeds(50)) {
  sums_on(weft::Builder::current_thread());
}
WEFT_SIM_TEST_WITH(RuntimeSim, RunsAPipelineOnOneWorker, seeds(50)) {
  sums_on(weft::Builder::multi_thread().worker_threads(1));
}
WEFT_SIM_TEST_WITH(RuntimeSim, RunsAPipelineOnThreeWorkers, seeds(50)) {
  sums_on(weft::Builder::multi_thread().worker_threads(3));
}

// Deep chains of nested awaits and long loops of ready awaits run on a fiber's
// small stack (64 KiB in Release): the task's trampoline resumes each frame, so
// no await nests a native frame.
// (Written with an if: GCC 12 miscompiles a co_await inside a conditional
// expression, `d == 0 ? 0 : 1 + co_await nested(d - 1)`, with any awaiter.)
Task<long> nested(long depth) {
  if (depth == 0) co_return 0;
  const long below = co_await nested(depth - 1);
  co_return below + 1;
}
Task<long> ready(long i) { co_return i; }

WEFT_SIM_TEST_WITH(RuntimeSim, DeepChainsAndLoopsOfReadyAwaitsFitAFibersStack, seeds(3)) {
  weft::Runtime rt = weft::Builder::multi_thread().worker_threads(2).build();
  WEFT_CHECK(rt.block_on(nested(50'000)) == 50'000);
  auto jh = rt.spawn([]() -> Task<long> {
    long sum = 0;
    for (long i = 0; i < 50'000; ++i) sum += co_await ready(1);
    co_return sum + co_await nested(50'000);
  }());
  WEFT_CHECK(rt.block_on([](weft::JoinHandle<long> jh) -> Task<long> { co_return co_await jh; }(std::move(jh))) ==
             100'000);
}

// A check that fails inside a task on a worker fails the run like any other.
TEST(RuntimeSim, ACheckFailingInsideATaskIsReported) {
  const auto r = weft::testing::explore(weft::testing::test::quiet_options("runtime-check", 5), [] {
    weft::Runtime rt = weft::Builder::multi_thread().worker_threads(2).build();
    rt.block_on([]() -> Task<void> {
      auto h = weft::spawn([]() -> Task<int> { co_return 41; }());
      const int v = co_await std::move(h);
      WEFT_CHECK(v == 42);
    }());
  });
  ASSERT_FALSE(r.passed());
  EXPECT_EQ(r.outcome, weft::sim::Outcome::assertion);
  EXPECT_NE(r.message.find("v == 42"), std::string::npos) << r.message;
}

}  // namespace
