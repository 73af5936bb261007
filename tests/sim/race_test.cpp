// Data races on plain memory: the vector clock, the happens-before edges, and
// litmus shapes of a plain-memory race and its twins that synchronise (release/
// acquire, a mutex, spawn/join, a park) or do not (a relaxed flag), over many seeds.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "sim_test_util.hpp"
#include "weft/sim/detail/happens_before.hpp"
#include "weft/sim/prng.hpp"

namespace weft::sim::testing {
namespace {

using detail::HappensBefore;
using detail::VectorClock;
using Kind = HappensBefore::AtomicKind;

constexpr std::uint64_t kSeeds = 400;

TEST(VectorClock, MissingEntriesAreZeroAndJoinTakesTheMaximum) {
  VectorClock a;
  VectorClock b;
  EXPECT_EQ(a.get(5), 0u);
  a.set(0, 3);
  a.set(2, 1);
  b.set(1, 4);
  b.set(2, 7);
  a.join(b);
  EXPECT_EQ(a.get(0), 3u);
  EXPECT_EQ(a.get(1), 4u);
  EXPECT_EQ(a.get(2), 7u);
  EXPECT_EQ(a.get(3), 0u);
}

TEST(VectorClock, CoversAnEpochAtOrBelowItsEntryOnly) {
  VectorClock a;
  a.set(1, 4);
  EXPECT_TRUE(a.covers(1, 4));
  EXPECT_TRUE(a.covers(1, 0));
  EXPECT_FALSE(a.covers(1, 5));
  EXPECT_FALSE(a.covers(2, 1));
}

TEST(VectorClock, LeqIsThePointwiseOrderAndBumpLeavesIt) {
  VectorClock a;
  VectorClock b;
  a.set(0, 1);
  b.set(0, 1);
  b.set(1, 1);
  EXPECT_TRUE(a.leq(b));
  EXPECT_FALSE(b.leq(a));
  a.bump(0);
  EXPECT_EQ(a.get(0), 2u);
  EXPECT_FALSE(a.leq(b));
  EXPECT_FALSE(b.leq(a));  // concurrent
}

std::source_location here(std::source_location l = std::source_location::current()) { return l; }

// Model is the happens-before state of a run and two cells' shadows, which the
// cells themselves keep in a run.
struct Model {
  HappensBefore hb;
  detail::CellShadow cell[2];
};

TEST(HappensBefore, ASpawnOrdersTheParentsPastButNotItsFuture) {
  Model m;
  auto& [hb, cell] = m;
  hb.on_spawn(kNoFiber, 0);
  EXPECT_FALSE(hb.on_cell(0, cell[0], true, here()));  // before the spawn: the child's past
  hb.on_spawn(0, 1);
  EXPECT_FALSE(hb.on_cell(1, cell[0], false, here()));
  EXPECT_TRUE(hb.on_cell(0, cell[1], true, here()) == std::nullopt);  // a fresh cell
  EXPECT_TRUE(hb.on_cell(1, cell[1], false, here()).has_value());      // after the spawn: a race
}

TEST(HappensBefore, JoinOrdersEverythingTheChildDid) {
  Model m;
  auto& [hb, cell] = m;
  hb.on_spawn(kNoFiber, 0);
  hb.on_spawn(0, 1);
  EXPECT_FALSE(hb.on_cell(1, cell[0], true, here()));
  hb.on_join(0, 1);
  EXPECT_FALSE(hb.on_cell(0, cell[0], true, here()));
}

// writer_and_reader: main spawned fibers 1 and 2, and fiber 1 wrote cell 0.
Model writer_and_reader() {
  Model m;
  auto& [hb, cell] = m;
  hb.on_spawn(kNoFiber, 0);
  hb.on_spawn(0, 1);
  hb.on_spawn(0, 2);
  EXPECT_FALSE(hb.on_cell(1, cell[0], true, here()));
  return m;
}

TEST(HappensBefore, AReleaseStoreReadByAnAcquireLoadOrdersAndARelaxedOneDoesNot) {
  for (const bool release : {true, false}) {
    Model m = writer_and_reader();
    auto& [hb, cell] = m;
    hb.on_atomic(1, 0, Kind::store, release ? Order::release : Order::relaxed);
    hb.on_atomic(2, 0, Kind::load, Order::acquire);
    EXPECT_EQ(hb.on_cell(2, cell[0], false, here()).has_value(), !release);
  }
}

TEST(HappensBefore, ARelaxedLoadOfAReleaseStoreDoesNotOrder) {
  Model m = writer_and_reader();
    auto& [hb, cell] = m;
  hb.on_atomic(1, 0, Kind::store, Order::release);
  hb.on_atomic(2, 0, Kind::load, Order::relaxed);
  EXPECT_TRUE(hb.on_cell(2, cell[0], false, here()).has_value());
}

TEST(HappensBefore, AReleaseSequenceContinuesThroughARelaxedRmwOfAnotherFiber) {
  Model m;
  auto& [hb, cell] = m;
  hb.on_spawn(kNoFiber, 0);
  for (FiberId f = 1; f <= 3; ++f) hb.on_spawn(0, f);
  EXPECT_FALSE(hb.on_cell(1, cell[0], true, here()));
  hb.on_atomic(1, 0, Kind::store, Order::release);
  hb.on_atomic(2, 0, Kind::rmw, Order::relaxed);
  hb.on_atomic(3, 0, Kind::load, Order::acquire);
  EXPECT_FALSE(hb.on_cell(3, cell[0], false, here()));
  // The relaxed RMW's fiber itself acquired nothing.
  EXPECT_TRUE(hb.on_cell(2, cell[0], false, here()).has_value());
}

TEST(HappensBefore, ARelaxedStoreEndsTheReleaseSequenceEvenTheWritersOwn) {
  Model m = writer_and_reader();
    auto& [hb, cell] = m;
  hb.on_atomic(1, 0, Kind::store, Order::release);
  hb.on_atomic(1, 0, Kind::store, Order::relaxed);  // C++20 (P0982): no longer in the sequence
  hb.on_atomic(2, 0, Kind::load, Order::acquire);
  EXPECT_TRUE(hb.on_cell(2, cell[0], false, here()).has_value());
}

TEST(HappensBefore, TwoReadsNeverRaceButAWriteAfterAnUnorderedReadDoes) {
  Model m;
  auto& [hb, cell] = m;
  hb.on_spawn(kNoFiber, 0);
  EXPECT_FALSE(hb.on_cell(0, cell[0], true, here()));
  hb.on_spawn(0, 1);
  hb.on_spawn(0, 2);
  EXPECT_FALSE(hb.on_cell(1, cell[0], false, here()));
  EXPECT_FALSE(hb.on_cell(2, cell[0], false, here()));
  const auto race = hb.on_cell(1, cell[0], true, here());
  ASSERT_TRUE(race.has_value());
  EXPECT_EQ(race->earlier.fiber, 2u);
  EXPECT_FALSE(race->earlier.write);
  EXPECT_TRUE(race->later.write);
}

TEST(HappensBefore, ReadsOrderedOneAfterAnotherStayOneEpochAndAnOrderedWriteFollowsThemAll) {
  Model m;
  auto& [hb, cell] = m;
  hb.on_spawn(kNoFiber, 0);
  EXPECT_FALSE(hb.on_cell(0, cell[0], true, here()));
  hb.on_spawn(0, 1);
  EXPECT_FALSE(hb.on_cell(1, cell[0], false, here()));
  // Fiber 1 hands over to fiber 2 through a release/acquire pair: 2's read is
  // ordered after 1's, so the reads stay one epoch (2's).
  hb.on_atomic(1, 0, Kind::store, Order::release);
  hb.on_spawn(0, 2);
  hb.on_atomic(2, 0, Kind::load, Order::acquire);
  EXPECT_FALSE(hb.on_cell(2, cell[0], false, here()));
  // Fiber 0 learns of 2 only: its write is ordered after both reads.
  hb.on_atomic(2, 1, Kind::store, Order::release);
  hb.on_atomic(0, 1, Kind::load, Order::acquire);
  EXPECT_FALSE(hb.on_cell(0, cell[0], true, here()));
}

TEST(HappensBefore, AWriteRacesWithAnyConcurrentReadOfTheSharedSet) {
  Model m;
  auto& [hb, cell] = m;
  hb.on_spawn(kNoFiber, 0);
  EXPECT_FALSE(hb.on_cell(0, cell[0], true, here()));
  hb.on_spawn(0, 1);
  hb.on_spawn(0, 2);
  hb.on_spawn(0, 3);
  EXPECT_FALSE(hb.on_cell(1, cell[0], false, here()));
  EXPECT_FALSE(hb.on_cell(2, cell[0], false, here()));  // concurrent with 1's: read-shared
  EXPECT_FALSE(hb.on_cell(3, cell[0], false, here()));
  // Fiber 3 learns of 1's and 2's reads: its write is ordered after all three;
  // a write by 0, which learnt of none, races with one of them.
  hb.on_atomic(1, 0, Kind::store, Order::release);
  hb.on_atomic(3, 0, Kind::load, Order::acquire);
  hb.on_atomic(2, 1, Kind::store, Order::release);
  hb.on_atomic(3, 1, Kind::load, Order::acquire);
  const auto race0 = hb.on_cell(0, cell[0], true, here());
  ASSERT_TRUE(race0.has_value());
  EXPECT_FALSE(race0->earlier.write);
  EXPECT_FALSE(hb.on_cell(3, cell[0], true, here()));
}

TEST(HappensBefore, ResetForgetsEveryClockAndCell) {
  Model m;
  auto& [hb, cell] = m;
  hb.on_spawn(kNoFiber, 0);
  hb.on_spawn(0, 1);
  EXPECT_FALSE(hb.on_cell(1, cell[0], true, here()));
  hb.reset();
  hb.on_spawn(kNoFiber, 0);
  EXPECT_EQ(hb.clock(0).get(0), 1u);
  EXPECT_EQ(hb.clock(0).get(1), 0u);
  EXPECT_FALSE(hb.on_cell(0, cell[0], false, here()));  // no write is remembered
}

// Reference is steps 1 to 7 and 14 of the protocol (interleavings) written the
// plain way: full clocks everywhere, every join done, and each cell's reads kept
// per fiber (DJIT+) rather than as FastTrack's epochs. HappensBefore must agree
// with it on every clock and on every race, whatever its shortcuts.
class Reference {
 public:
  using Clock = std::vector<std::uint32_t>;
  // Fiber 0 starts, then spawns fibers 1 to fibers-1 (step 5).
  explicit Reference(std::size_t fibers) : c_(fibers, Clock(fibers, 0)), f_(c_), a_(c_) {
    c_[0][0] = 1;
    for (std::size_t f = 1; f < fibers; ++f) {
      c_[f] = c_[0];
      c_[f][f] = 1;
      ++c_[0][0];
    }
  }
  static void join(Clock& into, const Clock& c) {
    for (std::size_t i = 0; i < into.size(); ++i) into[i] = std::max(into[i], c[i]);
  }
  static bool acquires(Order o) { return o == Order::acquire || o == Order::acq_rel || o == Order::seq_cst; }
  static bool releases(Order o) { return o == Order::release || o == Order::acq_rel || o == Order::seq_cst; }
  void atomic(FiberId f, std::uint32_t object, Kind kind, Order o) {
    Clock& rel = rel_.try_emplace(object, Clock(c_.size(), 0)).first->second;
    if (kind != Kind::store) join(acquires(o) ? c_[f] : a_[f], rel);
    if (kind == Kind::store) rel = releases(o) ? c_[f] : f_[f];
    if (kind == Kind::rmw) join(rel, releases(o) ? c_[f] : f_[f]);
    if (kind != Kind::load && releases(o)) ++c_[f][f];
  }
  void fence(FiberId f, Order o) {
    if (acquires(o)) {
      join(c_[f], a_[f]);
      a_[f].assign(c_.size(), 0);
    }
    if (releases(o)) {
      f_[f] = c_[f];
      ++c_[f][f];
    }
  }
  // cell says whether fiber f's access races, and records it if not.
  bool cell(FiberId f, std::uint32_t cell, bool write) {
    Shadow& sh = cells_[cell];
    const Clock& c = c_[f];
    if (sh.write_time > c[sh.write_fiber]) return true;
    if (write) {
      for (std::size_t g = 0; g < sh.reads.size(); ++g) {
        if (sh.reads[g] > c[g]) return true;
      }
      sh.reads.clear();
      sh.write_fiber = f;
      sh.write_time = c[f];
      return false;
    }
    sh.reads.resize(c_.size(), 0);
    sh.reads[f] = c[f];
    return false;
  }
  const Clock& clock(FiberId f) const { return c_[f]; }

 private:
  struct Shadow {
    FiberId write_fiber = 0;
    std::uint32_t write_time = 0;
    Clock reads;  // per fiber, its last read since the last write
  };
  std::vector<Clock> c_, f_, a_;
  std::map<std::uint32_t, Clock> rel_;
  std::map<std::uint32_t, Shadow> cells_;
};

// RandomStep is one step of the random programs below: an atomic operation, a
// fence or a cell access by one of kFibers fibers; random_step draws it.
constexpr std::size_t kFibers = 5;
constexpr std::uint32_t kObjects = 3;
constexpr std::uint32_t kCells = 3;
struct RandomStep {
  enum class What { atomic, fence, cell } what;
  FiberId fiber;
  std::uint32_t object;  // the atomic's, or the cell's
  Kind kind;
  Order order;
  bool write;
};
RandomStep random_step(Prng& rng) {
  constexpr Order kOrders[] = {Order::relaxed, Order::acquire, Order::release, Order::acq_rel, Order::seq_cst};
  RandomStep s{RandomStep::What::cell, static_cast<FiberId>(rng.below(kFibers)), 0, Kind::load, Order::relaxed, false};
  const std::uint64_t what = rng.below(10);
  if (what < 5) {
    s.what = RandomStep::What::atomic;
    s.object = static_cast<std::uint32_t>(rng.below(kObjects));
    s.kind = static_cast<Kind>(rng.below(3));
    s.order = kOrders[rng.below(5)];
  } else if (what < 6) {
    s.what = RandomStep::What::fence;
    s.order = kOrders[rng.below(5)];
  } else {
    s.object = static_cast<std::uint32_t>(rng.below(kCells));
    s.write = rng.below(2) == 0;
  }
  return s;
}

TEST(HappensBefore, AgreesWithThePlainReferenceOnEveryClockAndRaceOverRandomPrograms) {
  int races = 0;
  for (std::uint64_t seed = 0; seed < 2000; ++seed) {
    Prng rng(seed);
    HappensBefore hb;
    hb.reset();
    detail::CellShadow cells[kCells];
    Reference ref(kFibers);
    hb.on_spawn(kNoFiber, 0);
    for (FiberId f = 1; f < kFibers; ++f) hb.on_spawn(0, f);
    for (int step = 0; step < 200; ++step) {
      const RandomStep st = random_step(rng);
      const FiberId f = st.fiber;
      if (st.what == RandomStep::What::atomic) {
        hb.on_atomic(f, st.object, st.kind, st.order);
        ref.atomic(f, st.object, st.kind, st.order);
      } else if (st.what == RandomStep::What::fence) {
        hb.on_fence(f, st.order, false);
        ref.fence(f, st.order);
      } else {
        // As the kernel does: the inline fast path, then the full check.
        const bool raced = !hb.on_cell_fast(f, cells[st.object], st.write, here()) &&
                           hb.on_cell(f, cells[st.object], st.write, here()).has_value();
        ASSERT_EQ(raced, ref.cell(f, st.object, st.write)) << "seed " << seed << " step " << step;
        if (raced) {
          ++races;
          break;  // the first race ends a run
        }
      }
      for (FiberId g = 0; g < kFibers; ++g) {
        for (FiberId h = 0; h < kFibers; ++h) {
          ASSERT_EQ(hb.clock(g).get(h), ref.clock(g)[h]) << "seed " << seed << " step " << step;
        }
      }
    }
  }
  EXPECT_GT(races, 100);  // the programs do race: the comparison covers both answers
}

// The same random programs through the C11 path (every load reads the newest
// store, fences and seq_cst operations as the c11 model does them) must find the
// same races: reading the newest store is what the reference's interleavings do,
// and the total order of seq_cst operations (step 13) orders no plain access.
// Clocks are not compared: a seq_cst load of the c11 path bumps its own entry,
// which moves no access into or out of another fiber's past.
TEST(HappensBefore, TheC11PathReadingTheNewestStoreFindsTheSameRacesAsThePlainReference) {
  int races = 0;
  int seq_cst_ops_before_a_verdict = 0;
  for (std::uint64_t seed = 0; seed < 2000; ++seed) {
    Prng rng(seed);
    HappensBefore hb;
    hb.reset();
    detail::CellShadow cells[kCells];
    Reference ref(kFibers);
    std::uint64_t value[kObjects] = {};
    int seq_cst_ops = 0;
    hb.on_spawn(kNoFiber, 0);
    for (FiberId f = 1; f < kFibers; ++f) hb.on_spawn(0, f);
    for (int step = 0; step < 200; ++step) {
      const RandomStep st = random_step(rng);
      const FiberId f = st.fiber;
      if (st.what == RandomStep::What::atomic) {
        seq_cst_ops += st.order == Order::seq_cst;
        std::uint64_t& v = value[st.object];
        if (st.kind == Kind::load) {
          ASSERT_GE(hb.c11_candidates(f, st.object, v, st.order), 1u);
          ASSERT_EQ(hb.c11_read(f, st.object, v, 0, st.order), v);
        } else {
          hb.c11_write(f, st.object, st.kind, st.order, v, v + 1);
          ++v;
        }
        ref.atomic(f, st.object, st.kind, st.order);
      } else if (st.what == RandomStep::What::fence) {
        seq_cst_ops += st.order == Order::seq_cst;
        hb.on_fence(f, st.order, true);
        ref.fence(f, st.order);
      } else {
        const bool raced = !hb.on_cell_fast(f, cells[st.object], st.write, here()) &&
                           hb.on_cell(f, cells[st.object], st.write, here()).has_value();
        ASSERT_EQ(raced, ref.cell(f, st.object, st.write)) << "seed " << seed << " step " << step;
        if (seq_cst_ops > 0) ++seq_cst_ops_before_a_verdict;
        if (raced) {
          ++races;
          break;
        }
      }
    }
  }
  EXPECT_GT(races, 100);
  EXPECT_GT(seq_cst_ops_before_a_verdict, 1000);  // the seq_cst order was there to leak (3,703)
}

// seq_cst operations on different atomics (loads, stores, fences) are in one total
// order but give no happens-before: a plain write before one and a plain read
// after the other race on every run, in both models.
TEST(RaceLitmus, SeqCstOperationsOnOtherAtomicsOrderNoPlainAccessInEitherModel) {
  enum class Shape { loads, stores, fences };
  for (const Shape shape : {Shape::loads, Shape::stores, Shape::fences}) {
    for (const MemoryModel model : {MemoryModel::c11, MemoryModel::sc}) {
      int races = 0;
      for (std::uint64_t seed = 0; seed < kSeeds; ++seed) {
        Options o = options_for(seed);
        o.memory_model = model;
        const RunResult r = run_with(o, [shape] {
          P::Cell<std::uint64_t> c;
          P::Atomic<std::uint32_t> x{0};
          P::Atomic<std::uint32_t> y{0};
          auto sc_op = [shape](P::Atomic<std::uint32_t>& a) {
            if (shape == Shape::loads) (void)a.load(Order::seq_cst);
            if (shape == Shape::stores) a.store(1, Order::seq_cst);
            if (shape == Shape::fences) P::fence(Order::seq_cst);
          };
          P::Thread w("writer", [&] {
            c.set(1);
            sc_op(x);
          });
          P::Thread r("reader", [&] {
            sc_op(y);
            (void)c.get();
          });
          w.join();
          r.join();
        });
        if (r.outcome == Outcome::data_race) ++races;
      }
      EXPECT_EQ(races, static_cast<int>(kSeeds)) << "shape " << static_cast<int>(shape) << " model "
                                                 << (model == MemoryModel::c11 ? "c11" : "sc");
    }
  }
}

// Litmus: a writer fills a plain cell then raises a flag; a reader that sees the
// flag reads the cell. `sync` chooses what orders the two.
enum class Sync { relaxed_flag, release_acquire, mutex, none };

struct Seen {
  bool read_payload = false;
};

std::function<void()> message_passing(Sync sync, Seen& seen) {
  return [sync, &seen] {
    P::Cell<std::uint64_t> payload;
    P::Atomic<std::uint32_t> flag{0};
    P::Mutex m;
    P::Thread writer("writer", [&] {
      if (sync == Sync::mutex) m.lock();
      payload.set(42);
      if (sync == Sync::mutex) m.unlock();
      flag.store(1, sync == Sync::release_acquire ? Order::release : Order::relaxed);
    });
    P::Thread reader("reader", [&] {
      if (sync == Sync::none) {
        payload.with_mut([](std::uint64_t& v) { v += 1; });
        return;
      }
      if (flag.load(sync == Sync::release_acquire ? Order::acquire : Order::relaxed) == 0) return;
      if (sync == Sync::mutex) m.lock();
      seen.read_payload = payload.get() == 42;
      if (sync == Sync::mutex) m.unlock();
    });
    writer.join();
    reader.join();
  };
}

struct Tally {
  int races = 0;
  int passes = 0;
  int reads = 0;  // passing runs in which the reader read the payload
};

// kRaceFreeSeeds: a race-free twin must stay silent over as many seeds as a
// forbidden litmus outcome must stay absent (issue 11's litmus bar).
constexpr std::uint64_t kRaceFreeSeeds = 10'000;

Tally sweep(Sync sync, StrategySpec strategy = StrategySpec::random(), std::uint64_t seeds = kSeeds) {
  Tally t;
  for (std::uint64_t seed = 0; seed < seeds; ++seed) {
    Seen seen;
    const RunResult r = run_with(options_for(seed, strategy), message_passing(sync, seen));
    if (r.outcome == Outcome::data_race) {
      ++t.races;
    } else {
      EXPECT_EQ(r.outcome, Outcome::pass) << r.summary();
      ++t.passes;
      if (seen.read_payload) ++t.reads;
    }
  }
  return t;
}

TEST(RaceLitmus, ARelaxedFlagLeavesThePayloadReadARaceOnEverySeedThatReadsIt) {
  const Tally t = sweep(Sync::relaxed_flag);
  EXPECT_GT(t.races, 0);
  EXPECT_GT(t.passes, 0);   // the reader saw no flag and read nothing
  EXPECT_EQ(t.reads, 0);    // no run read the payload without a race report
}

TEST(RaceLitmus, AReleaseAcquireFlagMakesThePayloadReadRaceFree) {
  const Tally t = sweep(Sync::release_acquire, StrategySpec::random(), kRaceFreeSeeds);
  EXPECT_EQ(t.races, 0);
  EXPECT_GT(t.reads, 0);  // the interesting case was reached
}

TEST(RaceLitmus, AMutexAroundBothAccessesMakesThemRaceFree) {
  const Tally t = sweep(Sync::mutex, StrategySpec::random(), kRaceFreeSeeds);
  EXPECT_EQ(t.races, 0);
  EXPECT_GT(t.reads, 0);
}

TEST(RaceLitmus, UnsynchronisedWritersRaceOnEverySeedAndStrategy) {
  for (const StrategySpec& s : {StrategySpec::random(), StrategySpec::pct(3), StrategySpec::hold()}) {
    const Tally t = sweep(Sync::none, s);
    EXPECT_EQ(t.races, static_cast<int>(kSeeds)) << s.label();
  }
}

TEST(RaceLitmus, SpawnAndJoinOrderTheParentsAccessesAroundTheChilds) {
  for (std::uint64_t seed = 0; seed < kSeeds; ++seed) {
    const RunResult r = run_with(options_for(seed), [] {
      P::Cell<std::uint64_t> c;
      c.set(1);
      P::Thread t("child", [&] { c.set(c.get() + 1); });
      t.join();
      EXPECT_EQ(c.get(), 2u);
    });
    ASSERT_EQ(r.outcome, Outcome::pass) << r.summary();
  }
}

TEST(RaceLitmus, AParkThatConsumesTheTokenIsOrderedAfterTheUnpark) {
  int reads = 0;
  for (std::uint64_t seed = 0; seed < kSeeds; ++seed) {
    const RunResult r = run_with(options_for(seed), [&reads] {
      P::Cell<std::uint64_t> c;
      P::Parker p;
      P::Thread t("unparker", [&] {
        c.set(7);
        p.unpark();
      });
      p.park();
      reads += c.get() == 7;
      t.join();
    });
    ASSERT_EQ(r.outcome, Outcome::pass) << r.summary();
  }
  EXPECT_EQ(reads, static_cast<int>(kSeeds));
}

TEST(RaceLitmus, ARelaxedStoreAfterTheReleaseGivesTheAcquirerNoEdge) {
  int races = 0;
  for (std::uint64_t seed = 0; seed < kSeeds; ++seed) {
    const RunResult r = run_with(options_for(seed), [] {
      P::Cell<std::uint64_t> c;
      P::Atomic<std::uint32_t> y{0};
      P::Thread w("writer", [&] {
        c.set(1);
        y.store(1, Order::release);
        y.store(2, Order::relaxed);
      });
      P::Thread r("reader", [&] {
        if (y.load(Order::acquire) == 2) (void)c.get();
      });
      w.join();
      r.join();
    });
    if (r.outcome == Outcome::data_race) ++races;
    else ASSERT_EQ(r.outcome, Outcome::pass) << r.summary();
  }
  EXPECT_GT(races, 0);
}

TEST(RaceLitmus, AReleaseSequenceThroughAnotherFibersRmwStillOrders) {
  int reads = 0;
  for (std::uint64_t seed = 0; seed < kSeeds; ++seed) {
    const RunResult r = run_with(options_for(seed), [&reads] {
      P::Cell<std::uint64_t> c;
      P::Atomic<std::uint32_t> y{0};
      P::Thread w("writer", [&] {
        c.set(1);
        y.store(1, Order::release);
      });
      P::Thread a("adder", [&] { y.fetch_add(1, Order::relaxed); });
      P::Thread r("reader", [&] {
        if (y.load(Order::acquire) == 2) reads += c.get() == 1;
      });
      w.join();
      a.join();
      r.join();
    });
    ASSERT_EQ(r.outcome, Outcome::pass) << r.summary();
  }
  EXPECT_GT(reads, 0);
}

// first_race is the first run of the relaxed-flag litmus that reports a race.
RunResult first_race() {
  RunResult r;
  for (std::uint64_t seed = 0; seed < kSeeds && r.outcome != Outcome::data_race; ++seed) {
    Seen seen;
    r = run_with(options_for(seed), message_passing(Sync::relaxed_flag, seen));
  }
  return r;
}

TEST(RaceReport, NamesBothSitesFibersAndOperationsAndHasItsOwnExitCode) {
  const RunResult r = first_race();
  ASSERT_EQ(r.outcome, Outcome::data_race);
  EXPECT_EQ(r.exit_code(), 11);
  EXPECT_STREQ(outcome_name(r.outcome), "data_race");
  EXPECT_NE(r.message.find("write by fiber 1 (writer) at tests/sim/race_test.cpp:"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("read by fiber 2 (reader) at tests/sim/race_test.cpp:"), std::string::npos) << r.message;
}

TEST(RaceReport, ADataRaceReplaysToTheSameRaceFromItsSchedule) {
  const RunResult r = first_race();
  ASSERT_EQ(r.outcome, Outcome::data_race);
  Seen seen;
  const RunResult again = run_with(options_for(0, StrategySpec::replay(r.schedule)), message_passing(Sync::relaxed_flag, seen));
  EXPECT_EQ(again.outcome, Outcome::data_race) << again.summary();
  EXPECT_EQ(again.message, r.message);
  EXPECT_EQ(again.steps, r.steps);
}

TEST(RaceReport, RaceDetectionOffFindsNothingAndLeavesTheDecisionsAlone) {
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    Options off = options_for(seed);
    off.race_detection = false;
    Seen seen;
    const RunResult r = run_with(off, message_passing(Sync::none, seen));
    EXPECT_EQ(r.outcome, Outcome::pass) << r.summary();
    Seen seen2;
    const RunResult a = run_with(off, message_passing(Sync::release_acquire, seen2));
    const RunResult b = run_with(options_for(seed), message_passing(Sync::release_acquire, seen2));
    ASSERT_EQ(a.outcome, Outcome::pass);
    ASSERT_EQ(b.outcome, Outcome::pass);
    EXPECT_EQ(a.schedule.decisions, b.schedule.decisions);
  }
}

}  // namespace
}  // namespace weft::sim::testing
