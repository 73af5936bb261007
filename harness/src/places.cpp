// Where tasks sit at the moment of an action (see places.hpp).
#include "places.hpp"

#include <algorithm>

#include "interpreter.hpp"
#include "recorder.hpp"
#include "weft/sim/detail/kernel.hpp"

namespace weft::sim {

const char* place_name(Place p) {
  switch (p) {
    case Place::lifo_slot: return "lifo_slot";
    case Place::local_queue: return "local_queue";
    case Place::defer_list: return "defer_list";
    case Place::injection_queue: return "injection_queue";
    case Place::blocking_queue: return "blocking_queue";
    case Place::timer: return "timer";
    case Place::channel_waiter: return "channel_waiter";
    case Place::notify_waiter: return "notify_waiter";
    case Place::mutex_waiter: return "mutex_waiter";
    case Place::running: return "running";
    case Place::count_: break;
  }
  return "?";
}

const char* action_name(Action a) {
  switch (a) {
    case Action::shutdown: return "shutdown";
    case Action::dump_complete: return "dump_complete";
    case Action::dump_partial: return "dump_partial";
    case Action::abort: return "abort";
    case Action::count_: break;
  }
  return "?";
}

namespace {

Place place_of(weft::detail::RuntimeCore::TaskPlace p) {
  using T = weft::detail::RuntimeCore::TaskPlace;
  switch (p) {
    case T::lifo_slot: return Place::lifo_slot;
    case T::local_queue: return Place::local_queue;
    case T::defer_list: return Place::defer_list;
    case T::injection_queue: return Place::injection_queue;
    case T::blocking_queue: return Place::blocking_queue;
  }
  return Place::count_;
}

// awaited is the place of a program that awaits `w` and is neither running nor queued.
Place awaited(ProgramState::Wait w) {
  using W = ProgramState::Wait;
  switch (w) {
    case W::sleep: return Place::timer;
    case W::recv:
    case W::send: return Place::channel_waiter;
    case W::notified: return Place::notify_waiter;
    case W::recv_lock: return Place::mutex_waiter;
    case W::blocking: return Place::blocking_queue;
    default: return Place::count_;
  }
}

}  // namespace

std::uint32_t PlaceObserver::sample(const std::vector<std::uint64_t>* only) const {
  std::uint32_t places = 0;
  if (core_ == nullptr || st_ == nullptr || tearing_down()) return places;
  // Detached (as the probes run): the engine's seam operations are plain reads.
  const std::string error = detail::tls_kernel->observe([&] { places = read(only); });
  if (!error.empty()) detail::tls_kernel->fail(Outcome::assertion, "place observer threw: " + error);
  return places;
}

std::uint32_t PlaceObserver::read(const std::vector<std::uint64_t>* only) const {
  auto wanted = [only](std::uint64_t id) { return only == nullptr || std::find(only->begin(), only->end(), id) != only->end(); };
  std::uint32_t places = 0;
  std::vector<std::uint64_t> seen = rec_.polling();  // running or queued: not in an await's place
  for (std::uint64_t id : seen) {
    if (wanted(id)) places |= place_bit(Place::running);
  }
  std::vector<std::uint64_t> blocking_queued;  // blocking-pool jobs not yet taken by a thread
  core_->place_tasks([&](std::uint64_t id, weft::detail::RuntimeCore::TaskPlace p) {
    const Place place = place_of(p);
    if (place == Place::blocking_queue) blocking_queued.push_back(id);
    if (wanted(id)) places |= place_bit(place);
    seen.push_back(id);
  });
  std::sort(blocking_queued.begin(), blocking_queued.end());
  std::sort(seen.begin(), seen.end());
  for (std::size_t uid = 0; uid < st_->at.size(); ++uid) {
    const ProgramState::At& at = st_->at[uid];
    if (at.wait == ProgramState::Wait::none || st_->completed[uid] || st_->cancelled[uid]) continue;
    if (!wanted(at.task) || std::binary_search(seen.begin(), seen.end(), at.task)) continue;
    const Place place = awaited(at.wait);
    if (place == Place::count_) continue;
    // A blocking-pool job is not the program's task: the program sits in the
    // blocking queue only while the job it awaits is still queued there.
    if (place == Place::blocking_queue && !std::binary_search(blocking_queued.begin(), blocking_queued.end(), at.on_task))
      continue;
    places |= place_bit(place);
  }
  return places;
}

}  // namespace weft::sim
