// throughput_bench: spawn throughput of weft against oneTBB's task_group, one
// runtime per process (tools/tbb_compare runs the two side by side).
//
// Two shapes, each a fixed number of tasks per round:
//   flat  one thread spawns every task (weft: a task on a worker spawns them,
//         detached; TBB: the main thread calls task_group::run, then wait), and
//         the other threads take them. weft's tasks each count a latch down, so
//         that the round knows it ended; TBB's are empty (its wait knows).
//   tree  a binary fork tree: each inner task spawns two children and awaits
//         both (weft: join handles; TBB: a task_group per node). Tasks counted:
//         every spawned node, 2^(depth+1) - 2.
// "threads" is what runs the tasks: weft's worker threads (the main thread only
// waits), TBB's arena concurrency (the main thread is one of them).
//
// Prints one JSON line per round: {"runtime","shape","threads","tasks","ns","tasks_per_s"}.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>

#include "weft/runtime.hpp"
#include "weft/sync.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using weft::Task;

// ---- weft ----

// Done is the round's latch: the last count_down sends on the oneshot.
struct Done {
  explicit Done(std::size_t n, weft::oneshot::Sender<int> s) : left(n), tx(std::move(s)) {}
  void count_down() {
    if (left.fetch_sub(1, std::memory_order_acq_rel) == 1) tx.send(1);
  }
  std::atomic<std::size_t> left;
  weft::oneshot::Sender<int> tx;
};

Task<void> leaf(Done* d) {
  d->count_down();
  co_return;
}

Task<void> flat_root(Done* d, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) weft::spawn(leaf(d)).detach();
  co_return;
}

Task<void> node(unsigned depth) {
  if (depth == 0) co_return;
  auto a = weft::spawn(node(depth - 1));
  auto b = weft::spawn(node(depth - 1));
  co_await a;
  co_await b;
}

Task<int> await_rx(weft::oneshot::Receiver<int> rx) { co_return co_await rx; }
Task<void> await_join(weft::JoinHandle<void> h) { co_await h; }

std::uint64_t weft_round(const weft::Runtime& rt, const std::string& shape, std::size_t n, unsigned depth) {
  if (shape == "flat") {
    auto [tx, rx] = weft::oneshot::channel<int>();
    Done d(n, std::move(tx));
    const auto t0 = Clock::now();
    rt.handle().spawn(flat_root(&d, n)).detach();
    if (rt.block_on(await_rx(std::move(rx))) != 1) std::abort();
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count());
  }
  const auto t0 = Clock::now();
  rt.block_on(await_join(rt.handle().spawn(node(depth))));
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count());
}

// ---- TBB ----

void tbb_node(unsigned depth) {
  if (depth == 0) return;
  tbb::task_group g;
  g.run([depth] { tbb_node(depth - 1); });
  g.run([depth] { tbb_node(depth - 1); });
  g.wait();
}

std::uint64_t tbb_round(tbb::task_arena& arena, const std::string& shape, std::size_t n, unsigned depth) {
  std::uint64_t ns = 0;
  arena.execute([&] {
    const auto t0 = Clock::now();
    if (shape == "flat") {
      tbb::task_group g;
      for (std::size_t i = 0; i < n; ++i) g.run([] {});
      g.wait();
    } else {
      tbb_node(depth);
    }
    ns = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count());
  });
  return ns;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"throughput_bench: spawn throughput of weft or oneTBB (one runtime per process)"};
  std::string runtime, shape = "flat";
  unsigned threads = 2, rounds = 5, warmup = 1, depth = 20;
  std::size_t tasks = 1'000'000;
  app.add_option("--runtime", runtime, "weft or tbb")->required()->check(CLI::IsMember({"weft", "tbb"}));
  app.add_option("--shape", shape, "flat (one spawner) or tree (binary fork tree)")->check(CLI::IsMember({"flat", "tree"}));
  app.add_option("--threads", threads, "threads that run tasks")->check(CLI::Range(1u, 64u));
  app.add_option("--tasks", tasks, "tasks per round (flat)")->check(CLI::Range(std::size_t{1}, std::size_t{100'000'000}));
  app.add_option("--depth", depth, "tree depth (tree: 2^(depth+1)-2 tasks)")->check(CLI::Range(1u, 24u));
  app.add_option("--rounds", rounds, "timed rounds")->check(CLI::Range(1u, 1000u));
  app.add_option("--warmup", warmup, "untimed rounds first")->check(CLI::Range(0u, 100u));
  CLI11_PARSE(app, argc, argv);
  const std::size_t counted = shape == "flat" ? tasks : (std::size_t{2} << depth) - 2;

  std::optional<weft::Runtime> rt;
  std::optional<tbb::global_control> gc;
  std::optional<tbb::task_arena> arena;
  if (runtime == "weft") {
    rt.emplace(weft::Builder::multi_thread().worker_threads(threads).build());
  } else {
    gc.emplace(tbb::global_control::max_allowed_parallelism, threads);
    arena.emplace(static_cast<int>(threads));
  }
  for (unsigned r = 0; r < warmup + rounds; ++r) {
    const std::uint64_t ns = rt ? weft_round(*rt, shape, tasks, depth) : tbb_round(*arena, shape, tasks, depth);
    if (r < warmup) continue;
    std::printf("{\"runtime\":\"%s\",\"shape\":\"%s\",\"threads\":%u,\"tasks\":%zu,\"ns\":%llu,\"tasks_per_s\":%.0f}\n",
                runtime.c_str(), shape.c_str(), threads, counted, static_cast<unsigned long long>(ns),
                static_cast<double>(counted) * 1e9 / static_cast<double>(ns));
    std::fflush(stdout);
  }
  return 0;
}
