// The facade in a production build (weft::runtime): the standard library's own
// types, so it costs nothing; and it works on real threads.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <semaphore>
#include <shared_mutex>
#include <thread>
#include <type_traits>

#include "weft/facade.hpp"

static_assert(WEFT_FACADE_SIMULATED == 0);
// Zero cost: the facade's names are the standard types, not wrappers of them.
static_assert(std::is_same_v<weft::sync::atomic<std::uint64_t>, std::atomic<std::uint64_t>>);
static_assert(std::is_same_v<weft::sync::atomic<int*>, std::atomic<int*>>);
static_assert(std::is_same_v<weft::sync::mutex, std::mutex>);
static_assert(std::is_same_v<weft::sync::condition_variable, std::condition_variable>);
static_assert(std::is_same_v<weft::thread, std::thread>);
static_assert(sizeof(weft::sync::atomic<std::uint32_t>) == sizeof(std::uint32_t));
static_assert(alignof(weft::sync::atomic<std::uint64_t>) == alignof(std::atomic<std::uint64_t>));
static_assert(std::is_same_v<weft::sync::shared_mutex, std::shared_mutex>);
static_assert(std::is_same_v<weft::sync::counting_semaphore<4>, std::counting_semaphore<4>>);
static_assert(std::is_same_v<weft::sync::counting_semaphore<>, std::counting_semaphore<>>);
static_assert(std::is_same_v<weft::sync::binary_semaphore, std::binary_semaphore>);
static_assert(std::is_same_v<weft::sync::once_flag, std::once_flag>);
// cell is the bare value.
static_assert(sizeof(weft::sync::cell<std::uint64_t>) == sizeof(std::uint64_t));

TEST(FacadeStd, CellHandsAValueOverUnderALock) {
  weft::sync::mutex m;
  weft::sync::cell<int> n{0};
  weft::thread a([&] {
    for (int i = 0; i < 1000; ++i) {
      std::lock_guard g(m);
      n.with_mut([](int& v) { ++v; });
    }
  });
  for (int i = 0; i < 1000; ++i) {
    std::lock_guard g(m);
    n.set(n.get() + 1);
  }
  a.join();
  EXPECT_EQ(n.with([](const int& v) { return v; }), 2000);
}

TEST(FacadeStd, CountsOnRealThreads) {
  weft::sync::atomic<int> n{0};
  weft::thread a([&] {
    for (int i = 0; i < 1000; ++i) n.fetch_add(1, std::memory_order_relaxed);
  });
  weft::thread b([&] {
    for (int i = 0; i < 1000; ++i) ++n;
  });
  a.join();
  b.join();
  EXPECT_EQ(n.load(), 2000);
}

TEST(FacadeStd, HandsOffThroughAConditionVariable) {
  weft::sync::mutex m;
  weft::sync::condition_variable cv;
  bool ready = false;
  int value = 0;
  weft::thread producer([&] {
    std::lock_guard<weft::sync::mutex> g(m);
    value = 7;
    ready = true;
    cv.notify_one();
  });
  {
    std::unique_lock<weft::sync::mutex> lk(m);
    cv.wait(lk, [&] { return ready; });
    EXPECT_EQ(value, 7);
  }
  producer.join();
  weft::this_thread::yield();
}

TEST(FacadeStd, SharedMutexSemaphoreAndCallOnceWorkOnRealThreads) {
  weft::sync::shared_mutex rw;
  weft::sync::counting_semaphore<2> slots(2);
  weft::sync::once_flag once;
  int writes = 0;
  int inits = 0;
  auto work = [&] {
    for (int i = 0; i < 200; ++i) {
      weft::sync::call_once(once, [&] { ++inits; });
      slots.acquire();
      {
        std::unique_lock<weft::sync::shared_mutex> w(rw);
        ++writes;
      }
      {
        std::shared_lock<weft::sync::shared_mutex> r(rw);
        EXPECT_GT(writes, 0);
      }
      slots.release();
    }
  };
  weft::thread a(work);
  work();
  a.join();
  EXPECT_EQ(writes, 400);
  EXPECT_EQ(inits, 1);
}

WEFT_THREAD_LOCAL(int, facade_std_counter, 5);

TEST(FacadeStd, ThreadLocalsAreOnePerRealThread) {
  facade_std_counter.get() += 1;
  int other = 0;
  weft::thread a([&] { other = *facade_std_counter; });
  a.join();
  EXPECT_EQ(*facade_std_counter, 6);
  EXPECT_EQ(other, 5);
}
