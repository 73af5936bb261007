// The engine's trace events: one schema for simulated runs and real runs.
//
// The engine calls emit() at each scheduling event. When no sink is installed
// (the default on the OS backend) emit() is one predictable branch. The simulator
// installs a sink that stamps each event with virtual time and writes the trace.
#pragma once

#include <cstdint>

#include "weft/platform/platform.hpp"

WEFT_NS_BEGIN

// EventKind names a scheduling event. The numeric values are part of the trace
// format: append new kinds at the end.
enum class EventKind : std::uint8_t {
  spawn,        // task=a new task; a=parent task id or 0
  poll_start,   // task polled on worker
  poll_end,     // a=1 if the task completed, 2 if cancelled, 0 if pending
  wake,         // task woken; a=waker's task id or 0
  lifo_push,    // task put in worker's LIFO slot
  local_push,   // task pushed to worker's local queue
  overflow,     // worker moved a=count tasks to the injection queue
  inject_push,  // task pushed to the injection queue; a=1 if from overflow
  inject_pop,   // worker took a=count tasks from the injection queue
  steal,        // worker stole a=count tasks from worker b
  park,         // worker parks
  unpark,       // worker resumes from park
  timer_fire,   // a timer fired; task=woken task or 0
  mark,         // coverage mark; a=Mark value
  shutdown,     // runtime shutdown began
  dump_request,  // a dump round opened; a=round
  dump_arrive,   // worker arrived at the rendezvous; a=round
  dump_leader,   // worker (or -1, the requester) leads; a=round, b=1 if elected by timeout
  dump_done,     // the round's result is published; a=round, b=missed workers
};

const char* event_name(EventKind k) noexcept;

// Mark names a rare path that tests want to see reached.
enum class Mark : std::uint8_t {
  overflow,
  steal_half,
  lifo_cap,
  budget_exhausted,
  inject_batch,
  last_searcher_notify,
  spurious_wake,
  timer_driver_handoff,
  dump_timeout,
  dump_partial,
  dump_late_arrival,
  count_,
};

const char* mark_name(Mark m) noexcept;

struct Event {
  EventKind kind;
  std::int32_t worker;  // -1 when not on a worker
  std::uint64_t task;   // 0 when no task
  std::uint64_t a;
  std::uint64_t b;
};

// EventSink receives events; install one with set_event_sink.
class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void record(const Event& e) = 0;
};

namespace detail {
inline EventSink* g_event_sink = nullptr;
}

inline void set_event_sink(EventSink* s) noexcept { detail::g_event_sink = s; }
inline EventSink* event_sink() noexcept { return detail::g_event_sink; }

inline void emit(EventKind k, std::int32_t worker, std::uint64_t task, std::uint64_t a = 0,
                 std::uint64_t b = 0) {
  if (detail::g_event_sink != nullptr) [[unlikely]] {
    detail::g_event_sink->record(Event{k, worker, task, a, b});
  }
}

WEFT_NS_END
