// block_on: a root coroutine polled on the calling thread, which parks between
// its wake-ups.
#include "runtime_core.hpp"

WEFT_NS_BEGIN
namespace detail {

namespace {

// RootScheduler wakes the thread that runs a block_on root coroutine. It and
// the parker live on drive_root's stack, so a wake must be over before
// drive_root returns. The wake protocol:
//  Step W1. The waker counts itself in (in_flight_).
//  Step W2. It sets notified_ (release: the waker's writes before the wake are
//           the next poll's).
//  Step W3. It unparks the driver.
//  Step W4. It counts itself out: its last access to the scheduler.
//  Step W5. The driver, once the root completed, waits until no waker is
//           counted in before its frame dies. A wake whose notification led to
//           the last poll is counted in: W1 precedes W2, which the driver's
//           exchange read. A wake after the completion schedules nothing (the
//           task state refuses it), and one from the running state leaves the
//           poller to reschedule. Without W5, a driver woken by a spurious
//           wake-up or a token left by an earlier wake could take the flag of
//           a waker still between W2 and W3, finish the root and return; the
//           waker's unpark then wrote into a dead frame.
//           The wait is a yielding spin: a counted-in waker is three seam
//           operations from Step W4 and blocks on nothing. A poll does not
//           throw (a task's exception is its output), so only the simulator's
//           teardown unwind leaves drive_root without Step W5; there nothing
//           can wait, and a waker that goes on later fails its run on the dead
//           parker (the simulator's Parker checks after every switch).
class RootScheduler final : public Scheduler {
 public:
  explicit RootScheduler(Parker& parker) : parker_(parker) {}
  void schedule(TaskHeader* t, bool) override {
    WEFT_ASSERT(t->is_block_on());
    in_flight_.fetch_add(1, Order::relaxed);  // Step W1; relaxed: W2's release carries it to the driver
    // Step W2. release: pairs with take_notified's acquire exchange, so the poll it leads to finds the
    // NOTIFIED this wake set in its first load of the task state (to_running asserts it).
    notified_.store(1, Order::release);
    parker_.unpark();  // Step W3
    // Step W4. release: pairs with wait_for_wakers' acquire load; nothing of this scheduler is touched after.
    in_flight_.fetch_sub(1, Order::release);
  }
  bool release(TaskHeader*) override { return false; }
  // acq_rel: the acquire pairs with schedule's release store (Step W2); the release half orders nothing.
  bool take_notified() { return notified_.exchange(0, Order::acq_rel) != 0; }
  // wait_for_wakers is Step W5.
  void wait_for_wakers() {
    // acquire: pairs with Step W4's release, so the waker's unpark is over before the frame dies.
    while (in_flight_.load(Order::acquire) != 0) Platform::yield_thread();
  }

 private:
  Parker& parker_;
  Atomic<std::uint32_t> notified_{0};
  Atomic<std::uint32_t> in_flight_{0};  // wakers between Steps W1 and W4
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
  // acquire: a root completes only in a poll on this thread (it is never bound, so no shutdown or
  // other worker completes it): it orders nothing (harmless).
  while (!(root->state_.load(Order::acquire) & state::kComplete)) {
    parker.park();
    if (sched.take_notified()) task_ops::poll(root, -1);
  }
  sched.wait_for_wakers();  // Step W5
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
