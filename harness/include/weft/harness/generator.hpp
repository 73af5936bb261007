// RapidCheck generators of whole scenarios (runtime configuration, workload,
// faults) plus the simulator seed, for the property tests and the bug zoo.
//
// Deadlock freedom by construction (so that "no deadlock" is a real property):
//  1. A channel or Notify belongs to exactly one pair program, spawned exactly once
//     by main; both of its ends are spawned together before the pair joins, so
//     neither waits on a task that is not yet spawned.
//  2. A channel's sends equal its receives (ping-pong: both directions balanced);
//     a Notify has exactly one notify_one and one waiter (a stored permit covers a
//     notify that comes first).
//  3. Pair ends never throw, never abort and never block on anything else; they
//     are aborted only together (Knobs::places: the pair program's abort_children
//     aborts both ends, so neither is left waiting on the other).
//  4. Trees and leaves (spawned any number of times, also by outside threads) only
//     yield, work, sleep, run blocking work, spawn and join their own children,
//     abort them, or throw as their last step: none of it waits on another program.
//  4a. Fan groups (Knobs::places): one sender sends k bursts of n values on its
//     own channel, k receivers receive n each (so they queue for the channel's
//     receive lock); all are spawned by one group program, aborted only together.
//  5. Dumps (Knobs::dumps) wait only on the workers' rendezvous, which the barrier
//     timeout bounds, and end in DumpError once the runtime shuts down.
#pragma once

#include <rapidcheck.h>

#include <algorithm>
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "weft/harness/scenario.hpp"

namespace weft::sim::property {

// Case is one generated run: a scenario and the simulator seed.
struct Case {
  Scenario sc;
  std::uint64_t seed = 0;
};

// showValue prints a case as its seed and scenario JSON (RapidCheck counterexamples).
inline void showValue(const Case& c, std::ostream& os) {
  os << "seed " << c.seed << "\n" << scenario_to_json(c.sc);
}

// Knobs narrow the generator for a property.
struct Knobs {
  bool multi_thread_only = false;
  std::uint32_t min_interval = 2;  // lower bound of global_queue_interval and event_interval
  bool shutdown_early = false;     // set shutdown_at_ns
  bool checks_none = false;        // run with no invariant checks (liveness only)
  // Avoid two known engine discrepancies between spawned_tasks_count and the
  // trace's spawn events (reported, see tests/regressions/): spawn_blocking
  // counts in the metric without a spawn event, and a spawn that loses the race
  // with shutdown emits a spawn event but is not counted. no_spawn_race: every
  // spawn is joined before main returns, outside threads spawn only leaves.
  bool no_blocking = false;
  bool no_spawn_race = false;
  // dumps: dumps at virtual times, from a task and from outside threads, single and
  // back to back, with a barrier timeout that a generated stall may outlast, and
  // dumpers that keep asking until the shutdown refuses them.
  bool dumps = false;
  // places: tasks in every place a task can sit when the runtime is shut down,
  // dumped or aborts (tests/property/places.hpp): pairs and fan groups (several
  // receivers on one channel: waiters on its receive lock) whose group program
  // may abort them all after a few local steps.
  bool places = false;
};

namespace detail {

inline Step step(Step::Kind k, std::string name = {}, std::uint64_t count = 1, std::uint64_t ns = 0) {
  Step s;
  s.kind = k;
  s.name = std::move(name);
  s.count = count;
  s.ns = ns;
  return s;
}

// gen_local_ops draws 0 to `max` steps that wait on nothing: yields, work, sleeps,
// blocking work.
inline std::vector<Step> gen_local_ops(int max, bool blocking = true) {
  std::vector<Step> out;
  const int n = *rc::gen::inRange(0, max + 1);
  for (int i = 0; i < n; ++i) {
    switch (*rc::gen::weightedElement<int>({{5, 0}, {3, 1}, {2, 2}, {blocking ? 1u : 0u, 3}})) {
      case 0: out.push_back(step(Step::Kind::yield, {}, *rc::gen::inRange<std::uint64_t>(1, 4))); break;
      case 1: out.push_back(step(Step::Kind::work, {}, 1, *rc::gen::inRange<std::uint64_t>(1, 20'000))); break;
      case 2: out.push_back(step(Step::Kind::sleep, {}, 1, *rc::gen::inRange<std::uint64_t>(0, 30'000))); break;
      default: out.push_back(step(Step::Kind::blocking, {}, 1, *rc::gen::inRange<std::uint64_t>(0, 5'000))); break;
    }
  }
  return out;
}

constexpr std::uint64_t kTasksMax = 400;

// estimate_tasks counts the tasks program `name` spawns, transitively.
inline std::uint64_t estimate_tasks(const Scenario& sc, const std::string& name, int depth) {
  if (depth > 8) return 0;
  std::uint64_t n = 0;
  auto it = sc.programs.find(name);
  if (it == sc.programs.end()) return 0;
  for (const Step& s : it->second.steps) {
    if (s.kind == Step::Kind::spawn) n += s.count * (1 + estimate_tasks(sc, s.name, depth + 1));
  }
  return n;
}

// halve_spawns halves every spawn count above one.
inline void halve_spawns(Scenario& sc) {
  for (auto& [name, p] : sc.programs) {
    for (Step& s : p.steps) {
      if (s.kind == Step::Kind::spawn && s.count > 1) s.count /= 2;
    }
  }
}

// gen_task_dumps adds a "dumping" program (dumps, back to back or apart) that main
// spawns, and maybe a dump by main itself.
inline void gen_task_dumps(Scenario& sc, Program& main, const Knobs& knobs) {
  if (*rc::gen::weightedElement<bool>({{3, true}, {1, false}})) {
    Program d;
    d.name = "dumping";
    const int dumps = *rc::gen::inRange(1, 4);
    for (int i = 0; i < dumps; ++i) {
      if (i > 0 && *rc::gen::arbitrary<bool>()) d.steps.push_back(step(Step::Kind::sleep, {}, 1, *rc::gen::inRange<std::uint64_t>(0, 30'000)));
      d.steps.push_back(step(Step::Kind::dump));
    }
    sc.programs[d.name] = d;
    Step sp = step(Step::Kind::spawn, d.name, *rc::gen::weightedElement<std::uint64_t>({{3, 1}, {1, 2}}));
    sp.detach = !knobs.no_spawn_race && *rc::gen::weightedElement<bool>({{3, false}, {1, true}});
    main.steps.push_back(sp);
  }
  if (*rc::gen::weightedElement<bool>({{3, false}, {1, true}})) main.steps.push_back(step(Step::Kind::dump));
}

// gen_outside_dumps adds dumper threads at virtual times, a stall that outlasts the
// barrier timeout with dumps asked for while it lasts, and a dumper that keeps
// asking until the shutdown refuses it. Stalls stay sorted by at_ns.
inline void gen_outside_dumps(Scenario& sc) {
  const int dumpers = *rc::gen::weightedElement<int>({{1, 0}, {3, 1}, {1, 2}});
  for (int i = 0; i < dumpers; ++i) {
    Dumper d;
    d.threads = *rc::gen::inRange<std::uint32_t>(1, 3);
    d.at_ns = *rc::gen::inRange<std::uint64_t>(0, 60'000);
    d.count = *rc::gen::inRange<std::uint64_t>(1, 4);
    d.interval_ns = *rc::gen::elementOf(std::vector<std::uint64_t>{0, 2'000, 20'000});
    sc.dumpers.push_back(d);
  }
  const std::uint64_t timeout = sc.runtime.config.dump_timeout_ns;
  if (timeout < 1'000'000 && *rc::gen::weightedElement<bool>({{3, true}, {2, false}})) {
    Stall st;
    st.at_ns = *rc::gen::inRange<std::uint64_t>(0, 20'000);
    st.duration_ns = timeout + *rc::gen::inRange<std::uint64_t>(10'000, 60'000);
    sc.stalls.push_back(st);
    std::stable_sort(sc.stalls.begin(), sc.stalls.end(), [](const Stall& a, const Stall& b) { return a.at_ns < b.at_ns; });
    Dumper d;
    d.at_ns = st.at_ns + *rc::gen::inRange<std::uint64_t>(0, 5'000);
    d.count = *rc::gen::inRange<std::uint64_t>(1, 4);
    d.interval_ns = *rc::gen::inRange<std::uint64_t>(0, timeout);
    sc.dumpers.push_back(d);
  }
  if (*rc::gen::weightedElement<bool>({{2, false}, {1, true}})) {
    Dumper d;
    d.at_ns = *rc::gen::inRange<std::uint64_t>(0, 40'000);
    d.interval_ns = *rc::gen::elementOf(std::vector<std::uint64_t>{10'000, 50'000});
    d.until_shutdown = true;
    sc.dumpers.push_back(d);
  }
}

// kPlaceMomentsNs are the durations of Knobs::places's group members, group steps
// and shutdown: few values, so that a member's wake-up and its group's abort (or
// the shutdown) often fall on the same virtual instant, where the order of the
// threads decides where the member sits.
inline const std::vector<std::uint64_t> kPlaceMomentsNs = {1'000, 5'000, 10'000, 20'000};

// gen_group_abort appends to a group program (pair, fan, crowd), before its join,
// what it does while its members run: a few local steps, then one step that
// decides the moment of the abort that may follow (Knobs::places). The moments
// differ in what the members are doing when it comes: at once, after one yield
// (behind the members' yields), after a sleep of 0 (at the driver's next timer
// check) or longer, after blocking work of 0 (woken by a pool thread, through the
// injection queue) or longer, or after a long poll of its own.
inline void gen_group_abort(Program& group, bool blocking) {
  for (Step& s : gen_local_ops(1, blocking)) group.steps.push_back(s);
  switch (*rc::gen::weightedElement<int>({{1, 0}, {2, 1}, {1, 2}, {2, 3}, {blocking ? 1u : 0u, 4}, {blocking ? 1u : 0u, 5}, {1, 6}})) {
    case 0: break;
    case 1: group.steps.push_back(step(Step::Kind::yield)); break;
    case 2: group.steps.push_back(step(Step::Kind::sleep, {}, 1, 0)); break;
    case 3: group.steps.push_back(step(Step::Kind::sleep, {}, 1, *rc::gen::elementOf(kPlaceMomentsNs))); break;
    case 4: group.steps.push_back(step(Step::Kind::blocking, {}, 1, 0)); break;
    case 5: group.steps.push_back(step(Step::Kind::blocking, {}, 1, *rc::gen::elementOf(kPlaceMomentsNs))); break;
    default: group.steps.push_back(step(Step::Kind::work, {}, 1, *rc::gen::elementOf(kPlaceMomentsNs))); break;
  }
  if (*rc::gen::weightedElement<bool>({{2, true}, {1, false}})) group.steps.push_back(step(Step::Kind::abort_children));
}

// gen_fan adds fan group `id` (rule 4a) and main's spawn of it.
inline void gen_fan(Scenario& sc, Program& main, const std::string& id, const Knobs& knobs) {
  const std::string ch = "fan" + id, group_name = "fan" + id + "g", sender_name = "fan" + id + "s",
                    receiver_name = "fan" + id + "r";
  sc.channels[ch] = *rc::gen::inRange<std::uint64_t>(1, 3);
  const std::uint64_t receivers = *rc::gen::inRange<std::uint64_t>(2, 5);
  const std::uint64_t each = *rc::gen::inRange<std::uint64_t>(1, 6);
  Program sender, receiver, group;
  sender.name = sender_name;
  sender.steps = gen_local_ops(1, !knobs.no_blocking);
  // In bursts, apart in time: the receivers wait, on the channel and its lock, for a while.
  Step bursts = step(Step::Kind::repeat, {}, receivers);
  bursts.body = {step(Step::Kind::sleep, {}, 1, *rc::gen::elementOf(std::vector<std::uint64_t>{0, 1'000, 5'000})),
                 step(Step::Kind::send, ch, each)};
  sender.steps.push_back(bursts);
  receiver.name = receiver_name;
  receiver.steps = gen_local_ops(1, !knobs.no_blocking);
  receiver.steps.push_back(step(Step::Kind::recv, ch, each));
  group.name = group_name;
  // One spawn per receiver: halve_spawns must not leave values nobody receives.
  for (std::uint64_t i = 0; i < receivers; ++i) group.steps.push_back(step(Step::Kind::spawn, receiver_name));
  group.steps.push_back(step(Step::Kind::spawn, sender_name));
  gen_group_abort(group, !knobs.no_blocking);
  group.steps.push_back(step(Step::Kind::join));
  sc.programs[sender.name] = sender;
  sc.programs[receiver.name] = receiver;
  sc.programs[group.name] = group;
  Step sp = step(Step::Kind::spawn, group_name);
  sp.detach = !knobs.no_spawn_race && *rc::gen::weightedElement<bool>({{5, false}, {1, true}});
  main.steps.push_back(sp);
}

// gen_crowd adds crowd group `id` (Knobs::places): 4 to 8 members of one kind
// (blocking work: more than the pool's threads, so the pool queues some; sleeps;
// yields, which fill the defer lists; or long polls), each spawned on its own
// (halve_spawns leaves them), then the group's steps, maybe an abort of them all,
// a join. Members wait on nothing but time and the pool (rule 4).
inline void gen_crowd(Scenario& sc, Program& main, const std::string& id, const Knobs& knobs) {
  const std::string group_name = "crowd" + id + "g", member_name = "crowd" + id + "m";
  Program member, group;
  member.name = member_name;
  switch (*rc::gen::weightedElement<int>({{knobs.no_blocking ? 0u : 1u, 0}, {1, 1}, {1, 2}, {1, 3}})) {
    case 0: member.steps = {step(Step::Kind::blocking, {}, 1, *rc::gen::elementOf(kPlaceMomentsNs))}; break;
    case 1: member.steps = {step(Step::Kind::sleep, {}, 1, *rc::gen::elementOf(kPlaceMomentsNs))}; break;
    case 2: member.steps = {step(Step::Kind::yield, {}, *rc::gen::inRange<std::uint64_t>(2, 8))}; break;
    default: member.steps = {step(Step::Kind::work, {}, 1, *rc::gen::elementOf(kPlaceMomentsNs))}; break;
  }
  const int members = *rc::gen::inRange(4, 9);
  group.name = group_name;
  for (int i = 0; i < members; ++i) group.steps.push_back(step(Step::Kind::spawn, member_name));
  gen_group_abort(group, !knobs.no_blocking);
  group.steps.push_back(step(Step::Kind::join));
  sc.programs[member.name] = member;
  sc.programs[group.name] = group;
  Step sp = step(Step::Kind::spawn, group_name);
  sp.detach = !knobs.no_spawn_race && *rc::gen::weightedElement<bool>({{5, false}, {1, true}});
  main.steps.push_back(sp);
}

}  // namespace detail

// gen_case generates a scenario and a seed under `knobs`.
inline rc::Gen<Case> gen_case(Knobs knobs) {
  return rc::gen::exec([knobs] {
    using detail::step;
    Case c;
    Scenario& sc = c.sc;
    sc.name = "generated";
    sc.file = "<generated>";
    weft::Config& rt = sc.runtime.config;
    // Knobs::places: as many current-thread cases (its places are reached more rarely).
    const bool multi_thread =
        knobs.multi_thread_only || *rc::gen::weightedElement<bool>({{5, true}, {knobs.places ? 5u : 1u, false}});
    rt.flavor = multi_thread ? weft::Flavor::multi_thread : weft::Flavor::current_thread;
    const bool no_blocking = knobs.no_blocking;
    rt.worker_threads = *rc::gen::inRange<std::uint32_t>(1, 9);
    rt.local_queue_capacity = *rc::gen::elementOf(std::vector<std::uint32_t>{2u, 4u, 8u, 16u, weft::kDefaultLocalQueueCapacity});
    rt.lifo_enabled = *rc::gen::weightedElement<bool>({{3, true}, {1, false}});
    rt.max_lifo_polls = *rc::gen::inRange<std::uint32_t>(1, 5);
    const std::uint32_t lo = knobs.min_interval;
    rt.global_queue_interval = *rc::gen::elementOf(std::vector<std::uint32_t>{0u, lo, lo + 1, 7u, weft::kDefaultGlobalQueueIntervalCurrentThread});
    rt.event_interval = *rc::gen::elementOf(std::vector<std::uint32_t>{lo, lo + 2, weft::kDefaultEventInterval});
    rt.budget = *rc::gen::elementOf(std::vector<std::uint32_t>{2u, 4u, 16u, weft::kDefaultBudget});
    if (knobs.dumps) {
      // Barrier timeouts mostly shorter than the generated stalls.
      rt.dump_timeout_ns = *rc::gen::weightedElement<std::uint64_t>({{3, 5'000}, {3, 20'000}, {1, 100'000}, {1, weft::kDefaultDumpTimeoutNs}});
    }

    // Leaves: local ops, then maybe a throw.
    const int leaves = *rc::gen::inRange(1, 4);
    for (int i = 0; i < leaves; ++i) {
      Program p;
      p.name = "leaf" + std::to_string(i);
      p.steps = detail::gen_local_ops(3, !no_blocking);
      if (*rc::gen::weightedElement<bool>({{6, false}, {1, true}})) p.steps.push_back(step(Step::Kind::throw_error, "boom"));
      sc.programs[p.name] = p;
    }
    // Trees: spawn leaves (or the tree below), local ops, maybe abort, maybe join.
    const int trees = *rc::gen::inRange(0, 3);
    for (int i = trees - 1; i >= 0; --i) {
      Program p;
      p.name = "tree" + std::to_string(i);
      const int spawns = *rc::gen::inRange(1, 3);
      for (int k = 0; k < spawns; ++k) {
        std::string child = (i + 1 < trees && *rc::gen::arbitrary<bool>())
                                ? "tree" + std::to_string(i + 1)
                                : "leaf" + std::to_string(*rc::gen::inRange(0, leaves));
        Step s = step(Step::Kind::spawn, child, *rc::gen::weightedElement<std::uint64_t>({{4, 1}, {3, 3}, {2, 12}, {1, 40}}));
        s.detach = !knobs.no_spawn_race && *rc::gen::weightedElement<bool>({{4, false}, {1, true}});
        p.steps.push_back(s);
      }
      for (Step& s : detail::gen_local_ops(2, !no_blocking)) p.steps.push_back(s);
      if (*rc::gen::weightedElement<bool>({{4, false}, {1, true}})) p.steps.push_back(step(Step::Kind::abort_children));
      if (knobs.no_spawn_race || *rc::gen::weightedElement<bool>({{5, true}, {1, false}})) {
        p.steps.push_back(step(Step::Kind::join));
      }
      sc.programs[p.name] = p;
    }
    Program main;
    main.name = "main";
    // Pairs: channel ping-pong or Notify, each spawned once by main.
    const int pairs = *rc::gen::inRange(0, 4);
    for (int i = 0; i < pairs; ++i) {
      const std::string id = std::to_string(i);
      Program pair, a, b;
      pair.name = "pair" + id;
      a.name = "pair" + id + "a";
      b.name = "pair" + id + "b";
      // Knobs::places: as many Notify pairs as channel pairs.
      if (*rc::gen::weightedElement<bool>({{3, true}, {knobs.places ? 3u : 1u, false}})) {
        const std::string ping = "ping" + id, pong = "pong" + id;
        sc.channels[ping] = *rc::gen::inRange<std::uint64_t>(1, 4);
        sc.channels[pong] = *rc::gen::inRange<std::uint64_t>(1, 4);
        const std::uint64_t rounds = *rc::gen::inRange<std::uint64_t>(1, 12);
        const std::uint64_t burst = *rc::gen::weightedElement<std::uint64_t>({{3, 1}, {1, 6}});
        Step ra = step(Step::Kind::repeat, {}, rounds);
        ra.body = {step(Step::Kind::send, ping, burst), step(Step::Kind::recv, pong, burst)};
        Step rb = step(Step::Kind::repeat, {}, rounds);
        rb.body = {step(Step::Kind::recv, ping, burst), step(Step::Kind::send, pong, burst)};
        a.steps = detail::gen_local_ops(1, !no_blocking);
        a.steps.push_back(ra);
        b.steps = {rb};
      } else {
        const std::string n = "n" + id;
        a.steps = detail::gen_local_ops(2, !no_blocking);
        // Knobs::places: a notifier that takes its time, so the waiter waits when
        // the runtime shuts down, dumps or aborts.
        if (knobs.places) a.steps.push_back(step(Step::Kind::sleep, {}, 1, *rc::gen::elementOf(detail::kPlaceMomentsNs)));
        a.steps.push_back(step(Step::Kind::notify, n));
        b.steps = detail::gen_local_ops(1, !no_blocking);
        b.steps.push_back(step(Step::Kind::notified, n));
      }
      if (*rc::gen::arbitrary<bool>()) std::swap(a.steps, b.steps);
      pair.steps = {step(Step::Kind::spawn, a.name), step(Step::Kind::spawn, b.name)};
      if (knobs.places) detail::gen_group_abort(pair, !no_blocking);
      pair.steps.push_back(step(Step::Kind::join));
      sc.programs[a.name] = a;
      sc.programs[b.name] = b;
      sc.programs[pair.name] = pair;
      Step sp = step(Step::Kind::spawn, pair.name);
      sp.detach = !knobs.no_spawn_race && *rc::gen::weightedElement<bool>({{5, false}, {1, true}});
      main.steps.push_back(sp);
    }
    if (knobs.places) {
      const int fans = *rc::gen::inRange(1, 3);
      for (int i = 0; i < fans; ++i) detail::gen_fan(sc, main, std::to_string(i), knobs);
      const int crowds = *rc::gen::inRange(1, 3);
      for (int i = 0; i < crowds; ++i) detail::gen_crowd(sc, main, std::to_string(i), knobs);
    }
    const int roots = *rc::gen::inRange(1, 4);
    for (int i = 0; i < roots; ++i) {
      const std::string target = trees > 0 && *rc::gen::arbitrary<bool>() ? "tree0"
                                                                          : "leaf" + std::to_string(*rc::gen::inRange(0, leaves));
      Step s = step(Step::Kind::spawn, target, *rc::gen::weightedElement<std::uint64_t>({{3, 1}, {2, 4}, {1, 24}}));
      s.detach = !knobs.no_spawn_race && *rc::gen::weightedElement<bool>({{5, false}, {1, true}});
      main.steps.push_back(s);
    }
    // Known engine bug (reported; tests/regressions/current-thread-root-yield-deadlock.repro.json):
    // a current-thread block_on root that yields deadlocks, so main's own steps do
    // not yield there.
    for (Step& s : detail::gen_local_ops(1, !no_blocking)) {
      if (!(!multi_thread && s.kind == Step::Kind::yield)) main.steps.push_back(s);
    }
    if (knobs.dumps) detail::gen_task_dumps(sc, main, knobs);
    if (knobs.no_spawn_race || *rc::gen::weightedElement<bool>({{6, true}, {1, false}})) {
      main.steps.push_back(step(Step::Kind::join));
    }
    sc.programs[main.name] = main;
    sc.main = "main";


    // Outside injector threads.
    const int outside = *rc::gen::weightedElement<int>({{3, 0}, {2, 1}, {1, 2}});
    for (int i = 0; i < outside; ++i) {
      OutsideThread o;
      o.program = !knobs.no_spawn_race && trees > 0 && *rc::gen::arbitrary<bool>() ? "tree0" : "leaf0";
      o.threads = *rc::gen::inRange<std::uint32_t>(1, 3);
      o.count = *rc::gen::inRange<std::uint64_t>(1, 12);
      o.interval_ns = *rc::gen::elementOf(std::vector<std::uint64_t>{0, 500, 5'000});
      sc.outside.push_back(o);
    }
    // Faults.
    const int stalls = *rc::gen::weightedElement<int>({{3, 0}, {1, 1}, {1, 2}});
    std::uint64_t at = 0;
    for (int i = 0; i < stalls; ++i) {
      at += *rc::gen::inRange<std::uint64_t>(0, 20'000);
      sc.stalls.push_back(Stall{at, *rc::gen::inRange<std::uint64_t>(1'000, 50'000)});
    }
    if (knobs.dumps) detail::gen_outside_dumps(sc);
    // Keep runs small (nested fan-outs multiply): cap the task count estimate.
    auto tasks = [&sc] {
      std::uint64_t n = detail::estimate_tasks(sc, "main", 0);
      for (const OutsideThread& o : sc.outside) n += o.threads * o.count * (1 + detail::estimate_tasks(sc, o.program, 0));
      return n;
    };
    for (int pass = 0; pass < 6 && tasks() > detail::kTasksMax; ++pass) detail::halve_spawns(sc);
    sc.spurious_wakeup_per_mille = *rc::gen::weightedElement<std::uint32_t>({{2, 0}, {1, 100}, {1, 400}});
    if (knobs.shutdown_early) {
      sc.shutdown_at_ns = knobs.places && *rc::gen::arbitrary<bool>() ? *rc::gen::elementOf(detail::kPlaceMomentsNs)
                                                                       : *rc::gen::inRange<std::uint64_t>(0, 60'000);
    }
    sc.checks = knobs.checks_none ? std::vector<std::string>{}
                                  : std::vector<std::string>{"exactly_once", "no_leak", "metrics_match_trace"};
    sc.step_bound = 2'000'000;
    c.seed = *rc::gen::arbitrary<std::uint64_t>();
    return c;
  });
}

}  // namespace weft::sim::property
