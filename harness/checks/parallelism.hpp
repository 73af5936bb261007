// The lost-parallelism check: stealable work may wait only a bounded number of
// polls of the workers holding it while a worker sleeps and nobody searches for it. The definition,
// taken from the idle protocol (engine/src/multi_thread/idle.cpp, steps 1 to 5),
// and the exceptions the design accepts are at the top of parallelism.cpp.
#pragma once

#include <cstdint>
#include <string>

#include "weft/events.hpp"
#include "weft/runtime.hpp"

namespace weft::sim {

// ParallelismCheck is what the check saw: samples taken, samples that found
// parallelism lost, stretches of such samples, the longest stretch in polls of
// the holders (what the bound limits) and in decisions (for the reports), the
// bound in polls, and the first violation ("" if none).
struct ParallelismCheck {
  std::uint64_t samples = 0, lost_samples = 0, stretches = 0, longest = 0, longest_decisions = 0, bound = 0;
  // The rule in virtual time (parallelism.cpp, "Across virtual time"): the longest
  // stretch in ns, and the bound (0: only measured).
  std::uint64_t longest_ns = 0, bound_ns = 0;
  std::string violation;
};

// ParallelismMonitor samples a multi-thread runtime's idle state at the engine
// events that can change it or start a poll (the recorder feeds it every event;
// parallelism.cpp, samples_at, says which it samples at) and measures how long parallelism stays lost: in
// polls that workers holding the spare work make meanwhile. Reading adds no
// decision (the kernel is detached while it reads).
class ParallelismMonitor {
 public:
  // ParallelismMonitor(bound, bound_ns): a stretch longer than bound polls, or
  // than bound_ns of virtual time, is a violation; a bound of 0 only measures.
  ParallelismMonitor(std::uint64_t bound, std::uint64_t bound_ns) {
    result_.bound = bound;
    result_.bound_ns = bound_ns;
  }

  // attach names the runtime to read (null: nothing to read yet, or any more).
  void attach(const weft::detail::RuntimeCore* core) noexcept { core_ = core; }
  // sample sees every event: `kind` emitted by `worker` (-1: not a worker) about
  // `task`, at decision `step`. It keeps the truth (which workers poll, which
  // sleep) and reads the runtime at the events that matter; returns true when
  // this sample is the first violation (result().violation says which).
  bool sample(std::uint64_t step, weft::EventKind kind, std::int32_t worker, std::uint64_t task);
  // before_jump is the kernel's jump probe (Simulation::set_jump_probe): every fiber
  // is blocked at virtual time now_ns and time jumps to to_ns. The state read now
  // holds until then. Returns the violation, or "".
  std::string before_jump(std::uint64_t now_ns, std::uint64_t to_ns);
  const ParallelismCheck& result() const noexcept { return result_; }

 private:
  const weft::detail::RuntimeCore* core_ = nullptr;
  ParallelismCheck result_;
  bool lost_ = false;          // the last sample found parallelism lost
  std::uint64_t since_ = 0;    // the step of the stretch's first lost sample
  std::uint64_t polls_ = 0;    // polls by holders of spare work since then
  weft::detail::RuntimeCore::IdleView first_{};  // what that sample read
  // The rules in virtual time: for each, whether the last sample found the state,
  // since when (virtual ns, decision), which wait (the LIFO rule's key), and what
  // the stretch's first sample read.
  struct Stretch {
    bool held = false;
    std::uint64_t since_ns = 0, since_step = 0, key = 0;
    weft::detail::RuntimeCore::IdleView first{};
  };
  Stretch spare_, lifo_;        // stealable work; a LIFO slot behind a poll
  std::uint64_t last_step_ = 0;  // the last event's decision
  // judge_time is one sample of that rule: view v, read at from_ns, holds until
  // until_ns (the same for an event; the jump's end for a jump).
  bool judge_time(const weft::detail::RuntimeCore::IdleView& v, std::uint64_t step, std::uint64_t from_ns,
                  std::uint64_t until_ns);
  // The truth the view is read against (RuntimeCore::IdleTruth), kept from each
  // worker's own events; poll_task_[w] is the task worker w polls (0: none), so
  // a poll_end it emits for another task (a cancellation it runs) is not its end.
  weft::detail::RuntimeCore::IdleTruth truth_{};
  std::uint64_t poll_task_[64] = {};
};

// kLostParallelismDecisions is the default bound (reports/lost-parallelism.md: the
// longest stretch, in polls of the holders, the correct engine needs over every
// shipped scenario and strategy, with margin).
inline constexpr std::uint64_t kLostParallelismPolls = 16;
// kLostParallelismNs is the default bound in virtual time: work may wait behind a
// poll or in a queue while a worker sleeps at most this long. The engine's LIFO
// watch takes a slot's task within policy::kLifoWaitMaxNs (17 ms); this is four
// times its longest interval (16 ms), so that the check does not move with a
// small change of the watch's timing, and a task that waits for a 200 ms poll (scenarios/lifo_long_poll.json) fails.
inline constexpr std::uint64_t kLostParallelismNs = 64'000'000ull;

}  // namespace weft::sim
