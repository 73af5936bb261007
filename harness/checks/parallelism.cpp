// The lost-parallelism check (parallelism.hpp).
//
// Definition. At an instant, parallelism is lost when all of these hold:
//   a. some worker sleeps: it is inside park (between its park and unpark
//      events), on the sleeper list or not (idle step 3 lists it; an unlisted
//      one is being woken or was lost), and is not firing timers as the driver
//      (a driver stays on the list while it fires);
//   b. no worker searches, counting the workers being woken (step 4 counts a woken
//      worker as a searcher before it unparks it, so "being woken" is "searching")
//      and a worker on the sleeper list not yet inside park and not inside a
//      poll: it is in step 3,
//      between leaving the searchers and its re-check of every queue (a strategy
//      that starves it there must not be blamed on the workers that poll);
//   c. spare work exists: a task in the injection queue, or a stealable task in a
//      local queue that is not the one its awake owner pops next;
//   d. shutdown has not begun (queued work is then dropped, not run).
// Every correct path leaves this state within a few of its own decisions: the
// pusher of spare work notifies when nobody searches (step 4), a searcher that
// finds work and was the last wakes the next (step 2), the last searcher re-checks
// every queue before it parks (step 3). A stretch of samples that all find it lost
// fails the run with lost_parallelism once the workers holding the spare work have
// started more polls during it than the bound: a worker holding spare work in its
// local queue, or any awake worker while the injection queue holds some, polls
// instead of announcing it.
//
// Why polls of the holders, not decisions: a worker that makes work available in a
// batch (deferred tasks put back, timers fired, an injected batch) wakes a peer once
// after the batch, which takes decisions but no poll; and a strategy that starves
// the fiber about to announce the work (PCT's low priority, hold) stretches the
// state in decisions while that fiber makes no poll either. A worker that polls on
// while its spare work waits has had every chance to announce it.
//
// Accepted exceptions (not spare work for the bound in polls):
//   - the LIFO slot: its task runs next on its worker, and a push there wakes
//     nobody; only the LIFO watch takes it, once it has waited behind one poll;
//   - an awake owner's next task: its owner takes it at once, waking a sleeper to
//     take it would lose it (wake_deferred notifies only beyond one task);
//   - the current-thread runtime: one thread, no parallelism to lose.
// Across virtual time. A poll that lasts (a long computation, a blocking call)
// makes no poll events for the bound above to count, so the check also bounds two
// states in virtual time (bound_ns, kLostParallelismNs):
//   - stealable spare work (as above) while a worker sleeps and nobody searches:
//     the correct engine announces it at once, whatever its holder does next;
//   - a task in the LIFO slot of a worker that is inside a poll, while a worker
//     sleeps (IdleView::behind_poll): it waits for that poll to end unless the
//     LIFO watch (multi_thread/idle.cpp, W1 to W7) takes it, which it does within
//     policy::kLifoWaitMaxNs. Searchers do not take slots, so they do not end this
//     state; a stretch is one wait: the same slot tasks behind the same polls
//     (IdleView::behind_poll_key). This is Tokio's 7.6.
// The task next in the local queue of a worker inside a poll is not counted: the
// engine announces a lone queued task only in some paths (wake_deferred notifies
// beyond one task), and no watch takes it.
// Virtual time passes only when every simulated thread is blocked (the kernel jumps
// to the next timer), so a strategy that starves a fiber cannot stretch either
// state: only the engine leaving the work where it is can. The check samples at
// the engine events as above, and at every jump of virtual time (the kernel's jump
// probe, Simulation::set_jump_probe): nothing runs during a jump, so the state read
// just before it holds until the time it jumps to.
// The truth. Who sleeps and how many search are what the idle protocol keeps in
// its counters and sleeper list, so a bug there (a searcher count that leaks, a
// sleeper missing from the list) would make the check believe the protocol it is
// checking. The check therefore keeps, from each worker's own events, which
// workers are inside a poll (poll_start to its poll_end) and which inside park
// (park to unpark): the engine emits these at fixed places that no counter moves.
// Read against it (RuntimeCore::IdleTruth; multi_thread/idle.cpp, T1 to T3): a
// worker sleeps when it is inside park and not firing timers, listed or not (b's
// "being woken" still counts as searching, see below); a listed worker outside
// park and outside a poll is in step 3; and the searching count stands for at
// most the unlisted workers outside a poll, which are the only ones it can count.
// A count that says "somebody searches" while every unlisted worker polls is a
// leak, and the state is lost parallelism. What it cannot see: a leaked count
// while some unlisted worker is outside a poll (stealing, popping the injection
// queue, held by a dump), since that worker may be the searcher the count names.
// Sampling at engine events rather than at every decision keeps the cost small, and
// only at the events that can change the idle state or start a poll (samples_at):
// a poll's start, a push to a LIFO slot, local or injection queue, an overflow, an
// injection pop, a steal, a park and an unpark, a timer firing, shutdown. The others
// (spawn, wake, poll end, marks, dump rounds) change none of (a) to (d): a spawn or
// a wake reaches a queue through a push event, which is sampled. The searching
// count changes without an event (a searcher starts or stops between events), so a
// stretch is bounded by the samples around it; every poll starts with an event, so
// no poll of a holder goes uncounted while the state holds at the samples around it.
#include "parallelism.hpp"

#include "weft/sim/detail/kernel.hpp"

namespace weft::sim {

namespace {

// samples_at says whether an event of `kind` is one the check samples at (above).
constexpr bool samples_at(weft::EventKind kind) {
  using K = weft::EventKind;
  switch (kind) {
    case K::poll_start:
    case K::lifo_push:
    case K::local_push:
    case K::overflow:
    case K::inject_push:
    case K::inject_pop:
    case K::steal:
    case K::park:
    case K::unpark:
    case K::timer_fire:
    case K::shutdown: return true;
    default: return false;
  }
}

std::string describe(const weft::detail::RuntimeCore::IdleView& v) {
  return std::to_string(v.sleeping) + " worker(s) asleep, " + std::to_string(v.searching) + " searching, " +
         std::to_string(v.spare) + " spare task(s)";
}

std::string describe_held(const weft::detail::RuntimeCore::IdleView& v) {
  return std::to_string(v.sleeping) + " worker(s) asleep, " + std::to_string(v.behind_poll) +
         " task(s) behind a poll, " + std::to_string(v.spare) + " spare, LIFO watcher " +
         (v.watcher < 0 ? std::string("none") : std::to_string(v.watcher) + (v.watch_deep ? " (without a deadline)" : "")) +
         ", sleeper list mask " + std::to_string(v.listed) + ", in the watch loop mask " + std::to_string(v.watching);
}

// spare_held says whether v finds stealable work waiting while a worker sleeps and
// nobody searches; lifo_held whether a task waits in the LIFO slot of a worker
// inside a poll while a worker sleeps (searchers do not take slots: only the
// watch, which is a sleeping worker, does).
bool spare_held(const weft::detail::RuntimeCore::IdleView& v) {
  return v.sleeping > 0 && v.searching == 0 && v.spare > 0 && !v.shut_down;
}
bool lifo_held(const weft::detail::RuntimeCore::IdleView& v) { return v.sleeping > 0 && v.behind_poll > 0 && !v.shut_down; }

weft::detail::RuntimeCore::IdleView read_view(const weft::detail::RuntimeCore* core, std::int32_t worker,
                                              const weft::detail::RuntimeCore::IdleTruth* truth) {
  // Detached, the seam's operations are plain reads: no decision is added.
  detail::Kernel* k = detail::tls_kernel;
  detail::tls_kernel = nullptr;
  const weft::detail::RuntimeCore::IdleView v = core->idle_view(worker, truth);
  detail::tls_kernel = k;
  return v;
}

}  // namespace

bool ParallelismMonitor::judge_time(const weft::detail::RuntimeCore::IdleView& v, std::uint64_t step, std::uint64_t from_ns,
                                    std::uint64_t until_ns) {
  // One stretch per rule; the LIFO one is of one wait: the same slot tasks behind the same polls.
  auto judge = [&](Stretch& st, bool held, std::uint64_t key, const char* what) {
    if (!held) {
      st.held = false;
      return false;
    }
    if (!st.held || st.key != key) st = Stretch{true, from_ns, step, key, v};
    const std::uint64_t len = until_ns >= st.since_ns ? until_ns - st.since_ns : 0;
    if (len > result_.longest_ns) result_.longest_ns = len;
    if (result_.bound_ns == 0 || len <= result_.bound_ns) return false;
    result_.violation = "parallelism lost for " + std::to_string(len) + " ns of virtual time (bound " +
                        std::to_string(result_.bound_ns) + " ns) since decision " + std::to_string(st.since_step) +
                        ": " + what + " (then " + describe_held(st.first) + "; at " + std::to_string(until_ns) +
                        " ns " + describe_held(v) + ")";
    return true;
  };
  return judge(spare_, spare_held(v), 0, "stealable work waited while workers slept and nobody searched") ||
         judge(lifo_, lifo_held(v), v.behind_poll_key, "a task waited in a LIFO slot behind one poll while workers slept");
}

std::string ParallelismMonitor::before_jump(std::uint64_t now_ns, std::uint64_t to_ns) {
  if (core_ == nullptr || !result_.violation.empty()) return {};
  ++result_.samples;
  // Called detached (the kernel's probe): the view's reads add no decision.
  return judge_time(core_->idle_view(-1, &truth_), last_step_, now_ns, to_ns) ? result_.violation : std::string();
}

bool ParallelismMonitor::sample(std::uint64_t step, weft::EventKind kind, std::int32_t worker, std::uint64_t task) {
  last_step_ = step;
  // The truth first, from every event of a worker about itself (see "The truth").
  if (worker >= 0 && worker < 64) {
    const std::uint64_t bit = std::uint64_t{1} << worker;
    switch (kind) {
      case weft::EventKind::poll_start:
        truth_.polling |= bit;
        poll_task_[worker] = task;
        break;
      case weft::EventKind::poll_end:
        if (poll_task_[worker] == task) {
          truth_.polling &= ~bit;
          poll_task_[worker] = 0;
        }
        break;
      case weft::EventKind::park: truth_.parked |= bit; break;
      case weft::EventKind::unpark: truth_.parked &= ~bit; break;
      default: break;
    }
  }
  if (core_ == nullptr || !result_.violation.empty() || !samples_at(kind)) return false;
  const weft::detail::RuntimeCore::IdleView v = read_view(core_, worker, &truth_);
  ++result_.samples;
  if (detail::tls_kernel != nullptr) {
    const std::uint64_t now = detail::tls_kernel->now_ns();
    if (judge_time(v, step, now, now)) return true;
  }
  const bool lost = v.sleeping > 0 && v.searching == 0 && v.spare > 0 && !v.shut_down;
  if (!lost) {
    lost_ = false;
    return false;
  }
  ++result_.lost_samples;
  if (!lost_) {
    lost_ = true;
    since_ = step;
    polls_ = 0;
    first_ = v;
    ++result_.stretches;
  }
  if (kind == weft::EventKind::poll_start && worker >= 0 && (v.spare_of > 0 || v.injected > 0)) ++polls_;
  const std::uint64_t len = step - since_;
  if (len > result_.longest_decisions) result_.longest_decisions = len;
  if (polls_ > result_.longest) result_.longest = polls_;
  if (result_.bound == 0 || polls_ <= result_.bound) return false;
  result_.violation = "parallelism lost for " + std::to_string(polls_) + " polls of the workers holding spare work (bound " +
                      std::to_string(result_.bound) + "), " + std::to_string(len) + " decisions since decision " +
                      std::to_string(since_) + " (then " + describe(first_) + "; now " + describe(v) + ", worker " +
                      std::to_string(worker) + " polling)";
  return true;
}

}  // namespace weft::sim
