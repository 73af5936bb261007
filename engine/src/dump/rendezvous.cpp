// The dump rendezvous; its protocol is written at the top of rendezvous.hpp and
// echoed here as "Step N".
#include "rendezvous.hpp"

#include <algorithm>
#include <mutex>

#include "bug_hooks.hpp"
#include "weft/events.hpp"

WEFT_NS_BEGIN
namespace detail {

bool DumpArrivals::all() const { return std::count(arrived.begin(), arrived.end(), 0) == 0; }

// ---- Round: the state of one round and its named transitions ----

void Rendezvous::Round::begin(std::uint64_t r, std::uint32_t n, std::uint64_t deadline, Parker* req) {
  WEFT_ASSERT(phase == Phase::idle || phase == Phase::done);
  WEFT_ASSERT(r > id);
  *this = Round{};
  id = r;
  phase = Phase::gathering;
  arrivals.arrived.assign(n, 0);
  arrivals.parked.assign(n, 0);
  deadline_ns = deadline;
  requester = req;
}

void Rendezvous::Round::add(std::uint32_t i, bool parked) {
  WEFT_ASSERT(phase == Phase::gathering);
  WEFT_ASSERT(arrivals.arrived[i] == 0);
  arrivals.arrived[i] = 1;
  arrivals.parked[i] = parked ? 1 : 0;
  ++count;
  WEFT_ASSERT(count <= arrivals.arrived.size());
}

void Rendezvous::Round::elect(std::int32_t who, bool timeout) {
  WEFT_ASSERT(phase == Phase::gathering);
  WEFT_ASSERT(leader == -2);
  phase = Phase::collecting;
  leader = who;
  by_timeout = timeout;
}

void Rendezvous::Round::publish(Dump d) {
  WEFT_ASSERT(phase == Phase::collecting);
  WEFT_ASSERT(d.round == id);
  result = std::move(d);
  phase = Phase::done;
}

void Rendezvous::Round::abandon() {
  WEFT_ASSERT(phase == Phase::gathering);
  WEFT_ASSERT(leader == -2);
  phase = Phase::done;  // nobody leads it: a participant that comes now is late
}

// ---- Rendezvous ----

Rendezvous::Rendezvous(std::uint32_t n, const Atomic<std::uint32_t>& shut, DumpCollector& collector,
                       OnShutdown on_shutdown, std::uint64_t slice_ns)
    : n_(n), shut_(shut), collector_(collector), on_shutdown_(on_shutdown), slice_ns_(slice_ns), seats_(new Seat[n]) {
  WEFT_CHECK(n > 0);
  // kRefuse abandons a gathering round without waking arrived participants: safe
  // only when the one participant never holds while a round gathers (the
  // current-thread driver answers or is proxied). More participants need kLeadPartial.
  WEFT_CHECK(on_shutdown != OnShutdown::kRefuse || n == 1);
  WEFT_ASSERT(slice_ns > 0);
}

std::uint64_t Rendezvous::next_id() {
  // relaxed: ids are given out under mu_; the published round only ever trails them.
  // The load and the max are redundant with the assertion; they keep the seam
  // operations the two former rendezvous made here, so traces did not change.
  const std::uint64_t last = published_.load(Order::relaxed);
  WEFT_ASSERT(last <= issued_);
  issued_ = std::max(last, issued_) + 1;
  return issued_;
}

std::uint64_t Rendezvous::open(std::uint64_t timeout_ns, Parker* requester, bool& leads) {
  std::scoped_lock lock(mu_);
  leads = false;
  // Step 2: shutdown sets shut before it ends a gathering round under mu_ (step 8):
  // a round opened after that would never end its gathering early. Refuse it.
  if (shut_.load(Order::acquire) != 0) return 0;  // pairs with shutdown's acq_rel exchange of shut
  const std::uint64_t r = next_id();
  const std::uint64_t now = Platform::now_ns();
  round_.begin(r, n_, timeout_ns > UINT64_MAX - now ? UINT64_MAX : now + timeout_ns, requester);
  emit(EventKind::dump_request, -1, 0, r);  // -1: the requester is not a participant
  // Step 2's Dekker pair with step 1: seq_cst on both sides, or each may read the other's old value.
  Order publish = Order::seq_cst, read_flag = Order::seq_cst;
  if (WEFT_BUG(dump_round_release_acquire)) publish = Order::release, read_flag = Order::acquire;  // "release/acquire pairs them"
  published_.store(r, publish);  // Step 2: publish, then read the blocked flags
  for (std::uint32_t i = 0; i < n_; ++i) {
    if (seats_[i].blocked.load(read_flag) == 0) continue;
    round_.add(i, true);  // a proxy arrival: the participant waits on its idle parker
    emit(EventKind::dump_arrive, static_cast<std::int32_t>(i), 0, r, 1);
  }
  leads = round_.count == n_;
  if (leads) {
    WEFT_ASSERT(requester != nullptr);  // a participant asking is running, never blocked
    round_.elect(-1, false);
  }
  return r;
}

std::uint64_t Rendezvous::collect_alone(std::int32_t who, Dump& out) {
  WEFT_ASSERT(n_ == 1);
  std::uint64_t r;
  {
    std::scoped_lock lock(mu_);
    if (refused()) return 0;
    r = next_id();
  }
  emit(EventKind::dump_request, who, 0, r);
  emit(EventKind::dump_arrive, who, 0, r, 0);
  emit(EventKind::dump_leader, who, 0, r, 0);
  const DumpArrivals all{{1}, {0}};
  out = collector_.collect(r, all);
  out.round = r;
  out.leader = who;
  WEFT_ASSERT(out.complete);
  emit(EventKind::dump_done, who, 0, r, 0);
  return r;
}

bool Rendezvous::arrive(std::uint32_t i, std::uint64_t r, bool parked) {
  const auto w = static_cast<std::int32_t>(i);
  std::unique_lock lock(mu_);
  const bool proxied = round_.proxied(r, i);
  // Step 3: a participant of a shut scheduler that refuses dumps does not arrive;
  // proxied, it holds (the requester reads its core).
  if (!proxied && refused()) return false;
  if (!proxied && (round_.id != r || round_.phase != Phase::gathering)) {
    emit(EventKind::mark, w, 0, static_cast<std::uint64_t>(Mark::dump_late_arrival));
    return false;  // Step 3: too late, nothing to undo
  }
  if (!proxied) {
    round_.add(i, parked);
    emit(EventKind::dump_arrive, w, 0, r, parked ? 1 : 0);
  }
  if (!proxied && round_.count == n_) {  // Step 4: the last arrival leads a complete dump
    round_.elect(w, false);
    lock.unlock();
    lead(r, w, false);
    return true;
  }
  hold(lock, r, w, seats_[i].parker);  // Step 5
  return true;
}

void Rendezvous::hold(std::unique_lock<Mutex>& lock, std::uint64_t r, std::int32_t who, Parker& parker) {
  WEFT_ASSERT(lock.owns_lock());
  for (std::uint32_t spins = 0;; ++spins) {
    WEFT_ASSERT(spins < 1'000'000);
    if (round_.finished(r)) break;
    if (who < 0 && refused()) {
      // Step 8 (kRefuse): whatever is collected now is no dump of the runtime.
      if (round_.phase == Phase::gathering) round_.abandon();
      round_.requester = nullptr;
      lock.unlock();
      throw DumpError("weft: the runtime shut down during the dump");
    }
    if (who < 0 && round_.phase == Phase::gathering && collector_.stand_in()) {
      // Step 4: the requester holds the missing participants' cores: it arrives
      // for them and leads a complete dump.
      for (std::uint32_t i = 0; i < n_; ++i) {
        if (round_.arrivals.arrived[i] != 0) continue;
        round_.add(i, true);
        emit(EventKind::dump_arrive, static_cast<std::int32_t>(i), 0, r, 1);
      }
      round_.elect(-1, false);
      lock.unlock();
      lead(r, -1, false);
      lock.lock();
      continue;
    }
    const std::uint64_t now = Platform::now_ns();
    if (round_.phase == Phase::gathering && now >= round_.deadline_ns) {
      // Tokio 7.1: the timed-out wait leaves; its arrival stays counted.
      if (who >= 0 && WEFT_BUG(dump_follower_leaves)) break;
      round_.elect(who, true);  // Step 4: the deadline passed
      lock.unlock();
      emit(EventKind::mark, who, 0, static_cast<std::uint64_t>(Mark::dump_timeout));
      lead(r, who, true);
      lock.lock();
      continue;
    }
    // Step 5: while the leader collects it may read this participant's core and
    // the frames of its tasks, so it stays until done.
    const std::uint64_t wait = round_.phase == Phase::gathering ? round_.deadline_ns - now : slice_ns_;
    lock.unlock();
    parker.park_for(wait);
    lock.lock();
  }
}

void Rendezvous::lead(std::uint64_t r, std::int32_t leader, bool by_timeout) {
  DumpArrivals arrivals;
  {
    std::scoped_lock lock(mu_);
    WEFT_ASSERT(round_.id == r && round_.phase == Phase::collecting && round_.leader == leader);
    arrivals = round_.arrivals;  // Step 6: frozen, arrivals stop once collecting
  }
  emit(EventKind::dump_leader, leader, 0, r, by_timeout ? 1 : 0);
  Dump d = collector_.collect(r, arrivals);
  d.round = r;
  d.leader = leader;
  d.leader_by_timeout = by_timeout;
  {
    std::scoped_lock lock(mu_);
    if (!d.complete) emit(EventKind::mark, leader, 0, static_cast<std::uint64_t>(Mark::dump_partial));
    emit(EventKind::dump_done, leader, 0, r, d.missed_workers.size());
    round_.publish(std::move(d));  // Step 7
    // Under the lock: a blocking requester frees its parker only after it has
    // seen done, which it cannot see before we release the lock.
    if (round_.requester) round_.requester->unpark();
  }
  for (std::uint32_t i = 0; i < n_; ++i) {
    if (arrivals.arrived[i] && static_cast<std::int32_t>(i) != leader) seats_[i].parker.unpark();
  }
  collector_.published();
}

void Rendezvous::wait_done(std::uint64_t r, Parker& parker) {
  std::unique_lock lock(mu_);
  WEFT_ASSERT(round_.id == r && round_.requester == &parker);
  hold(lock, r, -1, parker);
}

Dump Rendezvous::take_result() {
  std::scoped_lock lock(mu_);
  WEFT_ASSERT(round_.phase == Phase::done);
  round_.requester = nullptr;
  return round_.result;
}

void Rendezvous::forget_requester(Parker& parker) {
  std::scoped_lock lock(mu_);
  if (round_.requester == &parker) round_.requester = nullptr;
}

bool Rendezvous::done(std::uint64_t r) {
  std::scoped_lock lock(mu_);
  return round_.id == r && round_.phase == Phase::done;
}

Dump Rendezvous::result() {
  std::scoped_lock lock(mu_);
  return round_.result;
}

void Rendezvous::shutdown() {
  {
    // Step 8: a round still gathering ends now: nobody will arrive any more.
    std::scoped_lock lock(mu_);
    if (round_.phase == Phase::gathering) round_.deadline_ns = 0;
    if (round_.requester) round_.requester->unpark();
  }
  // A held participant re-checks, so one sees the deadline pass and leads. Where
  // shutdown refuses, a participant holds only while a requester collects for it,
  // which ends by itself: nothing to wake.
  if (on_shutdown_ == OnShutdown::kRefuse) return;
  for (std::uint32_t i = 0; i < n_; ++i) seats_[i].parker.unpark();
}

void Rendezvous::nudge_requester() {
  std::scoped_lock lock(mu_);
  if (round_.requester != nullptr && round_.phase == Phase::gathering) round_.requester->unpark();
}

}  // namespace detail
WEFT_NS_END
