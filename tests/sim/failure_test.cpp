// Failure classes: deadlock, lost wake-up, step bound, assertion, exception; the
// simulator stays usable after a failed run, and tears down what the run left.
#include <gtest/gtest.h>

#include <regex>

#include <unistd.h>

#include <csignal>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <stdexcept>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "sim_test_util.hpp"
#include "weft/assert.hpp"

namespace weft::sim::testing {
namespace {

// abba_body: two fibers take two mutexes in opposite orders.
void abba_body() {
  P::Mutex m1;
  P::Mutex m2;
  P::Thread a("a", [&] {
    m1.lock();
    m2.lock();
    m2.unlock();
    m1.unlock();
  });
  P::Thread b("b", [&] {
    m2.lock();
    m1.lock();
    m1.unlock();
    m2.unlock();
  });
  a.join();
  b.join();
}

TEST(Failure, OppositeLockOrderDeadlocksOnSomeSeeds) {
  int deadlocks = 0;
  int passes = 0;
  for (std::uint64_t seed = 0; seed < 200; ++seed) {
    const RunResult r = run_with(options_for(seed), abba_body);
    if (r.outcome == Outcome::deadlock) {
      ++deadlocks;
      EXPECT_NE(r.message.find("(lock)"), std::string::npos) << r.message;
      EXPECT_NE(r.message.find("(join)"), std::string::npos) << r.message;
    } else {
      ASSERT_EQ(r.outcome, Outcome::pass) << r.summary();
      ++passes;
    }
  }
  EXPECT_GT(deadlocks, 0);
  EXPECT_GT(passes, 0);
}

TEST(Failure, ParkingForeverIsADeadlock) {
  const RunResult r = run_with(options_for(1), [] {
    P::Parker p;
    p.park();
  });
  EXPECT_EQ(r.outcome, Outcome::deadlock) << r.summary();
  EXPECT_EQ(r.exit_code(), 2);
  EXPECT_NE(r.message.find("0 main (park)"), std::string::npos) << r.message;
}

TEST(Failure, IdleProbeTurnsADeadlockIntoALostWakeup) {
  // A worker parks although work is queued: the probe sees the queued work.
  P::Atomic<std::uint32_t> queued{0};
  auto body = [&queued] {
    P::Parker parker;
    P::Thread worker("worker", [&] {
      if (queued.load(Order::acquire) == 0) parker.park();  // checks once, too early
    });
    queued.store(1, Order::release);  // forgets parker.unpark()
    worker.join();
  };
  int lost = 0;
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    queued.store(0, Order::relaxed);  // outside a run: a plain store
    Simulation sim(options_for(seed));
    sim.set_idle_probe([&queued] { return queued.load(Order::relaxed) != 0; });
    const RunResult r = sim.run(body);
    if (r.outcome == Outcome::lost_wakeup) {
      ++lost;
      EXPECT_EQ(r.exit_code(), 3);
    } else {
      ASSERT_EQ(r.outcome, Outcome::pass) << r.summary();
    }
  }
  EXPECT_GT(lost, 0);
  // Without a probe the same hang is a deadlock.
  const RunResult r = run_with(options_for(0), [] {
    P::Parker p;
    p.park();
  });
  EXPECT_EQ(r.outcome, Outcome::deadlock);
}

TEST(Failure, InfiniteSpinExceedsTheStepBound) {
  const RunResult r = run_with(options_for(1, StrategySpec::random(), 1000), [] {
    P::Atomic<std::uint32_t> never{0};
    while (never.load(Order::acquire) == 0) P::spin_hint();
  });
  EXPECT_EQ(r.outcome, Outcome::step_bound_exceeded) << r.summary();
  EXPECT_EQ(r.steps, 1000u);
  EXPECT_EQ(r.exit_code(), 4);
}

TEST(Failure, AssertionFailedEndsTheRunWithAssertion) {
  bool after = false;
  const RunResult r = run_with(options_for(1), [&after] {
    P::Thread t("checker", [&] {
      P::assertion_failed("x > 0", "engine/src/x.cpp", 12);
      after = true;  // never reached
    });
    t.join();
  });
  EXPECT_EQ(r.outcome, Outcome::assertion);
  EXPECT_EQ(r.exit_code(), 1);
  EXPECT_FALSE(after);
  EXPECT_NE(r.message.find("x > 0 at engine/src/x.cpp:12"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("checker"), std::string::npos) << r.message;
}

TEST(Failure, WeftAssertGoesThroughThePlatform) {
  const RunResult r = run_with(options_for(1), [] {
    int two = 2;
    WEFT_ASSERT(two == 3);
  });
  EXPECT_EQ(r.outcome, Outcome::assertion);
  EXPECT_NE(r.message.find("two == 3"), std::string::npos) << r.message;
}

TEST(Failure, ExceptionEscapingAFiberIsReported) {
  const RunResult r = run_with(options_for(1), [] {
    P::Thread t("thrower", [] { throw std::runtime_error("boom"); });
    t.join();
  });
  EXPECT_EQ(r.outcome, Outcome::exception);
  EXPECT_EQ(r.exit_code(), 6);
  EXPECT_NE(r.message.find("boom"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("thrower"), std::string::npos) << r.message;

  const RunResult m = run_with(options_for(1), [] { throw 42; });
  EXPECT_EQ(m.outcome, Outcome::exception);
}

TEST(Failure, ExceptionsCaughtInDifferentFibersDoNotInterfere) {
  // Two fibers each sit inside a catch block across decision points.
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    const RunResult r = run_with(options_for(seed), [] {
      P::Atomic<std::uint32_t> x{0};
      auto body = [&x](int tag) {
        try {
          throw std::runtime_error(std::to_string(tag));
        } catch (const std::runtime_error& e) {
          for (int i = 0; i < 3; ++i) x.fetch_add(1, Order::relaxed);
          if (e.what() != std::to_string(tag)) throw;
          try {
            throw;
          } catch (const std::runtime_error& again) {
            x.fetch_add(1, Order::relaxed);
            if (again.what() != std::to_string(tag)) throw;
          }
        }
      };
      P::Thread a("a", [&] { body(1); });
      P::Thread b("b", [&] { body(2); });
      body(0);
      a.join();
      b.join();
    });
    ASSERT_EQ(r.outcome, Outcome::pass) << r.summary();
  }
}

TEST(Failure, MisusingTheSeamIsAnAssertion) {
  RunResult r = run_with(options_for(1), [] {
    P::Mutex m;
    m.unlock();
  });
  EXPECT_EQ(r.outcome, Outcome::assertion);
  EXPECT_NE(r.message.find("does not hold"), std::string::npos) << r.message;

  r = run_with(options_for(1), [] {
    P::Mutex m;
    m.lock();
    m.lock();
  });
  EXPECT_EQ(r.outcome, Outcome::assertion);

  r = run_with(options_for(1), [] { P::Thread t("forgotten", [] {}); });
  EXPECT_EQ(r.outcome, Outcome::assertion);
  EXPECT_NE(r.message.find("joinable"), std::string::npos) << r.message;
}

// A mutex that outlives runs: a failed run leaves it locked by an abandoned fiber.
P::Mutex g_static_mutex;

TEST(Failure, StateLeftByAFailedRunDoesNotLeakIntoTheNext) {
  RunResult r = run_with(options_for(1), [] {
    g_static_mutex.lock();
    P::Parker p;
    p.park();  // deadlock while holding the static mutex
  });
  ASSERT_EQ(r.outcome, Outcome::deadlock);
  r = run_with(options_for(2), [] {
    g_static_mutex.lock();
    g_static_mutex.unlock();
  });
  EXPECT_EQ(r.outcome, Outcome::pass) << r.summary();
  // And outside a simulation too.
  g_static_mutex.lock();
  g_static_mutex.unlock();
}

TEST(Failure, ManyFailedRunsInARow) {
  for (std::uint64_t seed = 0; seed < 300; ++seed) {
    const RunResult r = run_with(options_for(seed), abba_body);
    ASSERT_TRUE(r.outcome == Outcome::pass || r.outcome == Outcome::deadlock) << r.summary();
  }
}

std::uint64_t resident_now() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  unsigned long long pages = 0, resident = 0;
  if (f == nullptr || std::fscanf(f, "%llu %llu", &pages, &resident) != 2) resident = 0;
  if (f != nullptr) std::fclose(f);
  return resident * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

// The teardown of a failed run (sim/src/kernel.cpp, Steps T1-T8): every fiber the
// run left is unwound, so its destructors run and what it held is freed, and a
// sweep of failing runs stays within a memory budget; a fiber whose unwind
// cannot finish is kept, and what it keeps counts against later runs.

// Tracked counts its live instances, so a test sees which destructors ran.
struct Tracked {
  static inline int live = 0;
  Tracked() { ++live; }
  ~Tracked() { --live; }
  Tracked(const Tracked&) = delete;
  Tracked& operator=(const Tracked&) = delete;
};

// teardown_options asks for the teardown (Options::teardown, on by default) in so
// many words; abandon_options turns it off.
Options teardown_options(std::uint64_t seed) {
  Options o = options_for(seed);
  o.teardown = true;
  return o;
}
Options abandon_options(std::uint64_t seed) {
  Options o = options_for(seed);
  o.teardown = false;
  return o;
}


// holders_deadlock: four fibers each hold 512 KiB (every page written) and a
// Tracked, then park for good; main joins them: every run deadlocks.
void holders_deadlock() {
  std::vector<std::unique_ptr<P::Thread>> holders;
  for (int i = 0; i < 4; ++i) {
    holders.push_back(std::make_unique<P::Thread>("holder", [] {
      Tracked t;
      std::vector<char> held(512 * 1024, 'x');
      P::Parker p;
      p.park();  // never unparked: the run deadlocks with `held` alive
    }));
  }
  for (auto& h : holders) h->join();
}

TEST(Failure, AFailedRunUnwindsEveryFiberItLeftSoTheirDestructorsRun) {
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    const RunResult r = run_with(teardown_options(seed), holders_deadlock);
    ASSERT_EQ(r.outcome, Outcome::deadlock) << r.summary();
    EXPECT_EQ(r.fibers_kept, 0u);
    EXPECT_EQ(Tracked::live, 0) << "seed " << seed;
  }
  // The fiber that failed is unwound too, and one that never started (on the
  // seeds where the strategy did not run it before main failed) drops its
  // function, and what the function owns, unrun.
  int never_started = 0;
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    bool ran = false;
    const RunResult r = run_with(teardown_options(seed), [&ran] {
      Tracked t;
      auto owned = std::make_shared<Tracked>();
      P::Thread late("late", [owned, &ran] { ran = true; });
      owned.reset();
      WEFT_ASSERT(false && "planted");
    });
    ASSERT_EQ(r.outcome, Outcome::assertion) << r.summary();
    EXPECT_EQ(r.fibers_kept, 0u);
    EXPECT_EQ(Tracked::live, 0) << "seed " << seed;
    never_started += ran ? 0 : 1;
  }
  EXPECT_GT(never_started, 0);
}

// A replay cut at any decision of a run where three fibers queue on a mutex is
// torn down with every fiber going on: each takes the mutex in turn and
// finishes. A cut at the decision a fiber's own block makes (after it joined the
// mutex's wait list) once left it on the list while it went on; its wait loop
// joined the list again and cut off the waiters behind it, which were then
// unwound for good with what they held (shutdown_under_load, seed 5 cut at 25%,
// 13 engine allocations kept).
TEST(Failure, AReplayCutWhileFibersQueueOnAMutexLetsEveryOneTakeItInTheTeardown) {
  int started = 0, taken = 0;  // a waiter that never started is dropped unrun (Step T3)
  const auto body = [&started, &taken] {
    P::Mutex mu;
    std::vector<std::unique_ptr<P::Thread>> waiters;
    mu.lock();
    for (int i = 0; i < 3; ++i) {
      waiters.push_back(std::make_unique<P::Thread>("waiter", [&mu, &started, &taken] {
        ++started;
        mu.lock();
        ++taken;
        mu.unlock();
      }));
    }
    P::yield_thread();
    P::yield_thread();
    mu.unlock();
    for (auto& w : waiters) w->join();
  };
  std::uint64_t cuts = 0;
  for (std::uint64_t seed = 0; seed < 10; ++seed) {
    taken = 0;
    const RunResult whole = run_with(options_for(seed), body);
    ASSERT_EQ(whole.outcome, Outcome::pass) << whole.summary();
    ASSERT_EQ(taken, 3);
    for (std::size_t n = 1; n < whole.schedule.decisions.size(); ++n) {
      Schedule cut = whole.schedule;
      cut.decisions.resize(n);
      Options o = teardown_options(seed);
      o.strategy = StrategySpec::replay(cut);
      started = taken = 0;
      const RunResult r = run_with(o, body);
      ASSERT_EQ(r.outcome, Outcome::nondeterminism) << "seed " << seed << " cut at " << n << ": " << r.summary();
      EXPECT_EQ(r.fibers_kept, 0u) << "seed " << seed << " cut at " << n;
      EXPECT_EQ(taken, started) << "seed " << seed << " cut at " << n << ": a waiter never took the mutex";
      cuts += started == 3 ? 1 : 0;
    }
  }
  EXPECT_GT(cuts, 50u);  // cuts after every waiter started
}

// expect_used_after_destruction runs `body(mutex)` over `seeds` seeds and wants
// both ends: some run failed naming an operation (`op`) on a destroyed object,
// and some run passed (the operation came first).
void expect_used_after_destruction(std::uint64_t seeds, const std::function<void(bool)>& body,
                                   const char* parker_op, const char* mutex_op) {
  for (const bool mutex : {false, true}) {
    int failed = 0, passed = 0;
    for (std::uint64_t seed = 0; seed < seeds; ++seed) {
      const RunResult r = run_with(options_for(seed), [&body, mutex] { body(mutex); });
      if (r.outcome == Outcome::pass) {
        ++passed;
        continue;
      }
      ++failed;
      EXPECT_EQ(r.outcome, Outcome::assertion) << r.summary();
      EXPECT_NE(r.message.find(mutex ? mutex_op : parker_op), std::string::npos) << r.message;
      EXPECT_TRUE(r.message.find("on an object already destroyed") != std::string::npos ||
                  r.message.find("on an object destroyed while this fiber waited inside the operation") !=
                      std::string::npos)
          << r.message;
    }
    EXPECT_GT(failed, 0) << (mutex ? "mutex" : "parker") << ": no seed used it after its destruction";
    EXPECT_GT(passed, 0) << (mutex ? "mutex" : "parker") << ": no seed used it before its destruction";
  }
}

// A Parker or Mutex used after its owner destroyed it (a waker that still held
// a parker on a returned stack frame) fails the run, naming the operation,
// instead of writing into dead memory unnoticed. The object lives in storage
// that outlasts it, as a stack frame's memory outlasts its locals.
TEST(Failure, AParkerOrMutexUsedAfterItsOwnerDestroyedItFailsTheRunNamingTheOperation) {
  expect_used_after_destruction(
      40,
      [](bool mutex) {
        alignas(P::Parker) alignas(P::Mutex) unsigned char storage[sizeof(P::Parker) + sizeof(P::Mutex)];
        P::Parker* parker = mutex ? nullptr : new (storage) P::Parker();
        P::Mutex* mu = mutex ? new (storage) P::Mutex() : nullptr;
        P::Atomic<int> point{0};
        P::Thread user("user", [parker, mu] {
          if (parker != nullptr) parker->unpark();
          if (mu != nullptr) {
            mu->lock();
            mu->unlock();
          }
        });
        (void)point.load(Order::relaxed);  // a decision: `user` may or may not go first
        if (parker != nullptr) parker->~Parker();  // the owner's lifetime ends while `user` still holds it
        if (mu != nullptr) mu->~Mutex();
        user.join();
      },
      "Parker::unpark on", "Mutex::");
}

// An operation begun only after its object was destroyed is caught by the
// object's own dead mark (the kernel's record is for operations already inside
// the object): every run fails naming the operation, none goes on into the dead
// object. With the dead-mark check removed every run passes.
TEST(Failure, AnOperationBegunAfterItsObjectWasDestroyedFailsOnTheObjectsDeadMark) {
  for (const bool mutex : {false, true}) {
    for (std::uint64_t seed = 0; seed < 10; ++seed) {
      const RunResult r = run_with(options_for(seed), [mutex] {
        alignas(P::Parker) alignas(P::Mutex) unsigned char storage[sizeof(P::Parker) + sizeof(P::Mutex)];
        P::Parker* parker = mutex ? nullptr : new (storage) P::Parker();
        P::Mutex* mu = mutex ? new (storage) P::Mutex() : nullptr;
        P::Atomic<int> destroyed{0};
        P::Thread user("user", [parker, mu, &destroyed] {
          while (destroyed.load(Order::seq_cst) == 0) P::yield_thread();
          if (parker != nullptr) parker->unpark();
          if (mu != nullptr) mu->lock();
        });
        if (parker != nullptr) parker->~Parker();
        if (mu != nullptr) mu->~Mutex();
        destroyed.store(1, Order::seq_cst);
        user.join();
      });
      EXPECT_EQ(r.outcome, Outcome::assertion) << "seed " << seed << ": " << r.summary();
      EXPECT_NE(r.message.find(mutex ? "Mutex::lock on an object already destroyed" : "Parker::unpark on an object already destroyed"),
                std::string::npos)
          << r.message;
    }
  }
}

// destroy_while_user_operates is the body of the next two tests: `user` announces
// it is about to operate on a Parker (unpark) or a Mutex (lock, unlock), and the
// owner destroys the object only once it sees that, so it can do so only while
// `user` stands at the operation's decision (the announcing store is `user`'s
// last decision before it) or after the operation. With `reuse` the owner then
// builds another object in the same memory, as the next call's stack frame would.
// `in_op` says whether the owner destroyed the object while `user` was inside
// its operation: `done` is a plain flag `user` sets with no decision after the
// operation returns, so the owner reads exactly that.
void destroy_while_user_operates(bool mutex, bool reuse, bool* in_op = nullptr) {
  alignas(P::Parker) alignas(P::Mutex) unsigned char storage[sizeof(P::Parker) + sizeof(P::Mutex)];
  P::Parker* parker = mutex ? nullptr : new (storage) P::Parker();
  P::Mutex* mu = mutex ? new (storage) P::Mutex() : nullptr;
  P::Atomic<int> about_to{0};
  bool done = false;
  P::Thread user("user", [parker, mu, &about_to, &done] {
    about_to.store(1, Order::seq_cst);
    if (parker != nullptr) parker->unpark();  // its decision is the next one
    if (mu != nullptr) {
      mu->lock();
      mu->unlock();
    }
    done = true;
  });
  for (int spin = 0; spin < 64 && about_to.load(Order::seq_cst) == 0; ++spin) {
  }
  const bool destroyed = about_to.load(Order::seq_cst) == 1;
  if (destroyed) {
    if (in_op != nullptr) *in_op = !done;
    if (parker != nullptr) parker->~Parker();  // `user` stands at its decision, or is past it
    if (mu != nullptr) mu->~Mutex();
    if (reuse && parker != nullptr) new (storage) P::Parker();  // the memory reused by a live object
    if (reuse && mu != nullptr) new (storage) P::Mutex();
  }
  user.join();
  if (destroyed && reuse && parker != nullptr) std::launder(reinterpret_cast<P::Parker*>(storage))->~Parker();
  if (destroyed && reuse && mu != nullptr) std::launder(reinterpret_cast<P::Mutex*>(storage))->~Mutex();
  if (!destroyed && parker != nullptr) parker->~Parker();
  if (!destroyed && mu != nullptr) mu->~Mutex();
}

// The owner may end the object's lifetime while the operation waits at its own
// decision. A check on entry alone misses every such run (this test failed with
// it); the check after each switch fails each one. The mutex's owner may also
// destroy it at the unlock's decision.
TEST(Failure, AnObjectDestroyedWhileAnOperationOnItWaitsAtItsDecisionFailsTheRun) {
  expect_used_after_destruction(
      60, [](bool mutex) { destroy_while_user_operates(mutex, false); }, "Parker::unpark on", "Mutex::");
}

// A stack frame is reused at once. The dead mark is gone (the new object carries
// the live one), so only the kernel's record (Steps L1-L3, kernel.cpp) tells that
// `user` still holds the old object: exactly the runs where the owner destroyed
// it while `user` was inside its operation fail, the others pass, and none writes
// into the new object unnoticed. With the record switched off this test fails:
// every Parker run passes, and a Mutex run fails only later, as an unlock of a
// mutex the fiber does not hold.
TEST(Failure, AnObjectDestroyedAndItsMemoryReusedWhileAnOperationWaitsOnItFailsTheRun) {
  for (const bool mutex : {false, true}) {
    int failed = 0, passed = 0;
    for (std::uint64_t seed = 0; seed < 60; ++seed) {
      bool in_op = false;
      const RunResult r = run_with(options_for(seed), [mutex, &in_op] { destroy_while_user_operates(mutex, true, &in_op); });
      if (!in_op) {
        EXPECT_EQ(r.outcome, Outcome::pass) << "seed " << seed << ": " << r.summary();
        ++passed;
        continue;
      }
      ++failed;
      EXPECT_EQ(r.outcome, Outcome::assertion) << "seed " << seed << ": " << r.summary();
      EXPECT_NE(r.message.find("on an object destroyed while this fiber waited inside the operation"),
                std::string::npos)
          << r.message;
    }
    EXPECT_GT(failed, 0) << (mutex ? "mutex" : "parker") << ": no seed destroyed it under a waiting operation";
    EXPECT_GT(passed, 0) << (mutex ? "mutex" : "parker") << ": no seed let the operation finish first";
  }
}

// The record marks a fiber's latest object, which may be one it finished with
// long ago; its next operation, on another object, notes that one and clears
// the mark, so destroying an object a fiber is done with never fails it.
TEST(Failure, DestroyingAMutexAFiberIsDoneWithDoesNotFailItsNextOperation) {
  for (std::uint64_t seed = 0; seed < 40; ++seed) {
    const RunResult r = run_with(options_for(seed), [] {
      auto first = std::make_unique<P::Mutex>();
      P::Mutex second;
      P::Atomic<int> done_with_first{0}, go{0};
      P::Thread user("user", [&] {
        first->lock();
        first->unlock();  // `first` stays the fiber's noted object: no Parker or Mutex operation follows
        done_with_first.store(1, Order::seq_cst);
        while (go.load(Order::seq_cst) == 0) P::yield_thread();
        second.lock();  // notes `second` and clears the mark left by `first`'s destruction
        second.unlock();
      });
      while (done_with_first.load(Order::seq_cst) == 0) P::yield_thread();
      first.reset();
      go.store(1, Order::seq_cst);
      user.join();
    });
    EXPECT_EQ(r.outcome, Outcome::pass) << "seed " << seed << ": " << r.summary();
  }
}

// A teardown that dies in code the failure left broken (here a destructor that
// writes through a wild pointer, as one that frees through a stale queue entry
// would) first writes the verdict the run had already reached and how to turn
// the teardown off (Step T8); the death's own report follows.
TEST(Failure, ATeardownThatDiesFirstSaysTheVerdictTheRunHadReached) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  auto broken = [] {
    run_with(teardown_options(1), [] {
      P::Atomic<int> parked{0};
      P::Thread holder("holder", [&parked] {
        struct Wild {
          ~Wild() {
            volatile std::uintptr_t nowhere = 16;  // unmapped; opaque, so no compiler turns it into a trap
            *reinterpret_cast<volatile int*>(nowhere) = 1;
          }
        } wild;
        P::Parker p;
        parked.store(1, Order::seq_cst);
        p.park();  // waits for good: unwound in the teardown
      });
      while (parked.load(Order::seq_cst) == 0) P::yield_thread();
      P::assertion_failed("queue intact", "engine/src/q.cpp", 7);
      holder.join();
    });
  };
  EXPECT_DEATH(broken(), "the run of seed 1 had already failed when its teardown died: assertion: [^\n]*queue intact"
                         "[^\n]*simrun --no-teardown");
}

// The default: a failed run gives back what its fibers held.
TEST(Failure, TheTeardownOfAFailedRunIsOnByDefault) {
  EXPECT_TRUE(Options{}.teardown);
  const int before = Tracked::live;
  const RunResult r = run_with(options_for(0), holders_deadlock);
  ASSERT_EQ(r.outcome, Outcome::deadlock) << r.summary();
  EXPECT_EQ(r.fibers_kept, 0u);
  EXPECT_EQ(Tracked::live, before);
}

// Without the teardown (Options::teardown off) nothing is resumed after a
// failure: the fibers are abandoned with what they hold, counted in fibers_kept.
TEST(Failure, WithoutTheTeardownAFailedRunAbandonsItsFibersAndTheirDestructorsDoNotRun) {
  const int before = Tracked::live;
  const RunResult r = run_with(abandon_options(0), holders_deadlock);
  ASSERT_EQ(r.outcome, Outcome::deadlock) << r.summary();
  EXPECT_EQ(r.fibers_kept, 5u);  // main and the four holders
  EXPECT_EQ(Tracked::live, before + 4);
}

// Each run deadlocks with 2 MiB held; the budget is 16 MiB above what the process
// holds now. Before teardown the memory of each failed run was kept and a later
// run ended as resource_limit within a dozen runs; now every run has its own.
TEST(Failure, ASweepOfFailingRunsStaysWithinItsMemoryBudget) {
  const std::uint64_t start = resident_now();
  ASSERT_GT(start, 0u);
  Options o = teardown_options(3);
  o.memory_limit_bytes = start + (16u << 20);
  for (int run = 0; run < 200; ++run) {
    const RunResult r = run_with(o, holders_deadlock);
    ASSERT_EQ(r.outcome, Outcome::deadlock) << "run " << run << ": " << r.summary();
  }
#if !defined(__SANITIZE_ADDRESS__)
  // (AddressSanitizer's quarantine keeps freed memory resident, up to 256 MiB:
  // there its leak check, not the resident size, shows that nothing was kept.)
  EXPECT_LT(resident_now(), start + (16u << 20));
#endif
}

TEST(Failure, ADestructorThatBlocksInTheTeardownDoesNotWaitAndNothingIsChecked) {
  static int destructors_done = 0;
  destructors_done = 0;
  const RunResult r = run_with(teardown_options(2), [] {
    P::Mutex m;
    P::Parker never;
    P::Thread blocker("blocker", [&] {
      struct LocksInItsDestructor {
        P::Mutex& m;
        P::Parker& p;
        ~LocksInItsDestructor() {
          m.lock();  // held by main: taken at once in teardown
          p.park();  // no token: returns at once in teardown
          m.unlock();
          ++destructors_done;
        }
      } guard{m, never};
      P::Parker own;
      own.park();
    });
    m.lock();
    never.park();  // both park for good: deadlock with m held by main
  });
  ASSERT_EQ(r.outcome, Outcome::deadlock) << r.summary();
  EXPECT_EQ(r.fibers_kept, 0u);
  EXPECT_EQ(destructors_done, 1);
}

TEST(Failure, CodeThatSwallowsTheUnwindIsUnwoundAgainAtItsNextBlockingOperation) {
  const int before = Tracked::live;  // the test without the teardown leaves its four behind
  const RunResult r = run_with(teardown_options(4), [] {
    P::Parker p;
    Tracked outer;
    try {
      p.park();
    } catch (...) {  // swallows the teardown's exception
    }
    Tracked inner;
    p.park();  // throws it again
    WEFT_ASSERT(false && "not reached");
  });
  ASSERT_EQ(r.outcome, Outcome::deadlock) << r.summary();
  EXPECT_EQ(r.fibers_kept, 0u);
  EXPECT_EQ(Tracked::live, before);
}

// expect_kept_memory_ends_a_later_run runs `body` (which deadlocks with 2 MiB
// held, `kept` fibers left behind) until a run ends as resource_limit before its
// first decision: the memory kept by the failed runs is checked between runs.
void expect_kept_memory_ends_a_later_run(Options o, const std::function<void()>& body, std::uint64_t kept) {
  const std::uint64_t start = resident_now();
  ASSERT_GT(start, 0u);
  o.memory_limit_bytes = start + (16u << 20);
  int deadlocks = 0;
  RunResult last;
  for (int run = 0; run < 200; ++run) {
    last = run_with(o, body);
    if (last.outcome != Outcome::deadlock) break;
    EXPECT_EQ(last.fibers_kept, kept);
    ++deadlocks;
  }
  ASSERT_EQ(last.outcome, Outcome::resource_limit) << last.summary();
  EXPECT_EQ(last.steps, 0u);
  EXPECT_NE(last.message.find("before the run began"), std::string::npos) << last.message;
  EXPECT_NE(last.message.find("failed runs in this process keep the memory of the fibers they left"), std::string::npos)
      << last.message;
  // 2 MiB kept per run: the budget holds at least a few runs and is passed within 200.
  EXPECT_GE(deadlocks, 4);
}

// A fiber blocked inside a noexcept function cannot be unwound (the throw would
// terminate): teardown keeps it (Step T5) and the memory it keeps is checked
// before a later run's first decision.
TEST(Failure, MemoryKeptByFibersThatCannotBeUnwoundEndsALaterRunAsResourceLimitBeforeItsFirstDecision) {
  expect_kept_memory_ends_a_later_run(
      teardown_options(3),
      [] {
        std::vector<std::unique_ptr<P::Thread>> holders;
        for (int i = 0; i < 4; ++i) {
          holders.push_back(std::make_unique<P::Thread>("holder", [] {
            [&]() noexcept {
              std::vector<char> held(512 * 1024, 'x');  // resident: every page written
              P::Parker p;
              p.park();  // never unparked: the run deadlocks with `held` alive
            }();
          }));
        }
        for (auto& h : holders) h->join();
      },
      4);
}

// Without the teardown (Options::teardown off) every failed run keeps what its
// fibers hold, main and the four holders: the same check ends a sweep of failing
// runs as resource_limit instead of letting it grow.
TEST(Failure, WithoutTheTeardownMemoryKeptByFailedRunsEndsALaterRunAsResourceLimitBeforeItsFirstDecision) {
  expect_kept_memory_ends_a_later_run(abandon_options(3), holders_deadlock, 5);
}

}  // namespace
}  // namespace weft::sim::testing

namespace weft::sim::testing {
namespace {

// recurse uses about `depth` KiB of stack: each frame holds a kilobyte the compiler
// cannot drop, and the call is not in tail position.
int recurse(int depth) {
  volatile char frame[1024];
  frame[0] = static_cast<char>(depth);
  if (depth == 0) return frame[0];
  return recurse(depth - 1) + frame[0];
}

// A fault that is not an overflow (a wild write, as a late waker's write into a
// returned stack frame) still kills the process, but first names the thread,
// the decision and the seed, so a sweep that dies of it says what to replay.
TEST(Failure, AFiberThatFaultsOutsideItsStackNamesItsDecisionAndSeedBeforeTheProcessDies) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer reports the fault itself, before the simulator's handler";
#else
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  auto wild = [] {
    run_with(options_for(11), [] {
      P::Thread wild_writer("wild-writer", [] {
        P::Atomic<int> a{0};
        (void)a.load(Order::relaxed);  // a decision first
        volatile std::uintptr_t nowhere = 16;  // unmapped; opaque, so no compiler turns it into a trap
        *reinterpret_cast<volatile int*>(nowhere) = 1;
      });
      wild_writer.join();
    });
  };
  EXPECT_DEATH(wild(), "simulated thread 'wild-writer' \\(fiber 1\\) died of signal 11 at decision [0-9]+ of seed 11: "
                       "a wild memory access");
#endif
}

// A stack overflow fails the run as resource_limit, naming the thread, the
// stack's size and the option that raises it, and the process goes on (Steps
// O1-O3): three in a row on the same OS thread (the signal is unblocked each
// time), then the same depth passes on a larger stack.
TEST(Failure, AFiberThatOverflowsItsStackFailsTheRunNamingItsSizeAndTheOptionThatRaisesIt) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer reports a stack overflow itself, before the simulator's handler";
#else
  for (int round = 0; round < 3; ++round) {
    Options o = options_for(7);
    o.stack_size = 64 * 1024;
    bool joined = false;
    const RunResult r = run_with(o, [&joined] {
      P::Thread deep("deep-recursion", [] { (void)recurse(1000); });
      deep.join();
      joined = true;
    });
    ASSERT_EQ(r.outcome, Outcome::resource_limit) << r.summary();
    EXPECT_TRUE(std::regex_search(r.message, std::regex("^simulated thread 'deep-recursion' \\(fiber 1\\) overflowed "
                                                        "its stack of 65536 bytes at decision [0-9]+ \\(seed 7\\); "
                                                        "raise it with stack_size")))
        << r.message;
    EXPECT_EQ(r.fibers_kept, 1u);  // the thread that overflowed: never resumed
    EXPECT_FALSE(joined);           // main, waiting on it, was unwound
  }
  Options big = options_for(7);
  big.stack_size = 4 * 1024 * 1024;
  const RunResult r = run_with(big, [] {
    P::Thread deep("deep-recursion", [] { (void)recurse(1000); });
    deep.join();
  });
  EXPECT_EQ(r.outcome, Outcome::pass) << r.message;
#endif
}

// recurse_loading makes a seam decision (an atomic load) at every level, so in a
// debug build an overflow may fault inside the kernel's bookkeeping of that
// decision, after its count and before its entry in the record (Step O3).
int recurse_loading(P::Atomic<int>& a, int depth) {
  volatile char frame[256];
  frame[0] = static_cast<char>(a.load(Order::relaxed));
  if (depth == 0) return frame[0];
  return recurse_loading(a, depth - 1) + frame[0];
}

// Under sc (atomics are plain and their decisions go the inline way) and at 48
// stack offsets, so the fault falls at different instructions: every run ends
// as resource_limit with a whole record, or the process exits with the message;
// none aborts (the record one decision short once did, an internal error).
TEST(Failure, AnOverflowInsideADecisionsBookkeepingLeavesAWholeRecord) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer reports a stack overflow itself, before the simulator's handler";
#else
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  auto overflows = [] {
    for (std::uint64_t shift = 0; shift < 48; ++shift) {
      Options o = options_for(shift);
      o.stack_size = 64 * 1024;
      o.memory_model = MemoryModel::sc;
      const RunResult r = run_with(o, [shift] {
        P::Thread deep("deep-loading", [shift] {
          volatile char* pad = static_cast<char*>(__builtin_alloca(8 * shift + 8));
          pad[0] = 0;
          P::Atomic<int> a{1};
          (void)recurse_loading(a, 4000);
        });
        deep.join();
      });
      if (r.outcome != Outcome::resource_limit || r.schedule.decisions.size() != r.steps ||
          r.message.find(" at decision " + std::to_string(r.steps) + " ") == std::string::npos)
        std::_Exit(100);
    }
    std::fprintf(stderr, "all 48 ended as resource_limit with whole records\n");
    std::_Exit(static_cast<int>(Outcome::resource_limit));
  };
  // The line only the child's own end prints: a refused recovery (the handler's
  // exit 14, with "overflowed its stack") does not match it.
  EXPECT_EXIT(overflows(), ::testing::ExitedWithCode(static_cast<int>(Outcome::resource_limit)),
              "all 48 ended as resource_limit with whole records");
#endif
}

// recurse_allocating allocates at every level, so an overflow may fault inside
// operator new or delete (malloc's lock, the heap count's lock held).
int recurse_allocating(int depth) {
  volatile char frame[512];
  frame[0] = static_cast<char>(depth);
  auto block = std::make_unique<int[]>(16);
  block[0] = depth;
  if (depth == 0) return frame[0] + block[0];
  return recurse_allocating(depth - 1) + frame[0] + block[0];
}

// An overflow that may fall inside the allocator never hangs the process: the
// thread is left where it stands only outside operator new and delete (Step
// O2); inside, the process exits with the message. Twenty overflowing runs, at
// twenty stack offsets, either all end as resource_limit, or one exits with
// resource_limit's code.
TEST(Failure, AnOverflowInsideAnAllocatingRecursionEndsTheRunOrExitsButNeverHangs) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer reports a stack overflow itself, before the simulator's handler";
#else
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  auto overflows = [] {
    for (std::uint64_t seed = 0; seed < 20; ++seed) {
      Options o = options_for(seed);
      o.stack_size = 64 * 1024;
      const RunResult r = run_with(o, [seed] {
        P::Thread deep("deep-allocating", [seed] {
          volatile char* pad = static_cast<char*>(__builtin_alloca(24 * seed + 8));  // another fault spot per seed
          pad[0] = 0;
          (void)recurse_allocating(4000);
        });
        deep.join();
      });
      if (r.outcome != Outcome::resource_limit) std::_Exit(100);  // not an overflow: fail the expectation
    }
    std::fprintf(stderr, "all twenty ended as resource_limit: overflowed its stack\n");
    std::_Exit(static_cast<int>(Outcome::resource_limit));
  };
  EXPECT_EXIT(overflows(), ::testing::ExitedWithCode(static_cast<int>(Outcome::resource_limit)),
              "overflowed its stack");
#endif
}

// In the teardown the run has ended already, so an overflow there cannot end
// it: the process exits with the message (and the verdict it had, Step T8).
TEST(Failure, AnOverflowInTheTeardownStillExitsWithItsMessage) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer reports a stack overflow itself, before the simulator's handler";
#else
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  auto overflow = [] {
    Options o = teardown_options(7);
    o.stack_size = 64 * 1024;
    run_with(o, [] {
      P::Atomic<int> parked{0};
      P::Thread deep("deep-unwind", [&parked] {
        struct Deep {
          ~Deep() { (void)recurse(1000); }  // runs when the teardown unwinds the thread
        } deep;
        P::Parker p;
        parked.store(1, Order::seq_cst);
        p.park();  // waits for good: unwound in the teardown
      });
      while (parked.load(Order::seq_cst) == 0) P::yield_thread();
      P::assertion_failed("planted", "engine/src/x.cpp", 1);
    });
  };
  EXPECT_EXIT(overflow(), ::testing::ExitedWithCode(static_cast<int>(Outcome::resource_limit)),
              "simulated thread 'deep-unwind' \\(fiber 1\\) overflowed its stack of 65536 bytes");
#endif
}

TEST(Failure, AFaultThatIsNoOverflowKeepsItsDefaultAction) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer handles the fault itself";
#else
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  auto wild = [] {
    run_with(options_for(1), [] {
      volatile int* p = reinterpret_cast<int*>(16);
      *p = 1;
    });
  };
  EXPECT_EXIT(wild(), ::testing::KilledBySignal(SIGSEGV), "");
#endif
}

}  // namespace
}  // namespace weft::sim::testing
