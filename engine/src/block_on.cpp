// block_on: a root coroutine polled on the calling thread, which parks between
// its wake-ups.
#include "runtime_core.hpp"

WEFT_NS_BEGIN
namespace detail {

namespace {

// RootScheduler wakes the thread that runs a block_on root coroutine.
class RootScheduler final : public Scheduler {
 public:
  explicit RootScheduler(Parker& parker) : parker_(parker) {}
  void schedule(TaskHeader* t, bool) override {
    WEFT_ASSERT(t->is_block_on_);
    // release: pairs with take_notified's acquire exchange, so the waker's writes are visible to the
    // next poll.
    notified_.store(1, Order::release);
    parker_.unpark();
  }
  bool release(TaskHeader*) override { return false; }
  // acq_rel: the acquire pairs with schedule's release store; the release orders the clear before the poll.
  bool take_notified() { return notified_.exchange(0, Order::acq_rel) != 0; }

 private:
  Parker& parker_;
  Atomic<std::uint32_t> notified_{0};
};

}  // namespace

RootUnwind::~RootUnwind() {
  if (root == nullptr || !Platform::unwinding()) return;
  if (task_ops::shutdown(root)) {
    task_ops::cancel_now(root, -1);  // consumes the owned-list reference as the runner's
  } else {
    task_ops::ref_dec(root);  // complete: the poll the unwind passed through cancelled it
  }
}

void drive_root(TaskHeader* root, Scheduler* runtime) {
  Parker parker;
  RootScheduler sched(parker);
  root->scheduler_ = &sched;
  ThreadContext cx;
  cx.scheduler = runtime;  // spawns from the root go to the runtime's injection queue
  ContextGuard guard(&cx);
  RootUnwind unwind{root};
  task_ops::poll(root, -1);  // consumes the initial notified reference
  // Every wake-up while idle is a notified reference that the next poll consumes.
  // acquire: pairs with to_complete's release (task_state.hpp), which published the output.
  while (!(root->state_.load(Order::acquire) & state::kComplete)) {
    parker.park();
    if (sched.take_notified()) task_ops::poll(root, -1);
  }
  unwind.root = nullptr;
  task_ops::ref_dec(root);  // the owned-list reference: a root is never bound
}

void run_root(RuntimeCore* rt, TaskHeader* root) {
  if (rt != nullptr) {
    rt->block_on_root(root);
  } else {
    drive_root(root, nullptr);
  }
}

}  // namespace detail
WEFT_NS_END
