// Task blocks: one allocation per task (a coroutine frame with its cell in front,
// see FrameTag in weft/task.hpp), served from the allocating thread's free lists;
// the state sync primitives share (PoolNew in weft/task.hpp) comes from them too.
//
// The pool protocol. Blocks go back to the thread that allocated them, so a thread
// that spawns (main, handing work to workers) keeps being served from its lists
// while the threads that free never pile up blocks they will not use:
//   1. A thread's first pool_alloc (or its first free of another thread's
//      block) gives it a Mailbox (heap-allocated and never freed: a block records
//      its owner's mailbox and may be freed after the owner exited) and
//      registers its exit (step 6).
//   2. pool_alloc pops a block of the size class from the thread's own list and
//      gives the caller the thread's mailbox as the block's owner. Blocks larger
//      than the classes come from operator new and have no owner.
//   3. pool_free of a block this thread owns pushes it on its own list (up to
//      kPoolCacheBytesMax bytes; beyond, operator delete).
//   4. pool_free of another thread's block adds it to this thread's outgoing
//      batch, a chain of blocks of one owner and one size class (a block for
//      another owner or class sends the batch first). A full batch
//      (kPoolReturnBatch blocks) is sent: its first block records the class and
//      the count, and the batch is pushed whole on the owner's mailbox with one
//      compare-exchange (release), retried at most kPoolSendTriesMax times; a
//      mailbox that stays contended, or is closed, gets nothing: the batch's
//      blocks go to operator delete.
//   5. pool_alloc that finds its list empty takes the class's next spare batch
//      as its list. With none, it takes its whole mailbox with one exchange
//      (acquire: pairs with step 4's release, so the senders' writes to the
//      blocks happen before their reuse) and files each batch by its first
//      block, whole, as a spare batch of its class: it reads one block per
//      batch, not every block (the blocks were last written on the sending
//      thread, so each read is a cache miss); then it tries again. Only an empty
//      mailbox sends it to operator new.
//   6. At thread exit the thread sends its outgoing batch, closes its mailbox
//      (exchange in kClosed: later sends see it and free their blocks), and frees
//      every block on its lists, its spare batches and its mailbox. Frees after
//      that go to operator delete.
// The simulator runs every fiber on one OS thread, so there every block is the
// running thread's own (step 3) and no batch is ever sent: the pool makes no
// decision and adds none.
#include <cstddef>
#include <cstdint>
#include <new>
#include <utility>

#include "policy.hpp"
#include "weft/task.hpp"

WEFT_NS_BEGIN

namespace detail {
namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kPoolEnabled = false;  // every use-after-free stays visible
#else
constexpr bool kPoolEnabled = true;  // ThreadSanitizer checks the hand-off of steps 4 and 5
#endif
using policy::kPoolCacheBytesMax;
using policy::kPoolClassShort;
using policy::kPoolClasses;
using policy::kPoolGranule;
using policy::kPoolReturnBatch;
using policy::kPoolSendTriesMax;

// FreeBlock is a block on a list or in a batch: its first bytes. A batch's first
// block also says what the batch holds and links the next batch (in a mailbox,
// or among a class's spare batches); the others leave those fields alone.
struct FreeBlock {
  FreeBlock* next;        // the next block of the list or batch
  FreeBlock* next_batch;  // first block of a batch: the next batch
  std::uint32_t size_class;
  std::uint32_t count;  // first block of a batch: its blocks
};
// class_bytes is the size of class c's blocks (c = -1 gives the largest block
// no class serves); class_of is the class of an n-byte block (n past that).
constexpr std::size_t class_bytes(std::size_t c) { return (c + 2) * kPoolGranule - kPoolClassShort; }
constexpr std::size_t class_of(std::size_t n) { return (n + kPoolClassShort - 1) / kPoolGranule - 1; }
// The smallest class a block takes: it has room for a FreeBlock.
constexpr std::size_t kFirstClass = class_of(sizeof(FreeBlock));
static_assert(kFirstClass < kPoolClasses);

// Mailbox is where other threads send a thread's blocks back (steps 4 and 5).
struct alignas(64) Mailbox {
  CacheAtomic<void*> head{nullptr};  // a chain of FreeBlocks, or kClosed
};
// kClosed marks the mailbox of a thread that exited (step 6).
void* const kClosed = reinterpret_cast<void*>(std::uintptr_t{1});

// g_no_mailbox is the owner of no block: a thread's mailbox until its first
// pool_alloc and after its exit, so step 3's test fails for every block then.
Mailbox g_no_mailbox;

// PoolState is one thread's lists and outgoing batch. Trivially destructible, so
// it stays usable while other thread-locals are destroyed; PoolExit (step 6)
// empties it.
struct PoolState {
  FreeBlock* heads[kPoolClasses];
  FreeBlock* spare[kPoolClasses];  // whole batches taken from the mailbox (step 5)
  std::size_t bytes;  // on the lists and in the spare batches
  Mailbox* mailbox;
  Mailbox* out_owner;  // the outgoing batch's owner, or null
  FreeBlock* out_first;
  std::uint32_t out_count;
  std::uint32_t out_class;  // the outgoing batch's size class
  bool exited;
};
thread_local PoolState g_pool{{}, {}, 0, &g_no_mailbox, nullptr, nullptr, 0, 0, false};

// kSmallestPooled is the smallest block the pool serves: one of kFirstClass.
// Smaller ones (no caller asks for them: a PoolNew object's tag alone is 16
// bytes) and larger ones come from operator new.
constexpr std::size_t kSmallestPooled = class_bytes(kFirstClass - 1) + 1;
constexpr std::size_t kLargestPooled = class_bytes(kPoolClasses - 1);
static_assert(class_of(kSmallestPooled) == kFirstClass && class_of(kLargestPooled) == kPoolClasses - 1 &&
              class_bytes(kFirstClass) >= sizeof(FreeBlock));
// pooled says whether an n-byte block comes from the pool (one compare).
bool pooled(std::size_t n) { return n - kSmallestPooled <= kLargestPooled - kSmallestPooled; }

// delete_chain frees a chain of blocks to operator delete.
void delete_chain(FreeBlock* b) noexcept {
  while (b != nullptr) {
    FreeBlock* next = b->next;
    ::operator delete(b);
    b = next;
  }
}

// delete_batches frees a chain of batches (linked by next_batch) to operator delete.
void delete_batches(FreeBlock* b) noexcept {
  while (b != nullptr) {
    FreeBlock* next = b->next_batch;
    delete_chain(b);
    b = next;
  }
}

// send_batch pushes the outgoing batch on its owner's mailbox: Step 4.
void send_batch() noexcept {
  PoolState& s = g_pool;
  if (s.out_owner == nullptr) return;
  Mailbox* owner = std::exchange(s.out_owner, nullptr);
  FreeBlock* first = std::exchange(s.out_first, nullptr);
  first->size_class = s.out_class;
  first->count = std::exchange(s.out_count, 0);
  void* seen = owner->head.load(Order::relaxed);  // relaxed: a first guess for the CAS, nothing is read through it
  for (std::uint32_t tries = 0; tries < kPoolSendTriesMax && seen != kClosed; ++tries) {
    first->next_batch = static_cast<FreeBlock*>(seen);
    // Release: the owner's exchange (step 5, acquire) sees the blocks as written here.
    if (owner->head.compare_exchange(seen, first, Order::release, Order::relaxed)) return;
  }
  delete_chain(first);  // closed, or contended past the bound
}

// take_mailbox files every batch sent to this thread as a spare batch of its
// class: Step 5.
void take_mailbox() noexcept {
  PoolState& s = g_pool;
  if (s.mailbox->head.load(Order::relaxed) == nullptr) return;  // relaxed: a peek; the exchange below acquires
  // Acquire pairs with send_batch's release.
  auto* b = static_cast<FreeBlock*>(s.mailbox->head.exchange(nullptr, Order::acquire));
  while (b != nullptr) {
    FreeBlock* next = b->next_batch;
    const std::size_t c = b->size_class;
    const std::size_t bytes = class_bytes(c) * b->count;
    if (s.bytes + bytes > kPoolCacheBytesMax) {
      delete_chain(b);
    } else {
      b->next_batch = s.spare[c];
      s.spare[c] = b;
      s.bytes += bytes;
    }
    b = next;
  }
}

// take_spare makes class c's next spare batch its list; false if it has none.
bool take_spare(std::size_t c) noexcept {
  PoolState& s = g_pool;
  FreeBlock* b = s.spare[c];
  if (b == nullptr) return false;
  s.spare[c] = b->next_batch;
  s.heads[c] = b;  // the list was empty: the batch's chain ends in null
  return true;
}

// PoolExit runs Step 6 when its thread exits.
struct PoolExit {
  ~PoolExit() {
    PoolState& s = g_pool;
    send_batch();
    Mailbox* mine = std::exchange(s.mailbox, &g_no_mailbox);
    // Acquire pairs with send_batch's release: the blocks sent are ours to free.
    void* sent = mine->head.exchange(kClosed, Order::acquire);
    delete_batches(static_cast<FreeBlock*>(sent));
    for (std::size_t c = 0; c < kPoolClasses; ++c) {
      delete_chain(std::exchange(s.heads[c], nullptr));
      delete_batches(std::exchange(s.spare[c], nullptr));
    }
    s.bytes = 0;
    s.exited = true;
  }
};

// first_use gives the thread its mailbox and registers its exit: Step 1.
[[gnu::noinline]] void first_use() {
  thread_local PoolExit exit_hook;
  (void)&exit_hook;  // constructed here: its destructor runs at this thread's exit
  g_pool.mailbox = new Mailbox;
}

// alloc_slow serves a class whose list is empty (steps 1 and 5).
[[gnu::noinline]] PoolBlock alloc_slow(std::size_t c) {
  // The pool's blocks and mailbox outlive a run: a cache, not the caller's
  // allocation (each block is noted as Held::allocation while it is in use). On
  // the simulator the heap count leaves them out (weft/sim/detail/heap.hpp, Step H5).
  [[maybe_unused]] Platform::HeapCache cache;
  PoolState& s = g_pool;
  if (s.exited) return {::operator new(class_bytes(c)), nullptr};
  if (s.mailbox == &g_no_mailbox) first_use();
  if (s.spare[c] == nullptr) take_mailbox();
  if (take_spare(c)) {
    FreeBlock* b = s.heads[c];
    s.heads[c] = b->next;
    s.bytes -= class_bytes(c);
    return {b, s.mailbox};
  }
  return {::operator new(class_bytes(c)), s.mailbox};
}

// free_slow returns a block this thread does not own (Step 4), or one past its cache (Step 3).
[[gnu::noinline]] void free_slow(void* p, std::size_t c, void* owner) noexcept {
  [[maybe_unused]] Platform::HeapCache cache;  // a mailbox made here is the pool's, as in alloc_slow
  PoolState& s = g_pool;
  if (owner == nullptr || s.exited || owner == s.mailbox) {  // no owner, a thread gone, or a full cache
    ::operator delete(p);
    return;
  }
  // A thread that only frees still needs step 6, to send its last batch.
  if (s.mailbox == &g_no_mailbox) first_use();
  auto* to = static_cast<Mailbox*>(owner);
  if (s.out_owner != to || s.out_class != c) {
    send_batch();
    s.out_owner = to;
    s.out_class = static_cast<std::uint32_t>(c);
  }
  auto* b = static_cast<FreeBlock*>(p);
  b->next = s.out_first;
  s.out_first = b;
  if (++s.out_count == kPoolReturnBatch) send_batch();
}

}  // namespace

PoolBlock pool_alloc(std::size_t n) {
  Platform::note_hold(Held::allocation, n);  // the leak check: one task block, or one frame never spawned
  return pool_alloc_unnoted(n);
}

void pool_free(void* p, std::size_t n, void* owner) noexcept {
  Platform::note_release(Held::allocation, n);
  pool_free_unnoted(p, n, owner);
}

PoolBlock pool_alloc_unnoted(std::size_t n) {
  if (!kPoolEnabled || !pooled(n)) return {::operator new(n), nullptr};
  const std::size_t c = class_of(n);
  PoolState& s = g_pool;
  if (FreeBlock* b = s.heads[c]) [[likely]] {  // Step 2
    s.heads[c] = b->next;
    s.bytes -= class_bytes(c);
    return {b, s.mailbox};
  }
  return alloc_slow(c);
}

void pool_free_unnoted(void* p, std::size_t n, void* owner) noexcept {
  if (Platform::retire_block(p, n)) return;  // the simulator keeps it (weft/sim/detail/retired.hpp, Step R1)
  if (!kPoolEnabled || !pooled(n)) {
    ::operator delete(p);
    return;
  }
  const std::size_t c = class_of(n);
  PoolState& s = g_pool;
  if (owner == s.mailbox && s.bytes + class_bytes(c) <= kPoolCacheBytesMax) [[likely]] {  // Step 3
    auto* b = static_cast<FreeBlock*>(p);
    b->next = s.heads[c];
    s.heads[c] = b;
    s.bytes += class_bytes(c);
    return;
  }
  free_slow(p, c, owner);
}

}  // namespace detail

WEFT_NS_END
