// CoreBase's use of the owned-task list: binding a new task, and cancelling every
// task at shutdown.
#include "runtime_core.hpp"

WEFT_NS_BEGIN
namespace detail {

TaskHeader* CoreBase::bind_new(TaskHeader* t) {
  if (owned_.bind(t)) return t;
  // Shut down already: cancel at once. The task holds three references (owned,
  // notified, join); the cancel drops one as the runner's, we drop the notified
  // one, and the JoinHandle keeps its own.
  bool idle = task_ops::shutdown(t);
  WEFT_ASSERT(idle);
  task_ops::cancel_unspawned(t);
  task_ops::ref_dec(t);
  return nullptr;
}

void CoreBase::close_owned_and_cancel(std::uint32_t start, std::int32_t worker) {
  owned_.close();
  // Pop one task at a time: cancelling runs destructors that may take shard locks.
  // The list is closed, so nothing joins it: the loop ends with the tasks it holds.
  for (;;) {
    TaskHeader* t = owned_.pop_any(start);
    if (t == nullptr) break;
    // We now hold the owned list's reference.
    if (task_ops::shutdown(t)) {
      task_ops::cancel_now(t, worker);  // consumes our reference as the runner's
    } else {
      task_ops::ref_dec(t);  // running elsewhere (cancelled at its next yield) or complete
    }
  }
}

}  // namespace detail
WEFT_NS_END
