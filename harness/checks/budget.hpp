// The budget check: a task whose awaits are all ready is forced to yield within
// the cooperative budget. The program interpreter reports every budgeted await
// (join, sleep, recv and its lock, notified) that completed without the task
// leaving its poll; the recorder reports each poll's start. More such awaits in
// one poll than Config::budget is a violation: the budget was not spent, or not
// armed, or a forced yield did not end the poll.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace weft::sim {

class BudgetMonitor {
 public:
  // BudgetMonitor(budget): the resolved Config::budget of the run.
  explicit BudgetMonitor(std::uint32_t budget) : budget_(budget) {}

  // on_poll_start opens a new poll of task `task` (its count starts at zero).
  void on_poll_start(std::uint64_t task) {
    grow(task);
    ++poll_seq_[task];
    ready_[task] = 0;
  }
  // poll_seq names the current poll of `task`; an await that returns with the
  // same poll_seq completed inside one poll.
  std::uint64_t poll_seq(std::uint64_t task) {
    grow(task);
    return poll_seq_[task];
  }
  // ready_await counts an await of `task` that started in poll `seq`; returns the
  // violation ("" if none) once the poll's count passes the budget.
  std::string ready_await(std::uint64_t task, std::uint64_t seq, const char* what);
  // worst is the largest count of ready awaits seen in one poll.
  std::uint64_t worst() const noexcept { return worst_; }

 private:
  void grow(std::uint64_t task) {
    if (poll_seq_.size() <= task) {
      poll_seq_.resize(task + 1, 0);
      ready_.resize(task + 1, 0);
    }
  }
  std::uint32_t budget_;
  std::uint64_t worst_ = 0;
  std::vector<std::uint64_t> poll_seq_;  // by task id
  std::vector<std::uint64_t> ready_;     // by task id: ready awaits in its current poll
};

}  // namespace weft::sim
