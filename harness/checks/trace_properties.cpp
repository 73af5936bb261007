// Trace properties shared by the property tests and the bug zoo: dump hold and
// the queue model (fairness: checks/fairness.cpp).
#include "checks/trace_properties.hpp"

#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <set>

#include "weft/events.hpp"

namespace weft::sim {

std::string check_dump_hold(const RunReport& r) {
  std::map<std::uint64_t, std::set<std::int32_t>> arrived;  // round -> workers that arrived
  std::uint64_t collecting = 0;                              // the round whose leader collects, or 0
  for (std::size_t i = 0; i < r.events.size(); ++i) {
    const TraceEvent& e = r.events[i];
    switch (static_cast<weft::EventKind>(e.kind)) {
      case weft::EventKind::dump_arrive: arrived[e.a].insert(e.worker); break;
      case weft::EventKind::dump_leader: collecting = e.a; break;
      case weft::EventKind::dump_done:
        if (collecting == e.a) collecting = 0;
        break;
      case weft::EventKind::poll_start:
        if (collecting != 0 && arrived[collecting].count(e.worker))
          return "worker " + std::to_string(e.worker) + " arrived at dump round " + std::to_string(collecting) +
                 " but polled task " + std::to_string(e.task) + " while its leader collected, at event " +
                 std::to_string(i);
        break;
      default: break;
    }
  }
  return {};
}

// queue_model_applies: one worker, and nothing that takes a task out of a queue
// without polling it (aborts, shutdown at a moment, the blocking pool, dumps).
bool queue_model_applies(const Scenario& sc) {
  if (!sc.runtime.multi_thread() || sc.runtime.config.worker_threads != 1 || sc.shutdown_at_ns || !sc.dumpers.empty()) return false;
  std::function<bool(const std::vector<Step>&)> clean = [&](const std::vector<Step>& steps) {
    for (const Step& s : steps) {
      if (s.kind == Step::Kind::abort_children || s.kind == Step::Kind::blocking || s.kind == Step::Kind::dump) return false;
      if (!clean(s.body)) return false;
    }
    return true;
  };
  for (auto& [name, p] : sc.programs) {
    if (!clean(p.steps)) return false;
  }
  return true;
}

// check_queue_model replays worker 0's queue events on a model of the LIFO slot,
// the local queue and the injection queue, and checks that every poll takes the
// task the design says comes next. "" if it holds.
std::string check_queue_model(const RunReport& r, const RuntimeSpec& rt) {
  std::deque<std::uint64_t> local, inject;
  std::uint64_t lifo = 0, in_hand = 0;
  for (std::size_t i = 0; i < r.events.size(); ++i) {
    const TraceEvent& e = r.events[i];
    const std::string at = " at event " + std::to_string(i);
    switch (static_cast<weft::EventKind>(e.kind)) {
      case weft::EventKind::inject_push: inject.push_back(e.task); break;
      case weft::EventKind::local_push: local.push_back(e.task); break;
      case weft::EventKind::lifo_push: lifo = e.task; break;  // a displaced task follows as local_push
      case weft::EventKind::mark:
        // The LIFO chain took the slot's task and found the budget spent or the
        // chain at its cap (worker.cpp, Step C2): the task leaves the slot, and its
        // local_push (or overflow) follows. A running task's own budget mark never
        // names the slot's task (it is not scheduled while it runs).
        if ((e.a == static_cast<std::uint64_t>(weft::Mark::budget_exhausted) ||
             e.a == static_cast<std::uint64_t>(weft::Mark::lifo_cap)) &&
            e.task == lifo)
          lifo = 0;
        break;
      case weft::EventKind::overflow: {
        if (e.a <= 1) break;  // a single task: its inject_push follows
        const std::uint64_t half = e.a - 1;
        if (local.size() != rt.config.local_queue_capacity)
          return "overflow with " + std::to_string(local.size()) + " tasks in the model's local queue" + at;
        // The design moves the newest half, then the new task.
        for (std::uint64_t k = 0; k < half; ++k) inject.push_back(local[local.size() - half + k]);
        local.resize(local.size() - half);
        inject.push_back(e.task);
        break;
      }
      case weft::EventKind::inject_pop: {
        if (inject.empty() || inject.front() != e.task)
          return "inject_pop of task " + std::to_string(e.task) + " but the model's injection queue starts with " +
                 (inject.empty() ? std::string("nothing") : "task " + std::to_string(inject.front())) + at;
        inject.pop_front();
        in_hand = e.task;
        for (std::uint64_t k = 1; k < e.a && !inject.empty(); ++k) {
          local.push_back(inject.front());
          inject.pop_front();
        }
        break;
      }
      case weft::EventKind::poll_start: {
        if (e.worker != 0) break;
        if (e.task == in_hand) {
          in_hand = 0;
        } else if (e.task == lifo) {
          lifo = 0;
        } else if (!local.empty() && local.front() == e.task) {
          local.pop_front();
        } else {
          return "worker 0 polled task " + std::to_string(e.task) + " but the model's next task is " +
                 (local.empty() ? std::string("none") : "task " + std::to_string(local.front())) +
                 " (local queue of " + std::to_string(local.size()) + ")" + at;
        }
        break;
      }
      case weft::EventKind::shutdown: return {};
      default: break;
    }
  }
  return {};
}

PropertyViolation check_trace_properties(const Scenario& sc, const RunReport& r, bool fairness) {
  std::string why;
  const bool online = std::find(sc.checks.begin(), sc.checks.end(), "fairness") != sc.checks.end();
  if (fairness && !online && !(why = check_fairness(r, sc.runtime).violation).empty()) return {"fairness", why};
  if (queue_model_applies(sc) && !(why = check_queue_model(r, sc.runtime)).empty()) return {"queue_model", why};
  if (!(why = check_dump_hold(r)).empty()) return {"dump_hold", why};
  return {};
}

}  // namespace weft::sim
