// Happens-before for one simulated run: vector clocks per fiber, the clocks that
// synchronisation objects carry, and the shadow state of plain shared cells, so
// two unordered accesses to one Cell (at least one a write) are a data race.
//
// Protocol (the edges, each written once here and echoed as "Step N" below):
//   1. Every fiber has a vector clock C_f, indexed by fiber id; its own entry starts
//      at 1 so that its first accesses are not covered by fibers that never heard
//      from it. An access of f is stamped with the epoch (f, C_f[f]).
//   2. A release (a release/acq_rel/seq_cst store or read-modify-write, a mutex
//      unlock, an unpark, a spawn) publishes C_f into the object's sync clock, then
//      bumps C_f[f], so f's later accesses are not covered by that publication.
//   3. An acquire (an acquire/acq_rel/seq_cst load or read-modify-write, a mutex
//      lock that succeeds, a park that consumes a token) joins the object's sync
//      clock into C_f.
//   4. Atomics, modelled as interleavings (every load reads the latest store): each
//      atomic keeps the release clock of its latest store, its release sequence.
//      A release store replaces it with C_f; a relaxed store replaces it with F_f,
//      the clock of f's last release fence (step 14; empty without one: C++20,
//      P0982: a relaxed store ends the release sequence, even the writer's own);
//      a read-modify-write keeps it (release sequences continue through RMWs) and
//      joins C_f into it if it releases, else F_f. A load or RMW that does not
//      acquire joins the clock it read into A_f, for a later acquire fence. A
//      failed compare-exchange is a load with the failure order. seq_cst is
//      treated as acq_rel: the total order of seq_cst operations creates no
//      happens-before of its own, so adding it would hide races.
//   5. Threads: a spawned fiber starts from its parent's clock (then the parent
//      bumps, step 2); join() joins the finished fiber's final clock into the joiner.
//   6. A Parker's token carries the join of its unparkers' clocks (unparks coalesce
//      into one token); the park or try_park that consumes the token acquires it. A
//      spurious return or a park_for timeout consumes nothing and acquires nothing.
//   7. Cells (FastTrack's rule): a read races with the last write unless that
//      write's epoch is covered by the reader's clock; a write races with the last
//      write and with every read since it unless each is covered. The reads since
//      the last write are one epoch while each is ordered after the one before
//      (a clock covering the latest covers them all), and a set of epochs, one
//      per fiber, once two are concurrent. A write that passes clears the reads
//      (any later access ordered after it is ordered after them too). The first
//      race ends the run.
//   8. Construction of a Cell inside a run is its first write (a cell published
//      without an edge after its construction is a race). A cell keeps its shadow
//      in itself, stamped with the run (CellShadow): a shadow of an earlier run is
//      a cell not yet accessed, and a new cell at a reused address starts with no
//      stamp (its constructor clears it), so what happened to the old cell is not
//      the new one's. Atomics are named by run-local ids assigned at first use,
//      never by address, and a new atomic at a reused address gets a new id.
//
// The C11 model (Options::memory_model = c11) replaces step 4 by steps 9 to 13;
// the cell rules (step 7) and the edges of steps 1, 2, 3, 5, 6 stay as they are.
//   9. Each atomic keeps its last Options::history_depth stores in modification
//      order, which is the order they execute in (so write-write and read-write
//      coherence hold by construction): value, writer epoch, release clock and,
//      per fiber, the clock entry at which that fiber first read or wrote it. The
//      value an atomic holds at the run's first access to it is its initial
//      store, ordered before everything.
//  10. A load's floor is the newest store that happens before it (its writer's
//      epoch is covered) or that some fiber saw at an epoch the loader's clock
//      covers (write-read and read-read coherence, also across fibers through
//      happens-before). The load may read the floor or any newer store; which one
//      is the strategy's recorded decision (Kernel::c11_load). A floor evicted
//      from the history clamps to the oldest kept store, which only moves reads
//      forward: every run stays a valid execution (bounded, so incomplete).
//  11. The store read is seen by the loader from then on; an acquire load joins
//      its release clock (the release sequence it heads).
//  12. A store is appended as the newest, seen by its writer; its release clock
//      is C_f if it releases, else F_f (empty without a release fence: a relaxed
//      store, even the writer's own after a release, continues no release
//      sequence: C++20, P0982). A read-modify-write reads the newest store
//      (never a stale one), acquires from it if its order does, and carries its
//      release clock on (release sequences continue through RMWs). A failed
//      compare-exchange is step 15.
//  13. seq_cst, by a stronger approximation than C++20's: one run-wide clock C_sc
//      holds the clocks of every seq_cst operation so far, in the order they
//      execute. A seq_cst operation of f first joins C_sc into S_f, f's view of
//      the seq_cst order, and after it took effect joins C_f into C_sc (then
//      bumps C_f[f], so f's later stores are not in what it published). S_f only
//      narrows which stores f's later loads may read (step 10's floor is taken
//      over C_f and S_f); it is not happens-before: C_f, which the cell check
//      (step 7) and the release clocks use, never takes it, as C++20's total
//      order of seq_cst operations orders no plain access. A seq_cst load
//      therefore never reads below the latest seq_cst store to its atomic (SB and
//      IRIW with seq_cst are forbidden); it excludes outcomes C++20 allows when a
//      load of f follows f's seq_cst operation that came after a relaxed
//      operation of another fiber (row 30 of the reference table).
//      In the c11 model a load that does not acquire joins the release clock of
//      the store it read into A_f, and a relaxed store or RMW carries F_f, as in
//      step 4.
//
// Fences (Platform::fence), in both models:
//  14. A release fence (release, acq_rel, seq_cst) sets F_f := C_f, then bumps
//      C_f[f]: f's later relaxed stores carry what came before the fence, so an
//      acquiring reader of one synchronises with the fence (fence-atomic). An
//      acquire fence (acquire, acq_rel, seq_cst) joins A_f into C_f and empties
//      it: the release clocks of the stores f's earlier relaxed loads read now
//      happen before f's later accesses (atomic-fence; with a release fence on
//      the other side, fence-fence). A seq_cst fence in the c11 model also joins
//      C_sc into S_f before and C_f into C_sc after (step 13), which forbids SB
//      and IRIW with seq_cst fences between the accesses.
//
// Compare-exchange in the c11 model:
//  15. A compare-exchange may read the newest store, and succeed if its value is
//      the expected one, or any older store the load's floor allows whose value
//      is not the expected one, and fail: a failed compare-exchange is a load
//      with the failure order and may read stale (the strategy's recorded draw,
//      draw 0 the newest). A successful one is a read-modify-write and reads the
//      newest (step 12). compare_exchange_weak may also fail when the newest
//      store matches: a recorded draw of the kernel (Kernel::spurious_cas_failure,
//      in both models), after which it is a load of the newest store.
//
// Not modelled: load buffering (a load reads only stores that already executed,
// so LB's outcome never appears) and out-of-thin-air values.
#pragma once

#include <boost/container/small_vector.hpp>
#include <cstdint>
#include <optional>
#include <source_location>
#include <string>
#include <vector>

#include "weft/platform/concept.hpp"
#include "weft/sim/detail/retired.hpp"
#include "weft/sim/schedule.hpp"

namespace weft::sim::detail {

// VectorClock is one logical time per fiber, indexed by FiberId; missing entries
// are 0. Entries live inline up to kInline fibers (a run rarely has more), so
// copying and joining clocks allocates nothing.
class VectorClock {
 public:
  static constexpr std::size_t kInline = 12;

  // get returns fiber f's entry.
  std::uint32_t get(FiberId f) const noexcept { return f < t_.size() ? t_[f] : 0; }
  // set makes fiber f's entry v.
  void set(FiberId f, std::uint32_t v) {
    if (f >= t_.size()) t_.resize(f + 1, 0);
    t_[f] = v;
  }
  // bump advances fiber f's own entry by one.
  [[gnu::always_inline]] void bump(FiberId f) {
    if (f < t_.size()) [[likely]] {
      ++t_[f];
    } else {
      set(f, 1);
    }
  }
  // join makes every entry the maximum of both clocks'.
  void join(const VectorClock& o) {
    const std::size_t n = o.t_.size();
    if (n > t_.size()) t_.resize(n, 0);
    std::uint32_t* a = t_.data();
    const std::uint32_t* b = o.t_.data();
    for (std::size_t i = 0; i < n; ++i) a[i] = a[i] < b[i] ? b[i] : a[i];
  }
  // covers says whether the epoch (f, time) happened before this clock's owner.
  bool covers(FiberId f, std::uint32_t time) const noexcept { return time <= get(f); }
  // leq says whether every entry is at most o's (this clock happened before o's).
  bool leq(const VectorClock& o) const noexcept {
    for (std::size_t i = 0; i < t_.size(); ++i) {
      if (t_[i] > o.get(static_cast<FiberId>(i))) return false;
    }
    return true;
  }
  // seen_within says whether some nonzero entry (f, time) of this clock is
  // covered by c (a store's first_seen: some fiber saw it within c's past).
  bool seen_within(const VectorClock& c) const noexcept {
    for (std::size_t i = 0; i < t_.size(); ++i) {
      if (t_[i] != 0 && c.covers(static_cast<FiberId>(i), t_[i])) return true;
    }
    return false;
  }
  void clear() noexcept { t_.clear(); }
  bool empty() const noexcept { return t_.empty(); }

 private:
  boost::container::small_vector<std::uint32_t, kInline> t_;
};

// Access is one access to a cell: who, at which epoch, where, and whether it wrote.
struct Access {
  FiberId fiber = kNoFiber;
  std::uint32_t time = 0;
  std::source_location site;
  bool write = false;
};

// Race is a data race found at an access: the earlier access it conflicts with and
// the access that found it.
struct Race {
  Access earlier;
  Access later;
};

// CellEpoch is one access kept in a cell's shadow: who, at which clock entry,
// where. The empty epoch (no fiber, time 0) is covered by every clock.
struct CellEpoch {
  FiberId fiber = kNoFiber;
  std::uint32_t time = 0;
  std::source_location site;
  Access as(bool write) const { return Access{fiber, time, site, write}; }
};

// kSharedReads in CellShadow::read.fiber: the cell is read-shared, its reads
// are the run's read set number read.time.
inline constexpr FiberId kSharedReads = kNoFiber - 1;

// CellShadow is one cell's accesses in the current run (step 7, FastTrack's
// epochs), kept in the cell itself (no table to look up, no id to assign): the
// last write, and the reads since it, as one epoch while each read is ordered
// after the one before (a write ordered after the latest is then ordered after
// all), or, once two are concurrent, one per fiber in a set of the run. `run`
// stamps it with HappensBefore's run: a shadow of another run, or of none, is
// a cell with no access yet (step 8).
struct CellShadow {
  CellEpoch write;  // fiber kNoFiber: none yet
  CellEpoch read;   // fiber kNoFiber: none since the last write; kSharedReads: a set
  std::uint32_t run = 0;
};

// HappensBefore is the per-run state of the protocol above.
class HappensBefore {
 public:
  using Order = platform_contract::Order;
  // AtomicKind is what an atomic operation did: read (a load, a failed CAS with
  // its failure order), wrote (a store) or both (an RMW, a successful CAS).
  enum class AtomicKind : std::uint8_t { load, store, rmw };

  // Step 1 and 5: fiber `child` starts; `parent` is kNoFiber for the main fiber.
  void on_spawn(FiberId parent, FiberId child);
  // Step 5: `joiner` returns from joining the finished fiber `child`.
  void on_join(FiberId joiner, FiberId child);
  // Step 4: fiber f's atomic operation on `object` took effect with order o.
  // Inline: a load by a fiber that already holds the clock it would join does
  // nothing (AtomicSync).
  void on_atomic(FiberId f, std::uint32_t object, AtomicKind kind, Order o) {
    if (kind == AtomicKind::load && object < atomics_.size()) {
      const AtomicSync& a = atomics_[object];
      const std::uint64_t held = acquires(o) ? a.in_clock : a.in_clock | a.in_pending;
      if ((held & bit_of(f)) != 0) return;
    }
    on_atomic_slow(f, object, kind, o);
  }
  // Steps 2 and 3 for mutexes and parkers, whose clocks live here by sync id.
  // release_into replaces (replace) or joins (!replace) C_f into the clock.
  void release_into(FiberId f, std::uint32_t sync, bool replace);
  // acquire_from joins the sync clock into C_f; take also empties it (a consumed token).
  void acquire_from(FiberId f, std::uint32_t sync, bool take);
  // on_cell_fast is step 7's common case, inline: fiber f's access races with
  // nothing and the cell is not read-shared; it records the access and returns
  // true. Otherwise it changes nothing but the run stamp and returns false:
  // call on_cell.
  bool on_cell_fast(FiberId f, CellShadow& sh, bool write, const std::source_location& site) noexcept {
    if (f >= clocks_.size()) [[unlikely]] return false;
    if (sh.run != run_) sh = CellShadow{CellEpoch{}, CellEpoch{}, run_};  // step 8: not accessed yet this run
    const VectorClock& c = clocks_[f];
    // No write yet, or no read since the last write, is the empty epoch: covered.
    if (!c.covers(sh.write.fiber, sh.write.time) || sh.read.fiber == kSharedReads ||
        !c.covers(sh.read.fiber, sh.read.time)) {
      return false;
    }
    const CellEpoch now{f, c.get(f), site};
    if (write) {
      sh.write = now;
      sh.read = CellEpoch{};
    } else {
      sh.read = now;  // ordered after the read before it (step 7)
    }
    return true;
  }
  // Step 7: fiber f read or wrote the cell whose shadow is `sh` at `site`;
  // returns the race if any.
  std::optional<Race> on_cell(FiberId f, CellShadow& sh, bool write, const std::source_location& site);

  // ---- the C11 model (Options::memory_model = c11), steps 9 to 13 ----
  // c11_candidates is step 10: how many stores a load by fiber f of atomic
  // `object` may read, counted back from the newest (at least 1); `latest` is the
  // atomic's value, its initial store if the run has not touched it (step 9).
  std::uint32_t c11_candidates(FiberId f, std::uint32_t object, std::uint64_t latest, Order o);
  // c11_read is step 11: fiber f reads the store `back` stores before the newest
  // (0: the newest; below c11_candidates' count) and returns its value bits.
  std::uint64_t c11_read(FiberId f, std::uint32_t object, std::uint64_t latest, std::uint32_t back, Order o);
  // c11_write is step 12: fiber f's store (kind store) or read-modify-write (kind
  // rmw, which read the newest store) wrote `value` over `before`.
  void c11_write(FiberId f, std::uint32_t object, AtomicKind kind, Order o, std::uint64_t before, std::uint64_t value);
  // c11_stale_unequal is step 15: the stores (counted back from the newest, at
  // least 1) a compare-exchange by fiber f may read stale and fail on: allowed
  // by the floor of its failure order `o`, their value not `expected`. Appended to out.
  void c11_stale_unequal(FiberId f, std::uint32_t object, std::uint64_t latest, std::uint64_t expected, Order o,
                         std::vector<std::uint32_t>& out);
  // on_fence is step 14: fiber f's fence of order o (c11: the model's seq_cst clock too).
  void on_fence(FiberId f, Order o, bool c11);
  // set_history_depth bounds each atomic's store history (Options::history_depth).
  void set_history_depth(std::uint32_t depth) noexcept { depth_ = depth; }

  // clock is fiber f's clock (tests).
  const VectorClock& clock(FiberId f) const { return clocks_.at(f); }

  // reset forgets every clock and cell for a new run, keeping the memory.
  void reset() noexcept;

 private:
  // StoreRecord is one store of an atomic's history (step 9).
  struct StoreRecord {
    std::uint64_t value = 0;
    FiberId writer = kNoFiber;  // kNoFiber: the initial store, before everything
    std::uint32_t time = 0;     // the writer's own clock entry at the store
    VectorClock release;        // what an acquiring reader joins
    VectorClock first_seen;     // per fiber: its entry when it first saw the store; 0: never
  };
  // History is a ring of an atomic's newest stores, oldest at `start`.
  struct History {
    std::vector<StoreRecord> ring;
    std::uint32_t start = 0;
    std::uint32_t count = 0;
    StoreRecord& at_back(std::uint32_t back) {
      return ring[(start + count - 1 - back) % static_cast<std::uint32_t>(ring.size())];
    }
    const StoreRecord& at_back(std::uint32_t back) const {
      return ring[(start + count - 1 - back) % static_cast<std::uint32_t>(ring.size())];
    }
    // push makes room for a newest store, evicting the oldest if the ring is full.
    StoreRecord& push() {
      if (count < ring.size()) {
        ++count;
      } else {
        start = (start + 1) % static_cast<std::uint32_t>(ring.size());
      }
      return at_back(0);
    }
  };
  void on_atomic_slow(FiberId f, std::uint32_t object, AtomicKind kind, Order o);
  History& history_of(std::uint32_t object, std::uint64_t initial);
  static std::uint32_t floor_back(const History& h, const VectorClock& c, const VectorClock& view);
  // sc_view is S_f (step 13), joined with C_sc first when o is seq_cst.
  const VectorClock& sc_view(FiberId f, Order o);

  static bool releases(Order o) noexcept { return o == Order::release || o == Order::acq_rel || o == Order::seq_cst; }
  static bool acquires(Order o) noexcept { return o == Order::acquire || o == Order::acq_rel || o == Order::seq_cst; }
  template <class V>
  static auto& slot(std::vector<V>& v, std::uint32_t id) {
    if (id >= v.size()) [[unlikely]] grow(v, id);
    return v[id];
  }
  template <class V>
  [[gnu::noinline]] static void grow(std::vector<V>& v, std::uint32_t id) {
    v.resize(id + 1);
  }
  // shared_set returns an empty read set for a cell that became read-shared.
  std::uint32_t shared_set();
  VectorClock& clock_of(FiberId f) { return slot(clocks_, f); }

  std::vector<VectorClock> clocks_;   // C_f, by fiber id
  std::vector<VectorClock> fence_release_;    // F_f (step 14), by fiber id; empty: no release fence yet
  std::vector<VectorClock> pending_acquire_;  // A_f (steps 4, 14), by fiber id
  // AtomicSync is one atomic's release clock (step 4) and which fibers already
  // hold it: joining a clock twice changes nothing, so a fiber whose bit is set
  // skips the join (fibers 64 and up always join). Any change of `release`
  // resets the bits. in_clock: release ⊆ C_f; in_pending: release ⊆ A_f ∪ C_f
  // (an acquire fence moves A_f into C_f, so both stay true until release changes).
  struct AtomicSync {
    VectorClock release;
    std::uint64_t in_clock = 0;
    std::uint64_t in_pending = 0;
  };
  static std::uint64_t bit_of(FiberId f) noexcept { return f < 64 ? std::uint64_t{1} << f : 0; }
  std::vector<AtomicSync> atomics_;  // the release clock of each atomic's latest store, by object id
  std::vector<VectorClock> syncs_;    // mutex and parker clocks, by sync id
  std::vector<std::vector<CellEpoch>> shared_;  // read sets of read-shared cells; the first shared_used_ in use
  std::uint32_t shared_used_ = 0;
  std::vector<History> histories_;    // the C11 model's store histories, by object id
  VectorClock sc_;                    // C_sc (step 13)
  std::vector<VectorClock> sc_view_;  // S_f (step 13), by fiber id: narrows loads, orders no access
  std::uint32_t run_ = 1;             // stamps the cells' shadows of this run (reset moves it on)
  std::uint32_t depth_ = 4;
};

// describe_race renders a race for a failure message, naming both sites
// (file:line relative to the project root), fibers and operations.
std::string describe_race(const Race& race, const std::string& earlier_name, const std::string& later_name);

}  // namespace weft::sim::detail
