// Dumps and metrics on the OS backend: the API, the JSON shape, async backtraces,
// graceful degradation around a stuck worker, and dumps during shutdown.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "runtime_params.hpp"
#include "weft/runtime.hpp"
#include "weft/sync.hpp"
#include "weft/time.hpp"

namespace {

using namespace std::chrono_literals;
using weft::Task;
using weft::test::RuntimeParam;

class Dumps : public ::testing::TestWithParam<RuntimeParam> {};

Task<int> inner_wait(weft::oneshot::Receiver<int> rx) { co_return co_await rx; }

Task<int> outer_wait(weft::oneshot::Receiver<int> rx, std::atomic<int>* started) {
  started->fetch_add(1);
  int v = co_await inner_wait(std::move(rx));
  co_return v;
}

const weft::DumpTask* find(const weft::Dump& d, std::uint64_t id) {
  for (const auto& t : d.tasks) {
    if (t.id == id) return &t;
  }
  return nullptr;
}

TEST_P(Dumps, DumpFromATaskListsEveryTaskOnceWithItsAsyncBacktrace) {
  auto rt = GetParam().build();
  std::vector<weft::oneshot::Sender<int>> senders;
  std::vector<std::uint64_t> ids;
  std::vector<weft::JoinHandle<int>> handles;
  std::atomic<int> started{0};
  for (int i = 0; i < 20; ++i) {
    auto [tx, rx] = weft::oneshot::channel<int>();
    senders.push_back(std::move(tx));
    handles.push_back(rt.spawn(outer_wait(std::move(rx), &started)));
    ids.push_back(handles.back().id());
  }
  weft::Handle h = rt.handle();
  weft::Dump d = rt.block_on([](weft::Handle h, std::atomic<int>& started) -> Task<weft::Dump> {
    // Let every waiter reach its await (bounded), then dump from inside a task.
    for (int i = 0; i < 10000 && started.load() < 20; ++i) co_await weft::sleep_for(100us);
    co_await weft::sleep_for(1ms);
    co_return co_await weft::spawn([](weft::Handle h) -> Task<weft::Dump> { co_return co_await h.dump(); }(h));
  }(h, started));
  EXPECT_TRUE(d.complete);
  EXPECT_TRUE(d.missed_workers.empty());
  std::set<std::uint64_t> seen;
  for (const auto& t : d.tasks) EXPECT_TRUE(seen.insert(t.id).second) << "task " << t.id << " listed twice";
  for (std::uint64_t id : ids) {
    const weft::DumpTask* t = find(d, id);
    ASSERT_NE(t, nullptr) << "task " << id << " missing";
    EXPECT_TRUE(t->captured);
    EXPECT_EQ(t->state, "idle");
    EXPECT_EQ(t->waiting_on, "oneshot::Receiver");
    ASSERT_EQ(t->backtrace.size(), 2u);
    EXPECT_NE(t->backtrace[0].function.find("outer_wait"), std::string::npos) << t->backtrace[0].function;
    EXPECT_NE(t->backtrace[1].function.find("inner_wait"), std::string::npos) << t->backtrace[1].function;
    EXPECT_GT(t->backtrace[1].line, 0u);
    // Each frame names the file its await is written in (the promise keeps the place as one pointer).
    for (const auto& f : t->backtrace) EXPECT_NE(f.file.find("dump_test.cpp"), std::string::npos) << f.file;
  }
  // The JSON carries the same content.
  auto j = nlohmann::json::parse(d.to_json());
  EXPECT_EQ(j["complete"], true);
  EXPECT_EQ(j["tasks"].size(), d.tasks.size());
  EXPECT_EQ(j["workers"].size(), rt.handle().num_workers());
  for (auto& s : senders) s.send(1);
  int sum = rt.block_on([](std::vector<weft::JoinHandle<int>> hs) -> Task<int> {
    int s = 0;
    for (auto& h : hs) s += co_await h;
    co_return s;
  }(std::move(handles)));
  EXPECT_EQ(sum, 20);
}

// thrower awaits a sleep, then throws.
Task<void> thrower() {
  co_await weft::sleep_for(1us);
  throw std::runtime_error("thrown");
}

// after_a_throw catches what a nested task threw, then waits on a channel.
Task<int> after_a_throw(weft::oneshot::Receiver<int> rx, std::atomic<int>* started) {
  try {
    co_await thrower();
  } catch (const std::runtime_error&) {
  }
  started->fetch_add(1);
  co_return co_await rx;
}

// The leaf a task waits on is the task's (TaskHeader::leaf), set by its last
// suspension; a frame's await place shares its word with what it threw. After a
// nested task slept and threw, the dump shows the waiting frame and its leaf.
TEST_P(Dumps, AfterANestedTaskSleptAndThrewTheDumpShowsTheNextAwaitAndItsLeaf) {
  auto rt = GetParam().build();
  std::atomic<int> started{0};
  auto [tx, rx] = weft::oneshot::channel<int>();
  auto jh = rt.spawn(after_a_throw(std::move(rx), &started));
  const std::uint64_t id = jh.id();
  // Dump until the task is idle on its channel (bounded): on a loaded machine
  // the first dump may find it still running.
  weft::Dump d = rt.block_on([](weft::Handle h, std::atomic<int>& started, std::uint64_t id) -> Task<weft::Dump> {
    for (int i = 0; i < 10000 && started.load() < 1; ++i) co_await weft::sleep_for(100us);
    weft::Dump d;
    for (int i = 0; i < 1000; ++i) {
      co_await weft::sleep_for(1ms);
      d = co_await h.dump();
      const weft::DumpTask* t = find(d, id);
      if (t != nullptr && t->state == "idle" && !t->waiting_on.empty()) break;
    }
    co_return d;
  }(rt.handle(), started, id));
  const weft::DumpTask* t = find(d, id);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->state, "idle");
  EXPECT_EQ(t->waiting_on, "oneshot::Receiver");
  ASSERT_EQ(t->backtrace.size(), 1u);
  EXPECT_NE(t->backtrace[0].function.find("after_a_throw"), std::string::npos) << t->backtrace[0].function;
  tx.send(4);
  int v = rt.block_on([](weft::JoinHandle<int> jh) -> Task<int> { co_return co_await jh; }(std::move(jh)));
  EXPECT_EQ(v, 4);
}

TEST_P(Dumps, DumpBlockingFromAnOutsideThreadSeesQueuedTasks) {
  auto rt = GetParam().build();
  std::atomic<bool> go{false};
  // A task keeps the runtime busy while others sit queued behind it.
  auto gate = rt.spawn([](std::atomic<bool>& go) -> Task<void> {
    while (!go.load()) co_await weft::yield_now();
  }(go));
  std::thread driver;
  if (GetParam().flavor == weft::Flavor::current_thread) {
    driver = std::thread([&] { rt.block_on([](weft::JoinHandle<void>& g) -> Task<void> { co_await g; }(gate)); });
  }
  weft::Dump d = rt.handle().dump_blocking(2'000'000'000);
  go.store(true);
  if (driver.joinable()) driver.join();
  EXPECT_GE(d.tasks.size(), 1u);
  EXPECT_EQ(d.workers.size(), rt.handle().num_workers());
  for (const auto& t : d.tasks) EXPECT_NE(t.location, weft::DumpLocation::unknown);
  if (GetParam().flavor == weft::Flavor::multi_thread) {
    rt.block_on([](weft::JoinHandle<void> g) -> Task<void> { co_await g; }(std::move(gate)));
  }
}

TEST_P(Dumps, DumpDuringShutdownIsAClearError) {
  auto rt = GetParam().build();
  rt.shutdown();
  EXPECT_THROW(rt.handle().dump_blocking(10'000'000), weft::DumpError);
}

TEST_P(Dumps, MetricsExportAsOneJsonObjectWithAHistogram) {
  auto rt = GetParam().builder().enable_poll_time_histogram(8, 1000).build();
  rt.block_on([]() -> Task<void> {
    for (int i = 0; i < 50; ++i) co_await weft::spawn([]() -> Task<void> { co_return; }());
  }());
  rt.shutdown();
  auto j = nlohmann::json::parse(rt.handle().metrics_json());
  for (const char* k : {"num_workers", "num_alive_tasks", "spawned_tasks_count", "injection_queue_depth",
                        "num_blocking_threads", "num_idle_blocking_threads", "blocking_queue_depth",
                        "budget_forced_yield_count"}) {
    EXPECT_TRUE(j.contains(k)) << k;
  }
  EXPECT_EQ(j["spawned_tasks_count"], 50);
  EXPECT_EQ(j["num_alive_tasks"], 0);
  std::uint64_t polls = 0, in_buckets = 0;
  for (auto& w : j["workers"]) {
    for (const char* k : {"poll_count", "steal_count", "steal_operations", "park_count", "park_unpark_count",
                          "noop_count", "local_schedule_count", "overflow_count", "local_queue_depth",
                          "busy_duration_ns", "mean_poll_time_ns", "poll_time_histogram"}) {
      EXPECT_TRUE(w.contains(k)) << k;
    }
    polls += w["poll_count"].get<std::uint64_t>();
    ASSERT_EQ(w["poll_time_histogram"].size(), 8u);
    for (auto& b : w["poll_time_histogram"]) in_buckets += b.get<std::uint64_t>();
  }
  EXPECT_GE(polls, 50u);
  EXPECT_EQ(in_buckets, polls);
}

// Metrics are read from another thread while the workers run: the reads complete,
// published counts only grow, and ThreadSanitizer sees every access.
TEST_P(Dumps, MetricsReadFromAnotherThreadWhileTasksRunOnlyGrow) {
  auto rt = GetParam().build();
  weft::Handle h = rt.handle();
  std::atomic<bool> done{false};
  std::atomic<long> reads_during{0};
  std::atomic<int> went_down{0};
  std::thread reader([&] {
    std::uint64_t last_spawned = 0;
    std::vector<std::uint64_t> last_polls(h.num_workers(), 0);
    while (!done.load()) {
      weft::RuntimeMetrics m = h.metrics();
      if (m.spawned_tasks_count < last_spawned) went_down.fetch_add(1);
      last_spawned = m.spawned_tasks_count;
      for (std::uint32_t i = 0; i < h.num_workers(); ++i) {
        std::uint64_t p = h.worker_metrics(i).poll_count;
        if (p < last_polls[i]) went_down.fetch_add(1);
        last_polls[i] = p;
      }
      (void)h.metrics_json();
      reads_during.fetch_add(1);
    }
  });
  rt.block_on([](std::atomic<long>& reads) -> Task<void> {
    // Keep the workers busy until the reader has read a few hundred times.
    for (int round = 0; round < 1000 && (round < 20 || reads.load() < 200); ++round) {
      std::vector<weft::JoinHandle<void>> hs;
      for (int i = 0; i < 100; ++i) {
        hs.push_back(weft::spawn([]() -> Task<void> {
          for (int k = 0; k < 3; ++k) co_await weft::yield_now();
        }()));
      }
      for (auto& j : hs) co_await j;
    }
  }(reads_during));
  done.store(true);
  reader.join();
  rt.shutdown();  // a task's completion is counted just after its joiner is woken
  EXPECT_GE(reads_during.load(), 1);
  EXPECT_EQ(went_down.load(), 0);
  EXPECT_EQ(h.metrics().num_alive_tasks, 0u);
}

INSTANTIATE_TEST_SUITE_P(Runtimes, Dumps, ::testing::ValuesIn(weft::test::all_runtimes()), weft::test::param_name);

class StuckWorkerDumps : public ::testing::TestWithParam<RuntimeParam> {};

// block_worker_until holds its worker in one long poll until `release` is set.
Task<void> block_worker_until(std::atomic<bool>& release, std::atomic<bool>& stuck) {
  stuck.store(true);
  while (!release.load()) std::this_thread::sleep_for(1ms);
  co_return;
}

TEST_P(StuckWorkerDumps, AStuckWorkerDegradesTheDumpAndTheRuntimeKeepsScheduling) {
  auto rt = GetParam().build();
  std::atomic<bool> release{false}, stuck{false};
  // One task blocks its worker (a long poll) until released.
  auto blocker = rt.spawn(block_worker_until(release, stuck));
  while (!stuck.load()) std::this_thread::sleep_for(1ms);
  weft::Dump partial = rt.handle().dump_blocking(50'000'000);
  EXPECT_FALSE(partial.complete);
  ASSERT_EQ(partial.missed_workers.size(), 1u);
  std::uint32_t w = partial.missed_workers[0];
  EXPECT_EQ(partial.workers[w].state, "missed");
  EXPECT_EQ(partial.workers[w].running_task, blocker.id());
  const weft::DumpTask* b = find(partial, blocker.id());
  ASSERT_NE(b, nullptr);
  EXPECT_FALSE(b->captured);
  EXPECT_NE(b->not_captured_reason.find("missed the rendezvous"), std::string::npos);
  // The other workers keep scheduling while the blocker holds its worker.
  int v = rt.block_on([]() -> Task<int> { co_return co_await weft::spawn([]() -> Task<int> { co_return 3; }()); }());
  EXPECT_EQ(v, 3);
  release.store(true);
  rt.block_on([](weft::JoinHandle<void> b) -> Task<void> { co_await b; }(std::move(blocker)));
  // A dump right after a timed-out one is complete: the timed-out round left nothing behind.
  weft::Dump again = rt.handle().dump_blocking(2'000'000'000);
  EXPECT_TRUE(again.complete);
  EXPECT_TRUE(again.missed_workers.empty());
  EXPECT_GT(again.round, partial.round);
}

// A dump with no timeout (UINT64_MAX) waits for the stuck worker, and meanwhile
// holds every worker that arrived: none runs a task until the dump is done. (The
// follower's bound once added the collection bound to the deadline and wrapped
// round, so followers left at once and the dump still called itself complete.)
TEST_P(StuckWorkerDumps, ADumpWithoutTimeoutHoldsArrivedWorkersUntilItIsDone) {
  auto rt = GetParam().build();
  std::atomic<bool> release{false}, stuck{false}, stop{false};
  std::atomic<std::uint64_t> spins{0};
  auto blocker = rt.spawn(block_worker_until(release, stuck));
  while (!stuck.load()) std::this_thread::sleep_for(1ms);
  auto spinner = rt.spawn([](std::atomic<bool>& stop, std::atomic<std::uint64_t>& spins) -> Task<void> {
    while (!stop.load()) {
      spins.fetch_add(1);
      co_await weft::yield_now();
    }
  }(stop, spins));
  while (spins.load() == 0) std::this_thread::sleep_for(1ms);
  weft::Dump d;
  std::thread dumper([&] { d = rt.handle().dump_blocking(UINT64_MAX); });
  // Once the spinner's worker has arrived, the spinner stops moving. Wait for that
  // (a bounded wait: if it keeps moving, the worker was never held).
  bool held = false;
  for (int i = 0; i < 250 && !held; ++i) {
    std::uint64_t before = spins.load();
    std::this_thread::sleep_for(20ms);
    held = spins.load() == before;
  }
  EXPECT_TRUE(held) << "a worker that arrived kept running tasks during the dump";
  std::uint64_t frozen = spins.load();
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(spins.load(), frozen);
  release.store(true);  // the stuck worker arrives; the dump completes
  dumper.join();
  EXPECT_TRUE(d.complete);
  EXPECT_TRUE(d.missed_workers.empty());
  stop.store(true);
  rt.block_on([](weft::JoinHandle<void> a, weft::JoinHandle<void> b) -> Task<void> {
    co_await a;
    co_await b;
  }(std::move(blocker), std::move(spinner)));
}

INSTANTIATE_TEST_SUITE_P(Runtimes, StuckWorkerDumps, ::testing::ValuesIn(weft::test::multi_thread_runtimes(2)),
                         weft::test::param_name);

// wait_for_parks waits until the runtime's only worker has parked n times.
void wait_for_parks(const weft::Handle& h, std::uint64_t n) {
  for (int i = 0; h.worker_metrics(0).park_count < n; ++i) {
    ASSERT_LT(i, 100'000) << "the worker never parked";
    std::this_thread::sleep_for(100us);
  }
}

// dump_while_busy dumps rt from this thread while a task on its only worker yields
// in a loop, checks that the worker answered from its loop, and returns once that
// task has finished.
void dump_while_busy(weft::Runtime& rt) {
  std::atomic<bool> started{false}, go{false}, done{false};
  auto busy = rt.spawn([](std::atomic<bool>& started, std::atomic<bool>& go, std::atomic<bool>& done) -> Task<void> {
    started.store(true);
    while (!go.load()) co_await weft::yield_now();
    done.store(true);  // its last touch of this frame's flags
  }(started, go, done));
  while (!started.load()) std::this_thread::sleep_for(50us);
  weft::Dump d = rt.handle().dump_blocking(10'000'000'000);
  EXPECT_TRUE(d.complete);
  EXPECT_EQ(d.workers.size(), 1u);
  if (!d.workers.empty()) {
    EXPECT_EQ(d.workers[0].state, "running");  // answered from its loop, not parked
  }
  go.store(true);
  while (!done.load()) std::this_thread::sleep_for(50us);
}

// A dump leaves the idle accounting as it was: one worker, kept busy by a yielding
// task during each dump, parks exactly once per idle period and counts no no-op
// wake. (A dump that left a wake-up token on the worker's idle parker made each of
// those parks return at once: one extra park and one no-op wake per dump.) With one
// worker and no timers nothing else can wake it, so the counts are exact.
TEST(DumpAccounting, DumpsOfABusyWorkerAddNoParkAndNoNoopWake) {
  auto rt = weft::Builder::multi_thread().worker_threads(1).build();
  const weft::Handle h = rt.handle();
  wait_for_parks(h, 1);  // its first park, with nothing polled yet, is a no-op
  const weft::WorkerMetrics before = h.worker_metrics(0);
  constexpr std::uint64_t kDumps = 40;
  for (std::uint64_t i = 0; i < kDumps; ++i) {
    dump_while_busy(rt);
    wait_for_parks(h, before.park_count + i + 1);
  }
  std::this_thread::sleep_for(20ms);  // a stray wake-up would show within this
  const weft::WorkerMetrics after = h.worker_metrics(0);
  EXPECT_EQ(after.noop_count - before.noop_count, 0u);
  EXPECT_EQ(after.park_count - before.park_count, kDumps);
  EXPECT_EQ(after.park_unpark_count - before.park_unpark_count, 2 * kDumps);
}

// The current-thread driver too. Dumped while nobody drives, then, on every idle
// period, once while it runs a yielding task and once while it is parked, it parks
// exactly once per idle period; only its first park (nothing polled yet: the root
// does not count) is a no-op. Nothing but the tasks wakes it, so the counts are
// exact. (A dump that left a token on the driver's idle parker, or woke it while
// parked, added a park and a no-op wake each time.)
TEST(DumpAccounting, DumpsOfACurrentThreadDriverAddNoParkAndNoNoopWake) {
  auto rt = weft::Builder::current_thread().build();
  const weft::Handle h = rt.handle();
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(h.dump_blocking(10'000'000'000).complete);  // nobody drives
  auto stop = weft::oneshot::channel<int>();
  std::thread driver([&rt, rx = std::move(stop.second)]() mutable {
    rt.block_on([](weft::oneshot::Receiver<int> rx) -> Task<void> { co_await rx; }(std::move(rx)));
  });
  wait_for_parks(h, 1);
  constexpr std::uint64_t kIdlePeriods = 20;
  for (std::uint64_t i = 0; i < kIdlePeriods; ++i) {
    dump_while_busy(rt);
    wait_for_parks(h, i + 2);
    weft::Dump parked = h.dump_blocking(10'000'000'000);
    EXPECT_TRUE(parked.complete);
    ASSERT_EQ(parked.workers.size(), 1u);
    EXPECT_EQ(parked.workers[0].state, "parked");
  }
  std::this_thread::sleep_for(20ms);  // a stray wake-up would show within this
  const weft::WorkerMetrics after = h.worker_metrics(0);
  EXPECT_EQ(after.noop_count, 1u);
  EXPECT_EQ(after.park_count, 1 + kIdlePeriods);
  EXPECT_EQ(after.park_unpark_count, 2 * (1 + kIdlePeriods));
  stop.first.send(0);
  driver.join();
}

// A current-thread dump with no timeout (UINT64_MAX) waits for the driver's answer
// (the deadline once wrapped round, so the dump gave up at once and came back
// partial, the driver "missed").
TEST(DumpAccounting, ACurrentThreadDumpWithoutTimeoutWaitsForTheDriver) {
  auto rt = weft::Builder::current_thread().build();
  const weft::Handle h = rt.handle();
  std::atomic<bool> stop{false}, started{false};
  std::thread driver([&] {
    rt.block_on([](std::atomic<bool>& stop, std::atomic<bool>& started) -> Task<void> {
      started.store(true);
      while (!stop.load()) co_await weft::yield_now();  // busy: never parked
    }(stop, started));
  });
  while (!started.load()) std::this_thread::sleep_for(1ms);
  for (int i = 0; i < 5; ++i) {
    weft::Dump d = h.dump_blocking(UINT64_MAX);
    EXPECT_TRUE(d.complete);
    EXPECT_TRUE(d.missed_workers.empty());
  }
  stop.store(true);
  driver.join();
}

// A timer that a task on the driver sets needs no wake-up: the driver reads the
// earliest timer before it parks. Each sleep is one real park, never a no-op.
TEST(DumpAccounting, SleepsOnACurrentThreadDriverAddNoNoopWake) {
  auto rt = weft::Builder::current_thread().build();
  const weft::Handle h = rt.handle();
  auto sleeper = [](std::uint64_t n) -> Task<void> {
    for (std::uint64_t i = 0; i < n; ++i) co_await weft::sleep_for(1ms);
  };
  constexpr std::uint64_t kSleeps = 8;
  auto run = [&](std::uint64_t n) {
    rt.block_on([](Task<void> t) -> Task<void> { co_await weft::spawn(std::move(t)); }(sleeper(n)));
  };
  run(1);
  const weft::WorkerMetrics before = h.worker_metrics(0);
  run(kSleeps);
  const weft::WorkerMetrics after = h.worker_metrics(0);
  EXPECT_EQ(after.noop_count, before.noop_count);
  EXPECT_EQ(after.park_count - before.park_count, kSleeps);
}

}  // namespace
