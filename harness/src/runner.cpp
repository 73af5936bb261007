// Runs a scenario on the real engine compiled against the simulator backend.
//
// The main fiber builds the runtime, starts the outside threads and the stall
// injector, runs the scenario's main program with block_on, joins everything,
// shuts the runtime down and then checks the scenario's invariants. A broken
// invariant ends the run as an assertion failure, like an engine assertion.
#include "weft/harness/runner.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "weft/dump.hpp"
#include "weft/events.hpp"
#include "weft/runtime.hpp"
#include "weft/sim/detail/kernel.hpp"
#include "weft/sync.hpp"
#include "weft/time.hpp"

namespace weft::sim {
namespace {

using weft::Task;

// Recorder counts every engine event and keeps them when asked.
class Recorder final : public weft::EventSink {
 public:
  explicit Recorder(bool keep, std::uint32_t workers)
      : keep_(keep), polls_by_worker_(workers, 0), idle_by_worker_(workers), queue_by_worker_(workers) {}
  void record(const weft::Event& e) override {
    auto* k = detail::tls_kernel;
    if (keep_) {
      events_.push_back(TraceEvent{k ? k->now_ns() : 0, k ? k->steps() : 0, e.worker, static_cast<std::uint8_t>(e.kind),
                                   e.task, e.a, e.b});
    }
    switch (e.kind) {
      case weft::EventKind::spawn: ++stats_.tasks_spawned; break;
      case weft::EventKind::poll_start:
        ++stats_.polls;
        if (e.worker >= 0 && static_cast<std::size_t>(e.worker) < polls_by_worker_.size()) {
          ++polls_by_worker_[e.worker];
          idle_by_worker_[e.worker].polled_since_park = true;
        }
        break;
      case weft::EventKind::steal:
        stats_.steals += e.a;
        ++stats_.steal_operations;
        if (e.worker >= 0 && static_cast<std::size_t>(e.worker) < queue_by_worker_.size()) {
          queue_by_worker_[e.worker].steals += e.a;
          ++queue_by_worker_[e.worker].steal_ops;
        }
        break;
      case weft::EventKind::overflow:
        ++stats_.overflows;
        if (e.worker >= 0 && static_cast<std::size_t>(e.worker) < queue_by_worker_.size())
          ++queue_by_worker_[e.worker].overflows;
        break;
      case weft::EventKind::inject_push: ++stats_.inject_pushes; break;
      case weft::EventKind::inject_pop:
        if (e.a > 1) ++stats_.inject_batches;
        break;
      case weft::EventKind::park:
        ++stats_.parks;
        if (e.worker >= 0 && static_cast<std::size_t>(e.worker) < idle_by_worker_.size()) {
          IdleTrace& it = idle_by_worker_[e.worker];
          ++it.parks;
          if (!it.polled_since_park) ++it.noops;  // the engine's rule: no poll since the last park
          it.polled_since_park = false;
        }
        break;
      case weft::EventKind::unpark:
        ++stats_.unparks;
        if (e.worker >= 0 && static_cast<std::size_t>(e.worker) < idle_by_worker_.size()) ++idle_by_worker_[e.worker].unparks;
        break;
      case weft::EventKind::timer_fire: ++stats_.timers_fired; break;
      case weft::EventKind::lifo_push: ++stats_.lifo_pushes; break;
      case weft::EventKind::wake: ++stats_.wakes; break;
      case weft::EventKind::mark: ++stats_.marks[weft::mark_name(static_cast<weft::Mark>(e.a))]; break;
      default: break;
    }
    // What the dump checker needs, kept even when the trace is not.
    const std::uint64_t step = k ? k->steps() : 0;
    switch (e.kind) {
      case weft::EventKind::spawn:
        if (spawn_step_.size() <= e.task) spawn_step_.resize(e.task + 1, kNever);
        spawn_step_[e.task] = step;
        break;
      case weft::EventKind::poll_end:
        if ((e.a == 1 || e.a == 2) && e.task != 0) {  // id 0: block_on roots, not runtime tasks
          ++completions_;
          if (done_step_.size() <= e.task) done_step_.resize(e.task + 1, kNever);
          done_step_[e.task] = step;
        }
        break;
      case weft::EventKind::dump_request: rounds_[e.a].request = step; break;
      case weft::EventKind::dump_arrive: rounds_[e.a].arrivals.push_back({e.worker, step}); break;
      case weft::EventKind::dump_leader:
        ++rounds_[e.a].leaders;
        rounds_[e.a].leader_step = step;
        break;
      case weft::EventKind::dump_done: rounds_[e.a].done = step; break;
      default: break;
    }
  }
  // reset forgets everything recorded so far.
  void reset() {
    stats_ = RunStats{};
    events_.clear();
    std::fill(polls_by_worker_.begin(), polls_by_worker_.end(), 0);
    std::fill(idle_by_worker_.begin(), idle_by_worker_.end(), IdleTrace{});
    std::fill(queue_by_worker_.begin(), queue_by_worker_.end(), QueueTrace{});
    spawn_step_.clear();
    done_step_.clear();
    completions_ = 0;
    rounds_.clear();
  }
  static constexpr std::uint64_t kNever = ~0ull;
  struct RoundTrace {
    std::uint64_t request = kNever, leader_step = kNever, done = kNever;
    std::uint32_t leaders = 0;
    std::vector<std::pair<std::int32_t, std::uint64_t>> arrivals;
  };
  std::vector<std::uint64_t> spawn_step_, done_step_;
  std::uint64_t completions_ = 0;
  std::map<std::uint64_t, RoundTrace> rounds_;
  bool keep_;
  RunStats stats_;
  std::vector<TraceEvent> events_;
  std::vector<std::uint64_t> polls_by_worker_;
  // IdleTrace is one worker's parks as the trace shows them.
  struct IdleTrace {
    std::uint64_t parks = 0, unparks = 0, noops = 0;
    bool polled_since_park = false;
  };
  // QueueTrace is one worker's steals (as the thief) and overflows (as the owner).
  struct QueueTrace {
    std::uint64_t steals = 0, steal_ops = 0, overflows = 0;
  };
  std::vector<IdleTrace> idle_by_worker_;
  std::vector<QueueTrace> queue_by_worker_;
};

// Ctx is one run's shared state: bookkeeping for the invariants, and the named
// channels, notifies and counters the programs use. Harness bookkeeping is plain
// data: it is not part of any protocol under test.
struct Ctx {
  const Scenario* sc = nullptr;
  std::vector<std::uint8_t> started, completed, cancelled;
  std::uint64_t live_tokens = 0;
  std::uint64_t exceptions_thrown = 0;
  std::vector<weft::Dump> dumps;  // every dump taken, for the checker
  std::uint64_t dump_errors = 0;  // refused because the runtime shut down
  std::uint64_t early_dump_errors = 0;  // refused before shutdown began: a bug
  bool shutdown_begun = false;        // set just before the runner shuts the runtime down
  std::uint64_t dumps_in_flight = 0, dumps_concurrent = 0, dumps_from_task = 0;
  struct Channel {
    weft::mpsc::Sender<std::uint64_t> tx;
    weft::mpsc::Receiver<std::uint64_t> rx;
    weft::AsyncMutex rx_lock;  // a scenario may receive from many tasks
  };
  std::map<std::string, std::unique_ptr<Channel>> channels;
  std::map<std::string, std::unique_ptr<weft::Notify>> notifies;
  std::map<std::string, std::unique_ptr<weft::Atomic<std::uint64_t>>> counters;
  std::map<std::string, std::uint64_t> increments;  // racy_increment executions per counter

  std::uint64_t new_uid() {
    started.push_back(0);
    completed.push_back(0);
    cancelled.push_back(0);
    return started.size() - 1;
  }
  weft::Notify& notify(const std::string& n) {
    auto& p = notifies[n];
    if (!p) p = std::make_unique<weft::Notify>();
    return *p;
  }
  // dump_begin and dump_end bracket a dump request; a request made while
  // another is in flight counts as concurrent.
  void dump_begin() {
    if (dumps_in_flight++ > 0) ++dumps_concurrent;
  }
  void dump_end() { --dumps_in_flight; }
  weft::Atomic<std::uint64_t>& counter(const std::string& n) {
    auto& p = counters[n];
    if (!p) p = std::make_unique<weft::Atomic<std::uint64_t>>(0);
    return *p;
  }
};

// UidToken travels in a program's frame: when the frame is destroyed without the
// program completing, the task was cancelled (possibly before it ever started).
struct UidToken {
  Ctx* cx;
  std::uint64_t uid;
  bool armed = true;
  UidToken(Ctx* c, std::uint64_t u) : cx(c), uid(u) { ++cx->live_tokens; }
  UidToken(UidToken&& o) noexcept : cx(o.cx), uid(o.uid), armed(std::exchange(o.armed, false)) {}
  UidToken(const UidToken&) = delete;
  ~UidToken() {
    if (!armed) return;
    --cx->live_tokens;
    if (!cx->completed[uid]) ++cx->cancelled[uid];
  }
};

Task<void> run_program(Ctx* cx, const Program* p, UidToken token);

Task<void> run_steps(Ctx* cx, const std::vector<Step>* steps, std::vector<weft::JoinHandle<void>>* children) {
  for (const Step& s : *steps) {
    switch (s.kind) {
      case Step::Kind::spawn:
        for (std::uint64_t i = 0; i < s.count; ++i) {
          std::uint64_t uid = cx->new_uid();
          auto jh = weft::spawn(run_program(cx, &cx->sc->programs.at(s.name), UidToken(cx, uid)));
          if (s.detach) jh.detach(); else children->push_back(std::move(jh));
        }
        break;
      case Step::Kind::join:
        for (auto& c : *children) {
          try {
            co_await c;
          } catch (const weft::JoinError&) {
            // Aborted or threw: the bookkeeping records which.
          }
        }
        children->clear();
        break;
      case Step::Kind::abort_children:
        for (auto& c : *children) c.abort();
        break;
      case Step::Kind::yield:
        for (std::uint64_t i = 0; i < s.count; ++i) co_await weft::yield_now();
        break;
      case Step::Kind::work:
        consume(s.ns);  // the worker is busy: a long poll in virtual time
        break;
      case Step::Kind::sleep:
        co_await weft::sleep_for(std::chrono::nanoseconds(s.ns));
        break;
      case Step::Kind::send: {
        auto tx = cx->channels.at(s.name)->tx;
        for (std::uint64_t i = 0; i < s.count; ++i) {
          if (!co_await tx.send(i)) break;
        }
        break;
      }
      case Step::Kind::recv: {
        auto& ch = *cx->channels.at(s.name);
        for (std::uint64_t i = 0; i < s.count; ++i) {
          auto guard = co_await ch.rx_lock.lock();
          auto v = co_await ch.rx.recv();
          if (!v) break;
        }
        break;
      }
      case Step::Kind::notify:
        cx->notify(s.name).notify_one();
        break;
      case Step::Kind::notified:
        co_await cx->notify(s.name).notified();
        break;
      case Step::Kind::repeat:
        for (std::uint64_t i = 0; i < s.count; ++i) co_await run_steps(cx, &s.body, children);
        break;
      case Step::Kind::racy_increment: {
        // A deliberate lost update: read, let others run, write back.
        auto& c = cx->counter(s.name);
        ++cx->increments[s.name];
        std::uint64_t v = c.load(weft::Order::seq_cst);
        co_await weft::yield_now();
        c.store(v + 1, weft::Order::seq_cst);
        break;
      }
      case Step::Kind::throw_error:
        ++cx->exceptions_thrown;
        throw std::runtime_error(s.name);
      case Step::Kind::dump: {
        cx->dump_begin();
        try {
          cx->dumps.push_back(co_await weft::Handle::current().dump());
          ++cx->dumps_from_task;
        } catch (const weft::DumpError&) {
          ++cx->dump_errors;
          if (!cx->shutdown_begun) ++cx->early_dump_errors;
        }
        cx->dump_end();
        break;
      }
      case Step::Kind::blocking: {
        std::uint64_t ns = s.ns;
        co_await weft::spawn_blocking([ns] {
          if (ns) consume(ns);
          return 0;
        });
        break;
      }
    }
  }
}

Task<void> run_program(Ctx* cx, const Program* p, UidToken token) {
  ++cx->started[token.uid];
  std::vector<weft::JoinHandle<void>> children;
  co_await run_steps(cx, &p->steps, &children);
  cx->completed[token.uid] = 1;
}

// The metrics sampler's bound (RunConfig::metrics_interval_ns).
constexpr std::uint32_t kMaxMetricsSnapshots = 10'000;

[[noreturn]] void invariant_failed(const std::string& what) {
  static thread_local std::string msg;
  msg = "invariant " + what;
  weft::Platform::assertion_failed(msg.c_str(), "scenario", 0);
}

// check_dumps checks every dump of the run against the trace: exactly one leader
// per round; the missed workers are exactly those that had not arrived when the
// leader began; a complete dump lists each live task once, inspected, and its
// queue depths match the tasks it places in each queue.
void check_dumps(Ctx& cx, Recorder& rec) {
  auto step_of = [](const std::vector<std::uint64_t>& v, std::uint64_t id) {
    return id < v.size() ? v[id] : Recorder::kNever;
  };
  for (const weft::Dump& d : cx.dumps) {
    const std::string r = "dump round " + std::to_string(d.round);
    auto it = rec.rounds_.find(d.round);
    if (it == rec.rounds_.end()) invariant_failed("dump_consistent: " + r + " left no trace");
    const Recorder::RoundTrace& rt = it->second;
    if (rt.leaders != 1) invariant_failed("dump_consistent: " + r + " had " + std::to_string(rt.leaders) + " leaders");
    std::vector<std::uint8_t> arrived(d.workers.size(), 0);
    for (auto& [w, step] : rt.arrivals) {
      if (w >= 0 && static_cast<std::size_t>(w) < arrived.size() && step <= rt.leader_step) arrived[w] = 1;
    }
    std::vector<std::uint32_t> expect_missed;
    for (std::uint32_t w = 0; w < arrived.size(); ++w) {
      if (!arrived[w]) expect_missed.push_back(w);
    }
    if (expect_missed != d.missed_workers)
      invariant_failed("dump_consistent: " + r + " names " + std::to_string(d.missed_workers.size()) +
                       " missed workers, the trace shows " + std::to_string(expect_missed.size()));
    if (!d.missed_workers.empty() && d.complete) invariant_failed("dump_consistent: " + r + " is complete but missed workers");
    std::set<std::uint64_t> ids;
    for (const weft::DumpTask& t : d.tasks) {
      if (!ids.insert(t.id).second) invariant_failed("dump_consistent: " + r + " lists task " + std::to_string(t.id) + " twice");
      if (step_of(rec.spawn_step_, t.id) > rt.done)
        invariant_failed("dump_consistent: " + r + " lists task " + std::to_string(t.id) + " spawned after the dump");
      if (step_of(rec.done_step_, t.id) < rt.request)
        invariant_failed("dump_consistent: " + r + " lists task " + std::to_string(t.id) + " that completed before it");
    }
    if (!d.complete) continue;
    for (std::uint64_t id = 1; id < rec.spawn_step_.size(); ++id) {
      bool live = rec.spawn_step_[id] < rt.request && step_of(rec.done_step_, id) > rt.done;
      if (live && !ids.count(id))
        invariant_failed("dump_consistent: complete " + r + " misses live task " + std::to_string(id));
    }
    std::vector<std::uint64_t> in_queue(d.workers.size(), 0);
    for (const weft::DumpTask& t : d.tasks) {
      if (!t.captured) invariant_failed("dump_consistent: complete " + r + " did not capture task " + std::to_string(t.id));
      if (t.worker >= 0 && t.location.find("local queue") != std::string::npos) ++in_queue[t.worker];
    }
    for (std::uint32_t w = 0; w < d.workers.size(); ++w) {
      if (d.workers[w].local_queue_depth != in_queue[w])
        invariant_failed("dump_consistent: " + r + " worker " + std::to_string(w) + " reports queue depth " +
                         std::to_string(d.workers[w].local_queue_depth) + " but places " + std::to_string(in_queue[w]) +
                         " tasks in its queue");
    }
  }
}

void check_invariants(const Scenario& sc, Ctx& cx, weft::Handle& h, Recorder& rec) {
  auto has = [&](const char* c) {
    for (auto& x : sc.checks) {
      if (x == c) return true;
    }
    return false;
  };
  if (has("exactly_once")) {
    for (std::size_t uid = 0; uid < cx.started.size(); ++uid) {
      if (cx.started[uid] > 1) invariant_failed("exactly_once: task uid " + std::to_string(uid) + " started twice");
      if (cx.completed[uid] + cx.cancelled[uid] != 1)
        invariant_failed("exactly_once: task uid " + std::to_string(uid) + " completed " +
                         std::to_string(cx.completed[uid]) + " and cancelled " + std::to_string(cx.cancelled[uid]) + " times");
      if (cx.completed[uid] && !cx.started[uid])
        invariant_failed("exactly_once: task uid " + std::to_string(uid) + " completed without starting");
    }
  }
  if (has("no_leak")) {
    if (h.num_alive_tasks() != 0)
      invariant_failed("no_leak: " + std::to_string(h.num_alive_tasks()) + " tasks alive after shutdown");
    if (cx.live_tokens != 0)
      invariant_failed("no_leak: " + std::to_string(cx.live_tokens) + " task frames not destroyed after shutdown");
  }
  if (has("dump_consistent")) {
    check_dumps(cx, rec);
    // DumpError means the runtime is shutting down; before that, a refusal is a bug.
    if (cx.early_dump_errors)
      invariant_failed("dump_consistent: " + std::to_string(cx.early_dump_errors) +
                       " dumps refused before shutdown began");
  }
  if (has("metrics_match_trace")) {
    auto mm = h.metrics();
    if (mm.spawned_tasks_count - rec.completions_ != mm.num_alive_tasks)
      invariant_failed("metrics_match_trace: spawned " + std::to_string(mm.spawned_tasks_count) + " minus completed " +
                       std::to_string(rec.completions_) + " is not alive " + std::to_string(mm.num_alive_tasks));
    for (std::uint32_t w = 0; w < rec.polls_by_worker_.size(); ++w) {
      const weft::WorkerMetrics wm = h.worker_metrics(w);
      auto differ = [&](const char* what, std::uint64_t metric, std::uint64_t traced) {
        if (metric != traced)
          invariant_failed("metrics_match_trace: worker " + std::to_string(w) + " reports " + std::to_string(metric) +
                           " " + what + ", the trace shows " + std::to_string(traced));
      };
      const Recorder::IdleTrace& it = rec.idle_by_worker_[w];
      differ("polls", wm.poll_count, rec.polls_by_worker_[w]);
      // Every counted park and no-op wake is one the trace shows. (A stray wake-up
      // shows in both; that dumps leave none is checked in tests/harness.)
      differ("parks", wm.park_count, it.parks);
      differ("no-op parks", wm.noop_count, it.noops);
      differ("parks and unparks", wm.park_unpark_count, it.parks + it.unparks);
      // One overflow event per shed (one task, or half a queue), by the queue's owner;
      // one steal event per steal operation, by the thief, carrying the tasks taken.
      const Recorder::QueueTrace& qt = rec.queue_by_worker_[w];
      differ("overflows", wm.overflow_count, qt.overflows);
      differ("stolen tasks", wm.steal_count, qt.steals);
      differ("steal operations", wm.steal_operations, qt.steal_ops);
    }
    auto m = h.metrics();
    if (m.spawned_tasks_count != rec.stats_.tasks_spawned)
      invariant_failed("metrics_match_trace: spawned_tasks_count " + std::to_string(m.spawned_tasks_count) +
                       " but the trace shows " + std::to_string(rec.stats_.tasks_spawned) + " spawns");
  }
  if (has("counters_exact")) {
    for (auto& [name, c] : cx.counters) {
      std::uint64_t v = c->load(weft::Order::seq_cst);
      if (v != cx.increments[name])
        invariant_failed("counters_exact: counter '" + name + "' is " + std::to_string(v) + " after " +
                         std::to_string(cx.increments[name]) + " increments (lost update)");
    }
  }
}

weft::Config config_of(const Scenario& sc) {
  weft::Config c;
  c.flavor = sc.runtime.multi_thread ? weft::Flavor::multi_thread : weft::Flavor::current_thread;
  c.worker_threads = sc.runtime.workers;
  c.local_queue_capacity = sc.runtime.local_queue_capacity;
  c.global_queue_interval = sc.runtime.global_queue_interval;
  c.event_interval = sc.runtime.event_interval;
  c.lifo_enabled = sc.runtime.lifo;
  c.max_lifo_polls = sc.runtime.max_lifo_polls;
  c.budget = sc.runtime.budget;
  c.dump_timeout_ns = sc.runtime.dump_timeout_ns;
  c.max_blocking_threads = 4;
  c.blocking_keep_alive_ns = 1'000'000'000ull;
  c.unhandled_exception = [](std::exception_ptr) {};  // scenarios throw on purpose
  return c;
}

}  // namespace

StrategySpec strategy_of(const Scenario& sc) {
  // PCT spreads its change points over the run's measured length (steps 0: the
  // simulator measures it with a first run of the same seed).
  if (sc.strategy == "hold") return StrategySpec::hold();
  return sc.strategy == "pct" ? StrategySpec::pct(sc.pct_depth, 0) : StrategySpec::random();
}

bool outcome_matches(const Scenario& sc, Outcome o) { return sc.expect == outcome_name(o); }

RunReport run_scenario(const Scenario& sc, const RunConfig& cfg) {
  if (cfg.strategy.kind == StrategySpec::Kind::pct && cfg.strategy.pct_steps == 0) {
    // PCT spreads its change points over the run's length: measure it with a
    // random-walk run of the same seed, then run PCT over that many decisions.
    RunConfig probe = cfg;
    probe.strategy = StrategySpec::random();
    probe.keep_trace = false;
    probe.record_schedule = false;
    std::uint64_t k = run_scenario(sc, probe).result.steps;
    RunConfig real = cfg;
    real.strategy.pct_steps = std::max<std::uint64_t>(k, 1);
    return run_scenario(sc, real);
  }
  Options opts;
  opts.seed = cfg.seed;
  opts.strategy = cfg.strategy;
  opts.step_bound = cfg.step_bound ? cfg.step_bound : sc.step_bound;
  opts.record = cfg.record_schedule;
  opts.spurious_wakeup_per_mille = sc.spurious_wakeup_per_mille;
  Simulation sim(opts);

  std::uint32_t workers = sc.runtime.multi_thread ? sc.runtime.workers : 1;
  Recorder rec(cfg.keep_trace, workers);
  RunReport report;
  std::shared_ptr<weft::detail::RuntimeCore> core;  // for the idle probe
  sim.set_idle_probe([&core] { return core && core->has_pending_work(); });

  weft::EventSink* prev_sink = weft::event_sink();
  weft::set_event_sink(&rec);
  std::uint64_t cancelled = 0;
  struct {
    std::uint64_t complete = 0, partial = 0, from_task = 0, concurrent = 0, errors = 0;
  } dumps;
  report.result = sim.run([&] {
    rec.reset();  // PCT may run the scenario twice: only the last run's events count
    dumps = {};
    Ctx cx;
    cx.sc = &sc;
    for (auto& [name, cap] : sc.channels) {
      auto [tx, rx] = weft::mpsc::channel<std::uint64_t>(cap);
      auto ch = std::make_unique<Ctx::Channel>();
      ch->tx = std::move(tx);
      ch->rx = std::move(rx);
      cx.channels[name] = std::move(ch);
    }
    weft::Config c = config_of(sc);
    c.has_seed = true;
    c.seed = weft::Platform::entropy();  // victim choice: seeded by the simulation
    weft::Runtime rt(c);
    weft::Handle h = rt.handle();
    core = std::shared_ptr<weft::detail::RuntimeCore>(h.core()->shared_from_this());

    std::vector<weft::Thread> outside;
    for (const OutsideThread& ot : sc.outside) {
      for (std::uint32_t k = 0; k < ot.threads; ++k) {
        outside.emplace_back("outside", [&cx, &ot, h] {
          std::uint64_t limit = ot.die_after ? std::min(*ot.die_after, ot.count) : ot.count;
          for (std::uint64_t i = 0; i < limit; ++i) {
            if (ot.interval_ns) sleep_virtual(ot.interval_ns);
            h.spawn(run_program(&cx, &cx.sc->programs.at(ot.program), UidToken(&cx, cx.new_uid()))).detach();
          }
        });
      }
    }
    if (!sc.stalls.empty()) {
      outside.emplace_back("stall-injector", [&sc, h] {
        std::uint64_t now = 0;
        for (const Stall& s : sc.stalls) {
          if (s.at_ns > now) sleep_virtual(s.at_ns - now);
          now = std::max(now, s.at_ns);
          std::uint64_t d = s.duration_ns;
          h.spawn([](std::uint64_t d) -> Task<void> {
            consume(d);  // whichever worker runs this is stuck for d
            co_return;
          }(d)).detach();
        }
      });
    }

    std::vector<weft::Thread> late;  // dumpers that run until the shutdown refuses them
    if (cfg.metrics_interval_ns) {
      // Snapshots until shutdown begins; bounded, so a run whose program hangs
      // still ends as a deadlock once the sampler stops.
      late.emplace_back("metrics", [&cx, &report, h, every = cfg.metrics_interval_ns] {
        for (std::uint32_t i = 0; i < kMaxMetricsSnapshots; ++i) {
          sleep_virtual(every);
          if (cx.shutdown_begun) return;
          auto* k = detail::tls_kernel;
          report.metrics_snapshots.push_back(MetricsSnapshot{k->now_ns(), k->steps(), h.metrics_json()});
        }
      });
    }
    for (const Dumper& dd : sc.dumpers) {
      for (std::uint32_t k = 0; k < dd.threads; ++k) {
        auto body = [&cx, &dd, h] {
          if (dd.at_ns) sleep_virtual(dd.at_ns);
          for (std::uint64_t i = 0; dd.until_shutdown || i < dd.count; ++i) {
            if (i > 0 && dd.interval_ns) sleep_virtual(dd.interval_ns);
            cx.dump_begin();
            try {
              cx.dumps.push_back(h.dump_blocking());
            } catch (const weft::DumpError&) {
              ++cx.dump_errors;
              if (!cx.shutdown_begun) ++cx.early_dump_errors;
              cx.dump_end();
              return;
            }
            cx.dump_end();
            if (dd.until_shutdown && i + 1 >= 100000) return;  // bounded
          }
        };
        (dd.until_shutdown ? late : outside).emplace_back("dumper", body);
      }
    }

    if (sc.shutdown_at_ns) {
      // Shutdown at a chosen moment: the main program runs as a task, and the
      // runtime shuts down at shutdown_at_ns whatever is still running or queued.
      rt.block_on([](Ctx* cx, const Program* main, std::uint64_t at_ns) -> Task<void> {
        weft::spawn(run_program(cx, main, UidToken(cx, cx->new_uid()))).detach();
        co_await weft::sleep_for(std::chrono::nanoseconds(at_ns));
      }(&cx, &sc.programs.at(sc.main), *sc.shutdown_at_ns));
      cx.shutdown_begun = true;
      rt.shutdown();
      for (auto& t : outside) t.join();
    } else {
      rt.block_on(run_program(&cx, &sc.programs.at(sc.main), UidToken(&cx, cx.new_uid())));
      for (auto& t : outside) t.join();
      cx.shutdown_begun = true;
      rt.shutdown();
    }
    for (auto& t : late) t.join();
    for (std::uint8_t c : cx.cancelled) cancelled += c;
    for (const weft::Dump& d : cx.dumps) ++(d.complete ? dumps.complete : dumps.partial);
    dumps.from_task = cx.dumps_from_task;
    dumps.concurrent = cx.dumps_concurrent;
    dumps.errors = cx.dump_errors;
    cx.channels.clear();  // channel ends held by the context, not by tasks
    report.metrics_json = h.metrics_json();
    check_invariants(sc, cx, h, rec);
  });
  weft::set_event_sink(prev_sink);
  core.reset();
  report.stats = rec.stats_;
  report.stats.tasks_cancelled = cancelled;
  report.stats.dumps_complete = dumps.complete;
  report.stats.dumps_partial = dumps.partial;
  report.stats.dumps_from_task = dumps.from_task;
  report.stats.dumps_from_outside = dumps.complete + dumps.partial - dumps.from_task;
  report.stats.dumps_concurrent = dumps.concurrent;
  report.stats.dump_errors = dumps.errors;
  report.events = std::move(rec.events_);
  report.expected = outcome_matches(sc, report.result.outcome);
  return report;
}

std::string version_string() {
#if defined(NDEBUG)
  return "weft 0.1.0 (release)";
#else
  return "weft 0.1.0 (debug)";
#endif
}

}  // namespace weft::sim
