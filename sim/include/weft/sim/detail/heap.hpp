// The heap count: every operator new and delete of a process that links the
// simulator goes through sim/src/heap.cpp, which counts, per run, the blocks
// that the code under test allocates on simulated threads and has not freed.
// The leak check (harness/checks/leaks.hpp) requires none left once the runtime
// and the programs are gone: what the engine or a program allocated, at any
// level, it gave back.
//
// The heap protocol:
//   Step H1. Each block carries a header in front of it (over-aligned blocks: just
//            before the aligned address, the block starting `alignment` bytes
//            earlier): whether it is counted, the run that counted it, its size
//            and its caller.
//   Step H2. A block is counted when it is allocated by a simulated thread (not
//            the host) of a run that counts (Kernel::count_heap), outside every
//            Uncounted scope. The simulator's own work (seam operations, the
//            kernel, happens-before, the strategy) and the harness's observers
//            (the event sink, probes) run in such scopes: what they keep across
//            runs is theirs, not the code under test's. The scope depth is the
//            running fiber's own: a switch saves it and restores the next fiber's.
//   Step H3. A counted block is linked into the live list, named by its run.
//   Step H4. Freeing a counted block unlinks it, on whichever thread and
//            whether or not its run is still going.
//   Step H5. A cache the engine keeps across runs (the task pool's free lists,
//            Platform::HeapCache) allocates in an Uncounted scope: the pool counts
//            each block it hands out as Held::allocation instead.
//   Step H6. The leak check reads the live list (heap_live) after the runtime
//            and the programs are destroyed, and names each block of the run
//            still live by size and caller.
// Under AddressSanitizer the replacement is compiled out (ASan's own operator
// new stays, with its checks): nothing is counted, and heap_counting() says so.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace weft::sim::detail {

// tls_uncounted is the running fiber's depth of Uncounted scopes (Step H2).
inline constinit thread_local std::uint32_t tls_uncounted = 0;

// Uncounted is a scope whose allocations are not the code under test's.
struct Uncounted {
  Uncounted() noexcept { ++tls_uncounted; }
  ~Uncounted() { --tls_uncounted; }
  Uncounted(const Uncounted&) = delete;
  Uncounted& operator=(const Uncounted&) = delete;
};

// tls_in_allocator is nonzero while this thread is inside the replaced operator
// new or delete (in malloc or free, or holding the count's lock): a stack
// overflow there cannot end the run and let the thread go on (the lock would
// stay held), so the kernel exits instead (Step O2 in sim/src/kernel.cpp).
inline constinit thread_local std::uint32_t tls_in_allocator = 0;
struct InAllocator {
  InAllocator() noexcept { ++tls_in_allocator; }
  ~InAllocator() { --tls_in_allocator; }
  InAllocator(const InAllocator&) = delete;
  InAllocator& operator=(const InAllocator&) = delete;
};

// heap_counting says whether this build counts (false under AddressSanitizer).
bool heap_counting() noexcept;

// next_heap_run names a run for Step H1, unique in the process.
std::uint32_t next_heap_run() noexcept;

// LiveBlock is a counted block still allocated: its size and the address of the
// code that called operator new.
struct LiveBlock {
  std::size_t bytes = 0;
  const void* caller = nullptr;
};
// HeapLive is what run `run` counted and is still allocated: how many blocks, how
// many bytes, and the newest few.
struct HeapLive {
  std::uint64_t count = 0;
  std::uint64_t bytes = 0;
  std::vector<LiveBlock> newest;
};
// heap_live reads the live list (Step H6), keeping up to `keep` blocks.
HeapLive heap_live(std::uint32_t run, std::size_t keep);

// describe_caller names a caller address by its offset in the object that holds
// it ("offset 1234 of the program", decimal: a failure's signature replaces
// digits), for `addr2line -f -C -e BINARY 0x...` with the offset in hex.
std::string describe_caller(const void* caller);

}  // namespace weft::sim::detail
