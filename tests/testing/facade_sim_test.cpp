// The facade in a test build (weft::sim): std's interfaces on simulated types,
// explored by weft::testing::explore. Each test shows a class of bug is found (a
// lost update, a missing lock, a lost wake-up, a spurious wake-up ignored) and the
// correct twin passes.
#include <gtest/gtest.h>

#include <memory>
#include <mutex>
#include <string>

#include "weft/facade.hpp"
#include "quiet_options.hpp"
#include "weft/testing.hpp"

namespace {

using weft::sim::Outcome;
using weft::testing::explore;
using weft::testing::Options;

static_assert(WEFT_FACADE_SIMULATED == 1);
static_assert(weft::facade_detail::to_order(std::memory_order_relaxed) == weft::platform_contract::Order::relaxed);
static_assert(weft::facade_detail::to_order(std::memory_order_consume) == weft::platform_contract::Order::acquire);
static_assert(weft::facade_detail::to_order(std::memory_order_acquire) == weft::platform_contract::Order::acquire);
static_assert(weft::facade_detail::to_order(std::memory_order_release) == weft::platform_contract::Order::release);
static_assert(weft::facade_detail::to_order(std::memory_order_acq_rel) == weft::platform_contract::Order::acq_rel);
static_assert(weft::facade_detail::to_order(std::memory_order_seq_cst) == weft::platform_contract::Order::seq_cst);
static_assert(weft::facade_detail::failure_order(std::memory_order_acq_rel) == std::memory_order_acquire);
static_assert(weft::facade_detail::failure_order(std::memory_order_release) == std::memory_order_relaxed);

Options options(const std::string& name, std::uint64_t seeds = 200) {
  return weft::testing::test::quiet_options(name, seeds);
}

TEST(FacadeSim, AtomicUsedOutsideAnExplorationSaysSo) {
  weft::sync::atomic<int> n{0};
  try {
    (void)n.load();
    FAIL() << "no UsageError";
  } catch (const weft::testing::UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("weft::sync::atomic::load used outside an exploration"), std::string::npos)
        << e.what();
  }
  weft::sync::mutex m;
  EXPECT_THROW(m.lock(), weft::testing::UsageError);
  EXPECT_THROW(weft::thread([] {}), weft::testing::UsageError);
  EXPECT_THROW(weft::this_thread::yield(), weft::testing::UsageError);
}

TEST(FacadeSim, LoadThenStoreLosesAnUpdateAndFetchAddDoesNot) {
  auto body = [](bool racy) {
    return [racy] {
      weft::sync::atomic<int> n{0};
      auto inc = [&] {
        if (racy) {
          n.store(n.load(std::memory_order_acquire) + 1, std::memory_order_release);
        } else {
          n.fetch_add(1, std::memory_order_acq_rel);
        }
      };
      weft::thread t(inc);
      inc();
      t.join();
      WEFT_CHECK(n.load() == 2);
    };
  };
  const auto bad = explore(options("lost-update"), body(true));
  ASSERT_FALSE(bad.passed());
  EXPECT_EQ(bad.outcome, Outcome::assertion);
  EXPECT_NE(bad.message.find("n.load() == 2"), std::string::npos) << bad.message;
  EXPECT_LT(bad.seeds_run, 200u);
  const auto good = explore(options("fetch-add"), body(false));
  EXPECT_TRUE(good.passed()) << good.report();
  EXPECT_EQ(good.seeds_run, 200u);
}

TEST(FacadeSim, OperatorsAndCompareExchangeBehaveAsStd) {
  const auto r = explore(options("operators", 20), [] {
    weft::sync::atomic<unsigned> a{5};
    WEFT_CHECK(++a == 6u);
    WEFT_CHECK(a++ == 6u);
    WEFT_CHECK(--a == 6u);
    WEFT_CHECK((a += 4u) == 10u);
    WEFT_CHECK((a -= 2u) == 8u);
    WEFT_CHECK((a |= 1u) == 9u);
    WEFT_CHECK((a &= 8u) == 8u);
    a = 3u;
    WEFT_CHECK(static_cast<unsigned>(a) == 3u);
    unsigned expected = 4;
    WEFT_CHECK(!a.compare_exchange_strong(expected, 9u));
    WEFT_CHECK(expected == 3u);
    // A weak compare-exchange may fail spuriously (expected keeps its value): retry.
    bool swapped = false;
    for (int tries = 0; tries < 64 && !swapped; ++tries) {
      swapped = a.compare_exchange_weak(expected, 9u, std::memory_order_acq_rel, std::memory_order_acquire);
      WEFT_CHECK(expected == 3u);
    }
    WEFT_CHECK(swapped);
    WEFT_CHECK(a.exchange(1u) == 9u);
    weft::sync::atomic<int*> p{nullptr};
    int x = 0;
    p.store(&x);
    WEFT_CHECK(p.load() == &x);
  });
  EXPECT_TRUE(r.passed()) << r.report();
}

TEST(FacadeSim, CompareExchangeWeakLoopCountsEveryIncrement) {
  const auto r = explore(options("cas-loop"), [] {
    weft::sync::atomic<int> n{0};
    auto inc = [&] {
      int cur = n.load(std::memory_order_relaxed);
      // Bounded: a failure means another thread's increment landed (at most 2) or a
      // spurious failure (1 in 4 when the value matches): 64 tries never run out.
      for (int tries = 0; tries < 64 && !n.compare_exchange_weak(cur, cur + 1, std::memory_order_acq_rel,
                                                                std::memory_order_relaxed);
           ++tries) {
      }
    };
    weft::thread a(inc);
    weft::thread b(inc);
    inc();
    a.join();
    b.join();
    WEFT_CHECK(n.load() == 3);
  });
  EXPECT_TRUE(r.passed()) << r.report();
}

TEST(FacadeSim, MutexWorksWithStdLockGuardsAndAMissingLockIsFound) {
  auto body = [](bool locked) {
    return [locked] {
      weft::sync::mutex m;
      weft::sync::atomic<int> in_section{0};
      auto critical = [&] {
        if (locked) {
          std::unique_lock<weft::sync::mutex> g(m);
          in_section.fetch_add(1);
          WEFT_CHECK(in_section.load() == 1);
          in_section.fetch_sub(1);
        } else {
          in_section.fetch_add(1);
          WEFT_CHECK(in_section.load() == 1);
          in_section.fetch_sub(1);
        }
      };
      weft::thread t(critical);
      {
        std::lock_guard<weft::sync::mutex> g(m);  // std's guards take the facade's mutex
      }
      critical();
      t.join();
    };
  };
  const auto good = explore(options("locked"), body(true));
  EXPECT_TRUE(good.passed()) << good.report();
  const auto bad = explore(options("unlocked"), body(false));
  ASSERT_FALSE(bad.passed());
  EXPECT_EQ(bad.outcome, Outcome::assertion);
}

TEST(FacadeSim, LockingAMutexTwiceFailsTheRunInsteadOfHanging) {
  const auto r = explore(options("relock", 1), [] {
    weft::sync::mutex m;
    m.lock();
    m.lock();
  });
  ASSERT_FALSE(r.passed());
  EXPECT_EQ(r.outcome, Outcome::assertion);
  EXPECT_NE(r.message.find("already holds"), std::string::npos) << r.message;
}

// handoff: a consumer waits for a flag a producer sets under the lock. `guarded`
// waits with a predicate; otherwise it waits once if the flag is not set, which
// a spurious wake-up breaks.
void handoff(bool guarded) {
  weft::sync::mutex m;
  weft::sync::condition_variable cv;
  bool ready = false;
  weft::thread producer([&] {
    {
      std::lock_guard<weft::sync::mutex> g(m);
      ready = true;
    }
    cv.notify_one();
  });
  {
    std::unique_lock<weft::sync::mutex> lk(m);
    if (guarded) {
      cv.wait(lk, [&] { return ready; });
    } else if (!ready) {
      cv.wait(lk);
    }
    WEFT_CHECK(ready);
  }
  producer.join();
}

TEST(FacadeSim, ConditionVariableHandsOffAndAnUnguardedWaitFailsOnASpuriousWakeup) {
  Options o = options("cv-guarded");
  o.spurious_wakeup_per_mille = 300;
  const auto good = explore(o, [] { handoff(true); });
  EXPECT_TRUE(good.passed()) << good.report();
  o.name = "cv-unguarded";
  const auto bad = explore(o, [] { handoff(false); });
  ASSERT_FALSE(bad.passed());
  EXPECT_EQ(bad.outcome, Outcome::assertion);
  EXPECT_NE(bad.message.find("ready"), std::string::npos) << bad.message;
}

TEST(FacadeSim, AWaitWithoutAConditionIsALostWakeupFoundAsADeadlock) {
  const auto r = explore(options("cv-lost"), [] {
    weft::sync::mutex m;
    weft::sync::condition_variable cv;
    weft::thread notifier([&] { cv.notify_one(); });
    std::unique_lock<weft::sync::mutex> lk(m);
    cv.wait(lk);  // the bug: no state to check, so a notify before the wait is lost
    lk.unlock();
    notifier.join();
  });
  ASSERT_FALSE(r.passed());
  EXPECT_EQ(r.outcome, Outcome::deadlock);
}

TEST(FacadeSim, NotifyAllWakesEveryWaiter) {
  const auto r = explore(options("cv-all"), [] {
    weft::sync::mutex m;
    weft::sync::condition_variable cv;
    int go = 0;
    weft::sync::atomic<int> woke{0};
    auto waiter = [&] {
      std::unique_lock<weft::sync::mutex> lk(m);
      cv.wait(lk, [&] { return go == 1; });
      woke.fetch_add(1);
    };
    weft::thread a(waiter);
    weft::thread b(waiter);
    {
      std::lock_guard<weft::sync::mutex> g(m);
      go = 1;
    }
    cv.notify_all();
    a.join();
    b.join();
    WEFT_CHECK(woke.load() == 2);
  });
  EXPECT_TRUE(r.passed()) << r.report();
}

TEST(FacadeSim, WaitForTimesOutInVirtualTime) {
  const auto r = explore(options("cv-timeout", 20), [] {
    weft::sync::mutex m;
    weft::sync::condition_variable cv;
    std::unique_lock<weft::sync::mutex> lk(m);
    WEFT_CHECK(cv.wait_for(lk, std::chrono::milliseconds(5)) == std::cv_status::timeout);
    WEFT_CHECK(!cv.wait_for(lk, std::chrono::milliseconds(5), [] { return false; }));
    WEFT_CHECK(lk.owns_lock());
  });
  EXPECT_TRUE(r.passed()) << r.report();
}

TEST(FacadeSim, ThreadTakesArgumentsAndMoveOnlyCallables) {
  const auto r = explore(options("thread-args", 20), [] {
    weft::sync::atomic<int> sum{0};
    weft::thread a([&](int x, int y) { sum.fetch_add(x + y); }, 2, 3);
    auto owned = std::make_unique<int>(10);
    weft::thread b([&, p = std::move(owned)] { sum.fetch_add(*p); });
    WEFT_CHECK(a.joinable() && b.joinable());
    a.join();
    b.join();
    WEFT_CHECK(!a.joinable());
    WEFT_CHECK(sum.load() == 15);
  });
  EXPECT_TRUE(r.passed()) << r.report();
}

TEST(FacadeSim, AJoinableThreadDestroyedFailsTheRun) {
  const auto r = explore(options("thread-leak", 1), [] { weft::thread t([] {}); });
  ASSERT_FALSE(r.passed());
  EXPECT_EQ(r.outcome, Outcome::assertion);
  EXPECT_NE(r.message.find("joinable Thread was destroyed"), std::string::npos) << r.message;
}

TEST(FacadeSim, YieldingSpinWaitsForAnotherThread) {
  const auto r = explore(options("spin"), [] {
    weft::sync::atomic<bool> flag{false};
    weft::thread t([&] { flag.store(true, std::memory_order_release); });
    for (int i = 0; i < 1000 && !flag.load(std::memory_order_acquire); ++i) weft::this_thread::yield();
    WEFT_CHECK(flag.load());
    t.join();
  });
  EXPECT_TRUE(r.passed()) << r.report();
}

TEST(FacadeSim, ACellPublishedByARelaxedFlagIsADataRaceAndReleaseAcquireOrdersIt) {
  auto body = [](std::memory_order store_order, std::memory_order load_order) {
    return [=] {
      weft::sync::cell<int> data{0};
      weft::sync::atomic<bool> ready{false};
      weft::thread t([&] {
        data.set(42);
        ready.store(true, store_order);
      });
      for (int i = 0; i < 100 && !ready.load(load_order); ++i) weft::this_thread::yield();
      if (ready.load(load_order)) WEFT_CHECK(data.with([](const int& v) { return v == 42; }));
      t.join();
    };
  };
  const auto bad = explore(options("cell-relaxed"), body(std::memory_order_relaxed, std::memory_order_relaxed));
  ASSERT_FALSE(bad.passed());
  EXPECT_EQ(bad.outcome, Outcome::data_race);
  EXPECT_NE(bad.message.find("facade_sim_test.cpp"), std::string::npos) << bad.message;
  const auto good = explore(options("cell-rel-acq"), body(std::memory_order_release, std::memory_order_acquire));
  EXPECT_TRUE(good.passed()) << good.report();
  EXPECT_EQ(good.seeds_run, 200u);
}

TEST(FacadeSim, ACellUnderAMutexOnBothSidesIsNoRaceAndOneUnlockedWriteIs) {
  auto body = [](bool lock_writer) {
    return [=] {
      weft::sync::mutex m;
      weft::sync::cell<int> n{0};
      weft::thread t([&] {
        if (lock_writer) {
          std::lock_guard g(m);
          n.with_mut([](int& v) { ++v; });
        } else {
          n.with_mut([](int& v) { ++v; });
        }
      });
      {
        std::lock_guard g(m);
        n.with_mut([](int& v) { ++v; });
      }
      t.join();
      WEFT_CHECK(n.get() == 2);
    };
  };
  const auto bad = explore(options("cell-unlocked"), body(false));
  ASSERT_FALSE(bad.passed());
  EXPECT_EQ(bad.outcome, Outcome::data_race);
  const auto good = explore(options("cell-locked"), body(true));
  EXPECT_TRUE(good.passed()) << good.report();
}

}  // namespace
