// The deterministic simulator: runs code written against the platform seam on
// Boost.Context fibers on one OS thread, where every decision point of the seam is
// drawn from a seeded strategy.
//
// Model (what a run explores and what it does not):
//  1. Memory model (Options::memory_model). c11 (the default): each atomic
//     keeps a bounded history of stores and a load may read any store the C++
//     memory model allows it given the declared orders (the rules, and what is
//     not modelled, are steps 9 to 13 of weft/sim/detail/happens_before.hpp);
//     which one is a recorded decision, so it replays. sc: interleavings only,
//     every atomic operation reads the latest value written, so bugs that need a
//     stale read (a missing release) are not found.
//  2. Every seam operation except Atomic::unsync_load and Counter is a decision
//     point; the strategy decides before the operation takes effect.
//  3. Virtual time is an integer count of ns. It advances only when no fiber is
//     runnable and some fiber waits for a deadline (Parker::park_for, sleep_virtual,
//     consume); it then jumps to the earliest deadline (ties: arming order).
//  4. A run ends when every fiber has finished (pass) or at the first failure.
//  5. Plain shared memory (Cell) is watched, not scheduled: with race detection
//     on (the default), happens-before is tracked by vector clocks from the
//     declared memory orders, locks, parks, spawns and joins, and two accesses to
//     one Cell that it does not order, one a write, end the run with data_race
//     (weft/sim/detail/happens_before.hpp). A Cell access is not a decision point:
//     the detector finds an unordered pair whether or not a schedule splits the
//     code between them, and traces stay those of the seam operations alone.
//
// Usage:
//   weft::sim::Options opts;
//   opts.seed = 42;
//   opts.strategy = weft::sim::StrategySpec::pct(3);
//   weft::sim::Simulation sim(opts);
//   weft::sim::RunResult r = sim.run([] { ... engine code ... });
//   if (r.outcome != weft::sim::Outcome::pass) r.schedule.save("fail.json", err);
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "weft/sim/order_sites.hpp"
#include "weft/sim/outcome.hpp"
#include "weft/sim/schedule.hpp"

namespace weft::sim {

// Point describes a decision to a strategy.
struct Point {
  std::uint64_t index;    // index of this decision in the run's schedule
  Op op;                  // the seam operation being decided
  FiberId current;        // the fiber that reached the point
  bool current_runnable;  // false if it just blocked or finished
  bool yielding;          // spin_hint/yield_thread: prefer another fiber if any
  // choices: at a memory draw (is_memory_draw: a c11 load's or failing
  // compare-exchange's choice of store), how many stores it may read, the newest
  // included (at least 2); 0 for a weak compare-exchange's spurious-failure draw
  // and every other draw and decision.
  std::uint32_t choices = 0;
};
// Yield hints: a strategy must treat `yielding` as a request to run another fiber
// when one can run (random, hold and lenient pass over the caller for that
// decision; PCT drops its priority below every other fiber for good), because a
// loop that waits for another fiber's progress gives one on every turn and
// nothing else would let that fiber run under an unfair strategy. A loop that
// gives none is the engine's bug: Options::livelock_decisions reports it.

// Strategy is the oracle behind every decision (after shuttle's Scheduler): it is
// asked which fiber runs next and for random values. Implementations must be
// deterministic functions of their seed and the calls they received.
class Strategy {
 public:
  virtual ~Strategy() = default;

  // name returns "random", "pct", "hold", "replay" or a custom name.
  virtual const char* name() const noexcept = 0;
  // sees_every_decision says whether the kernel must ask even when only one fiber
  // can run (PCT counts steps; replay checks each recorded decision).
  virtual bool sees_every_decision() const noexcept { return false; }
  // on_spawn tells the strategy a fiber was created (ids are sequential).
  virtual void on_spawn(FiberId id) { (void)id; }
  // observes_accesses says whether the kernel must call on_access after every
  // Atomic operation (it costs an object id per atomic; off by default).
  virtual bool observes_accesses() const noexcept { return false; }
  // on_access tells the strategy that `fiber` performed `op` on atomic `object`
  // and that it took effect. Objects are named by sequential ids in the order of
  // their first access in the run, never by address. `wrote` says whether the
  // operation wrote (a store, an exchange, a read-modify-write, a successful CAS).
  virtual void on_access(FiberId fiber, Op op, std::uint32_t object, bool wrote) {
    (void)fiber, (void)op, (void)object, (void)wrote;
  }
  // next_fiber returns the fiber to run from `runnable` (never empty; it contains
  // p.current iff p.current_runnable). Returning kNoFiber, or a fiber that is not
  // runnable, means the strategy cannot follow the run: nondeterminism.
  virtual FiberId next_fiber(const Point& p, std::span<const FiberId> runnable) = 0;
  // next_u64 stores a random value in `out`; false means it cannot (nondeterminism).
  virtual bool next_u64(const Point& p, std::uint64_t& out) = 0;
  // divergence explains the last refusal of next_fiber/next_u64.
  virtual std::string divergence() const { return {}; }
};

// StrategySpec selects a built-in strategy.
struct StrategySpec {
  // replay is strict: it stops with nondeterminism at the first decision the run
  // cannot follow. lenient follows the schedule where it can and takes a default
  // elsewhere (see lenient()); the schedule shrinker runs on it.
  //
  // mixed is the default exploration: no strategy of its own, but one of the
  // others chosen by the seed (kMixedCycle), so a sweep over consecutive seeds
  // runs each of them in turn. for_seed() names the one a seed runs.
  enum class Kind : std::uint8_t { random, pct, replay, lenient, hold, mixed };
  Kind kind = Kind::random;
  // PCT depth d: d-1 priority change points. Finds a depth-d bug in one run with
  // probability >= 1/(n k^(d-1)) (n fibers, k steps).
  std::uint32_t pct_depth = 3;
  // PCT k: the change points are drawn uniformly in [1, k]. 0 means: estimate k by
  // a first run of the same main_fn under the random strategy with the same seed
  // (Simulation::run then runs main_fn twice); the k used is reported in
  // RunResult::pct_steps and in the schedule, so pass it back for speed.
  std::uint64_t pct_steps = 0;
  // The schedule to replay (kinds replay and lenient); Options::seed is then ignored.
  std::shared_ptr<const Schedule> schedule;

  // label names the strategy as simrun's --strategy spells it ("random", "pct:3",
  // "hold", "mixed"; "replay" and "lenient" for the replays).
  std::string label() const;
  // for_seed returns the strategy seed `seed` runs: for mixed, the entry of
  // kMixedCycle at seed mod its length (PCT measuring its run's length); for every
  // other kind, this strategy itself. The two give the same run for that seed.
  StrategySpec for_seed(std::uint64_t seed) const;

  static StrategySpec random() { return {}; }
  static StrategySpec pct(std::uint32_t depth, std::uint64_t steps = 0) {
    StrategySpec s;
    s.kind = Kind::pct;
    s.pct_depth = depth;
    s.pct_steps = steps;
    return s;
  }
  // hold is a random walk that, now and then, holds a fiber that just read an
  // atomic until the other fibers have written that atomic a drawn number of times,
  // so a reader preempted across a counted number of another fiber's updates (an
  // ABA: indices that wrap, a version counter that comes round) is explored:
  //  1. After a fiber loads an atomic (or fails a CAS on it) on which some CAS has
  //     been made in the run, it is held with chance 1 in kHoldOdds (strategy.cpp),
  //     if no fiber is held already.
  //  2. The count is 2^k - 1, 2^k or 2^k + 1 with k uniform in [0, K]: K is 10, or
  //     more while 2^K is at most twice the atomic's writes so far in the run
  //     (counts the run may reach), and at most 16.
  //  3. A held fiber is not chosen while another fiber can run. The hold ends when
  //     the others have written the atomic that many times, when no other fiber is
  //     runnable (blocked, finished or waiting for time: a hold never makes a
  //     deadlock), when every other runnable fiber sits at a yield (a spinner may
  //     wait for the held one), when the others have made kQuietMax decisions
  //     without writing the atomic, or kHoldDecisionsMax decisions in all.
  //  4. c11: the fiber whose hold ended reads the oldest store it may at its next
  //     memory draw that has a choice (its view is as stale as its hold was long).
  // Every choice comes from the seed, and atomics are told apart by run-local ids,
  // never addresses. The schedule records fiber choices, so replay follows a hold
  // run like any other.
  static StrategySpec hold() {
    StrategySpec s;
    s.kind = Kind::hold;
    return s;
  }
  // mixed is the default exploration (see Kind::mixed and kMixedCycle).
  static StrategySpec mixed() {
    StrategySpec s;
    s.kind = Kind::mixed;
    return s;
  }
  static StrategySpec replay(Schedule schedule) {
    StrategySpec s;
    s.kind = Kind::replay;
    s.schedule = std::make_shared<const Schedule>(std::move(schedule));
    return s;
  }
  // lenient replays `schedule` decision by decision (by index) where it can:
  //  1. A fiber decision whose recorded fiber is runnable is followed; its op is
  //     not compared (a shrunk schedule shifts ops).
  //  2. Else a Switch of the schedule placed at the current fiber's own count of
  //     fiber decisions is followed if its `to` is runnable.
  //  3. Elsewhere (the recorded fiber is not runnable, the entry is a random draw,
  //     the value is kLenientDefault, or the schedule has ended) the default runs:
  //     keep the current fiber if it is runnable and not yielding, else the
  //     lowest runnable id (passing over a yielding current fiber if another can run).
  //  4. A random draw takes the recorded value if the entry at its index is a
  //     random draw, else the next value of the seed's stream for it (the
  //     streams the random and PCT strategies draw from, so an unshrunk run sees
  //     the same values).
  //  5. If the schedule lists its reads (Schedule::reads_listed), a memory draw
  //     (a c11 load's or compare-exchange's) takes the listed value at its place
  //     (the fiber's count of memory draws), else 0: the newest store.
  // It never reports nondeterminism: the same schedule always gives the same run.
  static StrategySpec lenient(Schedule schedule) {
    StrategySpec s;
    s.kind = Kind::lenient;
    s.schedule = std::make_shared<const Schedule>(std::move(schedule));
    return s;
  }
};

// MixedEntry is one strategy of the default exploration's cycle: a kind (random,
// pct or hold) and, for pct, its depth.
struct MixedEntry {
  StrategySpec::Kind kind;
  std::uint32_t pct_depth;
};
// kMixedCycle is the default exploration (StrategySpec::mixed): seed s runs entry
// s mod 5. Random walk for the common interleavings; PCT at depths 1 to 3 for
// bugs that need one to three ordering points in a long run (depth 1 is a
// run-to-completion priority order, no change point); hold for ABA (a reader held
// across a counted number of writes). Every block of 5 consecutive seeds runs
// each once, so a sweep, and every shard of one (contiguous blocks), shares them
// evenly. Changing this table changes which run every default seed is.
inline constexpr MixedEntry kMixedCycle[] = {{StrategySpec::Kind::random, 0},
                                             {StrategySpec::Kind::pct, 1},
                                             {StrategySpec::Kind::pct, 2},
                                             {StrategySpec::Kind::pct, 3},
                                             {StrategySpec::Kind::hold, 0}};

// kLenientDefault, as a fiber decision's value, asks lenient replay for its default.
inline constexpr std::uint64_t kLenientDefault = 0xffffffffull;

inline constexpr std::uint64_t kStepBoundDefault = 1'000'000;
#if defined(__SANITIZE_ADDRESS__)
// AddressSanitizer builds keep no tail calls for coroutine symmetric transfer and
// pad every frame, so long chains of ready awaits need far deeper fiber stacks.
inline constexpr std::size_t kStackSizeDefault = 1024 * 1024;
#else
inline constexpr std::size_t kStackSizeDefault = 64 * 1024;
#endif

// MemoryModel is what a load may read: sc, the latest store; c11, any store the
// C++ memory model allows (model point 1).
enum class MemoryModel : std::uint8_t { sc, c11 };
// memory_model_name is "sc" or "c11"; memory_model_from parses one.
constexpr const char* memory_model_name(MemoryModel m) noexcept { return m == MemoryModel::c11 ? "c11" : "sc"; }
constexpr std::optional<MemoryModel> memory_model_from(std::string_view s) noexcept {
  if (s == "sc") return MemoryModel::sc;
  if (s == "c11") return MemoryModel::c11;
  return std::nullopt;
}
// kHistoryDepthDefault stores per atomic are kept by the c11 model (Relacy keeps
// 3, loom 7): a load may go up to 3 stores back, which covers every litmus shape
// and a stale read across one intervening update of a queue index, at some 200
// bytes per store kept. kHistoryDepthMax bounds the option.
inline constexpr std::uint32_t kHistoryDepthDefault = 4;
inline constexpr std::uint32_t kHistoryDepthMax = 64;
// kStaleReadPerMille is the c11 model's bias: when a load may read more than the
// newest store, the strategy's draw picks the newest with probability 1 - this
// per mille, else one of the older candidates uniformly. Draw 0 is the newest
// (stale_draw), so a schedule whose draws are zeroed reads as the sc model would.
//
// Stale reads by strategy (the memory draws come from a stream of their own, so
// the values entropy() and random_u64() hand the program do not depend on them):
//  - random: every memory draw with this bias;
//  - PCT: the same, and at each of its d-1 priority change points the next
//    memory draw with a choice reads the oldest store it may (the preempted
//    moment is where a stale view matters most, as a preemption there does);
//  - hold: the same, and a fiber whose hold ends reads the oldest store it may
//    at its next memory draw with a choice (the reader held across the others'
//    writes also sees memory from before them).
// oldest_draw(n) is the draw that makes a memory draw with n choices read the
// oldest store it may.
inline constexpr std::uint32_t kStaleReadPerMille = 300;
// kSpuriousCasPerMille is the chance that a compare_exchange_weak whose expected
// value matches fails anyway (Relacy's random scheduler takes 1/4); draw 0 never does.
inline constexpr std::uint32_t kSpuriousCasPerMille = 250;
// stale_draw says whether a draw picks the rarer branch of a per-mille bias: its
// low three decimal digits fall in the top `per_mille` of 0..999, so draw 0 never does.
constexpr bool stale_draw(std::uint64_t draw, std::uint32_t per_mille) noexcept {
  return draw % 1000 >= 1000 - per_mille;
}
// stale_pick is which older store a stale draw with n choices (n >= 2) reads:
// 1 to n-1 stores back from the newest (Kernel::c11_load, Kernel::c11_cas_pick).
constexpr std::uint32_t stale_pick(std::uint64_t draw, std::uint32_t n) noexcept {
  return 1 + static_cast<std::uint32_t>((draw / 1000) % (n - 1));
}
constexpr std::uint64_t oldest_draw(std::uint32_t n) noexcept { return 999 + 1000 * std::uint64_t{n - 2}; }
static_assert(stale_draw(oldest_draw(2), kStaleReadPerMille) && stale_pick(oldest_draw(2), 2) == 1);
static_assert(stale_draw(oldest_draw(5), kStaleReadPerMille) && stale_pick(oldest_draw(5), 5) == 4);

// Options configure one Simulation.
struct Options {
  std::uint64_t seed = 0;
  StrategySpec strategy;
  std::uint64_t step_bound = kStepBoundDefault;  // decisions before step_bound_exceeded
  // The livelock oracle (0: off). Progress is a poll that returns or a task
  // spawned (the caller reports them with note_progress()), a fiber created or
  // finished, or virtual time moving on. After livelock_decisions decisions
  // without progress the kernel watches kLivelockWatch more decisions: if progress
  // comes, the run goes on unchanged; if not, it ends as `livelock`, and the
  // message gives each fiber's shortest repeating cycle of operations in that watch.
  std::uint64_t livelock_decisions = 0;
  std::size_t stack_size = kStackSizeDefault;    // bytes per fiber, plus a guard page
  bool record = true;  // keep the schedule in RunResult (16 bytes per decision)
  // trace: with record, also keep the decisions as TraceSteps in
  // RunResult::trace (at least the last kTraceStepsKept, at most twice that),
  // and the fibers' names in RunResult::fiber_names (for a failure's trace file,
  // weft/testing.hpp). Adds no decision.
  bool trace = false;
  // Fault injection: the chance, per thousand parks that would block, that
  // Parker::park returns at once without a token (a spurious wake-up). Each such
  // choice is a recorded random draw, so it replays.
  std::uint32_t spurious_wakeup_per_mille = 0;
  // memory_limit_bytes is the run's memory budget: when the process's resident
  // memory exceeds it (read every 65536 decisions) the run ends as resource_limit.
  // 0: no budget. Reading it is no decision: runs within the budget are unchanged.
  std::uint64_t memory_limit_bytes = 0;
  // Race detection: track happens-before (weft/sim/detail/happens_before.hpp) and
  // end the run with data_race at the first two accesses to one Cell that no
  // happens-before orders, at least one a write. It adds no decision, so a run
  // that has no race has the same schedule with it on or off.
  bool race_detection = true;
  // The memory model (model point 1) and, for c11, the stores kept per atomic
  // (1 to kHistoryDepthMax). c11 tracks happens-before whether or not
  // race_detection checks Cells.
  MemoryModel memory_model = MemoryModel::c11;
  std::uint32_t history_depth = kHistoryDepthDefault;
  // teardown: after a failed run, let its fibers go on to a blocking operation
  // and unwind those that wait for good (sim/src/kernel.cpp, Steps T1-T8), so
  // their destructors run and their memory comes back. Off: they are abandoned
  // (their stacks kept as LeakSanitizer roots under ASan, a started fiber's
  // frames keep what they own, counted against later budgets). On by default
  // (docs/teardown.md).
  bool teardown = true;
  // Memory-order mutation (weft/sim/order_sites.hpp). weaken_order: every seam
  // atomic operation at that source line runs with a weaker order (the run is a
  // mutant of the engine; RunResult::orders_weakened counts what changed).
  // census_orders: RunResult::order_sites lists every order argument the run's
  // atomic operations passed. Neither is a decision: without a weakening, the
  // schedule is the same.
  std::optional<OrderWeakening> weaken_order;
  bool census_orders = false;
};

// kTraceStepsKept is how many of a traced run's last decisions are sure to be kept
// (Options::trace), and how many a failure's trace file shows.
inline constexpr std::size_t kTraceStepsKept = 20'000;

// RunResult is what one run did.
struct RunResult {
  Outcome outcome = Outcome::pass;
  std::string message;  // failure detail: assertion text, blocked fibers, divergence
  std::uint64_t seed = 0;
  std::uint64_t steps = 0;  // decisions: fiber choices and random draws
  std::uint64_t context_switches = 0;
  std::uint64_t preemptions = 0;  // switches away from a runnable, non-yielding fiber
  std::uint64_t virtual_time_ns = 0;
  std::uint64_t fibers = 0;
  std::uint64_t divergence_index = 0;  // first divergent decision (nondeterminism)
  std::uint64_t pct_steps = 0;         // the k PCT used (pct only)
  std::uint64_t longest_quiet = 0;     // the most decisions in a row without progress (see livelock_decisions)
  // measuring_pct: PCT was asked for with no step count, and this failure came
  // from the random walk that measures the run's length (the schedule is that
  // walk's; the same seed and strategy reach it again).
  bool measuring_pct = false;
  // fibers_kept: fibers of a failed run whose teardown could not unwind them
  // (sim/src/kernel.cpp, Step T5); their frames keep what they own. 0 otherwise.
  std::uint64_t fibers_kept = 0;
  std::uint64_t orders_weakened = 0;  // operations Options::weaken_order changed
  std::vector<OrderSite> order_sites;  // with Options::census_orders
  // held_allocations: engine allocations (Held::allocation, counted by the seam)
  // taken in the run and not given back by its end, after the teardown of a
  // failed run's fibers: a failed run that released everything leaves what a
  // passing run leaves.
  std::int64_t held_allocations = 0;
  Schedule schedule;                   // empty decisions if Options::record is false
  std::vector<TraceStep> trace;        // with Options::trace: every decision, in order
  std::vector<std::string> fiber_names;  // with Options::trace: each fiber's name, by id

  // exit_code returns the outcome's stable exit code.
  int exit_code() const noexcept { return static_cast<int>(outcome); }
  // summary renders a one-line description of the run.
  std::string summary() const;
};

// replay_mismatch says why schedule `s` cannot be replayed under `model` keeping
// `history_depth` stores per atomic ("the schedule was recorded under the sc
// memory model and this run is c11"), or is empty when it can: a memory draw
// means a different store under another model or depth, so such a replay would
// diverge. Simulation::run refuses it; simrun and the testing API say so first.
std::string replay_mismatch(const Schedule& s, MemoryModel model, std::uint32_t history_depth);
// recorded_history_depth is the stores per atomic schedule `s` was recorded
// keeping under c11 (the default when it names none).
inline std::uint32_t recorded_history_depth(const Schedule& s) noexcept {
  return s.history_depth != 0 ? s.history_depth : kHistoryDepthDefault;
}

// Simulation runs functions on simulated fibers under one set of Options.
class Simulation {
 public:
  // Simulation(options) keeps the options for every run().
  explicit Simulation(Options options);

  // set_idle_probe installs a probe asked when every live fiber is blocked and no
  // timer is pending: true means runnable work exists (lost_wakeup, not deadlock).
  // It runs outside the simulation: seam operations in it are plain, not decisions.
  void set_idle_probe(std::function<bool()> probe) { idle_probe_ = std::move(probe); }
  // set_stall_probe installs a probe asked when every live fiber is blocked and
  // virtual time is about to jump to the next deadline: true means runnable work
  // waits for that jump, and the run ends as `stall` instead. It runs outside the
  // simulation, like the idle probe, so it adds no decision to any run.
  void set_stall_probe(std::function<bool()> probe) { stall_probe_ = std::move(probe); }
  // set_jump_probe installs a probe asked at the same moment (after the stall
  // probe), with the virtual time now and the time it jumps to: what holds now
  // holds until then, since nothing runs meanwhile. A non-empty answer ends the
  // run as lost_parallelism with it as the message (the harness's bound in
  // virtual time, harness/checks/parallelism.cpp). Outside the simulation too.
  void set_jump_probe(std::function<std::string(std::uint64_t now_ns, std::uint64_t to_ns)> probe) {
    jump_probe_ = std::move(probe);
  }
  // set_blocked_describer installs a function asked, with the kernel detached as
  // for the probes, when a run ends because every fiber is blocked (deadlock,
  // lost wake-up, stall); its text (what each blocked task waits on) is appended
  // to the failure's message. It must only read.
  void set_blocked_describer(std::function<std::string()> describe) { describe_blocked_ = std::move(describe); }

  // run executes main_fn as fiber 0 and returns when every fiber has finished or
  // the run failed. Same main_fn, seed and strategy give the same decisions.
  RunResult run(std::function<void()> main_fn);

  // options returns the options of this simulation.
  const Options& options() const noexcept { return options_; }

 private:
  RunResult run_once(const std::function<void()>& main_fn, Strategy& strategy, std::uint64_t pct_steps, bool record);

  Options options_;
  std::function<bool()> idle_probe_;
  std::function<bool()> stall_probe_;
  std::function<std::string(std::uint64_t, std::uint64_t)> jump_probe_;
  std::function<std::string()> describe_blocked_;
};

// make_strategy builds the strategy `spec` names for a run of `seed` whose PCT
// change points are spread over `pct_steps` decisions.
std::unique_ptr<Strategy> make_strategy(const StrategySpec& spec, std::uint64_t seed, std::uint64_t pct_steps);

// in_simulation says whether the caller runs on a simulated fiber.
bool in_simulation() noexcept;
// tearing_down says whether the caller's run has failed and is being torn down
// (Options::teardown, docs/teardown.md): its outcome and message are final, and
// what the program does from here must not reach the run's report.
bool tearing_down() noexcept;
// current_fiber returns the running fiber's id, or kNoFiber outside a simulation.
FiberId current_fiber() noexcept;
// kLivelockWatch is how many decisions the livelock oracle watches, once a run has
// gone livelock_decisions without progress, to name the cycle (or to see progress).
inline constexpr std::uint64_t kLivelockWatch = 4096;
// note_progress tells the livelock oracle that the program made progress (a poll
// returned, a task was spawned). Not a decision; a no-op outside a simulation.
void note_progress() noexcept;
// sleep_virtual blocks the running fiber for ns of virtual time (a decision point).
void sleep_virtual(std::uint64_t ns);
// consume assigns ns of virtual time to the caller's work: same as sleep_virtual.
inline void consume(std::uint64_t ns) { sleep_virtual(ns); }
// random_u64 draws a recorded random value (for scenarios: fault injection); it is
// not a scheduling point. Outside a simulation it returns a fixed sequence.
std::uint64_t random_u64();
// random_below draws uniformly in [0, n), n > 0, from random_u64's stream.
std::uint64_t random_below(std::uint64_t n);

}  // namespace weft::sim
