// The heap count (weft/sim/detail/heap.hpp, Steps H1-H6): the process's
// replacement of operator new and delete.
#include "weft/sim/detail/heap.hpp"

#include <dlfcn.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <new>

#include "weft/sim/detail/kernel.hpp"

namespace weft::sim::detail {

namespace {

// Header is Step H1's record, right before the address handed out. `run` is 0
// for a block nobody counted; `prev` and `next` link counted blocks only.
struct alignas(16) Header {
  Header* prev;
  Header* next;
  const void* caller;
  std::uint32_t run;
  std::uint32_t bytes;  // saturated at UINT32_MAX
};
static_assert(sizeof(Header) == 32 && alignof(std::max_align_t) <= 16);

// The live list (Step H3): circular, through a sentinel. The lock is taken only
// for counted blocks; a block may be freed on another OS thread than the one
// whose run counted it.
constinit std::mutex g_live_mu;
constinit Header g_live{&g_live, &g_live, nullptr, 0, 0};
constinit std::atomic<std::uint32_t> g_runs{0};

}  // namespace

std::uint32_t next_heap_run() noexcept {
  std::uint32_t r = g_runs.fetch_add(1, std::memory_order_relaxed) + 1;  // a name, nothing to order
  if (r == 0) r = g_runs.fetch_add(1, std::memory_order_relaxed) + 1;    // 0 means "not counted"
  return r;
}

namespace {
// dladdr_self_base is the load address of the object holding this code.
const void* dladdr_self_base() {
  Dl_info self{};
  return dladdr(reinterpret_cast<const void*>(&heap_counting), &self) != 0 ? self.dli_fbase : nullptr;
}
}  // namespace

HeapLive heap_live(std::uint32_t run, std::size_t keep) {
  Uncounted u;  // the result is the caller's
  HeapLive out;
  std::scoped_lock lock(g_live_mu);
  for (Header* h = g_live.next; h != &g_live; h = h->next) {
    if (h->run != run) continue;
    ++out.count;
    out.bytes += h->bytes;
    if (out.newest.size() < keep) out.newest.push_back(LiveBlock{h->bytes, h->caller});
  }
  return out;
}

std::string describe_caller(const void* caller) {
  Uncounted u;
  Dl_info info{};
  if (dladdr(caller, &info) != 0 && info.dli_fname != nullptr) {
    const auto off = reinterpret_cast<std::uintptr_t>(caller) - reinterpret_cast<std::uintptr_t>(info.dli_fbase);
    // Not the binary's name: a reproduction replays in other binaries, and its
    // failure's signature must not change with them.
    return "offset " + std::to_string(off) + (info.dli_fbase == dladdr_self_base() ? " of the program" : " of a library");
  }
  return "address " + std::to_string(reinterpret_cast<std::uintptr_t>(caller));
}

#if defined(__SANITIZE_ADDRESS__)
#define WEFT_HEAP_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WEFT_HEAP_UNDER_ASAN 1
#endif
#endif

#if defined(WEFT_HEAP_UNDER_ASAN)

bool heap_counting() noexcept { return false; }

}  // namespace weft::sim::detail

#else

bool heap_counting() noexcept { return true; }

namespace {

// Step H2, then H3 for a block that is counted.
void count(Header* h) noexcept {
  Kernel* k = tls_kernel;
  if (k == nullptr || tls_uncounted != 0 || !k->counts_heap_now()) return;
  h->run = k->heap_run();
  {
    InAllocator in_allocator;
    std::scoped_lock lock(g_live_mu);
    h->next = g_live.next;
    h->prev = &g_live;
    g_live.next->prev = h;
    g_live.next = h;
  }
}

void* allocate(std::size_t n, std::size_t align, const void* caller, bool nothrow) {
  // Over-aligned blocks keep the header in the `align` bytes before the address.
  const std::size_t front = align <= alignof(Header) ? sizeof(Header) : align;
  if (n > SIZE_MAX - front - align) {
    if (nothrow) return nullptr;
    throw std::bad_alloc();
  }
  void* base = nullptr;
  // As [new.delete.single]: on failure, call the new-handler and try again; with
  // none installed, fail (the simulator's handler turns a failure in a run into
  // the run's resource_limit outcome).
  for (;;) {
    {
      InAllocator in_allocator;
      base = align <= alignof(Header) ? std::malloc(front + n)
                                      : std::aligned_alloc(align, (front + n + align - 1) / align * align);
    }
    if (base != nullptr) break;
    std::new_handler handler = std::get_new_handler();
    if (handler == nullptr) {
      if (nothrow) return nullptr;
      throw std::bad_alloc();
    }
    if (nothrow) {
      try {
        handler();
      } catch (const std::bad_alloc&) {
        return nullptr;
      }
    } else {
      handler();
    }
  }
  char* p = static_cast<char*>(base) + front;
  Header* h = reinterpret_cast<Header*>(p - sizeof(Header));
  h->prev = h->next = nullptr;
  h->caller = caller;
  h->run = 0;
  h->bytes = n > UINT32_MAX ? UINT32_MAX : static_cast<std::uint32_t>(n);
  count(h);
  return p;
}

// Step H4.
void release(void* p, std::size_t align) noexcept {
  if (p == nullptr) return;
  Header* h = reinterpret_cast<Header*>(static_cast<char*>(p) - sizeof(Header));
  InAllocator in_allocator;
  if (h->run != 0) {
    std::scoped_lock lock(g_live_mu);
    h->prev->next = h->next;
    h->next->prev = h->prev;
  }
  std::free(static_cast<char*>(p) - (align <= alignof(Header) ? sizeof(Header) : align));
}

}  // namespace
}  // namespace weft::sim::detail

using weft::sim::detail::allocate;
using weft::sim::detail::release;

// The replaceable global allocation functions ([new.delete]): every form.
void* operator new(std::size_t n) { return allocate(n, 0, __builtin_return_address(0), false); }
void* operator new[](std::size_t n) { return allocate(n, 0, __builtin_return_address(0), false); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  return allocate(n, 0, __builtin_return_address(0), true);
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  return allocate(n, 0, __builtin_return_address(0), true);
}
void* operator new(std::size_t n, std::align_val_t a) {
  return allocate(n, static_cast<std::size_t>(a), __builtin_return_address(0), false);
}
void* operator new[](std::size_t n, std::align_val_t a) {
  return allocate(n, static_cast<std::size_t>(a), __builtin_return_address(0), false);
}
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return allocate(n, static_cast<std::size_t>(a), __builtin_return_address(0), true);
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return allocate(n, static_cast<std::size_t>(a), __builtin_return_address(0), true);
}
void operator delete(void* p) noexcept { release(p, 0); }
void operator delete[](void* p) noexcept { release(p, 0); }
void operator delete(void* p, std::size_t) noexcept { release(p, 0); }
void operator delete[](void* p, std::size_t) noexcept { release(p, 0); }
void operator delete(void* p, const std::nothrow_t&) noexcept { release(p, 0); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { release(p, 0); }
void operator delete(void* p, std::align_val_t a) noexcept { release(p, static_cast<std::size_t>(a)); }
void operator delete[](void* p, std::align_val_t a) noexcept { release(p, static_cast<std::size_t>(a)); }
void operator delete(void* p, std::size_t, std::align_val_t a) noexcept { release(p, static_cast<std::size_t>(a)); }
void operator delete[](void* p, std::size_t, std::align_val_t a) noexcept { release(p, static_cast<std::size_t>(a)); }
void operator delete(void* p, std::align_val_t a, const std::nothrow_t&) noexcept {
  release(p, static_cast<std::size_t>(a));
}
void operator delete[](void* p, std::align_val_t a, const std::nothrow_t&) noexcept {
  release(p, static_cast<std::size_t>(a));
}

#endif
