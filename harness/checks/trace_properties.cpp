// Trace properties shared by the property tests and the bug zoo: fairness,
// dump hold and the queue model.
//
// Fairness bound (multi-thread flavor). From the moment a task T is placed on
// worker w (lifo_push or local_push of T by w, after its spawn or wake) until T's
// next poll_start, count the polls by w of other tasks. Derivation from
// engine/src/multi_thread/worker.cpp and queues.hpp, while T stays on w:
//  1. A tick of w's loop polls one task and then its LIFO chain: at most
//     max_lifo_polls more (the cap disables the slot; with LIFO off, none). So
//     after T's placement, the rest of the current tick polls at most M others,
//     M = lifo ? max_lifo_polls : 0, and every later tick at most 1 + M.
//  2. The local queue is FIFO for its owner, and T has at most capacity - 1 tasks
//     ahead of it (a push that finds it full overflows instead). New tasks go
//     behind T: pushes, yields, injected batches (the LIFO slot is drained by the
//     chain, except for tasks that timers fired at maintenance put there).
//  3. So a tick before T's either pops a task ahead of T (at most capacity - 1),
//     or pops the injection queue first (ticks that are multiples of
//     global_queue_interval), or pops a LIFO task that a maintenance timer put
//     there (ticks that are multiples of event_interval). Over K ticks:
//     K <= capacity - 1 + (K / gqi + 1) + (K / event_interval + 1).
//  4. With K_max the largest such K, w polls at most M + K_max * (1 + M) others.
// T leaves w only by a steal from w, an overflow on w or shutdown: windows with
// any of these events are censored (not checked), since the trace does not say
// which tasks moved. Needs gqi, event_interval >= 3 (else inject can starve w, or
// the recurrence of step 3 has no bound).
#include "checks/trace_properties.hpp"

#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <set>

#include "weft/events.hpp"

namespace weft::sim {

std::uint64_t fairness_bound(const RuntimeSpec& spec) {
  const weft::Config rt = spec.resolved();
  const std::uint64_t m = rt.lifo_enabled ? rt.max_lifo_polls : 0;
  const std::uint64_t gqi = rt.global_queue_interval;
  const std::uint64_t ei = rt.event_interval;
  const std::uint64_t cap = rt.local_queue_capacity;
  if (gqi < 3 || ei < 3) return 0;
  constexpr std::uint64_t kTicksMax = 1'000'000;
  std::uint64_t k_max = 0;
  for (std::uint64_t k = 0; k < kTicksMax; ++k) {
    if (k <= cap - 1 + (k / gqi + 1) + (k / ei + 1)) k_max = k; else break;
  }
  if (k_max >= kTicksMax - 1) return 0;  // capacity beyond any scenario's range: no useful bound
  return m + k_max * (1 + m);
}

FairnessCheck check_fairness(const RunReport& r, const RuntimeSpec& rt) {
  FairnessCheck out;
  out.bound = rt.multi_thread() ? fairness_bound(rt) : 0;
  if (out.bound == 0) return out;
  struct Window {
    std::int32_t worker;
    std::uint64_t other_polls;
    bool censored;
    std::uint64_t from_event;
  };
  std::map<std::uint64_t, Window> open;  // task -> its open window
  for (std::size_t i = 0; i < r.events.size(); ++i) {
    const TraceEvent& e = r.events[i];
    switch (static_cast<weft::EventKind>(e.kind)) {
      case weft::EventKind::lifo_push:
      case weft::EventKind::local_push:
        if (e.worker >= 0 && !open.count(e.task)) open[e.task] = Window{e.worker, 0, false, i};
        break;
      case weft::EventKind::poll_start: {
        auto it = open.find(e.task);
        if (it != open.end()) {
          Window w = it->second;
          open.erase(it);
          if (w.censored) {
            ++out.censored;
          } else {
            ++out.windows;
            out.worst = std::max(out.worst, w.other_polls);
            if (out.violation.empty() && (w.other_polls > out.bound || e.worker != w.worker)) {
              out.violation = "task " + std::to_string(e.task) + " placed on worker " + std::to_string(w.worker) +
                              " at event " + std::to_string(w.from_event) + " was polled by worker " +
                              std::to_string(e.worker) + " at event " + std::to_string(i) + " after " +
                              std::to_string(w.other_polls) + " polls of other tasks by its worker (bound " +
                              std::to_string(out.bound) + ")";
            }
          }
        }
        for (auto& [task, w] : open) {
          if (w.worker == e.worker && task != e.task) ++w.other_polls;
        }
        break;
      }
      case weft::EventKind::steal:
        for (auto& [task, w] : open) {
          if (static_cast<std::uint64_t>(w.worker) == e.b) w.censored = true;
        }
        break;
      case weft::EventKind::overflow:
        for (auto& [task, w] : open) {
          if (w.worker == e.worker) w.censored = true;
        }
        break;
      case weft::EventKind::shutdown:
        for (auto& [task, w] : open) w.censored = true;
        break;
      default: break;
    }
  }
  return out;
}

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

PropertyViolation check_trace_properties(const Scenario& sc, const RunReport& r) {
  std::string why;
  if (!(why = check_fairness(r, sc.runtime).violation).empty()) return {"fairness", why};
  if (queue_model_applies(sc) && !(why = check_queue_model(r, sc.runtime)).empty()) return {"queue_model", why};
  if (!(why = check_dump_hold(r)).empty()) return {"dump_hold", why};
  return {};
}

}  // namespace weft::sim
