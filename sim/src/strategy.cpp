// The built-in strategies: random walk, PCT, hold (ABA), and strict and lenient
// replay of a recorded schedule.
//
// Each strategy draws from its own streams, derived from the run's seed: one for
// scheduling, one for the random values handed to the program (entropy(),
// random_u64()), and one for the memory draws of the c11 model (which store a
// load reads; the bias by strategy is documented at kStaleReadPerMille), so that
// the values a program sees depend neither on how many scheduling draws nor on
// how many memory draws happened before them.
#include <algorithm>
#include <bit>
#include <iterator>
#include <string>
#include <vector>

#include "weft/sim/prng.hpp"
#include "weft/sim/simulator.hpp"

namespace weft::sim {

namespace {

constexpr std::uint64_t kScheduleStream = 0x5c4ed01e5ull;
constexpr std::uint64_t kDataStream = 0xda7a5eedull;
constexpr std::uint64_t kReadStream = 0x4ead5eedull;

// Draws is the two value streams of a strategy: the program's, and the memory
// draws'. A strategy that favours a stale read at some memory draw asks for
// next(p, true): the oldest store that draw may read.
class Draws {
 public:
  explicit Draws(std::uint64_t seed) : data_(seed ^ kDataStream), reads_(seed ^ kReadStream) {}
  std::uint64_t next(const Point& p, bool oldest = false) {
    if (!is_memory_draw(p.op)) return data_.next_u64();
    const std::uint64_t v = reads_.next_u64();  // always drawn, so later draws keep their values
    return oldest && p.choices >= 2 ? oldest_draw(p.choices) : v;
  }

 private:
  Prng data_;
  Prng reads_;
};

// random_pick is the random walk's choice: every fiber of `fibers` (never empty)
// is equally likely, except `pass_over` (a yielding caller, listed in `fibers`, or
// kNoFiber), which is passed over when another fiber is there.
FiberId random_pick(Prng& prng, std::span<const FiberId> fibers, FiberId pass_over) {
  const std::uint64_t n = fibers.size();
  if (pass_over != kNoFiber && n > 1) {
    // Uniform among the others: draw in [0, n-1); if that is the caller, take
    // the last slot instead (the caller is not there, as its slot is < n-1).
    const FiberId pick = fibers[prng.below(n - 1)];
    return pick == pass_over ? fibers[n - 1] : pick;
  }
  return fibers[prng.below(n)];
}

// RandomStrategy is a random walk: at each decision every runnable fiber is equally
// likely; a yielding fiber is passed over when another can run.
class RandomStrategy final : public Strategy {
 public:
  explicit RandomStrategy(std::uint64_t seed) : sched_(seed ^ kScheduleStream), draws_(seed) {}

  const char* name() const noexcept override { return "random"; }

  FiberId next_fiber(const Point& p, std::span<const FiberId> runnable) override {
    return random_pick(sched_, runnable, p.yielding && p.current_runnable ? p.current : kNoFiber);
  }

  bool next_u64(const Point& p, std::uint64_t& out) override {
    out = draws_.next(p);
    return true;
  }

 private:
  Prng sched_;
  Draws draws_;
};

// PctStrategy is probabilistic concurrency testing (Burckhardt et al., ASPLOS 2010):
//  1. Each fiber gets a random priority >= d when it is created.
//  2. d-1 change points are drawn uniformly in [1, k] (k = expected decisions).
//     At the decision with index >= the i-th change point (i = 1..d-1, in draw
//     order), the running fiber's priority drops to i: below every initial one.
//  3. A yielding fiber drops below everyone (-1, -2, ...), so spinners rotate.
//  4. The highest-priority runnable fiber runs (ties: lowest id); a yielding fiber
//     is passed over if another can run.
//  5. c11: each change point also makes the next memory draw that has a choice
//     read the oldest store it may (kStaleReadPerMille states the bias elsewhere).
class PctStrategy final : public Strategy {
 public:
  PctStrategy(std::uint64_t seed, std::uint32_t depth, std::uint64_t steps)
      : prng_(seed ^ kScheduleStream), draws_(seed), depth_(std::max<std::uint32_t>(depth, 1)) {
    steps = std::max<std::uint64_t>(steps, 1);
    for (std::uint32_t i = 1; i < depth_; ++i) {
      std::uint64_t at = 1 + prng_.below(steps);
      // Distinct points when there is room (bounded: at most depth tries each).
      for (std::uint32_t tries = 0; tries < depth_ && steps >= depth_ && taken(at); ++tries) {
        at = 1 + prng_.below(steps);
      }
      changes_.push_back(Change{at, static_cast<std::int64_t>(i)});
    }
    std::stable_sort(changes_.begin(), changes_.end(), [](const Change& a, const Change& b) { return a.at < b.at; });
  }

  const char* name() const noexcept override { return "pct"; }
  bool sees_every_decision() const noexcept override { return true; }

  void on_spawn(FiberId id) override {
    if (priority_.size() <= id) priority_.resize(id + 1, 0);
    // Random and (almost surely) distinct; >= depth, above every change priority.
    priority_[id] = static_cast<std::int64_t>(depth_) + static_cast<std::int64_t>(prng_.next_u64() >> 2);
  }

  FiberId next_fiber(const Point& p, std::span<const FiberId> runnable) override {
    while (next_change_ < changes_.size() && changes_[next_change_].at <= p.index) {
      priority_[p.current] = changes_[next_change_].priority;
      ++next_change_;
      ++stale_due_;  // step 5
    }
    const bool pass_over = p.yielding && p.current_runnable && runnable.size() > 1;
    if (p.yielding) priority_[p.current] = --yield_floor_;
    FiberId best = kNoFiber;
    for (FiberId id : runnable) {
      if (pass_over && id == p.current) continue;
      if (best == kNoFiber || priority_[id] > priority_[best] || (priority_[id] == priority_[best] && id < best)) {
        best = id;
      }
    }
    return best;
  }

  bool next_u64(const Point& p, std::uint64_t& out) override {
    const bool oldest = stale_due_ > 0 && is_memory_draw(p.op) && p.choices >= 2;
    if (oldest) --stale_due_;  // step 5
    out = draws_.next(p, oldest);
    return true;
  }

 private:
  struct Change {
    std::uint64_t at;
    std::int64_t priority;
  };
  bool taken(std::uint64_t at) const {
    return std::any_of(changes_.begin(), changes_.end(), [at](const Change& c) { return c.at == at; });
  }

  Prng prng_;
  Draws draws_;
  std::uint32_t depth_;
  std::vector<Change> changes_;
  std::size_t next_change_ = 0;
  std::uint32_t stale_due_ = 0;  // change points passed whose stale read is still to come (step 5)
  std::vector<std::int64_t> priority_;
  std::int64_t yield_floor_ = 0;
};

// HoldStrategy is the random walk plus holds of a reader across a counted number of
// other fibers' writes to the atomic it read (StrategySpec::hold states the rules).
class HoldStrategy final : public Strategy {
 public:
  // kHoldOdds: a read that may start a hold does so with chance 1 in kHoldOdds.
  static constexpr std::uint64_t kHoldOdds = 16;
  // The drawn write counts are 2^k - 1, 2^k, 2^k + 1 for k uniform in [0, K]: K
  // is kHoldLog2Floor, or more while 2^K is at most twice the writes the atomic
  // has had so far (counts a run of that length may reach), up to kHoldLog2Max.
  static constexpr std::uint64_t kHoldLog2Floor = 10;
  static constexpr std::uint64_t kHoldLog2Max = 16;
  // kHoldDecisionsMax bounds a hold in decisions of the other fibers; kQuietMax
  // bounds it in their decisions since the last write of the atomic (once nobody
  // updates it, holding on explores nothing more for it).
  static constexpr std::uint64_t kHoldDecisionsMax = 1u << 16;
  static constexpr std::uint64_t kQuietMax = 1u << 8;

  explicit HoldStrategy(std::uint64_t seed) : sched_(seed ^ kScheduleStream), draws_(seed) {}

  const char* name() const noexcept override { return "hold"; }
  // Every decision: a hold ends when the held fiber is the only one runnable.
  bool sees_every_decision() const noexcept override { return true; }
  bool observes_accesses() const noexcept override { return true; }

  void on_spawn(FiberId id) override {
    if (at_yield_.size() <= id) at_yield_.resize(id + 1, false);
  }

  void on_access(FiberId fiber, Op op, std::uint32_t object, bool wrote) override {
    if (objects_.size() <= object) objects_.resize(object + 1);
    objects_[object].cas_seen = objects_[object].cas_seen || op == Op::cas;
    objects_[object].writes += wrote ? 1 : 0;
    if (held_ != kNoFiber) {
      // The held fiber never runs, so every access here is another fiber's.
      if (wrote && object == object_) {
        quiet_ = 0;
        if (--writes_left_ == 0) release();
      }
      return;
    }
    const bool read = op == Op::load || (op == Op::cas && !wrote);
    if (!read || !objects_[object].cas_seen || sched_.below(kHoldOdds) != 0) return;
    held_ = fiber;
    object_ = object;
    writes_left_ = draw_write_count(objects_[object].writes);
    decisions_ = 0;
    quiet_ = 0;
  }

  FiberId next_fiber(const Point& p, std::span<const FiberId> runnable) override {
    at_yield_[p.current] = p.yielding;
    const FiberId pass_over = p.yielding && p.current_runnable ? p.current : kNoFiber;
    if (held_ != kNoFiber) {
      others_.clear();
      bool all_at_yield = true;
      for (FiberId id : runnable) {
        if (id == held_) continue;
        others_.push_back(id);
        all_at_yield = all_at_yield && at_yield_[id];
      }
      if (!others_.empty() && !all_at_yield && ++decisions_ <= kHoldDecisionsMax && ++quiet_ <= kQuietMax) {
        return random_pick(sched_, others_, pass_over == held_ ? kNoFiber : pass_over);
      }
      release();
    }
    if (runnable.size() == 1) return runnable[0];  // as the kernel's fast path: no draw
    return random_pick(sched_, runnable, pass_over);
  }

  bool next_u64(const Point& p, std::uint64_t& out) override {
    // c11: the fiber whose hold ended reads the oldest store it may at its next
    // memory draw with a choice (StrategySpec::hold, step 4).
    const bool oldest = p.current == stale_for_ && is_memory_draw(p.op) && p.choices >= 2;
    if (oldest) stale_for_ = kNoFiber;
    out = draws_.next(p, oldest);
    return true;
  }

 private:
  // draw_write_count draws 2^k - 1, 2^k or 2^k + 1 (at least 1), k uniform in
  // [0, K]: K is kHoldLog2Floor, or more if 2^K is at most twice writes_so_far,
  // and at most kHoldLog2Max.
  std::uint64_t draw_write_count(std::uint64_t writes_so_far) {
    const auto log2_reachable = static_cast<std::uint64_t>(std::bit_width(writes_so_far));  // 2^K <= 2 * writes
    const std::uint64_t log2_max = std::min(kHoldLog2Max, std::max(kHoldLog2Floor, log2_reachable));
    const std::uint64_t base = std::uint64_t{1} << sched_.below(log2_max + 1);
    return std::max<std::uint64_t>(1, base + sched_.below(3) - 1);
  }
  void release() noexcept {
    stale_for_ = held_;
    held_ = kNoFiber;
  }

  struct Object {
    bool cas_seen = false;     // some CAS was made on it in this run
    std::uint64_t writes = 0;  // its writes in this run
  };

  Prng sched_;
  Draws draws_;
  FiberId held_ = kNoFiber;
  FiberId stale_for_ = kNoFiber;  // the fiber whose hold ended, until its next memory draw with a choice
  std::uint32_t object_ = 0;      // the atomic the held fiber read
  std::uint64_t writes_left_ = 0;  // writes of object_ by others before the hold ends
  std::uint64_t decisions_ = 0;    // decisions of the others since the hold began
  std::uint64_t quiet_ = 0;        // decisions of the others since they last wrote object_
  std::vector<Object> objects_;    // by object id
  std::vector<bool> at_yield_;     // by fiber id: its latest decision point was a yield
  std::vector<FiberId> others_;    // scratch: the runnable fibers other than the held one
};

// ReplayStrategy follows a recorded schedule and refuses at the first decision
// that does not match it (kind, op, or a fiber that is not runnable).
class ReplayStrategy final : public Strategy {
 public:
  explicit ReplayStrategy(std::shared_ptr<const Schedule> schedule) : schedule_(std::move(schedule)) {}

  const char* name() const noexcept override { return "replay"; }
  bool sees_every_decision() const noexcept override { return true; }

  FiberId next_fiber(const Point& p, std::span<const FiberId> runnable) override {
    const Decision* d = expect(p, DecisionKind::fiber);
    if (d == nullptr) return kNoFiber;
    const auto id = static_cast<FiberId>(d->value);
    if (std::find(runnable.begin(), runnable.end(), id) == runnable.end()) {
      why_ = "recorded fiber " + std::to_string(d->value) + " is not runnable";
      return kNoFiber;
    }
    return id;
  }

  bool next_u64(const Point& p, std::uint64_t& out) override {
    const Decision* d = expect(p, DecisionKind::random);
    if (d == nullptr) return false;
    out = d->value;
    return true;
  }

  std::string divergence() const override { return why_; }

 private:
  const Decision* expect(const Point& p, DecisionKind kind) {
    const auto& ds = schedule_->decisions;
    if (p.index >= ds.size()) {
      why_ = "the schedule ended after " + std::to_string(ds.size()) + " decisions";
      return nullptr;
    }
    const Decision& d = ds[p.index];
    if (d.kind != kind) {
      why_ = std::string("recorded a ") + (d.kind == DecisionKind::fiber ? "fiber choice" : "random draw") +
             " but the run asks for a " + (kind == DecisionKind::fiber ? "fiber choice" : "random draw");
      return nullptr;
    }
    if (d.op != p.op) {
      why_ = std::string("recorded op ") + op_name(d.op) + " but the run reached " + op_name(p.op);
      return nullptr;
    }
    return &d;
  }

  std::shared_ptr<const Schedule> schedule_;
  std::string why_;
};

// LenientReplayStrategy follows a schedule where it can and takes a deterministic
// default elsewhere (StrategySpec::lenient states the rules). Used to shrink
// schedules: a candidate with a switch removed or moved still gives a run.
class LenientReplayStrategy final : public Strategy {
 public:
  explicit LenientReplayStrategy(std::shared_ptr<const Schedule> schedule)
      : schedule_(std::move(schedule)), draws_(schedule_->seed), switches_(schedule_->switches), reads_(schedule_->reads) {
    std::stable_sort(switches_.begin(), switches_.end(), by_place);
    std::stable_sort(reads_.begin(), reads_.end(), by_read_place);
  }

  const char* name() const noexcept override { return "lenient"; }
  bool sees_every_decision() const noexcept override { return true; }

  FiberId next_fiber(const Point& p, std::span<const FiberId> runnable) override {
    if (fiber_steps_.size() <= p.current) fiber_steps_.resize(p.current + 1, 0);
    const std::uint64_t step = fiber_steps_[p.current]++;
    const auto& ds = schedule_->decisions;
    if (p.index < ds.size() && ds[p.index].kind == DecisionKind::fiber && ds[p.index].value != kLenientDefault) {
      const auto id = static_cast<FiberId>(ds[p.index].value);
      if (std::find(runnable.begin(), runnable.end(), id) != runnable.end()) return id;
    }
    const Switch key{p.current, step, 0};
    const auto w = std::lower_bound(switches_.begin(), switches_.end(), key, by_place);
    if (w != switches_.end() && w->fiber == p.current && w->step == step &&
        std::find(runnable.begin(), runnable.end(), w->to) != runnable.end()) {
      return w->to;
    }
    return fallback(p, runnable);
  }

  bool next_u64(const Point& p, std::uint64_t& out) override {
    const auto& ds = schedule_->decisions;
    out = draws_.next(p);  // always advanced, so later draws keep their values
    if (schedule_->reads_listed && is_memory_draw(p.op)) {
      // Step 5: a listed read by its place, else the newest store.
      if (read_steps_.size() <= p.current) read_steps_.resize(p.current + 1, 0);
      const ReadDraw key{p.current, read_steps_[p.current]++, 0};
      const auto r = std::lower_bound(reads_.begin(), reads_.end(), key, by_read_place);
      out = r != reads_.end() && r->fiber == key.fiber && r->step == key.step ? r->value : 0;
      return true;
    }
    if (p.index < ds.size() && ds[p.index].kind == DecisionKind::random) out = ds[p.index].value;
    return true;
  }

 private:
  static FiberId fallback(const Point& p, std::span<const FiberId> runnable) {
    const bool has_current = p.current_runnable;
    if (has_current && !(p.yielding && runnable.size() > 1)) return p.current;
    FiberId best = kNoFiber;
    for (FiberId id : runnable) {
      if (p.yielding && has_current && id == p.current) continue;
      if (id < best) best = id;
    }
    return best;
  }

  static bool by_place(const Switch& a, const Switch& b) {
    return a.fiber != b.fiber ? a.fiber < b.fiber : a.step < b.step;
  }
  static bool by_read_place(const ReadDraw& a, const ReadDraw& b) {
    return a.fiber != b.fiber ? a.fiber < b.fiber : a.step < b.step;
  }

  std::shared_ptr<const Schedule> schedule_;
  Draws draws_;
  std::vector<Switch> switches_;            // by fiber, then step
  std::vector<std::uint64_t> fiber_steps_;  // by fiber id: its fiber decisions so far
  std::vector<ReadDraw> reads_;             // listed reads, by fiber, then step
  std::vector<std::uint64_t> read_steps_;   // by fiber id: its memory draws so far
};

}  // namespace

std::unique_ptr<Strategy> make_strategy(const StrategySpec& spec, std::uint64_t seed, std::uint64_t pct_steps) {
  switch (spec.kind) {
    case StrategySpec::Kind::random:
      return std::make_unique<RandomStrategy>(seed);
    case StrategySpec::Kind::pct:
      return std::make_unique<PctStrategy>(seed, spec.pct_depth, pct_steps);
    case StrategySpec::Kind::hold:
      return std::make_unique<HoldStrategy>(seed);
    case StrategySpec::Kind::replay:
      return std::make_unique<ReplayStrategy>(spec.schedule ? spec.schedule : std::make_shared<const Schedule>());
    case StrategySpec::Kind::lenient:
      return std::make_unique<LenientReplayStrategy>(spec.schedule ? spec.schedule
                                                                    : std::make_shared<const Schedule>());
    case StrategySpec::Kind::mixed:
      return make_strategy(spec.for_seed(seed), seed, pct_steps);
  }
  return std::make_unique<RandomStrategy>(seed);
}

std::string StrategySpec::label() const {
  switch (kind) {
    case Kind::random: return "random";
    case Kind::pct: return "pct:" + std::to_string(pct_depth);
    case Kind::hold: return "hold";
    case Kind::replay: return "replay";
    case Kind::lenient: return "lenient";
    case Kind::mixed: return "mixed";
  }
  return "random";
}

StrategySpec StrategySpec::for_seed(std::uint64_t seed) const {
  if (kind != Kind::mixed) return *this;
  const MixedEntry& e = kMixedCycle[seed % std::size(kMixedCycle)];
  switch (e.kind) {
    case Kind::pct: return pct(e.pct_depth, 0);  // 0: measure the run's length first
    case Kind::hold: return hold();
    case Kind::random:
    case Kind::replay:
    case Kind::lenient:
    case Kind::mixed: break;  // the cycle holds only random, pct and hold
  }
  return random();
}

}  // namespace weft::sim
