// Config: everything a Builder sets, the defaults a user sees, and resolve(), which
// fills in every "0 means the default" field once, when a runtime is built.
//
// The defaults are named here because they are public; the scheduler's own
// constants, and the compile-time checks of how all of them relate, are in
// engine/src/policy.hpp.
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <string>

#include "weft/platform/platform.hpp"

WEFT_NS_BEGIN

enum class Flavor { current_thread, multi_thread };

// kDefaultLocalQueueCapacity is a worker's local queue size (a power of two); a
// scenario may choose any power of two from kLocalQueueCapacityMin to ...Max, the
// range engine/src/policy.hpp checks the queue's shares against.
inline constexpr std::uint32_t kDefaultLocalQueueCapacity = 256;
inline constexpr std::uint32_t kLocalQueueCapacityMin = 2;
inline constexpr std::uint32_t kLocalQueueCapacityMax = 4096;
// The injection queue is looked at first every this many ticks (Tokio's values:
// the current-thread loop polls fewer tasks between looks, as it has one queue).
inline constexpr std::uint32_t kDefaultGlobalQueueIntervalMultiThread = 61;
inline constexpr std::uint32_t kDefaultGlobalQueueIntervalCurrentThread = 31;
// kDefaultEventInterval is the ticks between maintenance passes (timers, metrics, deferred wakes).
inline constexpr std::uint32_t kDefaultEventInterval = 61;
// kDefaultMaxLifoPolls is the consecutive LIFO polls of a chain (multi_thread/worker.cpp, C1 and C2).
inline constexpr std::uint32_t kDefaultMaxLifoPolls = 3;
// kDefaultBudget is the cooperative budget of one poll (ready awaits it allows).
inline constexpr std::uint32_t kDefaultBudget = 128;
inline constexpr std::uint32_t kDefaultMaxBlockingThreads = 512;
inline constexpr std::uint64_t kDefaultBlockingKeepAliveNs = 10'000'000'000ull;
// kDefaultDumpTimeoutNs is how long a dump waits for every worker (Tokio's 250 ms).
inline constexpr std::uint64_t kDefaultDumpTimeoutNs = 250'000'000;
inline constexpr std::uint32_t kDefaultHistogramBuckets = 10;
inline constexpr std::uint64_t kDefaultHistogramBucketWidthNs = 100'000;

// Config is everything a Builder sets. Zero means "the default" where noted;
// resolve() fills those in, and a runtime only ever reads a resolved Config.
struct Config {
  Flavor flavor = Flavor::multi_thread;
  std::uint32_t worker_threads = 0;  // 0: the machine's core count (resolved: 1 on current_thread)
  std::uint32_t local_queue_capacity = kDefaultLocalQueueCapacity;  // power of two; the simulator shrinks it
  // 0: kDefaultGlobalQueueIntervalMultiThread or ...CurrentThread, by flavor.
  std::uint32_t global_queue_interval = 0;
  std::uint32_t event_interval = kDefaultEventInterval;  // 0: kDefaultEventInterval
  std::uint32_t max_lifo_polls = kDefaultMaxLifoPolls;  // consecutive LIFO polls, then the slot's task goes to the queue
  bool lifo_enabled = true;
  std::uint32_t budget = kDefaultBudget;  // cooperative budget per poll
  bool has_seed = false;
  std::uint64_t seed = 0;
  std::uint32_t max_blocking_threads = kDefaultMaxBlockingThreads;
  std::uint64_t blocking_keep_alive_ns = kDefaultBlockingKeepAliveNs;
  // Spins (try the parker, pause) before a kernel park. 0: the platform's
  // kParkSpins when the workers fit the cores, none otherwise (spinning would
  // then take a core from a worker).
  std::uint32_t spin_before_park = 0;
  std::function<void()> on_thread_start;
  std::function<void()> on_thread_stop;
  // unhandled_exception receives the exception of a task that completes after its
  // JoinHandle was dropped (default: print it to stderr). An exception of a task
  // that completed while its JoinHandle was alive belongs to that handle.
  std::function<void(std::exception_ptr)> unhandled_exception;
  std::string thread_name = "weft-worker";
  // How long a dump waits for every worker to reach its rendezvous before it
  // completes without the missing ones.
  std::uint64_t dump_timeout_ns = kDefaultDumpTimeoutNs;
  // Poll-time histogram: off by default (it reads the clock twice per poll).
  bool poll_time_histogram = false;
  std::uint32_t histogram_buckets = kDefaultHistogramBuckets;
  std::uint64_t histogram_bucket_width_ns = kDefaultHistogramBucketWidthNs;  // linear buckets; the last is open-ended
};

// resolve returns cfg with every "0: the default" field filled in (worker count,
// global-queue interval by flavor, event interval, spins before a park) and checks
// the rest. Runtime's constructor calls it once; the trace header, the trace
// properties and the scenario runner call it to see what the runtime ran with.
// resolve(resolve(c)) equals resolve(c).
Config resolve(Config cfg);

WEFT_NS_END
