// The dump rendezvous, written once for both schedulers: n participants (the
// multi-thread scheduler's workers; the current-thread driver alone) meet, one of
// them or the requester leads, and the requester gets the dump. A scheduler
// supplies only its Collector: how to read its cores and queues.
//
// Protocol (one gathering round at a time: each scheduler serialises its requests;
// a current-thread dump asked for from a task on the driver collects alone, without
// a round, since nothing else runs meanwhile). A dump
// never touches a participant's idle parker: a token left there would make its
// next park return at once and count a park and a no-op wake that never happened.
//   1. Before waiting on its idle parker (spinning included), a participant sets
//      its blocked flag, then re-reads the published round (both seq_cst); if a
//      round is pending it clears the flag, answers it (step 3) and starts again,
//      unless answering gave it work (it led, and woke a task onto its core; or a
//      task the dump's last reference freed woke one): then it leaves the wait as
//      if woken. After the wait it clears the flag and re-reads the round (seq_cst)
//      before touching its core, answering any pending round.
//   2. The requester opens round r under mu_, refused once the scheduler is shut:
//      phase gathering, nobody arrived, deadline = now + timeout (saturating: no
//      timeout never wraps). It publishes r (seq_cst), then reads every blocked flag
//      (seq_cst) and arrives on behalf of each blocked participant (a proxy
//      arrival, parked). Steps 1 and 2 form a Dekker pair: either the requester sees
//      the flag, or the participant sees r before it waits (or after it wakes), so
//      every participant is proxied or answers itself, and a proxied one that wakes
//      during the round sees r before touching its core. Nobody is woken; if every
//      participant was proxied, the requester leads at once.
//   3. A participant that sees r arrives: under mu_ it marks itself arrived, unless
//      it was proxied (it only waits, step 5) or the round no longer gathers (a late
//      arrival does nothing and leaves no trace but a mark). Where shutdown refuses
//      dumps (kRefuse), a participant of a shut scheduler does not arrive either: it
//      only holds when proxied, since the requester is reading its core.
//   4. Leader election, under mu_, exactly once per round (phase gathering ->
//      collecting): the arrival that makes all n arrived leads a complete dump;
//      otherwise whoever first sees the deadline pass while gathering (an arrived
//      participant, or the waiting requester) leads a partial one. A waiting
//      requester that can take the place of the missing participants (the
//      Collector's stand_in: the current-thread requester takes the free core of a
//      driver that left) arrives on their behalf and leads a complete dump.
//      Arrivals never take anything back: the next round starts from scratch.
//   5. Non-leaders wait on their own dump parker (never the idle parker): until the
//      deadline while gathering, then slice by slice until done. The leader reads
//      their cores and their tasks' frames, and collecting takes no waits, so the
//      wait ends with the leader's own progress. A proxied participant still
//      waiting on its idle parker stays there.
//   6. The leader collects through the Collector, outside mu_, with the arrivals
//      frozen (no arrival is taken once collecting).
//   7. The leader publishes under mu_ (phase done), unparks the requester under mu_
//      (it frees its parker only after it has seen done), then the arrived
//      participants' dump parkers, then tells the Collector. The requester takes the
//      result. Everyone resumes exactly where it was.
//   8. Shutdown, under mu_, ends a gathering round's wait (deadline now) and wakes
//      the requester. kLeadPartial (multi-thread): it wakes every dump parker too,
//      and whoever sees the deadline first leads what it can. kRefuse (current
//      thread): the requester abandons the round (gathering -> done, nobody leads
//      it) and refuses, whatever was collected, since a round collected now is no
//      dump of a runtime that shutdown empties; a participant holding for a proxy
//      collection holds until it is done, shut or not.
//   9. A requester whose wait is left by the unwind of a failed simulated run
//      (its frame, and the parker in it, die mid-round) is forgotten under mu_
//      first, so step 8 never unparks a dead parker (RequesterScope; only then:
//      every other way out has cleared it, by taking the result or refusing).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "weft/assert.hpp"
#include "weft/dump.hpp"
#include "weft/platform/platform.hpp"

WEFT_NS_BEGIN
namespace detail {

// DumpArrivals is who arrived at a round, frozen once it collects.
struct DumpArrivals {
  std::vector<std::uint8_t> arrived;  // per participant
  std::vector<std::uint8_t> parked;   // arrived while waiting on its idle parker
  // all says whether every participant arrived: nobody outside the rendezvous.
  bool all() const;
};

// DumpCollector is what a scheduler supplies to the rendezvous.
class DumpCollector {
 public:
  // collect reads round r's dump (step 6): the arrived participants' cores, the
  // shared queues, every owned task. It takes no waits.
  virtual Dump collect(std::uint64_t r, const DumpArrivals& arrivals) = 0;
  // published runs after round r's result is published and its waiters woken.
  virtual void published() {}
  // stand_in runs under the rendezvous lock while a requester waits on a gathering
  // round; true when the requester now holds every missing participant's core
  // (step 4).
  virtual bool stand_in() { return false; }

 protected:
  ~DumpCollector() = default;
};

// OnShutdown is what a requester does with a round that shutdown interrupts (step 8).
enum class OnShutdown : std::uint8_t { kLeadPartial, kRefuse };

// Rendezvous runs the protocol above for n participants.
class Rendezvous {
 public:
  // Phase is the state of the current (or last) round.
  enum class Phase : std::uint8_t { idle, gathering, collecting, done };

  // shut is the scheduler's shutdown flag; slice_ns how often a waiter re-checks a
  // collecting round (the leader unparks it when done).
  Rendezvous(std::uint32_t n, const Atomic<std::uint32_t>& shut, DumpCollector& collector, OnShutdown on_shutdown,
             std::uint64_t slice_ns);

  // ---- participants (participant i's own thread, or whoever holds its core) ----

  // pending says whether a round participant i has not seen is published (step 1;
  // seq_cst: pairs with the requester's reads of the blocked flags).
  bool pending(std::uint32_t i) const { return published_.load(Order::seq_cst) != seats_[i].seen; }
  // pending_between_polls is the same check on a running participant's hot path,
  // away from any park: acquire, pairing with the requester's publish (the Dekker
  // pair of step 1 matters only around a wait). The current-thread driver uses
  // it; the multi-thread worker's check between polls still calls pending, as it
  // did before the two rendezvous became one (same seam operation, same traces).
  bool pending_between_polls(std::uint32_t i) const { return published_.load(Order::acquire) != seats_[i].seen; }
  // see notes the published round as seen by participant i and returns it.
  std::uint64_t see(std::uint32_t i) {
    // acquire: pairs with open's seq_cst publication.
    const std::uint64_t r = published_.load(Order::acquire);
    seats_[i].seen = r;
    return r;
  }
  // arrive answers round r for participant i (steps 3 to 5): arrives, leads if it
  // is the last, else waits until the round is done. False when it took no part
  // (a late arrival, or refused: step 3).
  bool arrive(std::uint32_t i, std::uint64_t r, bool parked);
  // wait_blocked runs wait (a wait on participant i's idle parker) with its blocked
  // flag set, so a round is answered for it instead of waking it (step 1). answer
  // answers a pending round; has_work says whether answering gave i work. False
  // when it left without waiting (answering gave it work).
  template <class Wait, class Answer, class HasWork>
  bool wait_blocked(std::uint32_t i, Wait wait, Answer answer, HasWork has_work);

  // ---- the requester ----

  // open opens a round (step 2) for a requester that is not a participant (a
  // participant's own request is collect_alone); 0 when refused (shut). leads:
  // every participant was blocked, so the requester must lead (lead(r, -1,
  // false)). requester (may be null: a task) is unparked when done, and must stay
  // valid until take_result.
  std::uint64_t open(std::uint64_t timeout_ns, Parker* requester, bool& leads);
  // lead collects round r and publishes it (steps 6 and 7); the caller was elected.
  void lead(std::uint64_t r, std::int32_t leader, bool by_timeout);
  // collect_alone takes a dump at once for participant who, which holds every core
  // (n = 1: the current-thread driver asking from a task): nobody else can run, so
  // there is nothing to gather and no round in flight is disturbed. 0 when refused.
  std::uint64_t collect_alone(std::int32_t who, Dump& out);
  // wait_done waits on parker (the one open got) until round r is done, leading it
  // by deadline or standing in (steps 4 and 5). kRefuse: throws DumpError once shut.
  void wait_done(std::uint64_t r, Parker& parker);
  // take_result forgets the requester's parker and returns the result.
  Dump take_result();
  // RequesterScope is step 9: it forgets the requester's parker when its wait is
  // left by the unwind of a failed simulated run (Platform::unwinding;
  // sim/src/kernel.cpp, Step T4): the frame that holds the parker dies, and a
  // later shutdown must not unpark it. Every other way out clears it already
  // (take_result, or the refusal's throw in hold), so it adds no operation to
  // any other run.
  class RequesterScope {
   public:
    RequesterScope(Rendezvous& rv, Parker& parker) noexcept : rv_(rv), parker_(parker) {}
    ~RequesterScope() {
      if (Platform::unwinding()) rv_.forget_requester(parker_);
    }
    RequesterScope(const RequesterScope&) = delete;
    RequesterScope& operator=(const RequesterScope&) = delete;

   private:
    Rendezvous& rv_;
    Parker& parker_;
  };
  // forget_requester drops parker as the round's requester if it still is.
  void forget_requester(Parker& parker);
  // done says whether round r is done.
  bool done(std::uint64_t r);
  // result returns the last published result.
  Dump result();

  // ---- the scheduler ----

  // shutdown wakes every waiter of a round in flight (step 8).
  void shutdown();
  // nudge_requester wakes a requester waiting on a gathering round: something it
  // may act on changed (the current-thread driver left, freeing the core).
  void nudge_requester();

 private:
  // Round is the current (or last) round, guarded by mu_; its transitions assert
  // the phase they leave.
  struct Round {
    std::uint64_t id = 0;
    Phase phase = Phase::idle;
    DumpArrivals arrivals;
    std::uint32_t count = 0;
    std::int32_t leader = -2;
    bool by_timeout = false;
    std::uint64_t deadline_ns = 0;
    Parker* requester = nullptr;
    Dump result;

    void begin(std::uint64_t r, std::uint32_t n, std::uint64_t deadline, Parker* req);
    void add(std::uint32_t i, bool parked);
    void elect(std::int32_t who, bool timeout);
    void publish(Dump d);
    void abandon();
    bool proxied(std::uint64_t r, std::uint32_t i) const { return id == r && arrivals.arrived[i] != 0; }
    bool finished(std::uint64_t r) const { return id != r || phase == Phase::done; }
  };
  // Seat is one participant's part: written by it (seen, blocked) and read by
  // requesters (blocked); its dump parker.
  struct alignas(128) Seat {
    Atomic<std::uint32_t> blocked{0};  // 1 while it waits on its idle parker (step 1)
    Parker parker;                     // waits inside a round; never carries idle wake-ups
    std::uint64_t seen = 0;            // owner only: its participant; the last round it answered
  };
  // hold waits until round r is done, as participant who (-1: the requester) on
  // parker, leading by deadline if it comes first (steps 4 and 5). lock is held.
  void hold(std::unique_lock<Mutex>& lock, std::uint64_t r, std::int32_t who, Parker& parker);
  // refused says whether a shutdown makes this scheduler refuse dumps now. The
  // acquire pairs with shutdown's acq_rel exchange of shut.
  bool refused() const { return on_shutdown_ == OnShutdown::kRefuse && shut_.load(Order::acquire) != 0; }
  // next_id gives out a round id; mu_ is held.
  std::uint64_t next_id();

  const std::uint32_t n_;
  const Atomic<std::uint32_t>& shut_;
  DumpCollector& collector_;
  const OnShutdown on_shutdown_;
  const std::uint64_t slice_ns_;
  std::unique_ptr<Seat[]> seats_;  // before publication: the array; each Seat synchronises itself
  Mutex mu_;  // guards round_
  Round round_;  // guarded by mu_
  std::uint64_t issued_ = 0;  // the last round id given out, guarded by mu_
  Atomic<std::uint64_t> published_{0};  // the round participants must answer
};

template <class Wait, class Answer, class HasWork>
bool Rendezvous::wait_blocked(std::uint32_t i, Wait wait, Answer answer, HasWork has_work) {
  Atomic<std::uint32_t>& blocked = seats_[i].blocked;
  // Each pass answers a newer round, so the loop ends once dumps stop arriving.
  for (std::uint32_t rounds = 0;; ++rounds) {
    WEFT_ASSERT(rounds < 1'000'000);
    blocked.store(1, Order::seq_cst);  // Step 1: flag, then re-read the round
    if (!pending(i)) break;
    blocked.store(0, Order::seq_cst);
    answer();  // answered while still parked
    if (has_work()) return false;
  }
  wait();
  blocked.store(0, Order::seq_cst);  // Step 1: clear, then re-read the round
  if (pending(i)) answer();
  return true;
}

}  // namespace detail
WEFT_NS_END
