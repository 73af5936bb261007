// What a dump's collector reads, shared by both schedulers: where each queued task
// sits (a place: a DumpLocation and a worker), what the scheduler decides about each
// owned task, and the pass that turns the owned tasks into DumpTasks.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "weft/dump.hpp"
#include "weft/task.hpp"

WEFT_NS_BEGIN
namespace detail {

// describe_task fills what a dump says of t. The backtrace is read only when
// read_chain: the caller guarantees nobody resumes t meanwhile.
DumpTask describe_task(TaskHeader* t, bool read_chain);

// DumpPlace is where a dump found a queued task: its queue and worker (-1: none),
// and whether no thread outside the rendezvous can take it from there.
struct DumpPlace {
  DumpLocation location = DumpLocation::unknown;
  std::int32_t worker = -1;
  bool stable = false;
};
using DumpPlaces = std::unordered_map<TaskHeader*, DumpPlace>;  // lookups only

// DumpVerdict is a scheduler's decision on one owned task: read its backtrace
// (claimed: it was claimed for the read and is released after it), where to say it
// is when not placed in a queue (unknown: by its state), and why it was not
// captured (empty: captured).
struct DumpVerdict {
  bool read = false;
  bool claimed = false;
  DumpLocation location = DumpLocation::unknown;
  std::int32_t worker = -1;
  std::string not_captured;
};

// place_blocking places the blocking pool's tasks (never stable: its threads are
// not held).
template <class Pool>
void place_blocking(Pool& pool, DumpPlaces& where) {
  std::vector<TaskHeader*> queued, running;
  pool.snapshot(queued, running);
  for (TaskHeader* t : queued) where[t] = {DumpLocation::blocking_queue, -1, false};
  for (TaskHeader* t : running) where[t] = {DumpLocation::blocking_running, -1, false};
}

// collect_tasks appends to d one DumpTask per owned task, in id order, and drops
// the references owned_.snapshot() took. judge(t, state, place) decides for each
// task (place: null when no queue holds it). A task not captured makes d incomplete.
void collect_tasks(Dump& d, std::vector<TaskHeader*>& owned, const DumpPlaces& places,
                   const std::function<DumpVerdict(TaskHeader*, std::uint64_t, const DumpPlace*)>& judge);

}  // namespace detail
WEFT_NS_END
