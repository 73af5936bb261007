// The program interpreter: runs a scenario's task programs (Step lists) on the
// engine as coroutines, and keeps the bookkeeping the invariants read (which
// program instances started, completed or were cancelled; every dump taken).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "checks/budget.hpp"
#include "weft/dump.hpp"
#include "weft/harness/scenario.hpp"
#include "weft/runtime.hpp"
#include "weft/sim/simulator.hpp"
#include "weft/sync.hpp"

namespace weft::sim {

// ProgramState is one run's shared state: bookkeeping for the invariants, and the
// named channels, notifies and counters the programs use. Bookkeeping is plain
// data: it is not part of any protocol under test.
class PlaceObserver;

struct ProgramState {
  const Scenario* sc = nullptr;
  // Per program instance (uid): how often it started, completed, was cancelled.
  std::vector<std::uint8_t> started, completed, cancelled;
  std::uint64_t live_tokens = 0;        // program frames not yet destroyed
  std::uint64_t exceptions_thrown = 0;
  std::vector<weft::Dump> dumps;        // every dump taken, for the checker
  std::uint64_t dump_errors = 0;        // refused because the runtime shut down
  std::uint64_t early_dump_errors = 0;  // refused before shutdown began: a bug
  bool shutdown_begun = false;          // set just before the runner shuts the runtime down
  std::uint64_t dumps_in_flight = 0, dumps_concurrent = 0, dumps_from_task = 0;
  struct Channel {
    // Declared first, so destroyed last: a channel closed is the harness's
    // teardown, progress for the livelock oracle (closing 10,000 channels takes
    // some 50,000 decisions, which are no livelock). No decision itself.
    struct ClosedIsProgress {
      ClosedIsProgress() = default;
      ClosedIsProgress(const ClosedIsProgress&) = delete;
      ~ClosedIsProgress() { note_progress(); }
    } closed_is_progress;
    weft::mpsc::Sender<std::uint64_t> tx;
    weft::mpsc::Receiver<std::uint64_t> rx;
    weft::AsyncMutex rx_lock;  // a scenario may receive from many tasks
  };
  std::map<std::string, std::unique_ptr<Channel>> channels;
  std::map<std::string, std::unique_ptr<weft::Notify>> notifies;
  std::map<std::string, std::unique_ptr<weft::Atomic<std::uint64_t>>> counters;
  std::map<std::string, std::uint64_t> increments;  // racy_increment executions per counter

  // What each program instance (uid) awaits now, for the report of a run that
  // ends with every fiber blocked (describe_waits). Two plain stores around each
  // await; read only while every fiber is blocked.
  enum class Wait : std::uint8_t { none, join, recv_lock, recv, send, notified, sleep, yield, dump, blocking, reply };
  struct At {
    Wait wait = Wait::none;
    const Step* step = nullptr;          // the step that awaits
    std::uint64_t on_task = 0;           // join: the child awaited
    const std::string* program = nullptr;
    std::uint64_t task = 0;              // the task running the instance
  };
  std::vector<At> at;
  // describe_waits says, grouped by what they await, which program instances are
  // blocked in an await: "recv on channel 'c': program r (task 3), ...".
  std::string describe_waits() const;

  // kQuietStepsMax bounds the program steps (and repeat iterations) run in a row,
  // over every instance, while the simulation makes no decision: such a loop
  // (`repeat` of an empty body, of a join without children) would never reach the
  // step bound, which counts decisions. A step that awaits or touches the runtime
  // makes one, so no program that makes progress comes near it.
  static constexpr std::uint64_t kQuietStepsMax = 1'000'000;
  std::uint64_t decisions_seen = 0, quiet_steps = 0;
  // step_taken counts a step of instance `uid` and ends the run as
  // step_bound_exceeded past kQuietStepsMax steps without a decision.
  void step_taken(std::uint64_t uid);

  // ProgramState(sc) opens the scenario's channels.
  explicit ProgramState(const Scenario& scenario);

  // new_uid numbers a new program instance.
  std::uint64_t new_uid();
  // notify and counter return the named Notify and counter, made on first use.
  weft::Notify& notify(const std::string& name);
  weft::Atomic<std::uint64_t>& counter(const std::string& name);
  // dump_begin and dump_end bracket a dump request; a request made while
  // another is in flight counts as concurrent.
  void dump_begin() {
    if (dumps_in_flight++ > 0) ++dumps_concurrent;
  }
  void dump_end() { --dumps_in_flight; }
  // The budget check (checks/budget.hpp), null when off. budget_mark, before a
  // budgeted await, notes the polled task and its poll (only on a worker or the
  // current-thread driver, which poll under a budget); budget_after, once the
  // await returned, reports it to the check and ends the run on a violation.
  BudgetMonitor* budget = nullptr;
  struct BudgetMark {
    bool on = false;
    std::uint64_t task = 0, seq = 0;
  };
  BudgetMark budget_mark();
  void budget_after(const BudgetMark& m, const char* what);
  // The place observer (places.hpp), null unless RunConfig::observe_places: an
  // abort_children step samples where its children sit before it aborts them.
  PlaceObserver* places = nullptr;
  // dump_refused counts a DumpError.
  void dump_refused() {
    ++dump_errors;
    if (!shutdown_begun) ++early_dump_errors;
  }
};

// program_task makes the task that runs program `p` as a new instance.
weft::Task<void> program_task(ProgramState& st, const Program& p);

}  // namespace weft::sim
