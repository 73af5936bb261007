// Happens-before tracking and the data-race check on cells; the protocol's steps
// are written at the top of weft/sim/detail/happens_before.hpp.
#include "weft/sim/detail/happens_before.hpp"

#include "weft/sim/detail/source_path.hpp"

namespace weft::sim::detail {

void HappensBefore::on_spawn(FiberId parent, FiberId child) {
  VectorClock& c = clock_of(child);
  // Step 5: the child starts from everything its parent did before the spawn.
  if (parent != kNoFiber) c.join(clock_of(parent));
  // Step 1: the child's own entry starts at 1.
  c.set(child, 1);
  // Step 2: the spawn releases; the parent's later accesses are not the child's past.
  if (parent != kNoFiber) clock_of(parent).bump(parent);
}

void HappensBefore::on_join(FiberId joiner, FiberId child) {
  // Step 5: the joiner sees everything the finished child did (copy first: the
  // join may grow clocks_).
  const VectorClock final_clock = clock_of(child);
  clock_of(joiner).join(final_clock);
}

void HappensBefore::on_atomic_slow(FiberId f, std::uint32_t object, AtomicKind kind, Order o) {
  VectorClock& c = clock_of(f);
  AtomicSync& a = slot(atomics_, object);
  const std::uint64_t bit = bit_of(f);
  // Step 3: an acquire load reads the latest store and takes its release
  // sequence; a relaxed one keeps it for a later acquire fence (step 14).
  // A fiber that already holds the clock skips the join (AtomicSync).
  if (kind != AtomicKind::store) {
    if (acquires(o)) {
      if ((a.in_clock & bit) == 0) {
        c.join(a.release);
        a.in_clock |= bit;
      }
    } else if (((a.in_clock | a.in_pending) & bit) == 0) {
      if (!a.release.empty()) slot(pending_acquire_, f).join(a.release);
      a.in_pending |= bit;
    }
  }
  switch (kind) {
    case AtomicKind::load:
      return;
    case AtomicKind::store:
      // Step 4: a release store starts a release sequence; a relaxed one ends it
      // (and carries f's last release fence, if any). Either is in C_f.
      if (releases(o)) {
        a.release = c;
        c.bump(f);
      } else {
        a.release = slot(fence_release_, f);
      }
      a.in_clock = bit;
      a.in_pending = 0;
      return;
    case AtomicKind::rmw: {
      // Step 4: the RMW read the latest store and continues its release sequence.
      // What it adds (C_f, or F_f) is in C_f; what it read is where the read put it.
      const VectorClock& added = releases(o) ? c : slot(fence_release_, f);
      if (!added.empty()) {  // else the release clock is unchanged, and so is who holds it
        const bool held = (a.in_clock & bit) != 0;
        a.release.join(added);
        a.in_clock = held ? bit : 0;
        a.in_pending = held ? 0 : bit;
      }
      if (releases(o)) c.bump(f);
      return;
    }
  }
}

void HappensBefore::on_fence(FiberId f, Order o, bool c11) {
  VectorClock& c = clock_of(f);
  const bool sc = c11 && o == Order::seq_cst;
  if (sc) slot(sc_view_, f).join(sc_);  // step 13: S_f, never C_f
  // Step 14: an acquire fence takes what f's earlier relaxed loads read.
  if (acquires(o)) {
    VectorClock& pending = slot(pending_acquire_, f);
    c.join(pending);
    pending.clear();
  }
  // Step 14: a release fence is what f's later relaxed stores carry.
  if (releases(o)) slot(fence_release_, f) = c;
  if (sc) sc_.join(c);  // step 13
  // Step 2: what f does after the fence is not what it published.
  if (releases(o)) c.bump(f);
}

void HappensBefore::release_into(FiberId f, std::uint32_t sync, bool replace) {
  VectorClock& c = clock_of(f);
  VectorClock& s = slot(syncs_, sync);
  // Step 2.
  if (replace) {
    s = c;
  } else {
    s.join(c);
  }
  c.bump(f);
}

void HappensBefore::acquire_from(FiberId f, std::uint32_t sync, bool take) {
  VectorClock& s = slot(syncs_, sync);
  // Step 3 (and 6: a consumed token takes its clock with it).
  clock_of(f).join(s);
  if (take) s.clear();
}

std::optional<Race> HappensBefore::on_cell(FiberId f, CellShadow& sh, bool write,
                                           const std::source_location& site) {
  // Step 8: a shadow of another run (or of none) is a cell with no access yet.
  if (sh.run != run_) sh = CellShadow{CellEpoch{}, CellEpoch{}, run_};
  const VectorClock& c = clock_of(f);
  const CellEpoch now{f, c.get(f), site};
  // Step 7: every access is checked against the last write.
  if (!c.covers(sh.write.fiber, sh.write.time)) return Race{sh.write.as(true), now.as(write)};
  if (write) {
    if (sh.read.fiber == kSharedReads) {
      for (const CellEpoch& r : shared_[sh.read.time]) {
        if (!c.covers(r.fiber, r.time)) return Race{r.as(false), now.as(true)};
      }
    } else if (!c.covers(sh.read.fiber, sh.read.time)) {
      return Race{sh.read.as(false), now.as(true)};
    }
    sh.read = CellEpoch{};
    sh.write = now;
    return std::nullopt;
  }
  if (sh.read.fiber == kSharedReads) {
    std::vector<CellEpoch>& reads = shared_[sh.read.time];
    for (CellEpoch& r : reads) {
      if (r.fiber == f) {
        r = now;
        return std::nullopt;
      }
    }
    reads.push_back(now);
    return std::nullopt;
  }
  // Step 7: reads ordered one after another stay one epoch.
  if (c.covers(sh.read.fiber, sh.read.time)) {
    sh.read = now;
    return std::nullopt;
  }
  // Two concurrent reads: read-shared from here until the next write.
  const std::uint32_t set = shared_set();
  shared_[set].push_back(sh.read);
  shared_[set].push_back(now);
  sh.read = CellEpoch{kSharedReads, set, {}};
  return std::nullopt;
}

std::uint32_t HappensBefore::shared_set() {
  if (shared_used_ == shared_.size()) shared_.emplace_back();
  shared_[shared_used_].clear();
  return shared_used_++;
}

void HappensBefore::reset() noexcept {
  clocks_.clear();
  fence_release_.clear();
  pending_acquire_.clear();
  atomics_.clear();
  syncs_.clear();
  // Every cell's shadow is now of an earlier run (0: of none; kRetiredStamp marks
  // a cell in a retired block, weft/sim/detail/retired.hpp, Step R2).
  if (++run_ == 0) run_ = 1;
  if (run_ == kRetiredStamp) run_ = kRetiredStamp + 1;
  shared_used_ = 0;
  for (History& h : histories_) h.count = 0;  // keeps the rings' memory
  sc_.clear();
  sc_view_.clear();
}

// ---- the C11 model: steps 9 to 13 ----

HappensBefore::History& HappensBefore::history_of(std::uint32_t object, std::uint64_t initial) {
  History& h = slot(histories_, object);
  if (h.ring.size() != depth_) {
    h.ring.assign(depth_, StoreRecord{});
    h.start = 0;
    h.count = 0;
  }
  if (h.count == 0) {
    // Step 9: the value before the run's first access is the initial store,
    // written before everything (every fiber's floor is at or after it).
    StoreRecord& init = h.ring[0];
    init.value = initial;
    init.writer = kNoFiber;
    init.time = 0;
    init.release.clear();
    init.first_seen.clear();
    h.start = 0;
    h.count = 1;
  }
  return h;
}

std::uint32_t HappensBefore::floor_back(const History& h, const VectorClock& c, const VectorClock& view) {
  // Step 10: scan from the newest store back; the first one that happens before
  // this point (its writer's epoch is covered) or that some fiber read or wrote
  // at an epoch this point covers is the floor: nothing older may be read. The
  // point is C_f and, for the seq_cst order, S_f (step 13).
  for (std::uint32_t back = 0; back < h.count; ++back) {
    const StoreRecord& s = h.at_back(back);
    if (s.writer == kNoFiber || c.covers(s.writer, s.time) || view.covers(s.writer, s.time)) return back;
    if (s.first_seen.seen_within(c) || (!view.empty() && s.first_seen.seen_within(view))) return back;
  }
  // Every retained store is newer than the floor, which was evicted: reading
  // only retained stores moves the read forward, never below the floor.
  return h.count - 1;
}

const VectorClock& HappensBefore::sc_view(FiberId f, Order o) {
  VectorClock& view = slot(sc_view_, f);
  // Step 13: a seq_cst operation first takes every earlier seq_cst operation's
  // clock into S_f (not C_f: the order is no happens-before).
  if (o == Order::seq_cst) view.join(sc_);
  return view;
}

std::uint32_t HappensBefore::c11_candidates(FiberId f, std::uint32_t object, std::uint64_t latest, Order o) {
  const VectorClock& view = sc_view(f, o);
  const VectorClock& c = clock_of(f);
  const History& h = history_of(object, latest);
  return floor_back(h, c, view) + 1;
}

void HappensBefore::c11_stale_unequal(FiberId f, std::uint32_t object, std::uint64_t latest, std::uint64_t expected,
                                      Order o, std::vector<std::uint32_t>& out) {
  const VectorClock& view = sc_view(f, o);  // step 13
  const VectorClock& c = clock_of(f);
  const History& h = history_of(object, latest);
  // Step 15: a failing compare-exchange may read any allowed store but the
  // newest whose value differs from the expected one.
  const std::uint32_t floor = floor_back(h, c, view);
  for (std::uint32_t back = 1; back <= floor; ++back) {
    if (h.at_back(back).value != expected) out.push_back(back);
  }
}

std::uint64_t HappensBefore::c11_read(FiberId f, std::uint32_t object, std::uint64_t latest, std::uint32_t back,
                                      Order o) {
  sc_view(f, o);  // step 13 (again for a read without a choice)
  VectorClock& c = clock_of(f);
  History& h = history_of(object, latest);
  StoreRecord& s = h.at_back(back < h.count ? back : h.count - 1);
  // Step 11: the reader has seen the store from now on (read-read coherence for
  // itself and for every fiber it later synchronises with).
  if (s.first_seen.get(f) == 0) s.first_seen.set(f, c.get(f));
  if (acquires(o)) {
    c.join(s.release);
  } else if (!s.release.empty()) {
    slot(pending_acquire_, f).join(s.release);  // for a later acquire fence (step 14)
  }
  const std::uint64_t value = s.value;
  if (o == Order::seq_cst) {
    sc_.join(c);
    c.bump(f);
  }
  return value;
}

void HappensBefore::c11_write(FiberId f, std::uint32_t object, AtomicKind kind, Order o, std::uint64_t before,
                              std::uint64_t value) {
  sc_view(f, o);  // step 13
  VectorClock& c = clock_of(f);
  History& h = history_of(object, before);
  VectorClock release;
  if (kind == AtomicKind::rmw) {
    // Step 12: a read-modify-write reads the newest store and continues its
    // release sequence.
    StoreRecord& last = h.at_back(0);
    if (last.first_seen.get(f) == 0) last.first_seen.set(f, c.get(f));
    if (acquires(o)) {
      c.join(last.release);
    } else if (!last.release.empty()) {
      slot(pending_acquire_, f).join(last.release);  // step 14
    }
    release = last.release;
  }
  // Step 12: a release store starts a release sequence; a relaxed store starts
  // none (C++20: it ends the writer's own, too) but carries f's last release
  // fence (step 14).
  if (releases(o)) {
    release.join(c);
  } else {
    release.join(slot(fence_release_, f));
  }
  StoreRecord& s = h.push();
  s.value = value;
  s.writer = f;
  s.time = c.get(f);
  s.release = release;
  s.first_seen.clear();
  s.first_seen.set(f, c.get(f));
  if (o == Order::seq_cst) sc_.join(c);
  // Step 2: after a release the writer's later accesses are not what it published.
  if (releases(o)) c.bump(f);
}

namespace {
std::string site_of(const Access& a, const std::string& name) {
  return std::string(a.write ? "write" : "read") + " by fiber " + std::to_string(a.fiber) + " (" + name + ") at " +
         std::string(repository_relative(a.site.file_name())) + ":" + std::to_string(a.site.line());
}
}  // namespace

std::string describe_race(const Race& race, const std::string& earlier_name, const std::string& later_name) {
  return "data race on a plain cell: " + site_of(race.earlier, earlier_name) + ", then " +
         site_of(race.later, later_name) + ", with no happens-before between them";
}

}  // namespace weft::sim::detail
