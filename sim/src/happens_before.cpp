// Happens-before tracking and the data-race check on cells; the protocol's steps
// are written at the top of weft/sim/detail/happens_before.hpp.
#include "weft/sim/detail/happens_before.hpp"

#include <string_view>

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

void HappensBefore::on_atomic(FiberId f, std::uint32_t object, AtomicKind kind, Order o) {
  VectorClock& c = clock_of(f);
  VectorClock& rel = slot(atomics_, object);
  switch (kind) {
    case AtomicKind::load:
      // Step 3: an acquire load reads the latest store and takes its release sequence.
      if (acquires(o)) c.join(rel);
      return;
    case AtomicKind::store:
      // Step 4: a release store starts a release sequence; a relaxed one ends it.
      if (releases(o)) {
        rel = c;
        c.bump(f);
      } else {
        rel.clear();
      }
      return;
    case AtomicKind::rmw:
      // Step 4: the RMW reads the latest store and continues its release sequence.
      if (acquires(o)) c.join(rel);
      if (releases(o)) {
        rel.join(c);
        c.bump(f);
      }
      return;
  }
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

std::optional<Race> HappensBefore::on_cell(FiberId f, std::uint32_t cell, bool write,
                                           const std::source_location& site) {
  const VectorClock& c = clock_of(f);
  CellShadow& sh = slot(cells_, cell);
  const Access now{f, c.get(f), site, write};
  // Step 7: every access is checked against the last write.
  if (sh.last_write.fiber != kNoFiber && !c.covers(sh.last_write.fiber, sh.last_write.time)) {
    return Race{sh.last_write, now};
  }
  if (write) {
    if (sh.shared.empty()) {
      if (sh.last_read.fiber != kNoFiber && !c.covers(sh.last_read.fiber, sh.last_read.time)) {
        return Race{sh.last_read, now};
      }
    } else {
      for (const Access& r : sh.shared) {
        if (!c.covers(r.fiber, r.time)) return Race{r, now};
      }
      sh.shared.clear();
    }
    sh.last_read.fiber = kNoFiber;
    sh.last_write = now;
    return std::nullopt;
  }
  if (sh.shared.empty()) {
    // Step 7: reads ordered one after another stay one epoch.
    if (sh.last_read.fiber == kNoFiber || c.covers(sh.last_read.fiber, sh.last_read.time)) {
      sh.last_read = now;
      return std::nullopt;
    }
    sh.shared.push_back(sh.last_read);  // two concurrent reads: read-shared from here
    sh.last_read.fiber = kNoFiber;
    sh.shared.push_back(now);
    return std::nullopt;
  }
  for (Access& r : sh.shared) {
    if (r.fiber == f) {
      r = now;
      return std::nullopt;
    }
  }
  sh.shared.push_back(now);
  return std::nullopt;
}

void HappensBefore::reset() noexcept {
  clocks_.clear();
  atomics_.clear();
  syncs_.clear();
  cells_.clear();
}

namespace {
// project_relative strips the project root from a compiled path: the root is
// where this file's own path ends in sim/src/happens_before.cpp.
std::string_view project_relative(std::string_view path) {
  constexpr std::string_view kSelfTail = "sim/src/happens_before.cpp";
  const std::string_view self = std::source_location::current().file_name();
  if (self.size() < kSelfTail.size() || self.substr(self.size() - kSelfTail.size()) != kSelfTail) return path;
  const std::string_view root = self.substr(0, self.size() - kSelfTail.size());
  if (!root.empty() && path.substr(0, root.size()) == root) path.remove_prefix(root.size());
  return path;
}

std::string site_of(const Access& a, const std::string& name) {
  return std::string(a.write ? "write" : "read") + " by fiber " + std::to_string(a.fiber) + " (" + name + ") at " +
         std::string(project_relative(a.site.file_name())) + ":" + std::to_string(a.site.line());
}
}  // namespace

std::string describe_race(const Race& race, const std::string& earlier_name, const std::string& later_name) {
  return "data race on a plain cell: " + site_of(race.earlier, earlier_name) + ", then " +
         site_of(race.later, later_name) + ", with no happens-before between them";
}

}  // namespace weft::sim::detail
