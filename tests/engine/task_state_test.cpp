// The transitions of a task's state word (engine/src/task_state.hpp), one by one
// on the OS backend: each leaves the word it should and asks its caller for
// what it should.
#include <gtest/gtest.h>

#include <cstdint>
#include <thread>
#include <vector>

#include "task_state.hpp"

namespace {

using weft::TaskState;
namespace st = weft::state;

// kSpawned is the word of a task make_header just built: the owned list's, the
// first queue entry's and the JoinHandle's references, JOIN_INTEREST, NOTIFIED.
constexpr std::uint64_t kSpawned = 3 * st::kRefOne | st::kJoinInterest | st::kNotified;

std::uint64_t word(const TaskState& s) { return s.load(weft::Order::seq_cst); }

// running is a spawned task that its first poll has taken.
std::uint64_t running() { return 3 * st::kRefOne | st::kJoinInterest | st::kRunning; }
// idle is a task between polls: the owned list's and the JoinHandle's references.
std::uint64_t idle() { return 2 * st::kRefOne | st::kJoinInterest; }

TEST(TaskState, ToRunningTakesANotifiedTaskAndTheEntrysReferenceBecomesTheRunners) {
  TaskState s(kSpawned);
  EXPECT_EQ(s.to_running(), TaskState::Run::success);
  EXPECT_EQ(word(s), running());
}

TEST(TaskState, ToRunningOfACancelledTaskTakesItAndAsksForTheCancel) {
  TaskState s(kSpawned | st::kCancelled);
  EXPECT_EQ(s.to_running(), TaskState::Run::cancelled);
  EXPECT_EQ(word(s), running() | st::kCancelled);
}

TEST(TaskState, ToRunningOfATaskRunningElsewhereDropsTheEntry) {
  TaskState s(running() | st::kNotified);
  EXPECT_EQ(s.to_running(), TaskState::Run::failed);
  EXPECT_EQ(word(s), running() - st::kRefOne);
}

TEST(TaskState, ToRunningOfACompleteTaskWhoseEntryIsTheLastReferenceAsksForDealloc) {
  TaskState s(st::kRefOne | st::kComplete | st::kNotified);
  EXPECT_EQ(s.to_running(), TaskState::Run::failed_dealloc);
  EXPECT_EQ(st::refs(word(s)), 0u);
}

TEST(TaskState, AWakeOfARunningTaskSetsNotifiedAndAsksForNothing) {
  TaskState s(running());
  EXPECT_EQ(s.to_notified_by_ref(), TaskState::Wake::nothing);
  EXPECT_EQ(word(s), running() | st::kNotified);
}

TEST(TaskState, AWakeOfAnIdleTaskAsksForASubmitAndAddsTheEntrysReference) {
  TaskState s(idle());
  EXPECT_EQ(s.to_notified_by_ref(), TaskState::Wake::submit);
  EXPECT_EQ(word(s), (idle() + st::kRefOne) | st::kNotified);
}

TEST(TaskState, AWakeOfANotifiedOrCompleteTaskChangesNothing) {
  TaskState notified(kSpawned);
  EXPECT_EQ(notified.to_notified_by_ref(), TaskState::Wake::nothing);
  EXPECT_EQ(word(notified), kSpawned);
  TaskState complete(st::kRefOne | st::kComplete);
  EXPECT_EQ(complete.to_notified_by_ref(), TaskState::Wake::nothing);
  EXPECT_EQ(word(complete), st::kRefOne | st::kComplete);
}

TEST(TaskState, AWakeByValueOfAnIdleTaskHandsItsReferenceToTheQueueEntry) {
  TaskState s(idle() + st::kRefOne);  // plus the waker's
  EXPECT_EQ(s.to_notified_by_val(), TaskState::Wake::submit);
  EXPECT_EQ(word(s), (idle() + st::kRefOne) | st::kNotified);
}

TEST(TaskState, AWakeByValueOfARunningTaskDropsTheWakersReference) {
  TaskState s(running() + st::kRefOne);
  EXPECT_EQ(s.to_notified_by_val(), TaskState::Wake::nothing);
  EXPECT_EQ(word(s), running() | st::kNotified);
}

TEST(TaskState, AWakeByValueOfACompleteTaskWithTheLastReferenceAsksForDealloc) {
  TaskState s(st::kRefOne | st::kComplete);
  EXPECT_EQ(s.to_notified_by_val(), TaskState::Wake::dealloc);
  EXPECT_EQ(st::refs(word(s)), 0u);
}

TEST(TaskState, ToIdleAfterAWakeDuringThePollKeepsTheReferenceForTheRequeue) {
  TaskState s(running() | st::kNotified);
  EXPECT_EQ(s.to_idle(), TaskState::Idle::ok_notified);
  EXPECT_EQ(word(s), (running() & ~st::kRunning) | st::kNotified);
}

TEST(TaskState, ToIdleWithoutAWakeDropsTheRunnersReference) {
  TaskState s(running());
  EXPECT_EQ(s.to_idle(), TaskState::Idle::ok);
  EXPECT_EQ(word(s), idle());
  TaskState last(st::kRefOne | st::kRunning);
  EXPECT_EQ(last.to_idle(), TaskState::Idle::ok_dealloc);
}

TEST(TaskState, ToIdleOfATaskAbortedDuringThePollLeavesRunningForTheCancel) {
  TaskState s(running());
  EXPECT_EQ(s.to_cancelled(), TaskState::Wake::nothing);
  EXPECT_EQ(s.to_idle(), TaskState::Idle::cancelled);
  EXPECT_EQ(word(s), running() | st::kNotified | st::kCancelled);
}

TEST(TaskState, AnAbortOfAnIdleTaskQueuesItForTheCancel) {
  TaskState s(idle());
  EXPECT_EQ(s.to_cancelled(), TaskState::Wake::submit);
  EXPECT_EQ(word(s), (idle() + st::kRefOne) | st::kNotified | st::kCancelled);
  EXPECT_EQ(s.to_running(), TaskState::Run::cancelled);
}

TEST(TaskState, AnAbortOfACompleteOrCancelledTaskWritesNothing) {
  TaskState complete(st::kRefOne | st::kComplete);
  EXPECT_EQ(complete.to_cancelled(), TaskState::Wake::nothing);
  EXPECT_EQ(word(complete), st::kRefOne | st::kComplete);
  TaskState cancelled(idle() | st::kCancelled);
  EXPECT_EQ(cancelled.to_cancelled(), TaskState::Wake::nothing);
  EXPECT_EQ(word(cancelled), idle() | st::kCancelled);
}

TEST(TaskState, ShutdownTakesRunningOfAnIdleTaskAndOnlyMarksARunningOne) {
  TaskState idle_task(idle());
  EXPECT_EQ(idle_task.to_shutdown(), TaskState::Shutdown::cancel);
  EXPECT_EQ(word(idle_task), idle() | st::kRunning | st::kCancelled);
  TaskState running_task(running());
  EXPECT_EQ(running_task.to_shutdown(), TaskState::Shutdown::marked);
  EXPECT_EQ(word(running_task), running() | st::kCancelled);
}

TEST(TaskState, AClaimIsRefusedUnlessTheTaskIsIdleUnnotifiedAndUncancelled) {
  for (std::uint64_t w : {running(), kSpawned, idle() | st::kCancelled, st::kRefOne | st::kComplete}) {
    TaskState s(w);
    EXPECT_EQ(s.to_claimed(), TaskState::Claim::refused);
    EXPECT_EQ(word(s), w);
  }
  TaskState s(idle());
  EXPECT_EQ(s.to_claimed(), TaskState::Claim::claimed);
  EXPECT_EQ(word(s), idle() | st::kRunning);
  EXPECT_EQ(s.to_unclaimed(), TaskState::Unclaim::nothing);
  EXPECT_EQ(word(s), idle());
}

TEST(TaskState, UnclaimRequeuesAWakeThatCameDuringTheClaim) {
  TaskState s(idle());
  ASSERT_EQ(s.to_claimed(), TaskState::Claim::claimed);
  EXPECT_EQ(s.to_notified_by_ref(), TaskState::Wake::nothing);  // the claim looks like a poll
  EXPECT_EQ(s.to_unclaimed(), TaskState::Unclaim::submit);
  EXPECT_EQ(word(s), (idle() + st::kRefOne) | st::kNotified);
}

TEST(TaskState, UnclaimOfATaskAbortedDuringTheClaimLeavesRunningForTheCancel) {
  TaskState s(idle());
  ASSERT_EQ(s.to_claimed(), TaskState::Claim::claimed);
  EXPECT_EQ(s.to_cancelled(), TaskState::Wake::nothing);
  EXPECT_EQ(s.to_unclaimed(), TaskState::Unclaim::cancel);
  EXPECT_TRUE(word(s) & st::kRunning);
}

TEST(TaskState, ADeferredWakeQueuesAnIdleTaskAndLeavesAClaimedOneToItsClaim) {
  TaskState s(idle() + st::kRefOne);  // plus the defer list's
  EXPECT_EQ(s.to_notified_deferred(), TaskState::Deferred::submit);
  EXPECT_EQ(word(s), (idle() + st::kRefOne) | st::kNotified);
  TaskState claimed((idle() + st::kRefOne) | st::kRunning);
  EXPECT_EQ(claimed.to_notified_deferred(), TaskState::Deferred::drop);
  EXPECT_TRUE(word(claimed) & st::kNotified);
  TaskState notified(kSpawned);
  EXPECT_EQ(notified.to_notified_deferred(), TaskState::Deferred::drop);
  EXPECT_EQ(word(notified), kSpawned);
}

TEST(TaskState, CompleteFlipsRunningToCompleteAndReturnsTheWordItLeft) {
  TaskState s(running());
  EXPECT_EQ(s.to_complete(), running());
  EXPECT_EQ(word(s), (running() & ~st::kRunning) | st::kComplete);
}

TEST(TaskState, AJoinWakerIsPublishedUntilCompletionWhichGivesItBack) {
  TaskState s(running());
  EXPECT_EQ(s.set_join_waker(), TaskState::JoinWaker::done);
  const std::uint64_t prev = s.to_complete();
  EXPECT_TRUE(prev & st::kJoinWaker);
  EXPECT_FALSE(s.unset_join_waker_after_complete());  // the JoinHandle is still there
  EXPECT_FALSE(word(s) & st::kJoinWaker);
}

TEST(TaskState, AJoinWakerIsNotPublishedOnceTheTaskIsComplete) {
  TaskState s(st::kRefOne | st::kJoinInterest | st::kComplete);
  EXPECT_EQ(s.set_join_waker(), TaskState::JoinWaker::complete);
  EXPECT_EQ(word(s), st::kRefOne | st::kJoinInterest | st::kComplete);
}

TEST(TaskState, TheJoinHandleTakesTheWakerBackUnlessTheTaskCompleted) {
  TaskState s(idle());
  ASSERT_EQ(s.set_join_waker(), TaskState::JoinWaker::done);
  EXPECT_EQ(s.unset_join_waker(word(s)), TaskState::JoinWaker::done);
  EXPECT_EQ(word(s), idle());
  TaskState done(st::kRefOne | st::kJoinInterest | st::kJoinWaker | st::kComplete);
  EXPECT_EQ(done.unset_join_waker(word(done)), TaskState::JoinWaker::complete);
}

TEST(TaskState, DroppingTheJoinHandleTakesTheWakerBackOnlyBeforeCompletion) {
  TaskState before(idle() | st::kJoinWaker);
  EXPECT_EQ(before.to_join_dropped(), TaskState::JoinDropped::drop_waker);
  EXPECT_EQ(word(before), 2 * st::kRefOne);
  TaskState after(st::kRefOne | st::kJoinInterest | st::kJoinWaker | st::kComplete);
  EXPECT_EQ(after.to_join_dropped(), TaskState::JoinDropped::leave_waker);
  EXPECT_TRUE(after.unset_join_waker_after_complete());  // completion drops the waker
}

TEST(TaskState, RefDecReportsTheLastReference) {
  TaskState s(2 * st::kRefOne);
  s.ref_inc();
  EXPECT_FALSE(s.ref_dec());
  EXPECT_TRUE(s.ref_dec(2));
}

TEST(TaskState, RacingWakesOfAnIdleTaskSubmitItExactlyOnce) {
  constexpr int kThreads = 4;
  for (int round = 0; round < 200; ++round) {
    TaskState s(idle());
    std::vector<TaskState::Wake> got(kThreads);
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) threads.emplace_back([&, i] { got[i] = s.to_notified_by_ref(); });
    for (auto& th : threads) th.join();
    int submits = 0;
    for (TaskState::Wake w : got) submits += w == TaskState::Wake::submit;
    ASSERT_EQ(submits, 1);
    ASSERT_EQ(word(s), (idle() + st::kRefOne) | st::kNotified);
  }
}

}  // namespace
