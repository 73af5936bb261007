// One allocation per task: a spawned task's cell is built in front of its
// coroutine frame, in the block the frame's operator new took, on every runtime;
// and the shared states of sync primitives come from the same pool (PoolNew).
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <coroutine>
#include <cstdint>
#include <set>
#include <thread>
#include <type_traits>
#include <vector>

#include "policy.hpp"
#include "runtime_params.hpp"
#include "weft/runtime.hpp"
#include "weft/sync.hpp"

namespace {

using weft::test::RuntimeParam;

// FrameAddress completes at once and gives the address of the awaiting coroutine's frame.
struct FrameAddress {
  void* frame = nullptr;
  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> h) noexcept {
    frame = h.address();
    return false;  // resume at once
  }
  void* await_resume() const noexcept { return frame; }
};

weft::Task<void*> own_frame() { co_return co_await FrameAddress{}; }

// big_result returns a value larger than the pool's largest block, from a frame
// that holds one too: both the cell and the frame are past the size classes.
weft::Task<std::array<std::uint8_t, 3000>> big_result(std::uint8_t fill) {
  std::array<std::uint8_t, 3000> local{};
  local.fill(fill);
  co_await weft::yield_now();
  co_return local;
}

class TaskAlloc : public ::testing::TestWithParam<RuntimeParam> {};

TEST_P(TaskAlloc, EverySpawnedTasksCellSitsInFrontOfItsFrame) {
  auto rt = GetParam().build();
  constexpr int kTasks = 200;
  const bool ok = rt.block_on([]() -> weft::Task<bool> {
    std::vector<weft::JoinHandle<void*>> handles;
    for (int i = 0; i < kTasks; ++i) handles.push_back(weft::spawn(own_frame()));
    bool all = true;
    for (auto& h : handles) {
      auto* header = reinterpret_cast<char*>(h.raw());
      void* frame = co_await h;
      all = all && header + weft::detail::kFrameOffset == frame;
    }
    co_return all;
  }());
  EXPECT_TRUE(ok);
}

TEST_P(TaskAlloc, ALargeResultOutlivesItsLargeFrame) {
  auto rt = GetParam().build();
  const int sum = rt.block_on([]() -> weft::Task<int> {
    std::vector<weft::JoinHandle<std::array<std::uint8_t, 3000>>> handles;
    for (int i = 0; i < 50; ++i) handles.push_back(weft::spawn(big_result(static_cast<std::uint8_t>(i))));
    int total = 0;
    for (auto& h : handles) {
      auto v = co_await h;
      total += v[0] + v[2999];
    }
    co_return total;
  }());
  EXPECT_EQ(sum, 2 * (49 * 50 / 2));
}

INSTANTIATE_TEST_SUITE_P(AllRuntimes, TaskAlloc, ::testing::ValuesIn(weft::test::all_runtimes()),
                         [](const auto& info) { return info.param.name; });

// counted is a detached task that counts its run.
weft::Task<void> counted(std::atomic<int>* runs) {
  runs->fetch_add(1);
  co_return;
}

// gate holds its worker until open is set, so every task spawned meanwhile is
// allocated before any is freed.
weft::Task<void> gate(std::atomic<bool>* open) {
  while (!open->load()) std::this_thread::yield();
  co_return;
}

// spawn_detached spawns n counted tasks from this (non-worker) thread while the
// one worker is held, waits until the runtime has freed them all, and returns
// their cells' addresses.
std::set<void*> spawn_detached(weft::Runtime& rt, int n) {
  std::atomic<int> runs{0};
  std::atomic<bool> open{false};
  std::set<void*> cells;
  rt.handle().spawn(gate(&open)).detach();
  for (int i = 0; i < n; ++i) {
    auto h = rt.handle().spawn(counted(&runs));
    cells.insert(h.raw());
    h.detach();  // the task's last reference goes on the worker that completes it
  }
  open.store(true);
  // Bounded wait (not a timing assertion): every task ran and was freed.
  for (int i = 0; i < 10'000 && (runs.load() < n || rt.handle().metrics().num_alive_tasks != 0); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return cells;
}

TEST(TaskAllocReturn, BlocksFreedOnAWorkerGoBackToTheSpawningThread) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "the pool is off under AddressSanitizer";
#endif
  if (!weft::Handle::metrics_compiled_in()) GTEST_SKIP() << "waits on num_alive_tasks";
  auto rt = weft::Builder::multi_thread().worker_threads(1).build();
  constexpr int kTasks = 640;  // twenty return batches
  std::set<void*> first, second;
  // A fresh thread, whose lists hold nothing from earlier tests; its exit then
  // closes its mailbox (pool step 6).
  std::thread spawner([&] {
    first = spawn_detached(rt, kTasks);
    second = spawn_detached(rt, kTasks);
  });
  spawner.join();
  ASSERT_EQ(first.size(), static_cast<std::size_t>(kTasks));
  int fresh = 0;
  for (void* c : second) fresh += first.count(c) == 0 ? 1 : 0;
  // Every block of the first round came back to this thread but the worker's
  // last, unsent batch (and the gate's), so the second round, allocated before
  // anything is freed, needs hardly any new ones; without the return the worker
  // would keep them all and every block would be new.
  EXPECT_LE(fresh, 32 + 1) << "of " << second.size() << " blocks, " << fresh
                           << " are new: blocks freed on the worker did not come back";
}

TEST(TaskAllocFrame, ATaskNeverSpawnedFreesItsOwnBlock) {
  auto task = own_frame();
  auto h = task.release();
  const weft::detail::FrameTag* tag = weft::detail::frame_tag(h.address());
  EXPECT_EQ(tag->frame.get(), weft::detail::FrameState::alone);
  EXPECT_GE(tag->block_bytes, weft::detail::FrameAlloc<void*>::cell_space());
  h.destroy();  // the frame's operator delete frees the whole block (ASan checks it)
}

// Probe is a pooled object the size of a small shared state.
struct Probe : weft::detail::PoolNew {
  std::uint64_t words[6] = {};
};

TEST(TaskAllocSyncState, APooledObjectTakesTheBlockItsPredecessorFreed) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "the pool is off under AddressSanitizer";
#endif
  auto* first = new Probe;
  const auto* tag = reinterpret_cast<const weft::detail::PoolNew::PoolTag*>(reinterpret_cast<char*>(first) -
                                                                           weft::detail::PoolNew::kTagSpace);
  EXPECT_EQ(tag->magic, weft::detail::PoolNew::kPoolTagMagic);
  EXPECT_EQ(tag->block_bytes, weft::detail::PoolNew::kTagSpace + sizeof(Probe));
  EXPECT_NE(tag->owner, nullptr);  // a pool block, not one from operator new
  void* was = first;
  delete first;
  auto* second = new Probe;
  EXPECT_EQ(static_cast<void*>(second), was);  // the thread's list gave it back first
  delete second;
}

// BigProbe is a pooled object of another size class than Probe.
struct BigProbe : weft::detail::PoolNew {
  std::uint64_t words[40] = {};
};

TEST(TaskAllocReturn, BlocksOfTwoSizesFreedOnAnotherThreadComeBackEachToItsOwnSize) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "the pool is off under AddressSanitizer";
#endif
  constexpr int kEach = 100;  // in runs of 40: full return batches and parts of them, per size
  std::set<void*> small_before, big_before, small_after, big_after;
  // A fresh owner, whose lists hold nothing from earlier tests.
  std::thread owner([&] {
    std::vector<Probe*> small;
    std::vector<BigProbe*> big;
    for (int i = 0; i < kEach; ++i) {
      small.push_back(new Probe);
      big.push_back(new BigProbe);
      small_before.insert(small.back());
      big_before.insert(big.back());
    }
    // Another thread frees them, the sizes in runs of forty (batches hold one
    // size: a full batch of kPoolReturnBatch is sent, and the rest of a run when
    // the other size comes, pool step 4), and exits: its last batch is sent then
    // (step 6).
    constexpr int kRun = 40;
    static_assert(kRun > static_cast<int>(weft::detail::policy::kPoolReturnBatch));
    std::thread freer([&] {
      for (int i = 0; i < kEach; i += kRun) {
        for (int j = i; j < std::min(i + kRun, kEach); ++j) delete small[static_cast<std::size_t>(j)];
        for (int j = i; j < std::min(i + kRun, kEach); ++j) delete big[static_cast<std::size_t>(j)];
      }
    });
    freer.join();
    std::vector<void*> again;
    for (int i = 0; i < kEach; ++i) {
      auto* s = new Probe;
      auto* b = new BigProbe;
      small_after.insert(s);
      big_after.insert(b);
      again.push_back(s);
      again.push_back(b);
    }
    for (std::size_t i = 0; i < again.size(); i += 2) {
      delete static_cast<Probe*>(again[i]);
      delete static_cast<BigProbe*>(again[i + 1]);
    }
  });
  owner.join();
  // Every block came back to its owner, into its own size's list (step 5): the
  // second round reuses them all and takes nothing new from operator new.
  EXPECT_EQ(small_after, small_before);
  EXPECT_EQ(big_after, big_before);
}

// The shared states of oneshot and mpsc come from the pool: one per ping was a
// quarter of ping_pong's instructions when they came from the heap.
static_assert(std::is_base_of_v<weft::detail::PoolNew, weft::oneshot::detail::Inner<int>>);
static_assert(std::is_base_of_v<weft::detail::PoolNew, weft::mpsc::detail::Chan<int>>);

// relay receives on rx and sends the value plus one on tx.
weft::Task<void> relay(weft::oneshot::Receiver<int> rx, weft::oneshot::Sender<int> tx) {
  const int v = co_await rx;
  tx.send(v + 1);
}

TEST(TaskAllocSyncState, OneshotsMadeOnOneThreadAndFreedOnWorkersCarryEveryValue) {
  // States made on this thread and freed on the workers go back to it in
  // batches (pool step 4); ThreadSanitizer checks the hand-off.
  auto rt = weft::Builder::multi_thread().worker_threads(2).build();
  constexpr int kRounds = 300;
  const long sum = rt.block_on([]() -> weft::Task<long> {
    long total = 0;
    for (int i = 0; i < kRounds; ++i) {
      auto [to_tx, to_rx] = weft::oneshot::channel<int>();
      auto [back_tx, back_rx] = weft::oneshot::channel<int>();
      weft::spawn(relay(std::move(to_rx), std::move(back_tx))).detach();
      to_tx.send(i);
      total += co_await back_rx;
    }
    co_return total;
  }());
  EXPECT_EQ(sum, static_cast<long>(kRounds) * (kRounds - 1) / 2 + kRounds);
}

}  // namespace
