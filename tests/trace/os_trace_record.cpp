// os_trace_record: runs a real multi-thread workload on the OS backend with the
// trace recorder on, and writes the weft trace to argv[1] (checked by
// tools/trace_check in CTest). The workload: a root task spawns `tasks` children
// from inside the runtime (they land on one worker, so others steal), each child
// yields; pairs of tasks ping-pong through bounded channels (cross-worker wakes);
// and an outside thread injects tasks through the handle.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "weft/runtime.hpp"
#include "weft/sync.hpp"
#include "weft/trace/os_recorder.hpp"

namespace {

weft::Task<void> leaf(int yields) {
  volatile std::uint64_t x = 0;
  for (int i = 0; i < 20000; ++i) x = x + static_cast<std::uint64_t>(i);  // ~10 µs: others steal
  for (int i = 0; i < yields; ++i) co_await weft::yield_now();
}

weft::Task<void> pinger(weft::mpsc::Sender<int> tx, weft::mpsc::Receiver<int> rx, int rounds) {
  for (int i = 0; i < rounds; ++i) {
    if (!co_await tx.send(i)) co_return;
    if (!co_await rx.recv()) co_return;
  }
}

weft::Task<void> ponger(weft::mpsc::Sender<int> tx, weft::mpsc::Receiver<int> rx, int rounds) {
  for (int i = 0; i < rounds; ++i) {
    if (!co_await rx.recv()) co_return;
    if (!co_await tx.send(i)) co_return;
  }
}

weft::Task<void> root(int tasks) {
  std::vector<weft::JoinHandle<void>> children;
  children.reserve(static_cast<std::size_t>(tasks) + 16);
  for (int p = 0; p < 8; ++p) {
    auto [tx1, rx1] = weft::mpsc::channel<int>(1);
    auto [tx2, rx2] = weft::mpsc::channel<int>(1);
    children.push_back(weft::spawn(pinger(std::move(tx1), std::move(rx2), 50)));
    children.push_back(weft::spawn(ponger(std::move(tx2), std::move(rx1), 50)));
  }
  for (int i = 0; i < tasks; ++i) children.push_back(weft::spawn(leaf(1 + i % 3)));
  for (auto& c : children) co_await c;
}

}  // namespace

// Usage: os_trace_record OUT.json [tasks]
int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: os_trace_record OUT.json [tasks]\n");
    return 2;
  }
  const int tasks = argc > 2 ? std::atoi(argv[2]) : 1000;
  constexpr std::uint32_t kWorkers = 4;
  weft::trace::OsTraceRecorder rec;
  rec.start();
  weft::Config ran;  // what the runtime ran with, for the trace header
  {
    auto rt = weft::Builder::multi_thread().worker_threads(kWorkers).build();
    weft::Handle h = rt.handle();
    ran = h.config();
    std::thread outside([h] {
      std::vector<weft::JoinHandle<void>> jhs;
      for (int i = 0; i < 100; ++i) jhs.push_back(h.spawn(leaf(1)));
      for (auto& j : jhs) j.detach();
    });
    rt.block_on(root(tasks));
    outside.join();
    rt.shutdown();
  }
  rec.stop();
  if (rec.dropped() != 0) std::fprintf(stderr, "os_trace_record: %llu events dropped\n", static_cast<unsigned long long>(rec.dropped()));
  if (!rec.write(argv[1], "os_trace_record", ran)) {
    std::fprintf(stderr, "os_trace_record: cannot write %s\n", argv[1]);
    return 2;
  }
  std::printf("os_trace_record: %zu events written to %s\n", rec.events().size(), argv[1]);
  return 0;
}
