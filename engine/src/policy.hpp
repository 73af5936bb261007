// The scheduling policy: every constant the schedulers decide by, named once, and
// the relations between them checked at compile time.
//
// The defaults a user can override are Config's (weft/config.hpp, resolved once by
// resolve()); they are checked here with the rest. Two numbers belong elsewhere on
// purpose: the spins before a park are the platform's (Platform::kParkSpins; the
// simulator shrinks them), and the shares of a local queue below are functions of
// its capacity, which a scenario may shrink to reach edge cases.
#pragma once

#include <cstddef>
#include <cstdint>

#include "weft/config.hpp"

WEFT_NS_BEGIN
namespace detail::policy {

// ---- the multi-thread idle protocol (multi_thread/idle.cpp) ----

// The idle state packs num_unparked << kUnparkShift | num_searching in one
// word, so that a single seq_cst RMW reads both (idle step 4).
inline constexpr std::uint64_t kUnparkShift = 16;
inline constexpr std::uint64_t kSearchMask = (1ull << kUnparkShift) - 1;
// kWorkersMax is the most workers a multi-thread runtime has: both counts of the
// idle state must fit their fields.
inline constexpr std::uint32_t kWorkersMax = (1u << 15) - 1;
static_assert(kWorkersMax <= kSearchMask, "num_searching must fit below the unparked count");
static_assert(kWorkersMax < (1ull << (64 - kUnparkShift)), "num_unparked must fit above the shift");

// searching_cap_reached says whether a worker must not become a searcher: half the
// workers already search (idle step 1), so thieves do not outnumber the victims.
constexpr bool searching_cap_reached(std::uint64_t searching, std::uint32_t workers) {
  return 2 * searching >= workers;
}
static_assert(!searching_cap_reached(0, 1), "a lone worker may always search");
// kIdleViewWorkers: up to this many workers the lost-parallelism probe
// (MultiThread::idle_view) marks the sleepers in a stack array instead of
// searching the list once per worker.
inline constexpr std::uint32_t kIdleViewWorkers = 64;

// The LIFO watch (multi_thread/idle.cpp, Steps W1 to W6): one parked worker looks
// at the others' LIFO slots every interval, from kLifoWatchFirstNs doubling to
// kLifoWatchMaxNs while it finds nothing, and back to the first after it sees a
// task in a slot; it takes a task that sat in a slot across two looks while its
// owner stayed inside one poll. A task behind a long poll so waits at most
// kLifoWatchMaxNs + kLifoWatchFirstNs before a sleeping worker runs it, and a
// worker that polls for long while the others idle costs a wake-up per interval.
inline constexpr std::uint64_t kLifoWatchFirstNs = 1'000'000ull;
inline constexpr std::uint64_t kLifoWatchMaxNs = 16'000'000ull;
static_assert(kLifoWatchFirstNs > 0 && kLifoWatchFirstNs <= kLifoWatchMaxNs);
// lifo_watch_next is the interval after one of `ns`: twice as long, capped.
constexpr std::uint64_t lifo_watch_next(std::uint64_t ns) { return ns >= kLifoWatchMaxNs / 2 ? kLifoWatchMaxNs : 2 * ns; }
static_assert(lifo_watch_next(kLifoWatchMaxNs) == kLifoWatchMaxNs && lifo_watch_next(kLifoWatchFirstNs) > kLifoWatchFirstNs);
// kLifoWaitMaxNs is the longest a task may wait in a slot behind its owner's poll
// while a worker sleeps: the lost-parallelism check's bound in virtual time
// (harness/checks/parallelism.cpp) is a margin above it.
inline constexpr std::uint64_t kLifoWaitMaxNs = kLifoWatchMaxNs + kLifoWatchFirstNs;

// ---- the local queue and the injection queue (queues.hpp, multi_thread/worker.cpp) ----

// overflow_batch is how many tasks an overflow moves from a full local queue to
// the injection queue besides the new one: the newest half (overflow step 3).
constexpr std::uint32_t overflow_batch(std::uint32_t capacity) { return capacity / 2; }
// steal_amount is how many of the `queued` tasks a thief sees it claims: half,
// rounded up, so that a lone task can be stolen.
constexpr std::uint32_t steal_amount(std::uint32_t queued) { return queued - queued / 2; }
// thief_has_enough says whether a worker holding `held` tasks skips stealing:
// beyond half its capacity a stolen half might not fit.
constexpr bool thief_has_enough(std::uint32_t held, std::uint32_t capacity) { return held > capacity / 2; }
// inject_batch_max is the most tasks one batch from the injection queue moves into
// a local queue: half of it, so the batch cannot trigger an overflow that would
// bounce its tasks back.
constexpr std::uint32_t inject_batch_max(std::uint32_t capacity) { return capacity / 2; }
// inject_batch_share is a worker's fair share of `queued` injected tasks among
// `workers`: at least one.
constexpr std::uint64_t inject_batch_share(std::uint64_t queued, std::uint32_t workers) {
  return queued / workers + 1;
}

// check_queue_shares verifies the shares above for one capacity (a power of two).
constexpr bool check_queue_shares(std::uint32_t capacity) {
  const bool steal_fits = capacity / 2 + steal_amount(capacity) <= capacity;  // a thief not "enough" takes a full half
  const bool overflow_sheds = overflow_batch(capacity) >= 1 && overflow_batch(capacity) < capacity;
  const bool batch_fits = inject_batch_max(capacity) >= 1 && inject_batch_max(capacity) <= capacity - capacity / 2;
  return steal_fits && overflow_sheds && batch_fits && !thief_has_enough(capacity / 2, capacity);
}
// The capacities checked: every one a scenario may choose (kLocalQueueCapacityMin
// to kLocalQueueCapacityMax in weft/config.hpp; scenarios/README.md).
constexpr bool check_every_capacity() {
  for (std::uint32_t c = kLocalQueueCapacityMin; c <= kLocalQueueCapacityMax; c *= 2) {
    if (!check_queue_shares(c)) return false;
  }
  return true;
}
static_assert(check_every_capacity(), "the queue shares must fit every capacity from min to max");
static_assert(steal_amount(1) == 1, "a lone task can be stolen");
static_assert(kDefaultLocalQueueCapacity >= kLocalQueueCapacityMin && kDefaultLocalQueueCapacity <= kLocalQueueCapacityMax &&
                  (kDefaultLocalQueueCapacity & (kDefaultLocalQueueCapacity - 1)) == 0,
              "the default capacity is a power of two in range");

// ---- ticks, budget and the LIFO slot ----

// The fairness bound (harness/checks/trace_properties.cpp) needs both intervals
// at 3 or more, and the LIFO cap must bind before the budget does.
static_assert(kDefaultGlobalQueueIntervalMultiThread >= 3 && kDefaultGlobalQueueIntervalCurrentThread >= 3);
static_assert(kDefaultEventInterval >= 3);
static_assert(kDefaultMaxLifoPolls >= 1 && kDefaultMaxLifoPolls < kDefaultBudget);

// ---- owned tasks ----

// kOwnedShardsPerWorker spreads the owned-task lists so that workers binding and
// releasing tasks rarely share a lock (rounded up to a power of two).
inline constexpr std::uint32_t kOwnedShardsPerWorker = 4;

// ---- metrics ----

// kHistogramBucketsMax bounds the poll-time histogram (one counter per bucket and worker).
inline constexpr std::uint32_t kHistogramBucketsMax = 1024;
static_assert(kDefaultHistogramBuckets >= 1 && kDefaultHistogramBuckets <= kHistogramBucketsMax);

// ---- dumps ----

// kDumpCollectSliceNs is how often a worker or requester waiting for a collecting
// dump leader re-checks the round (the leader also unparks it when done).
inline constexpr std::uint64_t kDumpCollectSliceNs = 10'000'000ull;
static_assert(kDumpCollectSliceNs < kDefaultDumpTimeoutNs, "a waiter re-checks several times per default dump");
// kDumpAnswerSliceNs is the same for the current-thread rendezvous, whose one
// participant (the driver) holds the core the requester may be reading: shorter.
inline constexpr std::uint64_t kDumpAnswerSliceNs = 1'000'000ull;
static_assert(kDumpAnswerSliceNs <= kDumpCollectSliceNs);

// ---- the current-thread core ----

// A thread that finds the core held (a blocking dump reads it) naps this long
// between tries: kCoreWaitTriesMax tries in block_on (10 ms), kCoreShutdownTriesMax
// in shutdown (1 s: past that another thread's block_on drives, unsupported).
inline constexpr std::uint64_t kCoreWaitNapNs = 100'000ull;
inline constexpr std::uint32_t kCoreWaitTriesMax = 100;
inline constexpr std::uint32_t kCoreShutdownTriesMax = 10'000;
static_assert(kCoreWaitNapNs * kCoreWaitTriesMax <= kDumpCollectSliceNs, "block_on waits for a held core no longer than a dump collects");
static_assert(kCoreShutdownTriesMax > kCoreWaitTriesMax);

// ---- task allocation (task.cpp) ----

// A task block (frame and cell, one allocation) comes from the allocating thread's
// free list of its size class: kPoolClasses classes kPoolGranule bytes apart.
// Larger blocks go to operator new.
inline constexpr std::size_t kPoolGranule = 16;  // operator new's alignment
inline constexpr std::size_t kPoolClasses = 64;  // blocks of 9 to 1,032 bytes (24 to 1,032 by 16)
// Each class is kPoolClassShort bytes short of a multiple of kPoolGranule: all
// that a heap chunk of that multiple holds (glibc's malloc heads each chunk with
// 8 bytes and rounds chunks to 16), so a block of 264 bytes takes a 272-byte
// chunk where a 272-byte class would take a 288-byte one. Blocks keep operator
// new's alignment: each is a whole operator new allocation.
inline constexpr std::size_t kPoolClassShort = 8;
// kPoolCacheBytesMax bounds the bytes a thread keeps on its free lists; a block
// freed beyond it goes back to operator delete. It holds a burst of ten thousand
// small tasks (spawn_many_local), so a steady spawner stays off the heap.
inline constexpr std::size_t kPoolCacheBytesMax = std::size_t{8} << 20;
// A block freed on another thread goes back to the thread that allocated it in
// batches of kPoolReturnBatch (one compare-exchange per batch), each sent with at
// most kPoolSendTriesMax tries before its blocks go to operator delete instead.
inline constexpr std::uint32_t kPoolReturnBatch = 32;
inline constexpr std::uint32_t kPoolSendTriesMax = 16;
static_assert(kPoolReturnBatch >= 2 && kPoolSendTriesMax >= 1);
static_assert(kPoolGranule % __STDCPP_DEFAULT_NEW_ALIGNMENT__ == 0 && kPoolClassShort < kPoolGranule,
              "classes a granule apart, each short of a whole granule");
static_assert(kPoolCacheBytesMax >= 16 * kPoolGranule * kPoolClasses, "the cache holds several of the largest blocks");

}  // namespace detail::policy
WEFT_NS_END
