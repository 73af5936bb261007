// weft_idle_memory: resident bytes per idle task, weft's side of issue #14's memory
// cell. N tasks each await one shared Notify; the process's resident set is read
// before the first spawn and once every task waits, and the difference divided by
// N is what an idle task costs. tools/idle_memory_tokio is the same program on
// Tokio; tools/idle_memory runs both and writes reports/bench/idle-memory.json.
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <string>

#include <CLI/CLI.hpp>

#include "weft/runtime.hpp"
#include "weft/sync.hpp"

namespace {

// resident_bytes reads VmRSS from /proc/self/status (as the Tokio twin does); 0
// when it cannot be read.
std::uint64_t resident_bytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6)) * 1024;  // "VmRSS:  1234 kB"
  }
  return 0;
}

// idle counts itself in, waits on the shared Notify, and counts itself out.
weft::Task<void> idle(weft::Notify* notify, std::atomic<std::uint64_t>* waiting,
                      std::atomic<std::uint64_t>* done) {
  waiting->fetch_add(1, std::memory_order_relaxed);
  co_await notify->notified();  // registers in the same poll as the count above
  done->fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"weft_idle_memory: resident bytes per idle task (each awaiting a Notify)"};
  std::uint64_t tasks = 1'000'000;
  std::string config = "ct";
  app.add_option("--tasks", tasks, "idle tasks to hold")->check(CLI::Range(std::uint64_t{1}, std::uint64_t{100'000'000}));
  app.add_option("--config", config, "ct (current thread) or a worker count")->check(CLI::IsMember({"ct", "1", "2", "4"}));
  CLI11_PARSE(app, argc, argv);

  weft::Runtime rt = config == "ct" ? weft::Builder::current_thread().build()
                                    : weft::Builder::multi_thread().worker_threads(std::stoul(config)).build();
  weft::Notify notify;
  std::atomic<std::uint64_t> waiting{0};
  std::atomic<std::uint64_t> done{0};
  std::uint64_t before = 0;
  std::uint64_t during = 0;
  rt.block_on([](weft::Notify* notify, std::atomic<std::uint64_t>* waiting, std::atomic<std::uint64_t>* done,
                 std::uint64_t tasks, std::uint64_t* before, std::uint64_t* during) -> weft::Task<void> {
    co_await weft::yield_now();  // the runtime and this thread's first allocations are made
    *before = resident_bytes();
    for (std::uint64_t i = 0; i < tasks; ++i) weft::spawn(idle(notify, waiting, done)).detach();
    // Every task has run to its wait once the count is complete (bounded: each
    // pass lets the spawned tasks run).
    for (std::uint64_t pass = 0; waiting->load(std::memory_order_relaxed) < tasks; ++pass) {
      if (pass > 100'000'000) throw std::runtime_error("weft_idle_memory: the tasks never all waited");
      co_await weft::yield_now();
    }
    *during = resident_bytes();
    notify->notify_waiters();
    for (std::uint64_t pass = 0; done->load(std::memory_order_relaxed) < tasks; ++pass) {
      if (pass > 100'000'000) throw std::runtime_error("weft_idle_memory: the tasks never all finished");
      co_await weft::yield_now();
    }
  }(&notify, &waiting, &done, tasks, &before, &during));
  if (before == 0 || during == 0) {
    std::fprintf(stderr, "weft_idle_memory: /proc/self/statm: could not read the resident set\n");
    return 1;
  }
  const double per_task = (static_cast<double>(during) - static_cast<double>(before)) / static_cast<double>(tasks);
  std::printf("{\"runtime\": \"weft\", \"config\": \"%s\", \"tasks\": %llu, \"rss_before\": %llu, "
              "\"rss_waiting\": %llu, \"bytes_per_task\": %.1f}\n",
              config.c_str(), static_cast<unsigned long long>(tasks), static_cast<unsigned long long>(before),
              static_cast<unsigned long long>(during), per_task);
  return 0;
}
