// The engine's trace events: one schema for simulated runs and real runs.
//
// The engine calls emit() at each scheduling event. When no sink is installed
// (the default on the OS backend) emit() is one predictable branch. The simulator
// installs a sink that stamps each event with virtual time and writes the trace.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>

#include "weft/platform/platform.hpp"

WEFT_NS_BEGIN

// Event kinds and coverage marks are each listed once, here, as X-macro lists:
// the enums, their names in traces (event_name, mark_name) and the names a
// scenario's coverage may use (kMarkNames) all expand from them.

// WEFT_EVENT_KINDS lists the scheduling events, with what each one's fields hold.
// The order is part of the trace format: append new kinds at the end.
#define WEFT_EVENT_KINDS(X)                                                                        \
  X(spawn)         /* task=a new task; a=parent task id or 0; b=1: a blocking-pool task */         \
  X(poll_start)    /* task polled on worker */                                                     \
  X(poll_end)      /* a=1 if the task completed, 2 if cancelled, 0 if pending */                   \
  X(wake)          /* task woken; a=waker's task id or 0 */                                        \
  X(lifo_push)     /* task put in worker's LIFO slot */                                            \
  X(local_push)    /* task pushed to worker's local queue */                                       \
  X(overflow)      /* worker moved a=count tasks to the injection queue */                         \
  X(inject_push)   /* task pushed to the injection queue; a=1 if from overflow */                  \
  X(inject_pop)    /* worker took a=count tasks from the injection queue */                        \
  X(steal)         /* worker stole a=count tasks from worker b */                                  \
  X(park)          /* worker parks */                                                              \
  X(unpark)        /* worker resumes from park */                                                  \
  X(timer_fire)    /* a timer fired; task=woken task or 0 */                                       \
  X(mark)          /* coverage mark; a=Mark value */                                               \
  X(shutdown)      /* runtime shutdown began */                                                    \
  X(dump_request)  /* a dump round opened; a=round */                                              \
  X(dump_arrive)   /* arrived at the rendezvous; a=round, b=1 if parked (proxy arrivals too) */    \
  X(dump_leader)   /* worker (or -1, the requester) leads; a=round, b=1 if elected by timeout */   \
  X(dump_done)     /* the round's result is published; a=round, b=missed workers */

// WEFT_MARKS lists the coverage marks: rare paths that tests want to see reached.
#define WEFT_MARKS(X)      \
  X(overflow)              \
  X(steal_half)            \
  X(lifo_cap)              \
  X(budget_exhausted)      \
  X(inject_batch)          \
  X(last_searcher_notify)  \
  X(spurious_wake)         \
  X(timer_driver_handoff)  \
  X(dump_timeout)          \
  X(dump_partial)          \
  X(dump_late_arrival)     \
  X(lifo_steal)

#define WEFT_EVENTS_ENUMERATOR(name) name,
#define WEFT_EVENTS_NAME(name) #name,

// EventKind names a scheduling event (WEFT_EVENT_KINDS).
enum class EventKind : std::uint8_t { WEFT_EVENT_KINDS(WEFT_EVENTS_ENUMERATOR) };

// Mark names a rare path that tests want to see reached (WEFT_MARKS).
enum class Mark : std::uint8_t { WEFT_MARKS(WEFT_EVENTS_ENUMERATOR) count_ };

// kEventKindNames and kMarkNames are the names traces and scenarios use, by value.
inline constexpr const char* kEventKindNames[] = {WEFT_EVENT_KINDS(WEFT_EVENTS_NAME)};
inline constexpr const char* kMarkNames[] = {WEFT_MARKS(WEFT_EVENTS_NAME)};
static_assert(std::size(kMarkNames) == static_cast<std::size_t>(Mark::count_));

#undef WEFT_EVENTS_ENUMERATOR
#undef WEFT_EVENTS_NAME

// event_name is k's name in traces ("unknown" for a value outside the list).
constexpr const char* event_name(EventKind k) noexcept {
  const auto i = static_cast<std::size_t>(k);
  return i < std::size(kEventKindNames) ? kEventKindNames[i] : "unknown";
}

// mark_name is m's name in traces and in a scenario's coverage list.
constexpr const char* mark_name(Mark m) noexcept {
  const auto i = static_cast<std::size_t>(m);
  return i < std::size(kMarkNames) ? kMarkNames[i] : "unknown";
}

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
