// The simulator's scheduling kernel: the state behind every decision point.
//
// One Kernel exists per simulated run, on one OS thread. The seam types of
// weft/platform/sim.hpp reach it through tls_kernel; the hot path (a decision with
// only one runnable fiber) is inline here, everything that switches fibers is in
// sim/src/kernel.cpp. Fibers are named by sequential ids; the kernel keeps no
// pointer-ordered or unordered state, so a run depends only on the seed.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <queue>
#include <source_location>
#include <string>
#include <vector>

#include "weft/sim/detail/happens_before.hpp"
#include "weft/sim/detail/order_probe.hpp"
#include "weft/sim/detail/retired.hpp"
#include "weft/sim/outcome.hpp"
#include "weft/sim/schedule.hpp"

namespace weft::sim {

class Strategy;

namespace detail {

struct Fiber;  // defined in kernel.cpp: the fiber's context, stack and state
class StackPool;

// WaitList is a FIFO of blocked fibers, linked through Kernel::next_waiter_ by id.
struct WaitList {
  FiberId head = kNoFiber;
  FiberId tail = kNoFiber;
  bool empty() const noexcept { return head == kNoFiber; }
};

// KernelConfig is what a run needs from Options, resolved by Simulation.
struct KernelConfig {
  std::uint64_t seed = 0;
  std::uint64_t step_bound = 0;
  std::uint64_t livelock_decisions = 0;  // 0: no livelock oracle
  std::size_t stack_size = 0;
  bool record = true;
  std::uint32_t spurious_wakeup_per_mille = 0;
  // Asked before each jump of virtual time (Simulation::set_stall_probe); may be empty.
  std::function<bool()> stall_probe;
  // Asked before each jump of virtual time, after the stall probe, with the time
  // now and the time it jumps to (Simulation::set_jump_probe): a non-empty answer
  // ends the run as lost_parallelism with it as the message; may be empty.
  std::function<std::string(std::uint64_t now_ns, std::uint64_t to_ns)> jump_probe;
  // Asked when a run ends because every fiber is blocked (deadlock, lost wake-up,
  // stall): what the blocked work waits on, appended to the message; may be empty.
  std::function<std::string()> describe_blocked;
  std::uint64_t memory_limit_bytes = 0;  // 0: no memory budget
  bool race_detection = false;  // track happens-before and check cells (Options::race_detection)
  bool c11 = false;             // Options::memory_model == c11
  std::uint32_t history_depth = 4;
  bool teardown = false;  // Options::teardown: unwind a failed run's fibers (Steps T1-T8)
  // trace: where every recorded decision is also kept as a TraceStep
  // (Options::trace; needs record); null: none.
  std::vector<TraceStep>* trace = nullptr;
  // The census and weakening of order sites (Options::census_orders,
  // Options::weaken_order), owned by the caller; null: neither.
  OrderProbe* order_probe = nullptr;
};

class Kernel {
 public:
  Kernel(const KernelConfig& config, Strategy& strategy, std::function<bool()> idle_probe);
  ~Kernel();
  Kernel(const Kernel&) = delete;
  Kernel& operator=(const Kernel&) = delete;

  // run executes main_fn as fiber 0 until every fiber finished or the run failed.
  void run(std::function<void()> main_fn);

  // decide is a decision point of the running fiber: the strategy picks which fiber
  // runs next (possibly the caller). Inline fast path when the caller is alone.
  void decide(Op op) {
    if (fast_path_ && runnable_.size() == 1 && steps_ < next_check_) [[likely]] {
      note_fiber(op, current_id_);
      return;
    }
    decide_slow(op, false);
  }

  // yield is a decision point that deprioritises the caller: if another fiber is
  // runnable, the strategy prefers it (simulation-pitfalls.md #2).
  void yield(Op op) { decide_slow(op, true); }

  // observes_accesses says whether Atomic operations must report to note_access.
  bool observes_accesses() const noexcept { return observe_accesses_; }
  // object_id names an atomic for this run: `epoch` and `id` are the atomic's own
  // stamp, (re)assigned the next sequential id on its first access in a run, so ids
  // follow the run's order of first accesses and never depend on addresses.
  std::uint32_t object_id(std::uint32_t& epoch, std::uint32_t& id) noexcept {
    if (epoch != epoch_) {
      epoch = epoch_;
      id = next_object_id_++;
    }
    return id;
  }
  // note_access tells the strategy that the running fiber's `op` on atomic
  // `object` took effect (`wrote`: it wrote the atomic). Not a decision.
  void note_access(Op op, std::uint32_t object, bool wrote);

  // hb is the run's happens-before state, or null when race detection is off.
  // Recording into it is never a decision: traces do not change with it.
  HappensBefore* hb() const noexcept { return hb_; }
  // checks_cells says whether Cell accesses are checked for data races.
  bool checks_cells() const noexcept { return checks_cells_; }
  // c11 says whether atomics follow the C11 model (Options::memory_model).
  bool c11() const noexcept { return c11_; }
  // order_probe is the run's census and weakening of order sites, or null.
  OrderProbe* order_probe() const noexcept { return order_probe_; }
  // plain_atomics says whether an Atomic operation is only its decision and the
  // value (sc, no happens-before, no access reports, no order probe): the seam's
  // inline path; anything else takes its out-of-line path (weft/platform/sim.hpp).
  bool plain_atomics() const noexcept { return plain_atomics_; }
  // c11_load is an atomic load under the C11 model by the running fiber: it
  // returns the value bits of the store the strategy chose among those the model
  // allows (a recorded random draw when there is more than one; latest_only: a
  // failed compare-exchange, which reads the newest store).
  std::uint64_t c11_load(std::uint32_t object, platform_contract::Order o, std::uint64_t latest, bool latest_only);
  // c11_cas_pick is the read half of a compare-exchange under the C11 model
  // (happens_before.hpp, step 15): 0 to read the newest store (the caller
  // succeeds if it matches), else how far back the older store it reads and
  // fails on lies; a recorded draw when an older store may be read.
  std::uint32_t c11_cas_pick(std::uint32_t object, platform_contract::Order failure, std::uint64_t latest,
                             std::uint64_t expected);
  // spurious_cas_failure is a recorded draw: does a compare_exchange_weak whose
  // expected value matches fail anyway (kSpuriousCasPerMille)?
  bool spurious_cas_failure();
  // sync_id names a mutex or parker for this run, as object_id names atomics
  // (a separate counter, so atomics' ids do not move).
  std::uint32_t sync_id(std::uint32_t& epoch, std::uint32_t& id) noexcept {
    if (epoch != epoch_) {
      epoch = epoch_;
      id = next_sync_id_++;
    }
    return id;
  }
  // retire is Step R1 (weft/sim/detail/retired.hpp): true when the kernel keeps
  // the block (a run in progress, filled with kRetiredByte; or, Step R4, a run
  // past its verdict or in its teardown); false outside a run.
  bool retire(void* block, std::size_t bytes) noexcept;
  // touched_retired is Step R2: the running fiber's `what` (an operation's name)
  // at `site` touched `object`, which lies in a retired block; the run ends with
  // use_after_free and the fiber does not go on (as fail; in teardown it unwinds).
  [[noreturn]] void touched_retired(const void* object, const char* what, const std::source_location& site);
  // retired_holding is the retired block holding address `at`, or null.
  const RetiredBlock* retired_holding(std::uintptr_t at) const;
  // describe_retired names the retired block holding address `at`: its size, and
  // the fiber and decision that freed it.
  std::string describe_retired(std::uintptr_t at) const;
  // note_cell checks the running fiber's access to a cell; a race ends the run
  // with outcome data_race, naming both accesses. Requires hb().
  void note_cell(CellShadow& cell, bool write, const std::source_location& site) {
    if (hb_->on_cell_fast(current_id_, cell, write, site)) [[likely]] return;
    note_cell_slow(cell, write, site);
  }

  // draw returns a random value from the strategy, recorded as a random decision.
  std::uint64_t draw(Op op, std::uint32_t choices = 0);

  // block suspends the running fiber until wake() names it.
  void block(Op op);
  // block_until suspends the running fiber until wake() or virtual time deadline_ns.
  void block_until(std::uint64_t deadline_ns, Op op);
  // wake makes a blocked fiber runnable; a no-op if it is not blocked.
  void wake(FiberId id);
  // enqueue appends fiber `id` to `list` (the caller then blocks).
  void enqueue(WaitList& list, FiberId id);
  // wake_all wakes every fiber of `list` in FIFO order and empties it.
  void wake_all(WaitList& list);
  // wake_one wakes one fiber of `list`, which the strategy chooses among them (a
  // fiber decision at Op::wake_one, recorded, so it replays and shrinks; the
  // strategy is asked as at any decision: always if it sees every decision,
  // else only when more than one waits), and takes it off the list. Nothing,
  // and no decision, when the list is empty.
  void wake_one(WaitList& list);

  // spawn creates a runnable fiber running fn; returns its id. Not a decision itself.
  FiberId spawn(std::string name, std::function<void()> fn);
  // finished says whether fiber `id` has returned from its function.
  bool finished(FiberId id) const;
  // joiners is the list of fibers waiting for fiber `id` to finish.
  WaitList& joiners(FiberId id);

  // note_progress restarts the livelock oracle's count (Options::livelock_decisions):
  // the program made progress. Not a decision.
  void note_progress() noexcept {
    if (unwinding_) [[unlikely]] return;  // teardown: the run's counts are final
    const std::uint64_t quiet = steps_ - progress_step_;
    if (quiet > longest_quiet_) longest_quiet_ = quiet;
    progress_step_ = steps_;
    if (watching_) stop_watch();
    if (livelock_decisions_ != 0) {
      limit_ = std::min(step_bound_, steps_ + livelock_decisions_);
      next_check_ = std::min(limit_, check_at_);
    }
  }
  // Held counts what the engine took in this run and has not given back, by kind
  // (the seam's Held: allocations, linked waiters, registered timers); it goes
  // negative if something taken outside the run is given back in it.
  struct Held {
    std::int64_t count = 0;
    std::int64_t bytes = 0;
  };
  static constexpr std::size_t kHeldKinds = 3;
  // note_held adds delta (+1 taken, -1 given back) of kind `what` (SimPlatform::note_hold).
  void note_held(std::size_t what, std::int64_t delta, std::size_t bytes) noexcept {
    if (what >= kHeldKinds) return;
    held_[what].count += delta;
    held_[what].bytes += delta * static_cast<std::int64_t>(bytes);
  }
  // held returns what of kind `what` is still held (the leak check reads it).
  Held held(std::size_t what) const noexcept { return what < kHeldKinds ? held_[what] : Held{}; }
  // The heap count (weft/sim/detail/heap.hpp): set_count_heap turns Step H2 on or
  // off for this run (the harness counts while the runtime and the programs
  // live); counts_heap_now says whether an allocation now is counted (the run
  // counts and a simulated thread runs); heap_run names the run in the blocks'
  // headers, which is how heap_live finds them.
  void set_count_heap(bool on) noexcept { count_heap_ = on; }
  bool counts_heap_now() const noexcept { return count_heap_ && current_ != host_.get(); }
  std::uint32_t heap_run() const noexcept { return heap_run_; }
  // longest_quiet is the most decisions in a row the run made without progress.
  std::uint64_t longest_quiet() const noexcept {
    return std::max(longest_quiet_, steps_ - progress_step_);
  }

  // fail ends the run with `outcome` and leaves the running fiber for good. In
  // teardown it records nothing: it continues the fiber's unwind (Kernel::run).
  [[noreturn]] void fail(Outcome outcome, std::string message);
  // stop_at_decision ends the run as fail does, for a failure found at a decision
  // (divergence, step bound, livelock, memory, data race): in teardown the fiber
  // goes on from there (Step T3), so stop_at_decision returns and the caller
  // carries on as if the decision had been "no switch".
  void stop_at_decision(Outcome outcome, std::string message);
  // in_fiber says whether a run's fiber (not the host) is running now.
  bool in_fiber() const noexcept { return current_ != host_.get(); }
  // out_of_memory ends the run as resource_limit when operator new fails in a
  // fiber (see on_new_failure in kernel.cpp).
  [[noreturn]] void out_of_memory();

  // unwinding says whether the running fiber is being unwound in the teardown
  // (Step T4 at the top of kernel.cpp): an exception in flight may be the
  // teardown's own, which code under test must let pass (catch (...) rethrows
  // it; see SimPlatform::unwinding), and a blocking operation cannot wait.
  bool unwinding() const noexcept;
  // tearing_down says whether the run has ended and the kernel runs its teardown
  // (fibers going on to a blocking operation or being unwound): nothing is
  // decided, recorded or checked.
  bool tearing_down() const noexcept { return unwinding_; }
  // Lifetimes of the seam objects that hold fibers (Parker, Mutex): the Steps
  // L1-L3 at the top of kernel.cpp. note_object_op is Step L1 (the running
  // fiber starts an operation on `object`), object_destroyed Step L2 (its
  // destructor), object_op_died Step L3 (asked after each switch of the
  // operation: was its object destroyed while the fiber waited?).
  void note_object_op(const void* object);
  void object_destroyed(const void* object) noexcept;
  bool object_op_died() const noexcept {
    return current_id_ < op_object_died_.size() && op_object_died_[current_id_] != 0;
  }
  // cannot_block is a blocking seam operation in teardown (Step T4): it throws the
  // teardown's exception when no exception is in flight, else returns, and the
  // caller returns as from a spurious wake-up or a timeout, without waiting.
  void cannot_block();
  // cannot_wait says whether a blocking operation of the running fiber must not
  // wait (Step T4): it is being unwound and either no exception is in flight or
  // nobody was left to wake it.
  bool cannot_wait() const noexcept;
  // abandon_current stops unwinding the running fiber and leaves it for good
  // (Step T5): its remaining frames keep what they own (counted in Retained).
  [[noreturn]] void abandon_current();

  FiberId current() const noexcept { return current_id_; }
  // observe runs `read` detached, as the probes run: its seam operations are plain
  // reads, no decision of the run, so what it reads is the state at one point of
  // the schedule (a metrics snapshot). Returns what it threw, or "".
  std::string observe(const std::function<void()>& read);
  // fiber_name returns the name a fiber was created with.
  std::string fiber_name(FiberId id) const;
  // stack_fault_message writes into out[0..size) what a memory fault at `addr`
  // means when it lies in the running fiber's guard page or just below its stack
  // (an overflow), and returns its length; 0 when the fault is something else. It
  // allocates nothing and takes no lock: the fault handler calls it.
  std::size_t stack_fault_message(const void* addr, char* out, std::size_t size) const noexcept;
  // fault_message writes into out[0..size) a line naming the running fiber, the
  // decision and the seed of a fault that is not an overflow (async-signal-safe:
  // no allocation); 0 outside a fiber.
  std::size_t fault_message(int sig, char* out, std::size_t size) const noexcept;
  // teardown_fault_message writes into out[0..size) the verdict of a run whose
  // teardown dies (a fault, or an AddressSanitizer report, in code the failure
  // left broken): the run had already failed, with this outcome and message, and
  // how to turn the teardown off; 0 outside a teardown. Async-signal-safe.
  std::size_t teardown_fault_message(char* out, std::size_t size) const noexcept;
  // overflowed ends the run from the fault handler when the running fiber
  // overflowed its stack, the fault at `addr` (Steps O1-O3 at Kernel::
  // overflowed): it takes the message already written (no allocation here),
  // gives the fiber up and switches to the host. It returns only when the run
  // cannot end this way, and the handler then exits with the message.
  void overflowed(const void* addr, const char* message, std::size_t length) noexcept;
  std::uint32_t epoch() const noexcept { return epoch_; }
  std::uint64_t now_ns() const noexcept { return now_ns_; }
  // spurious_per_mille is the chance (per thousand) that a park returns without a token.
  std::uint32_t spurious_per_mille() const noexcept { return spurious_per_mille_; }
  void* slot() const noexcept { return slots_[current_id_]; }
  void set_slot(void* p) noexcept { slots_[current_id_] = p; }

  // Results of the run, read by Simulation after run() returned.
  Outcome outcome() const noexcept { return outcome_; }
  const std::string& message() const noexcept { return message_; }
  std::uint64_t steps() const noexcept { return steps_; }
  std::uint64_t context_switches() const noexcept { return context_switches_; }
  std::uint64_t preemptions() const noexcept { return preemptions_; }
  std::uint64_t fiber_count() const noexcept { return fibers_at_end_; }
  std::uint64_t divergence_index() const noexcept { return divergence_index_; }
  // fibers_kept counts the fibers whose teardown was given up (Step T5).
  std::uint64_t fibers_kept() const noexcept { return fibers_kept_; }
  // take_decisions expands the run's recorded decisions (empty if not recording).
  std::vector<Decision> take_decisions() const;

 private:
  // note_cell_slow is note_cell past its fast path: a read-shared cell, or a race.
  void note_cell_slow(CellShadow& cell, bool write, const std::source_location& site);
  struct Timer {
    std::uint64_t deadline_ns;
    std::uint64_t seq;  // ties broken by arming order, never by address
    FiberId id;
    std::uint64_t wait_gen;
    bool operator>(const Timer& o) const noexcept {
      return deadline_ns != o.deadline_ns ? deadline_ns > o.deadline_ns : seq > o.seq;
    }
  };

  // The record is compact: a fiber choice is one word, op << 24 | fiber id; a
  // random draw is kRandomBit | op << 24, then the value's low and high words.
  static constexpr std::uint32_t kRandomBit = 0x8000'0000u;
  static constexpr std::uint32_t kFiberIdMax = 0x00ff'ffffu;
  void note_fiber(Op op, FiberId id) {
    ++steps_;
    if (record_) {
      if (record_buf_.size() == record_buf_.capacity()) [[unlikely]] grow_record();
      record_buf_.push_back(static_cast<std::uint32_t>(op) << 24 | id);
      if (trace_ != nullptr) [[unlikely]] trace_step(op, DecisionKind::fiber, id);
    }
  }
  // trace_step keeps the decision just recorded as a TraceStep, as the
  // simulator's own allocation (Step H2).
  void trace_step(Op op, DecisionKind kind, std::uint64_t value);
  // reconcile_record: see Step O3 (kernel.cpp).
  void reconcile_record();
  // grow_record makes room in the record, as the simulator's own (Step H2).
  void grow_record();
  void note_random(Op op, std::uint64_t value) {
    ++steps_;
    if (record_) {
      record_buf_.push_back(kRandomBit | static_cast<std::uint32_t>(op) << 24);
      record_buf_.push_back(static_cast<std::uint32_t>(value));
      record_buf_.push_back(static_cast<std::uint32_t>(value >> 32));
      if (trace_ != nullptr) [[unlikely]] trace_step(op, DecisionKind::random, value);
    }
  }
  void decide_slow(Op op, bool yielding);
  // at_limit runs when steps_ reached limit_: the step bound, the end of the
  // livelock oracle's quiet count, or (while it watches) every decision; it says
  // whether the run goes on or ends, and why.
  enum class Limit : std::uint8_t { go_on, step_bound, livelock };
  Limit at_limit(Op op);
  void stop_watch() noexcept;
  std::string describe_livelock() const;
  // over_memory_budget is due when steps_ reaches check_at_: it schedules the next
  // check and says whether the process's resident memory exceeds the budget.
  bool over_memory_budget();
  std::string memory_message() const;
  Fiber* pick_after_block(Op op);
  bool advance_time();
  bool time_jump_pending();
  bool run_probe(const std::function<bool()>& probe, std::string& error);
  std::string blocked_fibers() const;
  std::string describe_blocked();
  void set_runnable(Fiber& f);
  void remove_runnable(Fiber& f);
  void end_run(Outcome outcome, std::string message);
  void switch_to(Fiber& next);
  void on_fiber_start(void* from_ctx);
  void fiber_body(Fiber& f);
  Fiber* fiber_exit(Fiber& f);
  FiberId choose(Op op, bool current_runnable, bool yielding);
  // teardown is Steps T1-T6: every fiber the ended run left goes on to a
  // blocking operation or is unwound.
  void teardown();
  // Step T2's choices: the next runnable fiber after the last one taken, in id
  // order; the newest fiber left to unwind (marked so); nullptr if none.
  Fiber* next_runnable_in_teardown();
  Fiber* newest_to_unwind();
  bool joins_a_runnable_fiber(const Fiber& f) const;
  // remove_waiter takes a blocked fiber off whatever wait list holds it.
  void remove_waiter(Fiber& f);
  void abandon_unfinished();
  // unwind_op counts a seam operation made in teardown against kTeardownOpsMax.
  void unwind_op();
  // unwind_here is Step T3, where a suspended fiber resumes in teardown.
  void unwind_here();

  // Hot state, read by the inline fast path.
  std::uint64_t steps_ = 0;
  std::uint64_t step_bound_ = 0;
  // limit_ is the next step count at which at_limit must run: the step bound, or
  // earlier for the livelock oracle.
  std::uint64_t limit_ = 0;
  // check_at_ is the next step of a memory check (every kMemoryCheckSteps
  // decisions), or the step bound.
  std::uint64_t check_at_ = 0;
  // next_check_ is min(limit_, check_at_), recomputed wherever either moves, so
  // the fast path tests one bound.
  std::uint64_t next_check_ = 0;
  std::uint64_t memory_limit_bytes_ = 0;
  std::uint64_t resident_bytes_ = 0;  // at the last memory check, with the schedule still to expand
  std::uint32_t spurious_per_mille_ = 0;
  std::vector<FiberId> runnable_;  // deterministic order: push_back, swap-remove
  FiberId current_id_ = kNoFiber;
  bool fast_path_ = true;  // false if the strategy must see forced decisions
  bool observe_accesses_ = false;  // the strategy wants note_access calls
  std::uint32_t next_object_id_ = 0;
  std::uint32_t next_sync_id_ = 0;
  // null: race detection off; else a per-OS-thread state kept across runs (reset
  // at the start of each), so a run does not allocate its clocks afresh.
  HappensBefore* hb_ = nullptr;
  bool checks_cells_ = false;
  bool c11_ = false;
  OrderProbe* order_probe_ = nullptr;
  bool plain_atomics_ = true;
  bool record_ = true;
  // The record, in a per-OS-thread buffer whose capacity is kept across runs:
  // fresh pages cost more than the decisions written into them.
  std::vector<std::uint32_t>& record_buf_;
  std::vector<TraceStep>* trace_ = nullptr;  // KernelConfig::trace
  // The message of a stack overflow, written in the fault handler (Step O2) and
  // made the run's message on the host (Step O3).
  char overflow_message_[512] = {};
  std::size_t overflow_length_ = 0;
  std::vector<void*> slots_;          // context_slot of each fiber
  std::vector<FiberId> next_waiter_;  // WaitList links, by fiber id
  std::vector<std::uint32_t> stale_;  // c11_cas_pick's candidates, kept across calls
  std::vector<FiberId> waiting_;      // wake_one's candidates, kept across calls

  // Cold state.
  KernelConfig config_;
  Strategy& strategy_;
  std::function<bool()> idle_probe_;
  std::uint32_t epoch_ = 0;
  std::uint64_t now_ns_ = 0;
  std::uint64_t timer_seq_ = 0;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<Timer>> timers_;
  std::vector<std::unique_ptr<Fiber>> fibers_;
  std::unique_ptr<Fiber> host_;  // the OS thread's own stack, which called run()
  Fiber* current_ = nullptr;
  // Steps L1-L3, by fiber id: the object of the fiber's latest Parker or Mutex
  // operation, and whether that object was destroyed since the operation began.
  std::vector<const void*> op_object_;
  std::vector<std::uint8_t> op_object_died_;
  Fiber* prev_ = nullptr;  // the fiber that switched to current_
  std::uint64_t live_ = 0;
  bool ended_ = false;
  bool unwinding_ = false;         // Steps T1-T8: the run has ended and its fibers are torn down
  FiberId teardown_last_ = 0;      // Step T2: the runnable fiber taken last (round robin)
  std::uint64_t turn_ops_ = 0;     // Step T3: seam operations of the current turn
  bool preempted_ = false;         // Step T3: the last turn ended with the fiber runnable
  std::uint64_t fibers_kept_ = 0;    // Step T5
  std::uint64_t fibers_at_end_ = 0;  // fibers_.size() when the run ended (teardown may spawn)
  Outcome outcome_ = Outcome::pass;
  std::string message_;
  std::uint64_t context_switches_ = 0;
  std::uint64_t preemptions_ = 0;
  std::uint64_t divergence_index_ = 0;
  Held held_[kHeldKinds];
  // Steps R1-R3: the blocks the engine freed in this run, oldest first, and their bytes.
  // Looked up by address only (a membership, never an order the run depends on).
  // record_retired records a block given up (Steps R1 and R4); false when the
  // record cannot be allocated.
  bool record_retired(std::uintptr_t at, void* block, std::size_t bytes) noexcept;
  std::map<std::uintptr_t, RetiredBlock> retired_;
  std::deque<std::uintptr_t> retired_order_;  // Step R3's eviction order
  std::size_t retired_bytes_ = 0;
  bool count_heap_ = false;     // Step H2
  std::uint32_t heap_run_ = 0;  // Step H1 (next_heap_run)
  // The livelock oracle (Options::livelock_decisions).
  std::uint64_t livelock_decisions_ = 0;
  std::uint64_t progress_step_ = 0;  // steps_ at the last progress
  std::uint64_t longest_quiet_ = 0;
  bool watching_ = false;  // past the quiet count: every decision goes to at_limit
  std::vector<std::uint32_t> watch_;  // while watching: op << 24 | fiber, per decision
  void* eh_globals_ = nullptr;
  StackPool* pool_ = nullptr;
};

// tls_kernel is the kernel of the simulation running on this OS thread, or null
// outside a simulation (and while the idle probe runs).
inline constinit thread_local Kernel* tls_kernel = nullptr;

}  // namespace detail
}  // namespace weft::sim
