// The fairness check (see fairness.hpp).
//
// Fairness bound (multi-thread flavor). From the moment a task T is placed on
// worker w (lifo_push or local_push of T by w, after its spawn or wake) until T's
// next poll_start, count the polls by w of other tasks. Derivation from
// engine/src/multi_thread/worker.cpp and queues.hpp, while T stays on w:
//  1. A tick of w's loop polls one task and then its LIFO chain: at most
//     max_lifo_polls more (the cap ends the chain; with LIFO off, none). So
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
#include "checks/fairness.hpp"

namespace weft::sim {

std::uint64_t fairness_bound(const RuntimeSpec& spec) {
  if (!spec.multi_thread()) return 0;
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

std::uint64_t& FairnessMonitor::polls(std::int32_t w) {
  const auto i = static_cast<std::size_t>(w);
  if (polls_.size() <= i) polls_.resize(i + 1, 0);
  return polls_[i];
}

std::uint64_t& FairnessMonitor::censors(std::int32_t w) {
  const auto i = static_cast<std::size_t>(w);
  if (censors_.size() <= i) censors_.resize(i + 1, 0);
  return censors_[i];
}

bool FairnessMonitor::on_event(weft::EventKind kind, std::int32_t worker, std::uint64_t task, std::uint64_t b) {
  const std::uint64_t at = events_++;
  if (result_.bound == 0) return false;
  switch (kind) {
    case weft::EventKind::lifo_push:
    case weft::EventKind::local_push: {
      if (worker < 0) break;
      if (windows_.size() <= task) windows_.resize(task + 1);
      Window& win = windows_[task];
      if (!win.open) win = Window{true, worker, polls(worker), censors(worker), shutdowns_, at};
      break;
    }
    case weft::EventKind::poll_start: {
      bool first = false;
      if (task < windows_.size() && windows_[task].open) {
        Window& win = windows_[task];
        win.open = false;
        if (censors(win.worker) != win.censor_at_open || shutdowns_ != win.global_at_open) {
          ++result_.censored;
        } else {
          // Every poll by the window's worker since the placement was of another
          // task: the window closes at T's first poll.
          const std::uint64_t others = polls(win.worker) - win.polls_at_open;
          ++result_.windows;
          if (others > result_.worst) result_.worst = others;
          if (result_.violation.empty() && (others > result_.bound || worker != win.worker)) {
            result_.violation = "task " + std::to_string(task) + " placed on worker " + std::to_string(win.worker) +
                                " at event " + std::to_string(win.from_event) + " was polled by worker " +
                                std::to_string(worker) + " at event " + std::to_string(at) + " after " +
                                std::to_string(others) + " polls of other tasks by its worker (bound " +
                                std::to_string(result_.bound) + ")";
            first = true;
          }
        }
      }
      if (worker >= 0) ++polls(worker);
      return first;
    }
    case weft::EventKind::steal: ++censors(static_cast<std::int32_t>(b)); break;  // b: the victim
    case weft::EventKind::overflow:
      if (worker >= 0) ++censors(worker);
      break;
    case weft::EventKind::shutdown: ++shutdowns_; break;
    default: break;
  }
  return false;
}

FairnessCheck check_fairness(const RunReport& r, const RuntimeSpec& rt) {
  FairnessMonitor m(fairness_bound(rt));
  for (const TraceEvent& e : r.events) m.on_event(static_cast<weft::EventKind>(e.kind), e.worker, e.task, e.b);
  return m.result();
}

}  // namespace weft::sim
