// Async building blocks on both schedulers: oneshot, mpsc, Notify, AsyncMutex, time.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <memory>
#include <thread>
#include <tuple>
#include <vector>

#include "runtime_params.hpp"
#include "weft/runtime.hpp"
#include "weft/sync.hpp"
#include "weft/time.hpp"

namespace {

using namespace std::chrono_literals;
using weft::Task;
using weft::test::RuntimeParam;

class Sync : public ::testing::TestWithParam<RuntimeParam> {};

TEST_P(Sync, OneshotDeliversAcrossTasks) {
  auto rt = GetParam().build();
  int got = rt.block_on([]() -> Task<int> {
    auto [tx, rx] = weft::oneshot::channel<int>();
    auto jh = weft::spawn([](weft::oneshot::Sender<int> tx) -> Task<void> {
      tx.send(41);
      co_return;
    }(std::move(tx)));
    int v = co_await rx;
    co_await jh;
    co_return v + 1;
  }());
  EXPECT_EQ(got, 42);
}

TEST_P(Sync, OneshotReportsDroppedSender) {
  auto rt = GetParam().build();
  bool threw = rt.block_on([]() -> Task<bool> {
    auto [tx, rx] = weft::oneshot::channel<int>();
    auto jh = weft::spawn([](weft::oneshot::Sender<int> tx) -> Task<void> {
      auto drop = std::move(tx);
      co_return;
    }(std::move(tx)));
    try {
      (void)co_await rx;
    } catch (const weft::oneshot::RecvError&) {
      co_return true;
    }
    co_return false;
  }());
  EXPECT_TRUE(threw);
}

TEST_P(Sync, MpscBoundedChannelKeepsOrderAndBackpressure) {
  auto rt = GetParam().build();
  std::vector<int> got = rt.block_on([]() -> Task<std::vector<int>> {
    auto [tx, rx] = weft::mpsc::channel<int>(2);
    auto producer = weft::spawn([](weft::mpsc::Sender<int> tx) -> Task<void> {
      for (int i = 0; i < 100; ++i) {
        bool ok = co_await tx.send(i);
        if (!ok) co_return;
      }
    }(std::move(tx)));
    std::vector<int> out;
    while (auto v = co_await rx.recv()) out.push_back(*v);
    co_await producer;
    co_return out;
  }());
  ASSERT_EQ(got.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(got[i], i);
}

TEST_P(Sync, NotifyStoresOnePermit) {
  auto rt = GetParam().build();
  int n = rt.block_on([]() -> Task<int> {
    weft::Notify notify;
    notify.notify_one();
    co_await notify.notified();  // consumes the stored permit
    std::atomic<int> woke{0};
    auto waiter = weft::spawn([](weft::Notify& n, std::atomic<int>& w) -> Task<void> {
      co_await n.notified();
      w.fetch_add(1);
    }(notify, woke));
    while (woke.load() == 0) {
      notify.notify_one();
      co_await weft::yield_now();
    }
    co_await waiter;
    co_return woke.load();
  }());
  EXPECT_EQ(n, 1);
}

TEST_P(Sync, AsyncMutexSerialisesCriticalSections) {
  auto rt = GetParam().build();
  int total = rt.block_on([]() -> Task<int> {
    weft::AsyncMutex m;
    int counter = 0;
    std::vector<weft::JoinHandle<void>> hs;
    for (int t = 0; t < 8; ++t) {
      hs.push_back(weft::spawn([](weft::AsyncMutex& m, int& c) -> Task<void> {
        for (int i = 0; i < 200; ++i) {
          auto g = co_await m.lock();
          int v = c;
          co_await weft::yield_now();  // hold the lock across a suspension
          c = v + 1;
        }
      }(m, counter)));
    }
    for (auto& h : hs) co_await h;
    co_return counter;
  }());
  EXPECT_EQ(total, 8 * 200);
}

TEST_P(Sync, SleepWaitsAtLeastItsDuration) {
  auto rt = GetParam().build();
  auto t0 = std::chrono::steady_clock::now();
  rt.block_on([]() -> Task<void> {
    auto jh = weft::spawn([]() -> Task<void> { co_await weft::sleep_for(20ms); }());
    co_await jh;
    co_await weft::sleep_for(5ms);
  }());
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 25ms);
}

TEST_P(Sync, TimeoutElapsesOnAStuckTaskAndPassesAFastOne) {
  auto rt = GetParam().build();
  auto [fast, slow] = rt.block_on([]() -> Task<std::pair<int, bool>> {
    int fast = co_await weft::timeout(1s, []() -> Task<int> { co_return 7; }());
    bool elapsed = false;
    try {
      co_await weft::timeout(10ms, []() -> Task<void> { co_await weft::sleep_for(10s); }());
    } catch (const weft::Elapsed&) {
      elapsed = true;
    }
    co_return std::pair<int, bool>{fast, elapsed};
  }());
  EXPECT_EQ(fast, 7);
  EXPECT_TRUE(slow);
}

// A timed-out task is destroyed before Elapsed reaches the caller, so a task
// that borrows the caller's locals cannot outlive them (abort alone would leave
// the cancel to a worker, after the caller's frame is gone).
TEST_P(Sync, ATimedOutTaskIsDestroyedBeforeTheTimeoutReturns) {
  auto rt = GetParam().build();
  int destroyed_before_return = rt.block_on([]() -> Task<int> {
    int count = 0;
    for (int round = 0; round < 20; ++round) {
      // The frame owns `held` (a parameter), whether or not the task started.
      auto held = std::make_shared<int>(round);
      std::weak_ptr<int> seen = held;
      weft::Notify never;
      try {
        co_await weft::timeout(round % 2 ? -1ms : 1ms, [](weft::Notify& n, std::shared_ptr<int>) -> Task<void> {
          co_await n.notified();
        }(never, std::move(held)));
      } catch (const weft::Elapsed&) {
      }
      count += seen.expired();
    }
    co_return count;
  }());
  EXPECT_EQ(destroyed_before_return, 20);
}

// Durations at the ends of their range saturate instead of wrapping: a sleep of
// hours::max() does not end at once, a timeout of hours::max() does not fire, a
// negative timeout fires at once (it wrapped to a deadline 584 years away).
TEST_P(Sync, HugeAndNegativeDurationsSaturateInsteadOfWrapping) {
  auto rt = GetParam().build();
  auto [slept_forever, fast, negative] = rt.block_on([]() -> Task<std::tuple<bool, int, bool>> {
    bool slept_forever = false;
    try {
      co_await weft::timeout(20ms, []() -> Task<void> { co_await weft::sleep_for(std::chrono::hours::max()); }());
    } catch (const weft::Elapsed&) {
      slept_forever = true;  // still asleep when the timeout fired
    }
    int fast = co_await weft::timeout(std::chrono::hours::max(), []() -> Task<int> {
      co_await weft::sleep_for(1ms);
      co_return 7;
    }());
    bool negative = false;
    weft::Notify never;  // nobody notifies it
    try {
      co_await weft::timeout(-1s, [](weft::Notify& n) -> Task<void> { co_await n.notified(); }(never));
    } catch (const weft::Elapsed&) {
      negative = true;
    }
    co_return std::tuple<bool, int, bool>{slept_forever, fast, negative};
  }());
  EXPECT_TRUE(slept_forever);
  EXPECT_EQ(fast, 7);
  EXPECT_TRUE(negative);
  EXPECT_EQ(weft::detail::deadline_after(UINT64_MAX - 5, 10), UINT64_MAX);
  EXPECT_EQ(weft::detail::deadline_after(100, -10), 100u);
  EXPECT_EQ(weft::detail::duration_ns(std::chrono::hours::min()), std::chrono::nanoseconds::min().count());
  EXPECT_EQ(weft::detail::duration_ns(std::chrono::duration<double>(std::nan(""))), 0);
}

// A waiter cancelled after it was notified but before it resumed passes a
// notify_one on (nobody saw it), and not a notify_waiters (it reached everyone).
// Current-thread only: the waiter must be parked in notified() when the
// notification arrives, which one thread makes certain.
TEST(NotifyCancel, ACancelledWaiterPassesOnANotifyOneButNotABroadcast) {
  auto rt = weft::Builder::current_thread().build();
  for (bool broadcast : {false, true}) {
    weft::Notify n;
    rt.block_on([](weft::Notify& n, bool broadcast) -> Task<void> {
      auto a = weft::spawn([](weft::Notify& n) -> Task<void> { co_await n.notified(); }(n));
      co_await weft::yield_now();  // a runs and waits
      if (broadcast) n.notify_waiters(); else n.notify_one();
      a.abort();  // notified, not resumed
      try {
        co_await a;
      } catch (const weft::JoinError&) {
      }
    }(n, broadcast));
    // Outside the runtime: is a permit stored?
    EXPECT_EQ(n.notified().await_ready(), !broadcast) << (broadcast ? "notify_waiters" : "notify_one");
  }
}

INSTANTIATE_TEST_SUITE_P(Runtimes, Sync, ::testing::ValuesIn(weft::test::all_runtimes()),
                         weft::test::param_name);

}  // namespace
