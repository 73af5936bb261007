// The queue model (harness/checks/trace_properties.hpp) on the correct engine: a
// task the LIFO chain takes and finds the budget spent moves to the local queue.
#include <gtest/gtest.h>

#include <string>

#include "checks/trace_properties.hpp"
#include "weft/events.hpp"
#include "weft/harness/repro.hpp"
#include "weft/harness/runner.hpp"
#include "weft/harness/scenario.hpp"

namespace {

using namespace weft::sim;

constexpr std::uint64_t kBudgetMark = static_cast<std::uint64_t>(weft::Mark::budget_exhausted);
constexpr std::uint64_t kCapMark = static_cast<std::uint64_t>(weft::Mark::lifo_cap);

TraceEvent event(weft::EventKind kind, std::uint64_t task, std::uint64_t a = 0) {
  TraceEvent e{};
  e.worker = 0;
  e.kind = static_cast<decltype(e.kind)>(kind);
  e.task = task;
  e.a = a;
  return e;
}

// moves_of counts the LIFO chain's moves in a trace: a mark of kind `mark` naming
// the task in the slot, then that task's local_push.
std::uint64_t moves_of(const RunReport& r, std::uint64_t mark) {
  std::uint64_t lifo = 0, moves = 0;
  for (std::size_t i = 0; i + 1 < r.events.size(); ++i) {
    const TraceEvent& e = r.events[i];
    const auto kind = static_cast<weft::EventKind>(e.kind);
    if (kind == weft::EventKind::lifo_push) lifo = e.task;
    if (kind == weft::EventKind::poll_start && e.task == lifo) lifo = 0;
    if (kind == weft::EventKind::mark && e.a == mark && lifo != 0 && e.task == lifo &&
        static_cast<weft::EventKind>(r.events[i + 1].kind) == weft::EventKind::local_push && r.events[i + 1].task == lifo)
      ++moves;
  }
  return moves;
}

// The property generator's scenario at seed 212 (pct:2; the reproduction's empty
// schedule replays it leniently): task 5 sits in the LIFO slot, the chain takes it
// with the budget spent and pushes it to the local queue. The model used to keep
// it in the slot too, and called the next poll out of order.
TEST(QueueModel, ATaskTheLifoChainMovesToTheLocalQueueLeavesTheSlot) {
  std::string err;
  auto rp = load_repro(std::string(WEFT_REGRESSION_DIR) + "/queue-model-budget-moves-lifo-task.repro.json", err);
  ASSERT_TRUE(rp) << err;
  RunConfig cfg;
  cfg.seed = rp->seed;
  cfg.strategy = StrategySpec::lenient(rp->schedule);
  cfg.keep_trace = true;
  RunReport r = run_scenario(rp->scenario, cfg);
  ASSERT_EQ(r.result.outcome, Outcome::pass) << r.result.message;
  ASSERT_TRUE(queue_model_applies(rp->scenario));
  // The run reaches the move: a budget mark on the slot's task, then its local_push.
  EXPECT_GT(moves_of(r, kBudgetMark), 0u);
  EXPECT_EQ(check_queue_model(r, rp->scenario.runtime), "");
}

// The model stays strict after a move: the moved task is behind what the local
// queue already held, and polling it first is out of order.
// moved_first: task 7 queued, task 5 in the slot moved behind it (the mark says
// why), then task 5 polled first.
RunReport moved_first(std::uint64_t mark) {
  RunReport r;
  r.events = {event(weft::EventKind::local_push, 7), event(weft::EventKind::lifo_push, 5),
              event(weft::EventKind::mark, 5, mark), event(weft::EventKind::local_push, 5),
              event(weft::EventKind::poll_start, 5)};
  return r;
}

TEST(QueueModel, AMovedTaskPolledAheadOfTheLocalQueueFailsTheModel) {
  RunReport r = moved_first(kBudgetMark);
  RuntimeSpec rt;
  EXPECT_NE(check_queue_model(r, rt).find("polled task 5 but the model's next task is task 7"), std::string::npos);
  r.events.back() = event(weft::EventKind::poll_start, 7);
  r.events.push_back(event(weft::EventKind::poll_start, 5));
  EXPECT_EQ(check_queue_model(r, rt), "");
}

// A chain at its cap (multi_thread/worker.cpp, Step C2) moves the slot's task to
// the back of the local queue, as a spent budget does: a ping-pong chain on one
// worker with a bystander (zoo/lifo_starvation.json) reaches the move every few
// polls, and the model follows it.
TEST(QueueModel, ATaskTheChainFindsPastItsCapMovesToTheLocalQueue) {
  ScenarioError err;
  auto sc = load_scenario(std::string(WEFT_SCENARIO_DIR) + "/zoo/lifo_starvation.json", err);
  ASSERT_TRUE(sc) << err.message();
  ASSERT_TRUE(queue_model_applies(*sc));
  for (std::uint64_t seed = 0; seed < 4; ++seed) {
    RunConfig cfg;
    cfg.seed = seed;
    cfg.keep_trace = true;
    RunReport r = run_scenario(*sc, cfg);
    ASSERT_EQ(r.result.outcome, Outcome::pass) << r.result.message;
    EXPECT_GT(moves_of(r, kCapMark), 0u) << "seed " << seed;
    EXPECT_EQ(check_queue_model(r, sc->runtime), "") << "seed " << seed;
  }
}

// And polling the moved task ahead of the queue it joined is out of order.
TEST(QueueModel, ATaskMovedAtTheCapPolledAheadOfTheLocalQueueFailsTheModel) {
  EXPECT_NE(check_queue_model(moved_first(kCapMark), RuntimeSpec{}).find("polled task 5 but the model's next task is task 7"),
            std::string::npos);
}

}  // namespace
