// Retired blocks: the simulator's use-after-free oracle for the engine's pooled
// blocks (task cells with their frames, and the sync states that share the task
// pool: engine/src/task_pool.cpp).
//
// A task that runs twice, a waker kept past its task, a queue that hands out a
// task already completed: each ends with a thread touching a block the engine
// freed. Without help the outcome depends on the build. With the task pool the
// block is reused, and the stale access reads the next task (a data race, or
// nothing at all); under AddressSanitizer the process dies in the sanitizer's
// report, with no verdict, no reproduction and no teardown. So inside a
// simulated run the engine's frees of task blocks go through the seam
// (Platform::retire_block), and the simulator keeps the block instead:
//  Step R1. The engine gives a block up (the task pool's free, before it caches
//           or frees it): on the simulator, inside a run, the kernel fills the
//           block with kRetiredByte, records it (its size, the fiber and the
//           decision that freed it) and keeps it; the engine must not cache or
//           free it. Outside a run (on the host), when the record cannot be
//           allocated (a teardown may be out of memory), and on the OS
//           backend, the engine frees it as before.
//  Step R2. Every seam Atomic and Cell carries a 32-bit stamp (the Atomic's run
//           epoch, the Cell's shadow run) that a live object never holds as
//           kRetiredStamp: the kernel skips that value when it numbers runs, and
//           happens-before when it numbers its cells' runs. An atomic operation
//           (after its decision, so a block retired while the caller was
//           switched out counts) or a Cell access that finds the stamp ends the
//           run with outcome use_after_free, naming the operation's site, the
//           running fiber and the fiber and decision that freed the block.
//           Plain reads before it read the pattern, harmlessly: the block is
//           still allocated.
//           A block given up a second time ends the run the same way, before
//           its fill (its size, read from the block, is the pattern's).
//  Step R3. The kernel keeps at most kRetiredBytesKept bytes (and an eighth of
//           the run's memory budget); past that it frees the oldest blocks
//           first (a later touch of those is not seen). When the run is over
//           (its fibers torn down), the kernel frees them all.
//  Step R4. After the verdict (the run ended, or its teardown runs the other
//           fibers on), the kernel still keeps the blocks given up, within
//           R3's bound, recording them without a check or a fill (the outcome
//           is final); a block given up again, or inside a kept one, is kept
//           already. A failed run's teardown unwinds fibers of an engine the
//           failure broke, and gives up blocks other fibers still hold (a
//           queue a weakened order corrupted still names the task). Cached by
//           the pool, which outlives the run, such a block sat on the pool's
//           list while its stale holder went on writing it, and the next run
//           in the same process took the broken list: under steal_into2's
//           acquire load of head_ made relaxed, steal_storm's seed 12 (PCT,
//           whose failing walk the runner runs twice) died of a wild access at
//           decision 154 of its second run in a sweep of seeds 0..12, where
//           alone it failed its assertion. R3 frees them all once, when the
//           run is over. Not covered: a block R3 already freed, given up again
//           in the teardown.
// Plain fields of a retired block read the pattern without a report until the
// next seam operation on the block; the block stays allocated on purpose, so
// that the verdict, and the run up to it, is the same in every build
// (AddressSanitizer would otherwise stop the process at the first plain read).
// None of this is a decision: a run that touches no freed block makes the same
// decisions, and the same trace bytes, as before.
#pragma once

#include <cstddef>
#include <cstdint>

namespace weft::sim::detail {

inline constexpr unsigned char kRetiredByte = 0xDB;
inline constexpr std::uint32_t kRetiredStamp = 0xDBDBDBDBu;  // four kRetiredBytes
inline constexpr std::size_t kRetiredBytesKept = std::size_t{64} << 20;

// RetiredBlock is Step R1's record of one block.
struct RetiredBlock {
  void* base = nullptr;
  std::size_t bytes = 0;
  std::uint32_t fiber = 0;     // the fiber that freed it
  std::uint64_t decision = 0;  // the decision count when it was freed
};

}  // namespace weft::sim::detail
