// The simulator's kernel: fibers on Boost.Context, switching, blocking, virtual time.
//
// Switching protocol: a fiber switches directly to the next fiber (no trip through a
// scheduler context). The switcher records itself in prev_ and resumes the target;
// the target, on waking up, stores the continuation it received into prev_->ctx.
// Every switch also swaps the C++ runtime's per-thread exception state (caught
// exceptions, uncaught count) so that a fiber inside a catch block does not corrupt
// another's (simulation-pitfalls.md #13), and announces the stack change to
// AddressSanitizer (toolchain.md).
//
// Stack overflow: a fiber that runs off its stack hits the guard page below it.
// The kernel catches that fault (SIGSEGV on an alternate signal stack), names the
// fiber, its stack size and the option that raises it, and ends the run as
// resource_limit (Steps O1-O3 at Kernel::overflowed), or, where the thread
// cannot be left where it stands, ends the process with resource_limit's exit
// code: either way the user learns why instead of seeing a bare signal. Other
// faults keep their default action.
//
// Teardown (Options::teardown; on by default, see docs/teardown.md): a failed
// run ends with its other fibers suspended inside seam operations, their frames
// owning memory, locks and objects, and often in the middle of a protocol (a
// task taken from a queue and not yet pushed, a header made and not yet bound).
// Unwinding a fiber at such a point drops what its locals hold. So the kernel
// first lets every fiber that can go on run to a blocking operation, and unwinds
// only fibers that wait for good (simulation-pitfalls.md #13 is why the
// exception state is per fiber):
//  Step T1. Enter teardown (unwinding_): race detection, the C11 model and the
//          strategy's access reports are switched off. From here a seam
//          operation decides, records and checks nothing: a decision returns at
//          once with no switch, atomics are plain values, a draw returns 0,
//          note_progress and the trace recorder ignore the call. The outcome,
//          message and counts of the run are final (fiber_count was taken).
//          A fiber suspended at a decision, or stopped by a failure found at a
//          decision (stop_at_decision: divergence, step bound, livelock, memory,
//          data race), or never started, is runnable; a blocked fiber stays on
//          its wait list; a fiber that failed an assertion or misused the seam
//          (fail) is to be unwound.
//  Step T2. The host takes the next runnable fiber in id order after the last
//          one it took (round robin, so fibers that yield to each other all get
//          on). When none is runnable, or each runnable one has used a whole
//          turn in a row (they spin, or wait on a fiber that waits for good), it
//          takes the newest fiber left that is blocked or to be unwound and marks
//          it to be unwound, passing over one that unwinds already or joins a
//          runnable fiber while others run (they may yet wake it): a fiber's
//          creator usually owns what it uses, so children let go of it before
//          their parent's destructors free it.
//  Step T3. A runnable fiber goes on from where it was suspended, as in a run
//          with one thread at a time and no preemption, until it blocks (a
//          blocking operation in teardown parks it and returns to the host, with
//          no timeout: timers never fire), yields to another runnable fiber, or
//          finishes. Wake-ups work as in the run (in first-in-first-out order),
//          so a shutdown that signals its threads and joins them completes. A
//          fiber that never started is started only to destroy its function unrun.
//  Step T4. A fiber marked to be unwound is resumed where it is suspended and
//          throws FiberUnwind, a kernel-private type no std::exception handler
//          catches; fiber_body catches it and the fiber ends as a finished one,
//          its stack back in the pool, its joiners woken. While it unwinds
//          (SimPlatform::unwinding is true for it), a blocking operation (lock on
//          a held mutex excepted, which is taken) cannot wait: it throws
//          FiberUnwind again when no exception is in flight (code after a catch
//          (...) that swallowed the first), else returns as a spurious wake-up or
//          timeout (a destructor running during the unwind must not throw).
//          fail() and assertions unwind the fiber that calls them.
//  Step T5. A fiber that cannot get on is given up as before teardown existed: a
//          throw that reaches a noexcept frame (the terminate handler switches
//          back to the host instead of aborting), a fiber suspended inside a
//          destructor during an earlier unwind, or more than kTeardownOpsMax seam
//          operations in one turn (a loop that never blocks). Its frames keep what
//          they own; Retained counts that memory for later runs.
//  Step T6. Steps T2-T5 repeat until every fiber finished or was given up.
//  Step T7. Leave teardown: the kernel detaches from the OS thread.
//  Step T8. A teardown that dies (a fault, or an AddressSanitizer report, in code
//          the failure left broken: a queue still naming a freed task) writes
//          the run's verdict, the outcome and message it had already failed
//          with, and how to turn the teardown off, before the process dies (a
//          fault's line comes before its default action; AddressSanitizer calls
//          it after its report, through __sanitizer_set_death_callback, which
//          replaces a death callback the program set). Unwinding runs the
//          program's destructors on whatever state the failure left, as the same
//          program would after that point.
// Code under test that catches everything (catch (...), a coroutine promise's
// unhandled_exception) must rethrow while SimPlatform::unwinding() is true; the
// engine does (task.hpp, time.hpp).
//
// Under AddressSanitizer an abandoned fiber's stack is kept mapped and registered
// as a LeakSanitizer root region, so objects only it references are not leaks.
//
// Lifetimes of the seam objects that hold fibers (Parker, Mutex). A thread that
// still holds a reference to such an object after its owner destroyed it (a
// waker that unparks a parker on a stack frame that has returned) is a lifetime
// bug, and the object's own memory cannot tell: a stack frame is reused at once,
// often by a frame holding another live object at the same address, and a write
// into it corrupts whatever lives there now. So the kernel keeps the record:
//  Step L1. An operation on the object first notes it as the running fiber's
//           object (note_object_op), then takes its decision.
//  Step L2. The object's destructor marks every other fiber whose noted object
//           it is (object_destroyed). A noted object is the fiber's latest: the
//           fiber may wait inside an operation on it (at its decision, or
//           blocked), or may have finished with it long ago. Only the first
//           matters, and only it is ever asked about: the mark is read by
//           Step L3 alone, and every operation that reaches Step L3 began with
//           Step L1, which notes its own object and clears the mark. Nothing is
//           marked in teardown.
//  Step L3. After each switch (its decision, each block) the operation asks
//           whether its fiber was marked (object_op_died) and fails the run
//           before it touches the object (detail::check_alive). The object's
//           own dead mark catches an operation begun after the destruction,
//           unless a live object was built in the same memory since: that stale
//           use goes unseen (the record holds only for an operation that was
//           already inside the object when it died).
#include "weft/sim/detail/kernel.hpp"
#include "weft/sim/detail/heap.hpp"
#include "weft/sim/detail/source_path.hpp"

#include <cxxabi.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <boost/context/fiber.hpp>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <map>
#include <mutex>
#include <new>

#include "weft/sim/simulator.hpp"

#if defined(__SANITIZE_ADDRESS__)
#define WEFT_SIM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WEFT_SIM_ASAN 1
#endif
#endif
#if !defined(WEFT_SIM_ASAN)
#define WEFT_SIM_ASAN 0
#endif

#if WEFT_SIM_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#include <sanitizer/lsan_interface.h>
#endif

namespace weft::sim::detail {

namespace ctx = boost::context;

namespace {

// kill reports a broken invariant of the simulator itself (not of the code under
// test) and aborts.
[[noreturn]] void kill(const char* what) noexcept {
  std::fprintf(stderr, "weft sim: internal error: %s\n", what);
  std::abort();
}

#define WEFT_SIM_INVARIANT(cond)            \
  do {                                      \
    if (!(cond)) [[unlikely]] kill(#cond);  \
  } while (0)

// EhGlobals mirrors the C++ ABI's per-thread exception state (__cxa_eh_globals in
// libstdc++ and libc++abi): the caught-exception stack and the uncaught count.
struct EhGlobals {
  void* caught = nullptr;
  unsigned int uncaught = 0;
};

EhGlobals* eh_globals() noexcept { return reinterpret_cast<EhGlobals*>(abi::__cxa_get_globals()); }

std::size_t page_size() noexcept {
  static const std::size_t size = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  return size;
}

// Graveyard keeps the functions of fibers that never started in a failed run
// that is not torn down (Kernel::abandon_unfinished). It is reachable from a
// global, so LeakSanitizer does not report what they own.
struct Graveyard {
  std::mutex mu;
  std::vector<std::function<void()>> fns;
};
Graveyard& graveyard() {
  static Graveyard* g = new Graveyard;  // never destroyed, on purpose
  return *g;
}

// FiberUnwind is thrown where a suspended fiber resumes in teardown (Step T3). It
// is no std::exception, so only catch (...) and fiber_body's own handler see it.
struct FiberUnwind {};

// kTeardownOpsMax bounds the seam operations of one fiber in teardown (Step T5);
// kTeardownTurnOps those of one turn before the host takes another (Step T3).
constexpr std::uint64_t kTeardownOpsMax = std::uint64_t{1} << 20;
constexpr std::uint64_t kTeardownTurnOps = std::uint64_t{1} << 12;

}  // namespace

// Stack is one fiber stack: [bottom, bottom+size) usable, a guard page below it.
struct Stack {
  char* map = nullptr;
  std::size_t map_size = 0;
  char* bottom = nullptr;
  std::size_t size = 0;
};

// StackPool recycles fiber stacks of one OS thread, so a run costs no mmap once
// warm. Each stack has a PROT_NONE guard page below it to stop overflows.
class StackPool {
 public:
  static constexpr std::size_t kFreeMax = 1024;

  ~StackPool() {
    for (const Stack& s : free_) ::munmap(s.map, s.map_size);
  }

  // acquire returns a stack of `size` bytes (rounded up to pages).
  Stack acquire(std::size_t size) {
    const std::size_t page = page_size();
    size = (size + page - 1) / page * page;
    for (std::size_t i = free_.size(); i > 0; --i) {
      if (free_[i - 1].size == size) {
        Stack s = free_[i - 1];
        free_.erase(free_.begin() + static_cast<std::ptrdiff_t>(i - 1));
#if WEFT_SIM_ASAN
        // Frames that never returned (the fiber trampoline) left poisoned redzones.
        ASAN_UNPOISON_MEMORY_REGION(s.bottom, s.size);
#endif
        return s;
      }
    }
    Stack s;
    s.map_size = size + page;
    void* p = ::mmap(nullptr, s.map_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) kill("mmap of a fiber stack failed");
    s.map = static_cast<char*>(p);
    if (::mprotect(s.map, page, PROT_NONE) != 0) kill("mprotect of a fiber guard page failed");
    s.bottom = s.map + page;
    s.size = size;
    return s;
  }

  // release takes a stack back; beyond kFreeMax it is unmapped.
  void release(const Stack& s) noexcept {
    if (free_.size() >= kFreeMax) {
      ::munmap(s.map, s.map_size);
      return;
    }
    free_.push_back(s);
  }

 private:
  std::vector<Stack> free_;
};

namespace {
StackPool& thread_pool() {
  static thread_local StackPool pool;
  return pool;
}

// GivenStack is the Boost.Context stack allocator of one fiber: it hands out the
// stack the kernel already took from the pool and gives it back when the fiber ends.
struct GivenStack {
  StackPool* pool;
  Stack stack;
  ctx::stack_context allocate() noexcept {
    ctx::stack_context sc;
    sc.size = stack.size;
    sc.sp = stack.bottom + stack.size;
    return sc;
  }
  void deallocate(ctx::stack_context&) noexcept { pool->release(stack); }
};
}  // namespace

static_assert(kOpCount <= 0x80, "ops must fit in 7 bits of a record word");

// abandoned: left by the ended run, to be unwound (Steps T2-T3); given_up: its
// unwind could not finish (Step T5), its frames kept for good.
enum class FiberState : std::uint8_t { runnable, blocked, finished, abandoned, given_up };

struct Fiber {
  Fiber() { new (&ctx) ctx::fiber(); }
  ~Fiber() {
    // A suspended fiber's context must not be destroyed: Boost would unwind it.
    if (!ctx) ctx.~fiber();
  }
  Fiber(const Fiber&) = delete;
  Fiber& operator=(const Fiber&) = delete;

  FiberId id = kNoFiber;
  FiberState state = FiberState::runnable;
  bool started = false;
  bool stopped = false;  // stopped by a failure at a decision: goes on in teardown (Step T1)
  bool unwind = false;   // to be unwound when resumed in teardown (Steps T1, T2, T4)
  bool thrown = false;   // its unwind has begun (Step T4)
  bool no_wait = false;  // blocked while unwinding and nobody could wake it: it waits no more (Step T4)
  std::uint64_t teardown_ops = 0;  // seam operations in teardown (kTeardownOpsMax)
  WaitList* waiting_on = nullptr;  // the wait list it is on, if any (remove_waiter)
  Op blocked_op = Op::load;
  std::uint32_t runnable_index = 0;
  std::uint64_t wait_gen = 0;  // bumped on each wake; stale timers carry an old one
  WaitList joiners;
  std::string name;
  std::function<void()> fn;
  union {
    ctx::fiber ctx;  // the suspended continuation; empty while running or finished
  };
  Stack stack;
  EhGlobals eh;
  std::uint32_t uncounted = 0;  // its depth of Uncounted scopes while switched out (Step H2)
  void* asan_fake_stack = nullptr;
  const void* asan_bottom = nullptr;
  std::size_t asan_size = 0;
};

namespace {
// kMemoryCheckSteps: decisions between two reads of the resident memory (one
// /proc read per some ten milliseconds of simulation).
constexpr std::uint64_t kMemoryCheckSteps = std::uint64_t{1} << 16;

// resident_bytes reads the process's resident set (Linux /proc/self/statm); 0
// where it cannot, which never exceeds a budget.
std::uint64_t resident_bytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long long pages_total = 0, pages_resident = 0;
  const int n = std::fscanf(f, "%llu %llu", &pages_total, &pages_resident);
  std::fclose(f);
  return n == 2 ? pages_resident * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE)) : 0;
}

// Retained is what failed runs leave behind in this process: the frames of fibers
// abandoned without teardown (Kernel::abandon_unfinished, the default) or whose
// unwind could not finish (teardown Step T5) keep whatever they own, and a
// sweep of many short failing runs would grow without any run reaching an in-run
// memory check. After each run that gives up on a fiber the resident size is
// read once (a run whose fibers all finished or unwound pays nothing), and the next run
// checks it against its budget before its first decision (Kernel::run, "Step 0").
struct Retained {
  std::mutex mu;
  std::uint64_t resident_bytes = 0;  // read after the last run that gave up on a fiber
  std::uint64_t failed_runs = 0;     // runs that gave up on a fiber
};
Retained& retained() {
  static Retained* r = new Retained;  // never destroyed: fibers may outlive static destruction
  return *r;
}

std::vector<std::uint32_t>& thread_record_buffer() {
  static thread_local std::vector<std::uint32_t> buffer;
  return buffer;
}
HappensBefore& thread_happens_before() {
  static thread_local HappensBefore hb;
  return hb;
}
}  // namespace

Kernel::Kernel(const KernelConfig& config, Strategy& strategy, std::function<bool()> idle_probe)
    : step_bound_(config.step_bound),
      limit_(config.livelock_decisions != 0 ? std::min(config.step_bound, config.livelock_decisions)
                                             : config.step_bound),
      check_at_(config.memory_limit_bytes ? std::min(config.step_bound, kMemoryCheckSteps) : config.step_bound),
      next_check_(std::min(limit_, check_at_)),
      memory_limit_bytes_(config.memory_limit_bytes),
      spurious_per_mille_(config.spurious_wakeup_per_mille),
      fast_path_(!strategy.sees_every_decision()),
      observe_accesses_(strategy.observes_accesses()),
      record_(config.record),
      record_buf_(thread_record_buffer()),
      trace_(config.record ? config.trace : nullptr),
      config_(config),
      strategy_(strategy),
      idle_probe_(std::move(idle_probe)),
      livelock_decisions_(config.livelock_decisions) {
  static thread_local std::uint32_t epochs = 0;
  epoch_ = ++epochs;
  // 0 means "outside any run"; kRetiredStamp marks an atomic in a retired block (Step R2).
  while (epoch_ == 0 || epoch_ == kRetiredStamp) epoch_ = ++epochs;
  heap_run_ = next_heap_run();
  pool_ = &thread_pool();
  record_buf_.clear();
  if (config.race_detection || config.c11) {
    hb_ = &thread_happens_before();
    hb_->reset();
    hb_->set_history_depth(config.history_depth);
  }
  checks_cells_ = config.race_detection;
  c11_ = config.c11;
  order_probe_ = config.order_probe;
  plain_atomics_ = hb_ == nullptr && !observe_accesses_ && order_probe_ == nullptr;
}

// reconcile_record makes the record whole again after an overflow ended the run
// from inside a decision's bookkeeping (Step O3): the decision counted but its
// entry not (or not wholly) written. The record keeps its whole entries, and
// the count and the trace follow it.
void Kernel::reconcile_record() {
  if (!record_) return;
  std::uint64_t whole = 0;
  std::size_t end = 0;
  for (std::size_t i = 0; i < record_buf_.size(); ++whole) {
    const std::size_t width = (record_buf_[i] & kRandomBit) == 0 ? 1 : 3;
    if (i + width > record_buf_.size()) break;
    i += width;
    end = i;
  }
  record_buf_.resize(end);
  steps_ = whole;
  if (trace_ != nullptr) {
    while (!trace_->empty() && trace_->back().index >= steps_) trace_->pop_back();
  }
}

std::vector<Decision> Kernel::take_decisions() const {
  std::vector<Decision> out;
  if (!record_) return out;
  out.reserve(steps_);
  for (std::size_t i = 0; i < record_buf_.size(); ++i) {
    const std::uint32_t w = record_buf_[i];
    const auto op = static_cast<Op>((w >> 24) & 0x7f);
    if ((w & kRandomBit) == 0) {
      out.push_back(Decision{DecisionKind::fiber, op, w & kFiberIdMax});
    } else {
      WEFT_SIM_INVARIANT(i + 2 < record_buf_.size());
      const std::uint64_t value = record_buf_[i + 1] | static_cast<std::uint64_t>(record_buf_[i + 2]) << 32;
      out.push_back(Decision{DecisionKind::random, op, value});
      i += 2;
    }
  }
  WEFT_SIM_INVARIANT(out.size() == steps_);
  return out;
}

Kernel::~Kernel() {
  // Step R3: the run is over, its fibers unwound or abandoned.
  for (const auto& [base, block] : retired_) ::operator delete(block.base);
}

const RetiredBlock* Kernel::retired_holding(std::uintptr_t at) const {
  auto it = retired_.upper_bound(at);  // the block holding `at` starts at or below it
  if (it == retired_.begin()) return nullptr;
  --it;
  return at - it->first < it->second.bytes ? &it->second : nullptr;
}

std::string Kernel::describe_retired(std::uintptr_t at) const {
  const RetiredBlock* b = retired_holding(at);
  if (b == nullptr) return "a block the engine freed";
  return "a block of " + std::to_string(b->bytes) + " bytes the engine freed at decision " +
         std::to_string(b->decision) + " on fiber " + std::to_string(b->fiber) + " (" + fiber_name(b->fiber) + ")";
}

namespace {
// tls_recording_retired is set while the kernel records a retired block: an
// allocation that fails there gives the record up (the engine frees the block),
// it does not end the run (on_new_failure).
thread_local bool tls_recording_retired = false;
}  // namespace

bool Kernel::retire(void* block, std::size_t bytes) noexcept {  // Step R1
  // Inside a run only: the host's frees are the engine's (and no fiber's).
  if (block == nullptr || current_ == host_.get()) return false;
  Uncounted uncounted;  // the simulator's own work (Step H2)
  const auto at = reinterpret_cast<std::uintptr_t>(block);
  // Step R3's bound: at most kRetiredBytesKept, and an eighth of the run's memory budget.
  std::size_t keep = kRetiredBytesKept;
  if (memory_limit_bytes_ != 0) keep = std::min<std::size_t>(keep, memory_limit_bytes_ / 8);
  if (ended_ || unwinding_) {
    // Step R4: the verdict is in. A block given up again (or inside a kept one)
    // is kept already; past the bound the engine frees it as before.
    if (retired_holding(at) != nullptr) return true;
    return retired_bytes_ + bytes <= keep && record_retired(at, block, bytes);
  }
  if (retired_holding(at) != nullptr) {
    // Freed twice (its size, read from the block, is the pattern's): before the fill.
    fail(Outcome::use_after_free, "use after free: fiber " + std::to_string(current_id_) + " (" +
                                      fiber_name(current_id_) + ") frees again " + describe_retired(at));
  }
  if (!record_retired(at, block, bytes)) return false;
  std::memset(block, kRetiredByte, bytes);
  // Step R3: past the bound, the oldest blocks go first.
  while (retired_bytes_ > keep && retired_order_.size() > 1) {
    auto it = retired_.find(retired_order_.front());
    retired_order_.pop_front();
    retired_bytes_ -= it->second.bytes;
    ::operator delete(it->second.base);
    retired_.erase(it);
  }
  return true;
}

bool Kernel::record_retired(std::uintptr_t at, void* block, std::size_t bytes) noexcept {
  // No room for the record (a teardown may be out of memory): the engine frees
  // the block itself.
  struct Recording {
    Recording() { tls_recording_retired = true; }
    ~Recording() { tls_recording_retired = false; }
  } recording;
  try {
    retired_order_.push_back(at);
  } catch (const std::bad_alloc&) {
    return false;
  }
  try {
    retired_.emplace(at, RetiredBlock{block, bytes, current_id_, steps_});
  } catch (const std::bad_alloc&) {
    retired_order_.pop_back();
    return false;
  }
  retired_bytes_ += bytes;
  return true;
}

void Kernel::touched_retired(const void* object, const char* what, const std::source_location& site) {  // Step R2
  Uncounted uncounted;  // the simulator's own work (Step H2)
  const std::string where = std::string(repository_relative(site.file_name())) + ":" + std::to_string(site.line());
  // fail, not stop_at_decision: the fiber must not go on with the pattern's
  // values (in teardown too, where fail unwinds it: Step T4).
  fail(Outcome::use_after_free, std::string("use after free: ") + what + " at " + where + " by fiber " +
                                    std::to_string(current_id_) + " (" + fiber_name(current_id_) + ") touches " +
                                    describe_retired(reinterpret_cast<std::uintptr_t>(object)));
}

namespace {

// kOverflowSlack: a frame larger than the guard page can jump past it; a fault
// this far below a fiber's stack is still taken to be its overflow.
constexpr std::size_t kOverflowSlack = std::size_t{256} << 10;
constexpr std::size_t kAltStackSize = std::size_t{64} << 10;

struct sigaction g_previous_segv;

// append copies text into out[len..size) and returns the new length.
std::size_t append(char* out, std::size_t size, std::size_t len, const char* text) noexcept {
  while (*text != '\0' && len + 1 < size) out[len++] = *text++;
  return len;
}
std::size_t append_u64(char* out, std::size_t size, std::size_t len, std::uint64_t v) noexcept {
  char digits[24];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  while (n > 0 && len + 1 < size) out[len++] = digits[--n];
  return len;
}

// append_fiber names a fiber as the fault messages do: simulated thread 'NAME' (fiber N).
std::size_t append_fiber(char* out, std::size_t size, std::size_t len, const Fiber& f) noexcept {
  len = append(out, size, len, "simulated thread '");
  len = append(out, size, len, f.name.c_str());
  len = append(out, size, len, "' (fiber ");
  len = append_u64(out, size, len, f.id);
  return append(out, size, len, ")");
}

// say_teardown_died writes the verdict of a run whose teardown is dying, if it
// is one, before the process's death says why (Step T8).
void say_teardown_died() noexcept {
  char message[768];
  const Kernel* k = tls_kernel;
  if (const std::size_t n = k != nullptr ? k->teardown_fault_message(message, sizeof message) : 0; n != 0)
    (void)!::write(2, message, n);
}

[[maybe_unused]] void on_fault(int sig, siginfo_t* info, void* uctx) {  // unused under ASan
  char message[512];
  Kernel* k = tls_kernel;
  const std::size_t len = k != nullptr ? k->stack_fault_message(info->si_addr, message, sizeof message) : 0;
  if (len != 0) {
    // Step O1: this signal stays blocked until the handler returns, and it never
    // does: unblock it, so the next overflow on this thread is caught too.
    sigset_t segv;
    sigemptyset(&segv);
    sigaddset(&segv, SIGSEGV);
    ::pthread_sigmask(SIG_UNBLOCK, &segv, nullptr);
    k->overflowed(info->si_addr, message, len);  // Step O2: returns only when it cannot end the run
    say_teardown_died();
    (void)!::write(2, "weft: resource_limit: ", 22);
    (void)!::write(2, message, len);
    (void)!::write(2, "\n", 1);
    ::_exit(static_cast<int>(Outcome::resource_limit));
  }
  say_teardown_died();  // Step T8
  // Not an overflow, inside a run: name the run before the fault's previous
  // action, so a sweep that dies of it still says which seed to replay.
  if (const std::size_t n = k != nullptr ? k->fault_message(sig, message, sizeof message) : 0; n != 0)
    (void)!::write(2, message, n);
  // Not an overflow: the fault's previous action (usually the default: a core dump).
  if ((g_previous_segv.sa_flags & SA_SIGINFO) != 0 && g_previous_segv.sa_sigaction != nullptr) {
    g_previous_segv.sa_sigaction(sig, info, uctx);
    return;
  }
  if (g_previous_segv.sa_handler != SIG_DFL && g_previous_segv.sa_handler != SIG_IGN &&
      g_previous_segv.sa_handler != nullptr) {
    g_previous_segv.sa_handler(sig);
    return;
  }
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

// watch_for_overflow installs the fault handler once per process and an alternate
// signal stack once per OS thread (a fault on a full stack needs another to run on).
// AddressSanitizer reports overflows itself, so its builds keep its handler.
void watch_for_overflow() noexcept {
#if !WEFT_SIM_ASAN
  static thread_local bool has_alt_stack = false;
  if (!has_alt_stack) {
    stack_t alt{};
    alt.ss_sp = std::malloc(kAltStackSize);  // lives as long as the thread, on purpose
    alt.ss_size = kAltStackSize;
    if (alt.ss_sp != nullptr && ::sigaltstack(&alt, nullptr) == 0) has_alt_stack = true;
  }
  static std::once_flag installed;
  std::call_once(installed, [] {
    struct sigaction sa{};
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGSEGV, &sa, &g_previous_segv);
  });
#endif
}

}  // namespace

// A stack overflow of a fiber running the code under test ends the run as
// resource_limit, and the process goes on:
//  Step O1. The fault handler (on its alternate stack) sees a fault in or just
//           below the running fiber's guard page, writes the message into a
//           buffer (no allocation) and unblocks the signal it will never
//           return from.
//  Step O2. overflowed checks that the thread can be left where it stands:
//           the fault is inside the guard page (a frame that jumped past it
//           may have written into a neighbouring mapping), the fiber is
//           runnable and outside the simulator's own code (tls_uncounted: no
//           kernel list half updated) and outside the replaced operator new and
//           delete (tls_in_allocator: malloc's lock or the count's would stay
//           held), with no exception being unwound. Then the fiber is given up (as in teardown Step T5: never
//           resumed, its frames keeping what they own, counted as kept), the
//           run ends with the outcome, and the handler switches to the host as
//           any failing fiber does; its frame stays on the alternate stack,
//           which the next fault reuses from its top.
//  Step O3. On the host, the message becomes the run's, and the record is made
//           whole (reconcile_record: the fault may have come in a decision's
//           bookkeeping, after its count and before its entry, where a
//           debug build calls functions); the teardown unwinds the other fibers.
// Otherwise (any check of Step O2 fails, the host overflowed, or the run is in
// its teardown) the handler writes the message and the process exits with
// resource_limit's code, as before a run could end this way: a user's test
// whose overflow falls inside an atomic operation under c11 ends that way.
// Not seen: a lock the fiber held that is none of the above (a direct call to
// malloc or stdio, the C++ runtime's allocation of an exception before it is
// thrown, a function-local static's guard while its initialiser overflowed, a
// real mutex in third-party code): the next taker would wait on it for good.
// reconcile_record handles the one partial write a fault outside Uncounted
// scopes can leave (a fiber decision counted, not recorded); a fault in
// trace_step's prologue leaves the trace one step short, which nothing reads.

void Kernel::overflowed(const void* addr, const char* message, std::size_t length) noexcept {
  if (unwinding_ || current_ == nullptr || current_ == host_.get() || ended_) return;
  const auto a = reinterpret_cast<std::uintptr_t>(addr);
  const auto bottom = reinterpret_cast<std::uintptr_t>(current_->stack.bottom);
  const bool in_guard_page = a < bottom && bottom - a <= page_size();
  if (!in_guard_page || current_->state != FiberState::runnable || tls_uncounted != 0 || tls_in_allocator != 0 ||
      std::uncaught_exceptions() != 0)  // a throw allocates its exception, and unwinds
    return;
  length = std::min(length, sizeof overflow_message_);
  std::memcpy(overflow_message_, message, length);
  overflow_length_ = length;
  Fiber& self = *current_;
  if (self.state == FiberState::runnable) remove_runnable(self);
  self.state = FiberState::given_up;
  ended_ = true;
  outcome_ = Outcome::resource_limit;
  switch_to(*host_);
  kill("a fiber that overflowed its stack was resumed");
}

namespace {
// overflow_text writes the message of fiber f's overflow at `decision`.
std::size_t overflow_text(const Fiber& f, std::uint64_t decision, std::uint64_t seed, char* out,
                          std::size_t size) noexcept {
  std::size_t n = append_fiber(out, size, 0, f);
  n = append(out, size, n, " overflowed its stack of ");
  n = append_u64(out, size, n, f.stack.size);
  n = append(out, size, n, " bytes at decision ");
  n = append_u64(out, size, n, decision);
  n = append(out, size, n, " (seed ");
  n = append_u64(out, size, n, seed);
  return append(out, size, n, "); raise it with stack_size (weft::testing::Options, sim::Options)");
}
}  // namespace

std::size_t Kernel::stack_fault_message(const void* addr, char* out, std::size_t size) const noexcept {
  const Fiber* f = current_;
  if (f == nullptr || f == host_.get() || f->stack.bottom == nullptr) return 0;
  const auto a = reinterpret_cast<std::uintptr_t>(addr);
  const auto bottom = reinterpret_cast<std::uintptr_t>(f->stack.bottom);
  if (a >= bottom || bottom - a > kOverflowSlack) return 0;
  return overflow_text(*f, steps_, config_.seed, out, size);
}

std::size_t Kernel::fault_message(int sig, char* out, std::size_t size) const noexcept {
  const Fiber* f = current_;
  if (f == nullptr || f == host_.get()) return 0;
  std::size_t n = append(out, size, 0, "weft sim: ");
  n = append_fiber(out, size, n, *f);
  n = append(out, size, n, " died of signal ");
  n = append_u64(out, size, n, static_cast<std::uint64_t>(sig));
  n = append(out, size, n, " at decision ");
  n = append_u64(out, size, n, steps_);
  n = append(out, size, n, " of seed ");
  n = append_u64(out, size, n, config_.seed);
  n = append(out, size, n, ": a wild memory access in the code under test (such as a write through a stale "
                           "reference into a returned stack frame); replay this seed to debug it\n");
  return n;
}

std::size_t Kernel::teardown_fault_message(char* out, std::size_t size) const noexcept {
  if (!unwinding_) return 0;
  std::size_t n = append(out, size, 0, "weft sim: the run of seed ");
  n = append_u64(out, size, n, config_.seed);
  n = append(out, size, n, " had already failed when its teardown died: ");
  n = append(out, size, n, outcome_name(outcome_));
  n = append(out, size, n, ": ");
  // The message, cut to leave room for the advice (it is already complete in memory).
  constexpr std::size_t kAdvice = 240;
  std::size_t room = size > n + kAdvice ? size - n - kAdvice : 0;
  for (std::size_t i = 0; i < message_.size() && room > 1; ++i, --room) out[n++] = message_[i] == '\n' ? ' ' : message_[i];
  n = append(out, size, n, ". The failure left memory the teardown could not trust; that failure is the verdict. "
                           "Turn the teardown off to keep the process (sim::Options::teardown or "
                           "weft::testing::Options::teardown = false, simrun --no-teardown)\n");
  return n;
}

// ---- out of memory inside a run ----
//
// A process limit below the memory budget (a ulimit) makes operator new fail
// before the budget's check sees it, and it can fail inside engine code that may
// not throw (a noexcept constructor that makes a Cell or an atomic), where
// std::bad_alloc would terminate the process. A new-handler ends the run instead:
//   Step 1: operator new finds no memory and calls the handler before throwing.
//   Step 2: in a run's fiber, with this thread's reserve still held, the handler
//           frees the reserve (so the message and the end of the run can
//           allocate) and fails the run as resource_limit: the fiber is left like
//           any failed run's fiber, and nothing throws through engine code.
//   Step 3: anywhere else (the host, a file reader, the reserve already spent) it
//           defers to the handler installed before it, or throws std::bad_alloc as
//           operator new does without one (simrun's readers and main catch that).
namespace {
constexpr std::size_t kOutOfMemoryReserveBytes = std::size_t{4} << 20;
thread_local void* tls_memory_reserve = nullptr;
std::new_handler g_previous_new_handler = nullptr;

void on_new_failure() {
  Kernel* k = tls_kernel;
  if (k != nullptr && k->in_fiber() && tls_memory_reserve != nullptr && !tls_recording_retired) {
    std::free(tls_memory_reserve);  // Step 2
    tls_memory_reserve = nullptr;
    k->out_of_memory();
  }
  if (g_previous_new_handler != nullptr) return g_previous_new_handler();  // Step 3
  throw std::bad_alloc();
}

// arm_out_of_memory installs the handler once per process and holds this
// thread's reserve for the next run.
void arm_out_of_memory() {
  static const bool installed = [] {
    g_previous_new_handler = std::set_new_handler(&on_new_failure);
    return true;
  }();
  (void)installed;
  if (tls_memory_reserve == nullptr) tls_memory_reserve = std::malloc(kOutOfMemoryReserveBytes);
}
}  // namespace

void Kernel::out_of_memory() {
  fail(Outcome::resource_limit,
       "out of memory after " + std::to_string(steps_) + " decisions in fiber " + std::to_string(current_id_) + " (" +
           current_->name + "): the process's memory limit (ulimit) is below the memory budget of " +
           std::to_string(memory_limit_bytes_ >> 20) + " MiB; lower --memory-limit below it, or raise the limit");
}

void Kernel::run(std::function<void()> main_fn) {
  if (tls_kernel != nullptr) kill("Simulation::run called inside a simulation");
  arm_out_of_memory();
  // Step 0: memory kept by earlier failed runs counts against this run's budget
  // (see Retained). The run ends as resource_limit before its first decision.
  if (memory_limit_bytes_ != 0) {
    std::lock_guard<std::mutex> lock(retained().mu);
    if (retained().resident_bytes > memory_limit_bytes_) {
      ended_ = true;
      outcome_ = Outcome::resource_limit;
      resident_bytes_ = retained().resident_bytes;
      message_ = "resident memory " + std::to_string(resident_bytes_ >> 20) +
                 " MiB exceeds the memory budget of " + std::to_string(memory_limit_bytes_ >> 20) +
                 " MiB before the run began: " + std::to_string(retained().failed_runs) +
                 " failed runs in this process keep the memory of the fibers they left (split the sweep "
                 "with --shard, or raise --memory-limit)";
      return;
    }
  }
  watch_for_overflow();
  tls_kernel = this;
  eh_globals_ = eh_globals();
  host_ = std::make_unique<Fiber>();
  current_ = host_.get();
  spawn("main", std::move(main_fn));
  switch_to(*fibers_[0]);
  // Back on the host stack: the run has ended.
  WEFT_SIM_INVARIANT(ended_);
  if (overflow_length_ != 0) {  // Step O3
    message_.assign(overflow_message_, overflow_length_);
    const std::uint64_t counted = steps_;
    reconcile_record();
    for (const auto& f : fibers_) {  // the message names the decision the record kept
      if (steps_ == counted || f->state != FiberState::given_up) continue;
      char text[sizeof overflow_message_];
      message_.assign(text, overflow_text(*f, steps_, config_.seed, text, sizeof text));
    }
  }
  fibers_at_end_ = fibers_.size();
  if (config_.teardown) {
    teardown();
  } else {
    abandon_unfinished();
  }
  tls_kernel = nullptr;  // Step T7

  bool gave_up = false;
  for (auto& f : fibers_) {
    if (f->state != FiberState::given_up) continue;
    ++fibers_kept_;
#if WEFT_SIM_ASAN
    __lsan_register_root_region(f->stack.bottom, f->stack.size);
#else
    pool_->release(f->stack);
#endif
    gave_up = true;
  }
  if (gave_up) {
    const std::uint64_t now = resident_bytes();
    std::lock_guard<std::mutex> lock(retained().mu);
    retained().resident_bytes = now;
    ++retained().failed_runs;
  }
}

namespace {
std::terminate_handler g_previous_terminate = nullptr;

// on_terminate is Step T5 for a throw that reached a noexcept frame: the fiber
// being unwound is abandoned instead of the process. Any other call goes on to
// the previous handler.
[[noreturn]] void on_terminate() {
  Kernel* k = tls_kernel;
  if (k != nullptr && k->tearing_down() && k->in_fiber()) k->abandon_current();
  if (g_previous_terminate != nullptr) g_previous_terminate();
  std::abort();
}
}  // namespace

void Kernel::teardown() {
  // Step T1.
  unwinding_ = true;
  hb_ = nullptr;
  checks_cells_ = false;
  c11_ = false;
  observe_accesses_ = false;
  order_probe_ = nullptr;  // a weakening's count is final too
  plain_atomics_ = true;
  next_check_ = 0;  // every decision takes decide_slow, which returns at once
  runnable_.clear();
  for (auto& fp : fibers_) {
    Fiber& f = *fp;
    // A fiber busy for a while (sleep) has done its time: time passes at once.
    const bool busy = f.state == FiberState::blocked && f.blocked_op == Op::sleep;
    if (f.state == FiberState::runnable || busy || (f.state == FiberState::abandoned && f.stopped)) {
      // A fiber stopped at the decision its own block made (pick_after_block)
      // is still on the wait list it joined; it goes on as if woken, so it
      // leaves the list now (or its wait loop joins it again, and the second
      // link cuts off every waiter queued behind the first).
      remove_waiter(f);
      f.state = FiberState::runnable;
      set_runnable(f);
    }
  }
  static std::once_flag installed;
  std::call_once(installed, [] {
    g_previous_terminate = std::set_terminate(on_terminate);
#if WEFT_SIM_ASAN
    __sanitizer_set_death_callback(say_teardown_died);  // Step T8: AddressSanitizer's report
#endif
  });
  // Steps T2-T6. `spun` counts the turns in a row that ended with the fiber
  // still runnable: once every runnable fiber has had one, they wait on each
  // other or on a fiber that waits for good, and the host unwinds one of those.
  std::size_t spun = 0;
  for (;;) {
    Fiber* f = spun < runnable_.size() ? next_runnable_in_teardown() : nullptr;
    if (f == nullptr) {
      f = newest_to_unwind();
      spun = 0;
      if (f == nullptr) {
        if (runnable_.empty()) break;
        continue;  // only fibers that never block are left: their operations run out (Step T5)
      }
    }
    turn_ops_ = 0;
    preempted_ = false;
    switch_to(*f);  // Steps T3-T4; back here once it blocked, yielded, finished or was given up
    spun = preempted_ ? spun + 1 : 0;
  }
}

Fiber* Kernel::next_runnable_in_teardown() {
  if (runnable_.empty()) return nullptr;
  FiberId after = kNoFiber;
  FiberId lowest = kNoFiber;
  for (FiberId id : runnable_) {
    if (id > teardown_last_ && id < after) after = id;
    lowest = std::min(lowest, id);
  }
  teardown_last_ = after != kNoFiber ? after : lowest;
  return fibers_[teardown_last_].get();
}

Fiber* Kernel::newest_to_unwind() {
  for (std::size_t i = fibers_.size(); i > 0; --i) {
    Fiber& f = *fibers_[i - 1];
    if (f.state != FiberState::blocked && f.state != FiberState::abandoned) continue;
    // Unwinding already and waiting: while others run, one of them may wake it.
    if (f.thrown && !runnable_.empty()) continue;
    if (joins_a_runnable_fiber(f)) continue;  // it waits for one that is still on its way
    if (f.thrown) f.no_wait = true;  // blocked in its own unwind: its wait returns (Step T4)
    if (f.state == FiberState::blocked) remove_waiter(f);
    f.state = FiberState::abandoned;  // off the runnable set for good: a wake-up passes it by
    f.unwind = true;
    return &f;
  }
  return nullptr;
}

bool Kernel::joins_a_runnable_fiber(const Fiber& f) const {
  if (f.state != FiberState::blocked || f.waiting_on == nullptr) return false;
  for (FiberId id : runnable_) {
    if (f.waiting_on == &fibers_[id]->joiners) return true;
  }
  return false;
}

bool Kernel::unwinding() const noexcept { return unwinding_ && current_->unwind; }

// abandon_unfinished is the end of a failed run without teardown (Options::
// teardown off): no fiber is resumed. A fiber that never started gives its
// function to the graveyard unrun (destroying it could run destructors against
// the run's abandoned state) and its stack back to the pool; a started one is
// given up as in Step T5, its frames keeping what they own.
void Kernel::abandon_unfinished() {
  for (auto& f : fibers_) {
    if (f->state == FiberState::finished) continue;
    if (f->started) {
      f->state = FiberState::given_up;
      continue;
    }
    f->state = FiberState::abandoned;
    {
      std::lock_guard<std::mutex> lock(graveyard().mu);
      graveyard().fns.push_back(std::move(f->fn));
    }
    pool_->release(f->stack);
  }
}

void Kernel::unwind_here() {
  if (current_->state == FiberState::given_up) kill("a fiber given up in teardown was resumed");
  current_->unwind = true;
  current_->thrown = true;
  // A fiber suspended inside a destructor of an earlier unwind cannot throw.
  if (std::uncaught_exceptions() > 0) abandon_current();
  throw FiberUnwind{};
}

void Kernel::unwind_op() {
  Fiber& self = *current_;
  if (++self.teardown_ops > kTeardownOpsMax) abandon_current();
  // Step T3: a turn ends after kTeardownTurnOps operations; the fiber stays runnable.
  if (++turn_ops_ > kTeardownTurnOps && self.state == FiberState::runnable && !self.unwind) {
    preempted_ = true;
    switch_to(*host_);
  }
}

bool Kernel::cannot_wait() const noexcept {
  return unwinding_ && current_->unwind && (current_->no_wait || std::uncaught_exceptions() == 0);
}

void Kernel::cannot_block() {
  WEFT_SIM_INVARIANT(unwinding_);
  unwind_op();
  if (std::uncaught_exceptions() == 0) {
    current_->unwind = true;
    current_->thrown = true;
    throw FiberUnwind{};
  }
}

void Kernel::abandon_current() {
  WEFT_SIM_INVARIANT(unwinding_ && current_ != host_.get());
  if (current_->state == FiberState::runnable) remove_runnable(*current_);
  current_->state = FiberState::given_up;
  switch_to(*host_);
  kill("a fiber given up in teardown was resumed");
}

FiberId Kernel::spawn(std::string name, std::function<void()> fn) {
  Uncounted uncounted;  // the simulator's own work (Step H2)
  const auto id = static_cast<FiberId>(fibers_.size());
  if (id > kFiberIdMax) kill("more than 2^24 fibers in one run");
  auto owned = std::make_unique<Fiber>();
  Fiber& f = *owned;
  f.id = id;
  f.name = std::string(name);  // a copy the kernel owns (Step H2): the caller's is freed by the caller's code
  f.fn = std::move(fn);
  f.stack = pool_->acquire(config_.stack_size);
  f.asan_bottom = f.stack.bottom;
  f.asan_size = f.stack.size;
  Fiber* fp = &f;
  f.ctx = ctx::fiber(std::allocator_arg, GivenStack{pool_, f.stack}, [this, fp](ctx::fiber&& from) -> ctx::fiber {
    on_fiber_start(&from);
    fiber_body(*fp);
    Fiber* next = fiber_exit(*fp);
    return std::move(next->ctx);
  });
  fibers_.push_back(std::move(owned));
  slots_.push_back(nullptr);
  next_waiter_.push_back(kNoFiber);
  if (unwinding_) {  // Step T3: it is never run, its function dropped when its turn to be unwound comes
    f.state = FiberState::abandoned;
    return id;
  }
  ++live_;
  f.state = FiberState::runnable;
  set_runnable(f);
  if (hb_) hb_->on_spawn(current_ == host_.get() ? kNoFiber : current_id_, id);
  strategy_.on_spawn(id);
  note_progress();
  return id;
}

void Kernel::on_fiber_start(void* from_ctx) {
  current_->started = true;
#if WEFT_SIM_ASAN
  const void* bottom = nullptr;
  std::size_t size = 0;
  __sanitizer_finish_switch_fiber(nullptr, &bottom, &size);
  prev_->asan_bottom = bottom;
  prev_->asan_size = size;
#endif
  auto& from = *static_cast<ctx::fiber*>(from_ctx);
  if (from) prev_->ctx = std::move(from);
}

void Kernel::fiber_body(Fiber& f) {
  std::string error;
  bool threw = false;
  try {
    // The function lives on the fiber's own stack and dies there, as in std::thread.
    std::function<void()> fn = std::move(f.fn);
    if (!unwinding_) fn();  // Step T3: a fiber first started in teardown only drops it
  } catch (const FiberUnwind&) {
    WEFT_SIM_INVARIANT(unwinding_);
    return;  // Step T3: unwound
  } catch (const std::exception& e) {
    threw = true;
    error = e.what();
  } catch (...) {
    threw = true;
    error = "exception of unknown type";
  }
  // Outside the catch blocks: the exception is destroyed before any switch. In
  // teardown another exception that escapes is no outcome: the run has one.
  if (threw && !unwinding_) {
    end_run(Outcome::exception, "fiber " + std::to_string(f.id) + " (" + f.name + "): exception escaped: " + error);
  }
}

Fiber* Kernel::fiber_exit(Fiber& f) {
  WEFT_SIM_INVARIANT(current_ == &f);
  ++tls_uncounted;  // the kernel's work (Step H2); the switch below sets the next fiber's depth
  Fiber* next = host_.get();
  if (unwinding_) {  // Steps T3-T4: back to the host; a joiner may go on
    WEFT_SIM_INVARIANT(f.state == FiberState::abandoned || f.state == FiberState::runnable);
    if (f.state == FiberState::runnable) remove_runnable(f);
    f.state = FiberState::finished;
    wake_all(f.joiners);
  } else {
    WEFT_SIM_INVARIANT(f.state == FiberState::runnable);
    remove_runnable(f);
    f.state = FiberState::finished;
    --live_;
    note_progress();
    wake_all(f.joiners);
    if (!ended_) next = pick_after_block(Op::exit);
    if (next == &f) {  // stopped at that decision and resumed in teardown (Step T3): done
      WEFT_SIM_INVARIANT(unwinding_);
      if (f.state == FiberState::runnable) remove_runnable(f);
      f.state = FiberState::finished;
      next = host_.get();
    }
  }
  WEFT_SIM_INVARIANT(next != &f);
  // The switch, minus the resume (Boost resumes `next` when the function returns).
  auto* g = static_cast<EhGlobals*>(eh_globals_);
  *g = next->eh;
  tls_uncounted = next->uncounted;  // Step H2
  if (next != host_.get()) ++context_switches_;
  prev_ = &f;
  current_ = next;
  current_id_ = next->id;
#if WEFT_SIM_ASAN
  __sanitizer_start_switch_fiber(nullptr, next->asan_bottom, next->asan_size);  // null: this stack dies
#endif
  return next;
}

void Kernel::switch_to(Fiber& next) {
  Fiber& self = *current_;
  WEFT_SIM_INVARIANT(&next != &self);
  auto* g = static_cast<EhGlobals*>(eh_globals_);
  self.eh = *g;
  *g = next.eh;
  self.uncounted = tls_uncounted;  // Step H2: the depth is the running fiber's own
  tls_uncounted = next.uncounted;
  if (&self != host_.get() && &next != host_.get()) ++context_switches_;
  prev_ = &self;
  current_ = &next;
  current_id_ = next.id;
#if WEFT_SIM_ASAN
  __sanitizer_start_switch_fiber(&self.asan_fake_stack, next.asan_bottom, next.asan_size);
#endif
  ctx::fiber from = std::move(next.ctx).resume();
  // Resumed: whoever switched to us set prev_ to itself.
#if WEFT_SIM_ASAN
  const void* bottom = nullptr;
  std::size_t size = 0;
  __sanitizer_finish_switch_fiber(self.asan_fake_stack, &bottom, &size);
  prev_->asan_bottom = bottom;
  prev_->asan_size = size;
#endif
  if (from) prev_->ctx = std::move(from);
  if (unwinding_ && self.unwind && !self.thrown && &self != host_.get()) [[unlikely]] unwind_here();  // Step T4
}

void Kernel::set_runnable(Fiber& f) {
  f.runnable_index = static_cast<std::uint32_t>(runnable_.size());
  runnable_.push_back(f.id);
}

void Kernel::remove_runnable(Fiber& f) {
  const std::uint32_t i = f.runnable_index;
  WEFT_SIM_INVARIANT(i < runnable_.size() && runnable_[i] == f.id);
  const FiberId last = runnable_.back();
  runnable_[i] = last;
  fibers_[last]->runnable_index = i;
  runnable_.pop_back();
}

void Kernel::end_run(Outcome outcome, std::string message) {
  if (ended_) return;  // the first failure wins
  ended_ = true;
  outcome_ = outcome;
  message_ = std::move(message);
}

void Kernel::fail(Outcome outcome, std::string message) {
  Uncounted uncounted;  // the simulator's own work (Step H2)
  WEFT_SIM_INVARIANT(current_ != host_.get());
  if (unwinding_) {  // Step T4: the run has its outcome; unwind this fiber
    current_->unwind = true;
    current_->thrown = true;
    if (std::uncaught_exceptions() > 0) abandon_current();
    throw FiberUnwind{};
  }
  end_run(outcome, std::move(message));
  Fiber& self = *current_;
  if (self.state == FiberState::runnable) remove_runnable(self);
  self.state = FiberState::abandoned;
  self.unwind = true;  // Step T1: code after a failed assertion must not run
  switch_to(*host_);   // in teardown it throws (Step T4)
  kill("an abandoned fiber was resumed");
}

void Kernel::note_object_op(const void* object) {  // Step L1
  Uncounted uncounted;  // the simulator's own work (Step H2)
  if (current_id_ == kNoFiber) return;  // the host: it has no operation to fail
  if (current_id_ >= op_object_.size()) {
    op_object_.resize(current_id_ + 1, nullptr);
    op_object_died_.resize(current_id_ + 1, 0);
  }
  op_object_[current_id_] = object;
  op_object_died_[current_id_] = 0;
}

void Kernel::object_destroyed(const void* object) noexcept {  // Step L2
  Uncounted uncounted;  // the simulator's own work (Step H2)
  if (unwinding_) return;
  for (std::size_t f = 0; f < op_object_.size(); ++f) {
    if (f != current_id_ && op_object_[f] == object) op_object_died_[f] = 1;
  }
}

void Kernel::stop_at_decision(Outcome outcome, std::string message) {
  Uncounted uncounted;  // the simulator's own work (Step H2)
  if (unwinding_) return;  // no decision is checked in teardown
  end_run(outcome, std::move(message));
  Fiber& self = *current_;
  if (self.state == FiberState::runnable) remove_runnable(self);
  self.state = FiberState::abandoned;
  self.stopped = true;
  switch_to(*host_);  // back in teardown: it goes on (Step T3), or it throws (Step T4)
  WEFT_SIM_INVARIANT(unwinding_);
}

FiberId Kernel::choose(Op op, bool current_runnable, bool yielding) {
  FiberId next;
  if (fast_path_ && runnable_.size() == 1) {
    next = runnable_[0];
  } else {
    const Point p{steps_, op, current_id_, current_runnable, yielding};
    next = strategy_.next_fiber(p, runnable_);
  }
  if (next >= fibers_.size() || fibers_[next]->state != FiberState::runnable) [[unlikely]] {
    divergence_index_ = steps_;
    std::string why = strategy_.divergence();
    if (why.empty()) {
      why = "the strategy chose fiber " + (next == kNoFiber ? std::string("none") : std::to_string(next)) +
            ", which is not runnable";
    }
    stop_at_decision(Outcome::nondeterminism,
                     "diverged at decision " + std::to_string(steps_) + " (" + op_name(op) + "): " + why);
    return current_id_;  // teardown: no switch (Step T3)
  }
  note_fiber(op, next);
  return next;
}

void Kernel::decide_slow(Op op, bool yielding) {
  Uncounted uncounted;  // the simulator's own work (Step H2)
  if (unwinding_) [[unlikely]] {  // Step T1: no decision
    unwind_op();
    // Step T3: a fiber that yields lets the other runnable fibers on.
    if (yielding && current_->state == FiberState::runnable && !current_->unwind && runnable_.size() > 1) {
      preempted_ = true;
      switch_to(*host_);
    }
    return;
  }
  if (steps_ >= limit_) [[unlikely]] {
    const Limit l = at_limit(op);
    if (l == Limit::step_bound) {
      stop_at_decision(Outcome::step_bound_exceeded, "step bound " + std::to_string(step_bound_) + " exceeded at " +
                                                         op_name(op) + " by fiber " + std::to_string(current_id_) +
                                                         " (" + current_->name + "); an unbounded spin or livelock?");
      return;
    }
    if (l == Limit::livelock) {
      stop_at_decision(Outcome::livelock, describe_livelock());
      return;
    }
  }
  if (steps_ >= check_at_ && over_memory_budget()) {
    stop_at_decision(Outcome::resource_limit, memory_message());
    return;
  }
  const FiberId next = choose(op, true, yielding);
  if (next != current_id_) {
    if (!yielding) ++preemptions_;
    switch_to(*fibers_[next]);
  }
}

// ---- the livelock oracle (Options::livelock_decisions) ----

Kernel::Limit Kernel::at_limit(Op op) {
  if (steps_ >= step_bound_) return Limit::step_bound;
  // Below the step bound only the livelock oracle sets limit_: the run has gone
  // livelock_decisions_ decisions without progress. Watch the next ones, each
  // through here (limit_ = steps_), to name the cycle; progress ends the watch.
  if (!watching_) {
    watching_ = true;
    watch_.clear();
  }
  watch_.push_back(static_cast<std::uint32_t>(op) << 24 | current_id_);
  if (watch_.size() >= kLivelockWatch) return Limit::livelock;
  limit_ = steps_;
  next_check_ = std::min(limit_, check_at_);
  return Limit::go_on;
}

void Kernel::stop_watch() noexcept {
  watching_ = false;
  watch_.clear();
}

namespace {

// Cycle is what a fiber repeated while the livelock oracle watched: its operations
// split at each occurrence of an anchor (the rarest operation that occurs at least
// three times), the number of whole segments, how many differ (a loop that draws a
// random victim makes a few variants), and the most common segment.
struct Cycle {
  std::size_t repeats = 0;
  std::size_t variants = 0;
  std::vector<Op> most_common;
};

Cycle find_cycle(const std::vector<Op>& ops) {
  std::array<std::size_t, kOpCount> count{};
  for (Op op : ops) ++count[static_cast<std::size_t>(op)];
  int anchor = -1;
  for (int i = 0; i < kOpCount; ++i) {
    if (count[i] >= 3 && (anchor < 0 || count[i] < count[anchor])) anchor = i;
  }
  Cycle c;
  if (anchor < 0) return c;
  std::map<std::vector<Op>, std::size_t> segments;  // ordered: ties go to the smallest
  std::vector<Op> seg;
  bool started = false;
  for (Op op : ops) {
    if (static_cast<int>(op) == anchor) {
      if (started) ++segments[seg];
      seg.clear();
      started = true;
    }
    if (started) seg.push_back(op);
  }
  std::size_t best = 0;
  for (const auto& [ops_of, n] : segments) {
    c.repeats += n;
    if (n > best) {
      best = n;
      c.most_common = ops_of;
    }
  }
  c.variants = segments.size();
  return c;
}

}  // namespace

std::string Kernel::describe_livelock() const {
  constexpr std::size_t kOpsShown = 48;
  std::string s = "livelock: no progress for " + std::to_string(livelock_decisions_) +
                  " decisions (no poll returned, no task or fiber started, no fiber ended, virtual time stayed at " +
                  std::to_string(now_ns_) + " ns) since decision " + std::to_string(progress_step_) + ", nor in the " +
                  std::to_string(watch_.size()) + " watched after it:";
  std::vector<std::vector<Op>> by_fiber(fibers_.size());
  for (std::uint32_t w : watch_) by_fiber[w & kFiberIdMax].push_back(static_cast<Op>((w >> 24) & 0x7f));
  for (FiberId id = 0; id < by_fiber.size(); ++id) {
    const std::vector<Op>& ops = by_fiber[id];
    if (ops.empty()) continue;
    s += " fiber " + std::to_string(id) + " (" + fibers_[id]->name + ") made " + std::to_string(ops.size()) + " decisions, ";
    const Cycle c = find_cycle(ops);
    if (c.repeats < 2) {
      s += "with no repeating cycle;";
      continue;
    }
    s += "repeating a cycle " + std::to_string(c.repeats) + " times (" + std::to_string(c.variants) +
         (c.variants == 1 ? " variant" : " variants") + "; the most common, " + std::to_string(c.most_common.size()) +
         " operations:";
    for (std::size_t j = 0; j < c.most_common.size() && j < kOpsShown; ++j) s += std::string(" ") + op_name(c.most_common[j]);
    s += c.most_common.size() > kOpsShown ? " ...);" : ");";
  }
  s.pop_back();
  return s;
}

void Kernel::note_cell_slow(CellShadow& cell, bool write, const std::source_location& site) {
  Uncounted uncounted;  // the simulator's own work (Step H2)
  std::optional<Race> race = hb_->on_cell(current_id_, cell, write, site);
  if (race) stop_at_decision(Outcome::data_race, describe_race(*race, fiber_name(race->earlier.fiber), fiber_name(current_id_)));
}

std::uint64_t Kernel::c11_load(std::uint32_t object, platform_contract::Order o, std::uint64_t latest,
                              bool latest_only) {
  Uncounted uncounted;  // the simulator's own work (Step H2)
  std::uint32_t back = 0;
  if (!latest_only) {
    const std::uint32_t n = hb_->c11_candidates(current_id_, object, latest, o);
    if (n > 1) {
      // The choice is the strategy's, recorded like any random draw (draw 0: the newest).
      const std::uint64_t v = draw(Op::load, n);
      // The run failed at that draw and is being torn down (Step T1 dropped the
      // model): the caller reads the store itself (Atomic::load_c11).
      if (hb_ == nullptr) return latest;
      if (stale_draw(v, kStaleReadPerMille)) back = stale_pick(v, n);
    }
  }
  return hb_->c11_read(current_id_, object, latest, back, o);
}

std::uint32_t Kernel::c11_cas_pick(std::uint32_t object, platform_contract::Order failure, std::uint64_t latest,
                                   std::uint64_t expected) {
  Uncounted uncounted;  // the simulator's own work (Step H2)
  stale_.clear();
  hb_->c11_stale_unequal(current_id_, object, latest, expected, failure, stale_);
  if (stale_.empty()) return 0;
  // As a load's choice (c11_load), with the same bias; draw 0 reads the newest.
  const auto n = static_cast<std::uint32_t>(stale_.size() + 1);
  const std::uint64_t v = draw(Op::cas, n);
  if (!stale_draw(v, kStaleReadPerMille)) return 0;
  return stale_[stale_pick(v, n) - 1];
}

void Kernel::trace_step(Op op, DecisionKind kind, std::uint64_t value) {
  Uncounted uncounted;  // Step H2: the trace is the simulator's
  // Only the last kTraceStepsKept are kept: past twice that, the older half goes.
  if (trace_->size() >= 2 * kTraceStepsKept) trace_->erase(trace_->begin(), trace_->end() - kTraceStepsKept);
  trace_->push_back(TraceStep{steps_ - 1, now_ns_, op, current_id_, kind, value});
}

void Kernel::grow_record() {
  Uncounted uncounted;  // Step H2: the record is the simulator's
  record_buf_.reserve(record_buf_.capacity() < 1024 ? 1024 : 2 * record_buf_.capacity());
}

bool Kernel::spurious_cas_failure() { return stale_draw(draw(Op::cas), kSpuriousCasPerMille); }

void Kernel::note_access(Op op, std::uint32_t object, bool wrote) {
  Uncounted uncounted;  // the simulator's own work (Step H2)
  strategy_.on_access(current_id_, op, object, wrote);
}

std::uint64_t Kernel::draw(Op op, std::uint32_t choices) {
  Uncounted uncounted;  // the simulator's own work (Step H2)
  if (unwinding_) [[unlikely]] {  // Step T1: no decision
    unwind_op();
    return 0;
  }
  if (steps_ >= limit_) [[unlikely]] {
    const Limit l = at_limit(op);
    if (l == Limit::step_bound) {
      stop_at_decision(Outcome::step_bound_exceeded,
                       "step bound " + std::to_string(step_bound_) + " exceeded at " + op_name(op));
      return 0;
    }
    if (l == Limit::livelock) {
      stop_at_decision(Outcome::livelock, describe_livelock());
      return 0;
    }
  }
  if (steps_ >= check_at_ && over_memory_budget()) {
    stop_at_decision(Outcome::resource_limit, memory_message());
    return 0;
  }
  const Point p{steps_, op, current_id_, true, false, choices};
  std::uint64_t v = 0;
  if (!strategy_.next_u64(p, v)) {
    divergence_index_ = steps_;
    stop_at_decision(Outcome::nondeterminism, "diverged at decision " + std::to_string(steps_) + " (" + op_name(op) +
                                                  "): " + strategy_.divergence());
    return 0;
  }
  note_random(op, v);
  return v;
}

Fiber* Kernel::pick_after_block(Op op) {
  for (;;) {
    if (!runnable_.empty()) {
      if (steps_ >= limit_) [[unlikely]] {
        const Limit l = at_limit(op);
        if (l == Limit::step_bound) {
          end_run(Outcome::step_bound_exceeded, "step bound " + std::to_string(step_bound_) + " exceeded at " +
                                                    op_name(op) + "; an unbounded spin or livelock?");
          return host_.get();
        }
        if (l == Limit::livelock) {
          end_run(Outcome::livelock, describe_livelock());
          return host_.get();
        }
      }
      if (steps_ >= check_at_ && over_memory_budget()) {
        end_run(Outcome::resource_limit, memory_message());
        return host_.get();
      }
      return fibers_[choose(op, false, false)].get();
    }
    if (time_jump_pending()) {
      // Every live fiber is blocked and time is about to jump: work that is ready
      // now would wait for an unrelated deadline (the stall check).
      if (config_.stall_probe) {
        std::string probe_error;
        const bool work = run_probe(config_.stall_probe, probe_error);
        if (!probe_error.empty() || work) {
          end_run(probe_error.empty() ? Outcome::stall : Outcome::exception,
                  probe_error.empty() ? "every fiber blocked and time about to jump to " +
                                            std::to_string(timers_.top().deadline_ns) +
                                            " ns while the stall probe sees runnable work; blocked: " + blocked_fibers() +
                                            describe_blocked()
                                      : "the stall probe threw: " + probe_error);
          return host_.get();
        }
      }
      if (config_.jump_probe) {
        std::string verdict, probe_error;
        const std::uint64_t to = timers_.top().deadline_ns;
        Uncounted uncounted;  // the harness's check, not the run's work (Step H2)
        run_probe([&] {
          verdict = config_.jump_probe(now_ns_, to);
          return false;
        }, probe_error);
        if (!probe_error.empty() || !verdict.empty()) {
          end_run(probe_error.empty() ? Outcome::lost_parallelism : Outcome::exception,
                  probe_error.empty() ? verdict + "; blocked: " + blocked_fibers() + describe_blocked()
                                      : "the jump probe threw: " + probe_error);
          return host_.get();
        }
      }
      advance_time();
      continue;
    }
    if (live_ == 0) {
      end_run(Outcome::pass, "");
      return host_.get();
    }
    // Every live fiber is blocked and nothing is pending.
    std::string probe_error;
    const bool work = idle_probe_ && run_probe(idle_probe_, probe_error);
    if (!probe_error.empty()) {
      end_run(Outcome::exception, "the idle probe threw: " + probe_error);
      return host_.get();
    }
    end_run(work ? Outcome::lost_wakeup : Outcome::deadlock,
            std::string(work ? "every fiber blocked while the idle probe sees runnable work"
                             : "every fiber blocked, no timer pending") +
                "; blocked: " + blocked_fibers() + describe_blocked());
    return host_.get();
  }
}

// run_probe asks a probe with the kernel detached, so the probe's seam
// operations are plain reads and writes, not decisions of the run.
bool Kernel::run_probe(const std::function<bool()>& probe, std::string& error) {
  bool work = false;
  tls_kernel = nullptr;
  try {
    work = probe();
  } catch (const std::exception& e) {
    error = e.what();
  } catch (...) {
    error = "exception of unknown type";
  }
  tls_kernel = this;
  return work;
}

std::string Kernel::observe(const std::function<void()>& read) {
  Uncounted uncounted;  // the simulator's own work (Step H2)
  std::string error;
  run_probe([&] {
    read();
    return false;
  }, error);
  return error;
}

// describe_blocked asks the harness's describer what the blocked work waits on,
// through run_probe (detached, exceptions caught): "; " and its text, or nothing.
std::string Kernel::describe_blocked() {
  if (!config_.describe_blocked) return "";
  std::string text, error;
  run_probe([&] {
    text = config_.describe_blocked();
    return false;
  }, error);
  if (!error.empty()) text = "(the describer threw: " + error + ")";
  return text.empty() ? "" : "; " + text;
}

std::string Kernel::blocked_fibers() const {
  std::string blocked;
  for (const auto& f : fibers_) {
    if (f->state != FiberState::blocked) continue;
    if (!blocked.empty()) blocked += ", ";
    blocked += std::to_string(f->id) + " " + f->name + " (" + op_name(f->blocked_op) + ")";
  }
  return blocked;
}

// time_jump_pending drops the timers of fibers woken another way and says whether
// a live one is left (advance_time would then jump to it).
bool Kernel::time_jump_pending() {
  while (!timers_.empty()) {
    const Timer& first = timers_.top();
    const Fiber& f = *fibers_[first.id];
    if (f.state == FiberState::blocked && f.wait_gen == first.wait_gen) return true;
    timers_.pop();  // stale: the fiber was woken another way
  }
  return false;
}

// over_memory_budget schedules the next memory check and says whether resident
// memory exceeds the budget.
bool Kernel::over_memory_budget() {
  check_at_ = std::min(step_bound_, steps_ + kMemoryCheckSteps);
  next_check_ = std::min(limit_, check_at_);
  if (memory_limit_bytes_ == 0) return false;
  // A recorded run's schedule is expanded at its end (take_decisions: one
  // Decision per step): count it now, or the end of the run overshoots the budget.
  resident_bytes_ = resident_bytes() + (record_ ? steps_ * sizeof(Decision) : 0);
  return resident_bytes_ > memory_limit_bytes_;
}

std::string Kernel::memory_message() const {
  return "resident memory " + std::to_string(resident_bytes_ >> 20) + " MiB" +
         (record_ ? " (with the recorded schedule's expansion)" : "") + " exceeds the memory budget of " +
         std::to_string(memory_limit_bytes_ >> 20) + " MiB after " + std::to_string(steps_) +
         " decisions (tasks, fibers, timers and the recorded schedule grow with the run)";
}

bool Kernel::advance_time() {
  while (!timers_.empty()) {
    const Timer first = timers_.top();
    const Fiber& f = *fibers_[first.id];
    if (f.state != FiberState::blocked || f.wait_gen != first.wait_gen) {
      timers_.pop();  // stale: the fiber was woken another way
      continue;
    }
    WEFT_SIM_INVARIANT(first.deadline_ns >= now_ns_);
    if (first.deadline_ns > now_ns_) note_progress();  // time passes: progress
    now_ns_ = first.deadline_ns;
    // Every fiber due at this instant becomes runnable, in arming order.
    while (!timers_.empty() && timers_.top().deadline_ns == first.deadline_ns) {
      const Timer t = timers_.top();
      timers_.pop();
      if (fibers_[t.id]->wait_gen == t.wait_gen) wake(t.id);
    }
    return true;
  }
  return false;
}

void Kernel::block(Op op) {
  Uncounted uncounted;  // the simulator's own work (Step H2)
  Fiber& self = *current_;
  if (unwinding_) [[unlikely]] {
    if (cannot_wait()) {  // Step T4: unwind again, or return as a spurious wake-up
      cannot_block();
      return;
    }
    unwind_op();
    // Steps T3-T4: wait, with no timeout, until woken, or taken to be unwound
    // (or, unwinding already, until nobody else can go on: then it returns).
    if (self.state == FiberState::runnable) remove_runnable(self);
    self.state = FiberState::blocked;
    self.blocked_op = op;
    switch_to(*host_);
    return;
  }
  WEFT_SIM_INVARIANT(self.state == FiberState::runnable);
  remove_runnable(self);
  self.state = FiberState::blocked;
  self.blocked_op = op;
  Fiber* next = pick_after_block(op);
  if (next == &self) return;  // its own timer fired and it was chosen
  switch_to(*next);
  // Woken: another fiber (or time) made us runnable and the strategy chose us.
  WEFT_SIM_INVARIANT(self.state == FiberState::runnable);
}

void Kernel::block_until(std::uint64_t deadline_ns, Op op) {
  Uncounted uncounted;  // the simulator's own work (Step H2)
  if (unwinding_) [[unlikely]] {  // Steps T3-T4: timers never fire in teardown
    if (op == Op::sleep) {  // a thread busy for a while: the time passes at once
      unwind_op();
      return;
    }
    block(op);
    return;
  }
  Fiber& self = *current_;
  timers_.push(Timer{deadline_ns, timer_seq_++, self.id, self.wait_gen});
  block(op);
}

void Kernel::wake(FiberId id) {
  Uncounted uncounted;  // the simulator's own work (Step H2)
  Fiber& f = *fibers_[id];
  if (f.state != FiberState::blocked) return;
  f.state = FiberState::runnable;
  ++f.wait_gen;
  set_runnable(f);
}

void Kernel::enqueue(WaitList& list, FiberId id) {
  Uncounted uncounted;  // the simulator's own work (Step H2)
  fibers_[id]->waiting_on = &list;
  next_waiter_[id] = kNoFiber;
  if (list.tail == kNoFiber) {
    list.head = id;
  } else {
    next_waiter_[list.tail] = id;
  }
  list.tail = id;
}

void Kernel::wake_all(WaitList& list) {
  Uncounted uncounted;  // the simulator's own work (Step H2)
  FiberId id = list.head;
  list = WaitList{};
  while (id != kNoFiber) {
    const FiberId next = next_waiter_[id];
    next_waiter_[id] = kNoFiber;
    fibers_[id]->waiting_on = nullptr;
    wake(id);
    id = next;
  }
}

void Kernel::remove_waiter(Fiber& f) {
  WaitList* list = std::exchange(f.waiting_on, nullptr);
  if (list == nullptr) return;
  FiberId prev = kNoFiber;
  for (FiberId id = list->head; id != kNoFiber; prev = id, id = next_waiter_[id]) {
    if (id != f.id) continue;
    const FiberId next = next_waiter_[id];
    if (prev == kNoFiber) {
      list->head = next;
    } else {
      next_waiter_[prev] = next;
    }
    if (list->tail == id) list->tail = prev;
    next_waiter_[id] = kNoFiber;
    return;
  }
}

void Kernel::wake_one(WaitList& list) {
  Uncounted uncounted;  // the simulator's own work (Step H2)
  if (unwinding_) [[unlikely]] {  // Step T3: first in, first out; passing fibers being unwound
    // A list is never longer than the fibers; a head that names no fiber is a
    // list whose owner was destroyed while this fiber was suspended (the
    // program's lifetime bug, in teardown where nothing is checked): left alone.
    for (std::size_t n = 0; !list.empty() && n < fibers_.size() && list.head < fibers_.size(); ++n) {
      const FiberId id = list.head;
      list.head = next_waiter_[id];
      if (list.head == kNoFiber) list.tail = kNoFiber;
      next_waiter_[id] = kNoFiber;
      fibers_[id]->waiting_on = nullptr;
      if (fibers_[id]->state == FiberState::blocked) {
        wake(id);
        return;
      }
    }
    return;
  }
  if (list.empty()) return;
  waiting_.clear();
  for (FiberId id = list.head; id != kNoFiber; id = next_waiter_[id]) waiting_.push_back(id);
  FiberId chosen;
  if (fast_path_ && waiting_.size() == 1) {
    chosen = waiting_[0];
  } else {
    // The waiters are not runnable yet: the caller is not among them.
    const Point p{steps_, Op::wake_one, current_id_, false, false};
    chosen = strategy_.next_fiber(p, waiting_);
  }
  if (std::find(waiting_.begin(), waiting_.end(), chosen) == waiting_.end()) [[unlikely]] {
    divergence_index_ = steps_;
    std::string why = strategy_.divergence();
    if (why.empty()) {
      why = "the strategy chose fiber " + (chosen == kNoFiber ? std::string("none") : std::to_string(chosen)) +
            ", which does not wait";
    }
    stop_at_decision(Outcome::nondeterminism, "diverged at decision " + std::to_string(steps_) + " (wake_one): " + why);
    // Back in teardown (Step T3): the list may have changed since the snapshot
    // (Step T1 took stopped fibers off it, other fibers went on), so the wake
    // is made afresh from the list as it is now, first in, first out.
    wake_one(list);
    return;
  }
  note_fiber(Op::wake_one, chosen);
  // Take it off the list, the others keeping their order.
  list = WaitList{};
  for (FiberId id : waiting_) {
    if (id != chosen) enqueue(list, id);
  }
  next_waiter_[chosen] = kNoFiber;
  fibers_[chosen]->waiting_on = nullptr;
  wake(chosen);
}

bool Kernel::finished(FiberId id) const { return fibers_[id]->state == FiberState::finished; }

WaitList& Kernel::joiners(FiberId id) { return fibers_[id]->joiners; }

std::string Kernel::fiber_name(FiberId id) const {
  return id < fibers_.size() ? fibers_[id]->name : std::string("host");
}

}  // namespace weft::sim::detail
