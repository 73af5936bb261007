// The budget check (see budget.hpp).
#include "checks/budget.hpp"

namespace weft::sim {

std::string BudgetMonitor::ready_await(std::uint64_t task, std::uint64_t seq, const char* what) {
  grow(task);
  if (poll_seq_[task] != seq) return {};  // the task left its poll: the await was not ready
  const std::uint64_t n = ++ready_[task];
  if (n > worst_) worst_ = n;
  if (n != static_cast<std::uint64_t>(budget_) + 1) return {};
  return "task " + std::to_string(task) + " completed " + std::to_string(n) + " ready awaits in one poll (the last a " +
         what + "), beyond the budget of " + std::to_string(budget_) + " without being forced to yield";
}

}  // namespace weft::sim
