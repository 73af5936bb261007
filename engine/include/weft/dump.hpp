// Runtime dumps: a snapshot of every live task (state, async backtrace, where it
// sits) and every worker, taken through a rendezvous of the workers.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "weft/platform/platform.hpp"

WEFT_NS_BEGIN

// DumpFrame is one coroutine of an async backtrace: where it is suspended.
struct DumpFrame {
  std::string function;
  std::string file;
  std::uint32_t line = 0;
};

// DumpLocation is where a dump found a task. With DumpTask::worker it names one
// place; Dump::to_json renders it as text ("worker 2 local queue", ...).
enum class DumpLocation : std::uint8_t {
  unknown,
  local_queue,        // "worker N local queue"
  lifo_slot,          // "worker N lifo slot"
  defer_list,         // "worker N defer list"
  injection_queue,    // "injection queue"
  blocking_queue,     // "blocking pool queue"
  blocking_running,   // "running on the blocking pool"
  running_on_worker,  // "running on worker N"
  running_requester,  // "running on worker N (requested this dump)"
  running,            // running where the dump cannot say
  complete,
  in_transit,  // notified but in no queue the dump read
  waiting,     // idle: waiting for a wake-up
};

// DumpTask describes one live task.
struct DumpTask {
  std::uint64_t id = 0;
  std::string state;  // "idle", "notified", "running", "complete", "cancelling"
  DumpLocation location = DumpLocation::unknown;
  std::int32_t worker = -1;  // the worker the location names, or -1
  bool captured = true;      // false: the dump could not safely inspect this task
  std::string not_captured_reason;
  std::string waiting_on;            // the leaf awaited: "mpsc::Receiver::recv", "sleep", ...
  std::vector<DumpFrame> backtrace;  // outermost coroutine first
};

// DumpWorker describes one worker at the rendezvous.
struct DumpWorker {
  std::uint32_t index = 0;
  std::string state;  // "parked", "searching", "running"; "missed" when it did not arrive
  bool captured = true;
  std::string missed_reason;
  std::uint64_t local_queue_depth = 0;
  std::uint64_t lifo_task = 0;     // id, 0 when empty
  std::uint64_t running_task = 0;  // for a missed worker: the task it is polling, if known
  std::uint64_t deferred = 0;      // tasks on its defer list
};

// Dump is one round's result.
struct Dump {
  std::uint64_t round = 0;
  bool complete = true;          // every worker arrived; every live task inspected
  std::int32_t leader = -1;      // worker that collected, or -1 for the requesting thread
  bool leader_by_timeout = false;  // the rendezvous timed out and whoever saw it first collected
  std::vector<std::uint32_t> missed_workers;
  std::uint64_t injection_queue_depth = 0;
  std::uint64_t now_ns = 0;
  std::vector<DumpWorker> workers;
  std::vector<DumpTask> tasks;  // ordered by id

  // to_json renders the dump as one JSON object.
  std::string to_json() const;
};

// DumpError is thrown when a dump cannot be taken (the runtime is shutting down).
class DumpError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

WEFT_NS_END
