// The facade's shared_mutex, semaphores, call_once and thread-locals on the
// simulator: each test shows the exploration reaches the case that matters (two
// readers at once, a waiter woken by a release, a callable racing its twin) and
// that a misuse of the primitive is found while the correct use passes.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <stdexcept>
#include <string>

#include "quiet_options.hpp"
#include "weft/facade.hpp"
#include "weft/testing.hpp"

namespace {

using weft::sim::Outcome;
using weft::testing::explore;
using weft::testing::Options;

Options options(const std::string& name, std::uint64_t seeds = 200) {
  return weft::testing::test::quiet_options(name, seeds);
}

TEST(FacadeSyncMore, ReadersShareASharedMutexAndAWriterExcludesThem) {
  // Reached: the most readers seen inside at once, over every run.
  int most_readers = 0;
  auto body = [&most_readers](bool writer_takes_it_shared) {
    return [&most_readers, writer_takes_it_shared] {
      weft::sync::shared_mutex rw;
      weft::sync::atomic<int> readers{0};
      weft::sync::atomic<int> writers{0};
      auto read = [&] {
        std::shared_lock<weft::sync::shared_mutex> g(rw);
        const int now = readers.fetch_add(1) + 1;
        most_readers = std::max(most_readers, now);
        WEFT_CHECK(writers.load() == 0);
        readers.fetch_sub(1);
      };
      auto write = [&] {
        if (writer_takes_it_shared) {
          std::shared_lock<weft::sync::shared_mutex> g(rw);
          writers.fetch_add(1);
          WEFT_CHECK(readers.load() == 0);
          writers.fetch_sub(1);
        } else {
          std::unique_lock<weft::sync::shared_mutex> g(rw);
          writers.fetch_add(1);
          WEFT_CHECK(readers.load() == 0);
          writers.fetch_sub(1);
        }
      };
      weft::thread a(read);
      weft::thread b(read);
      write();
      a.join();
      b.join();
    };
  };
  const auto good = explore(options("rwlock"), body(false));
  EXPECT_TRUE(good.passed()) << good.report();
  EXPECT_EQ(most_readers, 2) << "no run had both readers inside at once";
  const auto bad = explore(options("rwlock-writer-shared"), body(true));
  ASSERT_FALSE(bad.passed());
  EXPECT_EQ(bad.outcome, Outcome::assertion) << bad.report();
}

TEST(FacadeSyncMore, ASharedLockTakenTwiceDeadlocksBehindAWaitingWriter) {
  // Writers are preferred: the second lock_shared waits for the writer, which waits
  // for the first. Some interleaving must show it.
  const auto r = explore(options("rwlock-recursive"), [] {
    weft::sync::shared_mutex rw;
    weft::thread writer([&] { std::unique_lock<weft::sync::shared_mutex> g(rw); });
    rw.lock_shared();
    weft::this_thread::yield();
    rw.lock_shared();
    rw.unlock_shared();
    rw.unlock_shared();
    writer.join();
  });
  ASSERT_FALSE(r.passed());
  EXPECT_EQ(r.outcome, Outcome::deadlock) << r.report();
}

TEST(FacadeSyncMore, UnlockingASharedMutexNotHeldFailsTheRun) {
  const auto r = explore(options("rwlock-unheld", 1), [] {
    weft::sync::shared_mutex rw;
    rw.unlock();
  });
  ASSERT_FALSE(r.passed());
  EXPECT_EQ(r.outcome, Outcome::assertion);
  EXPECT_NE(r.message.find("does not hold it exclusively"), std::string::npos) << r.message;
}

TEST(FacadeSyncMore, ABinarySemaphoreExcludesAndACountOfTwoDoesNot) {
  auto body = [](bool two) {
    return [two] {
      weft::sync::counting_semaphore<2> wide(2);
      weft::sync::binary_semaphore narrow(1);
      weft::sync::atomic<int> inside{0};
      auto critical = [&] {
        if (two) {
          wide.acquire();
        } else {
          narrow.acquire();
        }
        WEFT_CHECK(inside.fetch_add(1) == 0);
        inside.fetch_sub(1);
        if (two) {
          wide.release();
        } else {
          narrow.release();
        }
      };
      weft::thread t(critical);
      critical();
      t.join();
    };
  };
  const auto good = explore(options("binary-semaphore"), body(false));
  EXPECT_TRUE(good.passed()) << good.report();
  const auto bad = explore(options("counting-semaphore"), body(true));
  ASSERT_FALSE(bad.passed());
  EXPECT_EQ(bad.outcome, Outcome::assertion) << bad.report();
}

TEST(FacadeSyncMore, ASemaphoreReleaseOrdersWhatCameBeforeItAndNothingElseDoes) {
  // A cell written before release() and read after acquire() is ordered (no race);
  // the same cell read without waiting for the semaphore is a data race.
  int waited = 0;  // runs in which the reader reached acquire() before the release
  auto body = [&waited](bool wait) {
    return [&waited, wait] {
      weft::sync::binary_semaphore ready(0);
      weft::sync::cell<int> value{0};
      weft::sync::atomic<bool> released{false};
      weft::thread producer([&] {
        value.set(42);
        released.store(true, std::memory_order_relaxed);
        ready.release();
      });
      if (wait) {
        if (!released.load(std::memory_order_relaxed)) ++waited;
        ready.acquire();
        WEFT_CHECK(value.get() == 42);
      } else {
        (void)value.get();
      }
      producer.join();
    };
  };
  const auto good = explore(options("semaphore-publish"), body(true));
  EXPECT_TRUE(good.passed()) << good.report();
  EXPECT_GT(waited, 0) << "no run blocked in acquire()";
  const auto bad = explore(options("semaphore-skipped"), body(false));
  ASSERT_FALSE(bad.passed());
  EXPECT_EQ(bad.outcome, Outcome::data_race) << bad.report();
}

TEST(FacadeSyncMore, SemaphoreTimeoutsPreconditionsAndUseOutsideAnExploration) {
  const auto r = explore(options("semaphore-timeout", 20), [] {
    weft::sync::counting_semaphore<3> s(0);
    WEFT_CHECK(!s.try_acquire());
    WEFT_CHECK(!s.try_acquire_for(std::chrono::milliseconds(5)));
    s.release(3);
    WEFT_CHECK(s.try_acquire());
    WEFT_CHECK(s.try_acquire_for(std::chrono::milliseconds(5)));
  });
  EXPECT_TRUE(r.passed()) << r.report();
  const auto over = explore(options("semaphore-over-max", 1), [] {
    weft::sync::binary_semaphore s(1);
    s.release();
  });
  ASSERT_FALSE(over.passed());
  EXPECT_NE(over.message.find("above max()"), std::string::npos) << over.message;
  EXPECT_THROW(weft::sync::binary_semaphore(2), weft::testing::UsageError);
  weft::sync::binary_semaphore outside(0);
  EXPECT_THROW(outside.release(), weft::testing::UsageError);
}

TEST(FacadeSyncMore, CallOnceRunsOnceAndPublishesWhatItBuiltAndARelaxedFlagDoesNot) {
  int arrived_during_init = 0;  // runs in which a caller came while the callable ran
  auto body = [&arrived_during_init](bool hand_rolled) {
    return [&arrived_during_init, hand_rolled] {
      weft::sync::once_flag once;
      weft::sync::atomic<bool> inited{false};
      weft::sync::atomic<int> calls{0};
      weft::sync::atomic<bool> in_init{false};
      weft::sync::cell<int> table{0};
      auto init = [&] {
        in_init.store(true);
        calls.fetch_add(1);
        table.set(7);
        in_init.store(false);
      };
      auto use = [&] {
        if (in_init.load()) ++arrived_during_init;
        if (hand_rolled) {
          // The planted bug: a flag read and set relaxed, so a caller that sees it
          // set has no happens-before edge to the table's write.
          if (!inited.load(std::memory_order_relaxed)) {
            weft::sync::call_once(once, init);
            inited.store(true, std::memory_order_relaxed);
          }
        } else {
          weft::sync::call_once(once, init);
        }
        WEFT_CHECK(table.get() == 7);
      };
      weft::thread a(use);
      weft::thread b(use);
      use();
      a.join();
      b.join();
      WEFT_CHECK(calls.load() == 1);
    };
  };
  const auto good = explore(options("call-once"), body(false));
  EXPECT_TRUE(good.passed()) << good.report();
  EXPECT_GT(arrived_during_init, 0) << "no caller ever waited for the running callable";
  const auto bad = explore(options("call-once-relaxed-flag"), body(true));
  ASSERT_FALSE(bad.passed());
  EXPECT_EQ(bad.outcome, Outcome::data_race) << bad.report();
}

TEST(FacadeSyncMore, ACallableThatThrowsLeavesTheFlagUnsetForTheNextCaller) {
  const auto r = explore(options("call-once-throws"), [] {
    weft::sync::once_flag once;
    weft::sync::atomic<int> attempts{0};
    weft::sync::atomic<int> failures{0};
    auto call = [&] {
      try {
        weft::sync::call_once(once, [&] {
          if (attempts.fetch_add(1) == 0) throw std::runtime_error("first attempt fails");
        });
      } catch (const std::runtime_error&) {
        failures.fetch_add(1);
      }
    };
    weft::thread t(call);
    call();
    t.join();
    // Exactly one caller saw the exception, and the other ran its own callable.
    WEFT_CHECK(attempts.load() == 2);
    WEFT_CHECK(failures.load() == 1);
  });
  EXPECT_TRUE(r.passed()) << r.report();
}

// Counted makes and destroys; the counts are host memory, outside the simulation.
struct Census {
  int made = 0;
  int destroyed = 0;
};
Census census;

struct Counted {
  int value = 0;
  explicit Counted(int v) : value(v) { ++census.made; }
  Counted(const Counted&) = delete;
  ~Counted() { ++census.destroyed; }
};

WEFT_THREAD_LOCAL(Counted, counted_local, 10);
WEFT_THREAD_LOCAL(int, depth_local, 0);
thread_local int plain_local = 0;  // what a user would write, and the pitfall

TEST(FacadeSyncMore, EachSimulatedThreadHasItsOwnThreadLocalAndAPlainOneIsShared) {
  census = {};
  int plain_seen = -1;
  int local_seen = -1;
  const auto r = explore(options("thread-locals", 20), [&] {
    plain_local = 0;
    const int destroyed_before = census.destroyed;
    weft::thread t([] {
      ++plain_local;
      ++depth_local.get();
      counted_local->value += 1;
    });
    t.join();
    // The thread's Counted died when the thread returned, not at the run's end.
    WEFT_CHECK(census.destroyed == destroyed_before + 1);
    ++plain_local;
    ++*depth_local;
    plain_seen = plain_local;
    local_seen = depth_local.with([](int& d) { return d; });
    WEFT_CHECK(counted_local->value == 10);
  });
  EXPECT_TRUE(r.passed()) << r.report();
  EXPECT_EQ(plain_seen, 2) << "a plain thread_local is one variable for every simulated thread";
  EXPECT_EQ(local_seen, 1);
  // Two threads made one Counted each per run, and each died with its thread.
  EXPECT_EQ(census.made, 2 * 20);
  EXPECT_EQ(census.destroyed, census.made);
}

TEST(FacadeSyncMore, ThreadLocalsOfAFailedRunAreDestroyedWhenItEnds) {
  census = {};
  const auto r = explore(options("thread-locals-failed", 1), [] {
    weft::sync::mutex m;
    weft::thread t([&] {
      counted_local->value = 1;
      m.lock();  // the main thread holds it and never lets go: deadlock
    });
    m.lock();
    counted_local->value = 2;
    t.join();
  });
  ASSERT_FALSE(r.passed());
  EXPECT_EQ(r.outcome, Outcome::deadlock) << r.report();
  EXPECT_GT(census.made, 0);
  EXPECT_EQ(census.destroyed, census.made);
}

}  // namespace

namespace {

TEST(FacadeSyncMore, AWeakCompareExchangeThatIsNotRetriedLosesAnIncrementAndALoopDoesNot) {
  // One thread alone: only a spurious failure can make the single weak CAS miss.
  auto body = [](bool retry) {
    return [retry] {
      weft::sync::atomic<int> n{0};
      int cur = 0;
      if (retry) {
        for (int tries = 0; tries < 64 && !n.compare_exchange_weak(cur, cur + 1); ++tries) {
        }
      } else {
        (void)n.compare_exchange_weak(cur, cur + 1);
      }
      WEFT_CHECK(n.load() == 1);
    };
  };
  const auto bad = explore(options("weak-cas-once"), body(false));
  ASSERT_FALSE(bad.passed());
  EXPECT_EQ(bad.outcome, Outcome::assertion) << bad.report();
  const auto good = explore(options("weak-cas-loop"), body(true));
  EXPECT_TRUE(good.passed()) << good.report();
}

TEST(FacadeSyncMore, UnderC11ARelaxedFlagCanShowAStaleValueAndReleaseAcquireCannot) {
  // Message passing with atomics only (no cell: a data race is not what is judged).
  auto body = [](std::memory_order publish, std::memory_order observe) {
    return [publish, observe] {
      weft::sync::atomic<int> data{0};
      weft::sync::atomic<bool> ready{false};
      weft::thread producer([&] {
        data.store(42, std::memory_order_relaxed);
        ready.store(true, publish);
      });
      if (ready.load(observe)) WEFT_CHECK(data.load(std::memory_order_relaxed) == 42);
      producer.join();
    };
  };
  weft::testing::Options c11 = options("mp-relaxed-c11", 2000);
  c11.memory_model = weft::sim::MemoryModel::c11;
  const auto stale = explore(c11, body(std::memory_order_relaxed, std::memory_order_relaxed));
  ASSERT_FALSE(stale.passed()) << "no stale read in 2000 seeds under c11";
  EXPECT_EQ(stale.outcome, Outcome::assertion) << stale.report();
  weft::testing::Options sc = options("mp-relaxed-sc", 2000);
  sc.memory_model = weft::sim::MemoryModel::sc;
  EXPECT_TRUE(explore(sc, body(std::memory_order_relaxed, std::memory_order_relaxed)).passed());
  c11.name = "mp-release-acquire-c11";
  EXPECT_TRUE(explore(c11, body(std::memory_order_release, std::memory_order_acquire)).passed());
}

}  // namespace
