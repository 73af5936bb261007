// The scenario invariants (see invariants.hpp), one function per check.
#include "checks/invariants.hpp"

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "interpreter.hpp"
#include "recorder.hpp"

namespace weft::sim {

void invariant_failed(const std::string& what) {
  static thread_local std::string msg;
  msg = "invariant " + what;
  weft::Platform::assertion_failed(msg.c_str(), "scenario", 0);
}

namespace {

// check_exactly_once: every program instance started at most once and either
// completed or was cancelled, exactly once.
void check_exactly_once(const ProgramState& st) {
  for (std::size_t uid = 0; uid < st.started.size(); ++uid) {
    if (st.started[uid] > 1) invariant_failed("exactly_once: task uid " + std::to_string(uid) + " started twice");
    if (st.completed[uid] + st.cancelled[uid] != 1)
      invariant_failed("exactly_once: task uid " + std::to_string(uid) + " completed " +
                       std::to_string(st.completed[uid]) + " and cancelled " + std::to_string(st.cancelled[uid]) + " times");
    if (st.completed[uid] && !st.started[uid])
      invariant_failed("exactly_once: task uid " + std::to_string(uid) + " completed without starting");
  }
}

// check_no_leak: no task alive and no program frame left after shutdown.
void check_no_leak(const ProgramState& st, weft::Handle& h) {
  if (h.num_alive_tasks() != 0)
    invariant_failed("no_leak: " + std::to_string(h.num_alive_tasks()) + " tasks alive after shutdown");
  if (st.live_tokens != 0)
    invariant_failed("no_leak: " + std::to_string(st.live_tokens) + " task frames not destroyed after shutdown");
}

// check_dump_round checks one dump against its round in the trace: exactly one
// leader; the missed workers are exactly those that had not arrived when the
// leader began; no task listed twice, spawned after the round or completed before
// it (unless listed as complete, see below). Returns the round's trace.
const Recorder::RoundTrace& check_dump_round(const weft::Dump& d, const Recorder& rec, const std::string& r) {
  const Recorder::RoundTrace* found = rec.round(d.round);
  if (found == nullptr) invariant_failed("dump_consistent: " + r + " left no trace");
  const Recorder::RoundTrace& rt = *found;
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
    if (rec.spawn_step(t.id) > rt.done)
      invariant_failed("dump_consistent: " + r + " lists task " + std::to_string(t.id) + " spawned after the dump");
    // A task completed on a thread the rendezvous does not hold (a blocking-pool
    // thread, a missed worker) stays in the owned list until that thread releases
    // it; a dump that finds it in between may list it, but only as complete.
    if (rec.done_step(t.id) < rt.request && t.state != "complete")
      invariant_failed("dump_consistent: " + r + " lists task " + std::to_string(t.id) + " that completed before it, as " +
                       t.state);
  }
  return rt;
}

// check_complete_dump: a complete dump lists each live task, inspected, and its
// queue depths match the tasks it places in each queue.
void check_complete_dump(const weft::Dump& d, const Recorder& rec, const Recorder::RoundTrace& rt, const std::string& r) {
  std::set<std::uint64_t> ids;
  for (const weft::DumpTask& t : d.tasks) ids.insert(t.id);
  for (std::uint64_t id = 1; id < rec.task_ids_end(); ++id) {
    bool live = rec.spawn_step(id) < rt.request && rec.done_step(id) > rt.done;
    if (live && !ids.count(id))
      invariant_failed("dump_consistent: complete " + r + " misses live task " + std::to_string(id));
  }
  std::vector<std::uint64_t> in_queue(d.workers.size(), 0);
  for (const weft::DumpTask& t : d.tasks) {
    if (!t.captured) invariant_failed("dump_consistent: complete " + r + " did not capture task " + std::to_string(t.id));
    if (t.worker >= 0 && t.location == weft::DumpLocation::local_queue) ++in_queue[t.worker];
  }
  for (std::uint32_t w = 0; w < d.workers.size(); ++w) {
    if (d.workers[w].local_queue_depth != in_queue[w])
      invariant_failed("dump_consistent: " + r + " worker " + std::to_string(w) + " reports queue depth " +
                       std::to_string(d.workers[w].local_queue_depth) + " but places " + std::to_string(in_queue[w]) +
                       " tasks in its queue");
  }
}

// check_dumps checks every dump of the run against the trace, and that no dump
// was refused before shutdown began (DumpError means the runtime is shutting down).
void check_dumps(const ProgramState& st, const Recorder& rec) {
  for (const weft::Dump& d : st.dumps) {
    const std::string r = "dump round " + std::to_string(d.round);
    const Recorder::RoundTrace& rt = check_dump_round(d, rec, r);
    if (d.complete) check_complete_dump(d, rec, rt, r);
  }
  if (st.early_dump_errors)
    invariant_failed("dump_consistent: " + std::to_string(st.early_dump_errors) + " dumps refused before shutdown began");
}

// check_metrics_match_trace: the runtime's metrics agree with the events the
// trace shows (alive tasks, and per worker polls, parks, overflows and steals).
void check_metrics_match_trace(weft::Handle& h, const Recorder& rec) {
  auto mm = h.metrics();
  if (mm.spawned_tasks_count - rec.completions() != mm.num_alive_tasks)
    invariant_failed("metrics_match_trace: spawned " + std::to_string(mm.spawned_tasks_count) + " minus completed " +
                     std::to_string(rec.completions()) + " is not alive " + std::to_string(mm.num_alive_tasks));
  for (std::uint32_t w = 0; w < rec.workers(); ++w) {
    const weft::WorkerMetrics wm = h.worker_metrics(w);
    auto differ = [&](const char* what, std::uint64_t metric, std::uint64_t traced) {
      if (metric != traced)
        invariant_failed("metrics_match_trace: worker " + std::to_string(w) + " reports " + std::to_string(metric) +
                         " " + what + ", the trace shows " + std::to_string(traced));
    };
    const Recorder::IdleTrace& it = rec.idle_of(w);
    differ("polls", wm.poll_count, rec.polls_of(w));
    // Every counted park and no-op wake is one the trace shows. (A stray wake-up
    // shows in both; that dumps leave none is checked in tests/harness.)
    differ("parks", wm.park_count, it.parks);
    differ("no-op parks", wm.noop_count, it.noops);
    differ("parks and unparks", wm.park_unpark_count, it.parks + it.unparks);
    // One overflow event per shed (one task, or half a queue), by the queue's owner;
    // one steal event per steal operation, by the thief, carrying the tasks taken.
    const Recorder::QueueTrace& qt = rec.queue_of(w);
    differ("overflows", wm.overflow_count, qt.overflows);
    differ("stolen tasks", wm.steal_count, qt.steals);
    differ("steal operations", wm.steal_operations, qt.steal_ops);
  }
  auto m = h.metrics();
  if (m.spawned_tasks_count != rec.stats().tasks_spawned)
    invariant_failed("metrics_match_trace: spawned_tasks_count " + std::to_string(m.spawned_tasks_count) +
                     " but the trace shows " + std::to_string(rec.stats().tasks_spawned) + " spawns");
}

// check_counters_exact: every racy counter saw every increment (the canary's check).
void check_counters_exact(ProgramState& st) {
  for (auto& [name, c] : st.counters) {
    std::uint64_t v = c->load(weft::Order::seq_cst);
    if (v != st.increments[name])
      invariant_failed("counters_exact: counter '" + name + "' is " + std::to_string(v) + " after " +
                       std::to_string(st.increments[name]) + " increments (lost update)");
  }
}

}  // namespace

void check_invariants(const Scenario& sc, ProgramState& st, weft::Handle& h, const Recorder& rec) {
  auto has = [&](const char* c) { return std::find(sc.checks.begin(), sc.checks.end(), c) != sc.checks.end(); };
  if (has("exactly_once")) check_exactly_once(st);
  if (has("no_leak")) check_no_leak(st, h);
  if (has("dump_consistent")) check_dumps(st, rec);
  if (has("metrics_match_trace")) check_metrics_match_trace(h, rec);
  if (has("counters_exact")) check_counters_exact(st);
}

}  // namespace weft::sim
