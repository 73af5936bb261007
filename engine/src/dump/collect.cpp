// The collection pass both schedulers share, and the one place a dump becomes
// text: Dump::to_json, which renders each place (DumpLocation) as words.
#include "collect.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

WEFT_NS_BEGIN
namespace detail {

DumpTask describe_task(TaskHeader* t, bool read_chain) {
  DumpTask d;
  d.id = t->id_;
  // acquire: pairs with the release half of the task state transitions (task_state.hpp); a snapshot for
  // the dump.
  std::uint64_t s = t->state_.load(Order::acquire);
  if (s & state::kComplete) {
    d.state = "complete";
  } else if (s & state::kCancelled) {
    d.state = "cancelling";
  } else if (s & state::kRunning) {
    d.state = "running";
  } else if (s & state::kNotified) {
    d.state = "notified";
  } else {
    d.state = "idle";
  }
  if (!read_chain) return d;
  int depth = 0;
  for (PromiseLink* p = t->root_promise(); p != nullptr && p->thrown() == nullptr && depth < 256;
       p = p->awaiting(), ++depth) {
    const std::source_location loc = p->await_loc();
    if (loc.line() == 0) break;  // never reached an await: no frame to show
    const char* fn = loc.function_name();
    d.backtrace.push_back(DumpFrame{fn ? fn : "", loc.file_name() ? loc.file_name() : "", loc.line()});
    if (p->awaiting() == nullptr) {  // the innermost: it awaits the task's leaf
      if (const LeafKind* leaf = t->leaf()) d.waiting_on = leaf->name;
    }
  }
  return d;
}

void collect_tasks(Dump& d, std::vector<TaskHeader*>& owned, const DumpPlaces& places,
                   const std::function<DumpVerdict(TaskHeader*, std::uint64_t, const DumpPlace*)>& judge) {
  std::sort(owned.begin(), owned.end(), [](TaskHeader* a, TaskHeader* b) { return a->id_ < b->id_; });
  for (TaskHeader* t : owned) {
    // acquire: as in describe_task above; pairs with the transitions' release.
    const std::uint64_t s = t->state_.load(Order::acquire);
    auto it = places.find(t);
    const DumpPlace* place = it == places.end() ? nullptr : &it->second;
    DumpVerdict v = judge(t, s, place);
    WEFT_ASSERT(v.read || !v.claimed);
    DumpTask dt = describe_task(t, v.read);
    if (v.claimed) {
      dt.state = "idle";
      task_ops::release_claim(t, -1);
    }
    if (v.location != DumpLocation::unknown) {
      dt.location = v.location;
      dt.worker = v.worker;
    } else if (place) {
      dt.location = place->location;
      dt.worker = place->worker;
    } else if (s & state::kComplete) {
      dt.location = DumpLocation::complete;
    } else if (s & state::kRunning) {
      dt.location = DumpLocation::running;
    } else {
      dt.location = (s & state::kNotified) ? DumpLocation::in_transit : DumpLocation::waiting;
    }
    if (!v.not_captured.empty()) {
      dt.captured = false;
      dt.not_captured_reason = std::move(v.not_captured);
      d.complete = false;
    }
    d.tasks.push_back(std::move(dt));
  }
  for (TaskHeader* t : owned) task_ops::ref_dec(t);
}

namespace {

// location_text renders a place as the JSON names it.
std::string location_text(DumpLocation l, std::int32_t worker) {
  const std::string w = std::to_string(worker);
  switch (l) {
    case DumpLocation::unknown: return "unknown";
    case DumpLocation::local_queue: return "worker " + w + " local queue";
    case DumpLocation::lifo_slot: return "worker " + w + " lifo slot";
    case DumpLocation::defer_list: return "worker " + w + " defer list";
    case DumpLocation::injection_queue: return "injection queue";
    case DumpLocation::blocking_queue: return "blocking pool queue";
    case DumpLocation::blocking_running: return "running on the blocking pool";
    case DumpLocation::running_on_worker: return "running on worker " + w;
    case DumpLocation::running_requester: return "running on worker " + w + " (requested this dump)";
    case DumpLocation::running: return "running";
    case DumpLocation::complete: return "complete";
    case DumpLocation::in_transit: return "in transit";
    case DumpLocation::waiting: return "waiting";
  }
  WEFT_CHECK(false && "unknown DumpLocation");
  return {};
}

}  // namespace
}  // namespace detail

std::string Dump::to_json() const {
  nlohmann::ordered_json j;
  j["round"] = round;
  j["complete"] = complete;
  j["leader"] = leader;
  j["leader_by_timeout"] = leader_by_timeout;
  j["missed_workers"] = missed_workers;
  j["injection_queue_depth"] = injection_queue_depth;
  j["now_ns"] = now_ns;
  auto& ws = j["workers"] = nlohmann::ordered_json::array();
  for (const DumpWorker& w : workers) {
    nlohmann::ordered_json o;
    o["index"] = w.index;
    o["state"] = w.state;
    o["captured"] = w.captured;
    if (!w.missed_reason.empty()) o["missed_reason"] = w.missed_reason;
    o["local_queue_depth"] = w.local_queue_depth;
    o["lifo_task"] = w.lifo_task;
    o["running_task"] = w.running_task;
    o["deferred"] = w.deferred;
    ws.push_back(std::move(o));
  }
  auto& ts = j["tasks"] = nlohmann::ordered_json::array();
  for (const DumpTask& t : tasks) {
    nlohmann::ordered_json o;
    o["id"] = t.id;
    o["state"] = t.state;
    o["location"] = detail::location_text(t.location, t.worker);
    o["worker"] = t.worker;
    o["captured"] = t.captured;
    if (!t.not_captured_reason.empty()) o["not_captured_reason"] = t.not_captured_reason;
    if (!t.waiting_on.empty()) o["waiting_on"] = t.waiting_on;
    auto& bt = o["backtrace"] = nlohmann::ordered_json::array();
    for (const DumpFrame& f : t.backtrace) bt.push_back({{"function", f.function}, {"file", f.file}, {"line", f.line}});
    ts.push_back(std::move(o));
  }
  return j.dump();
}

WEFT_NS_END
