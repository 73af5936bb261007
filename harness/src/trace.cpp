// Trace writers: weft's own JSON schema (weft/trace/format.hpp writes it; this
// file adds the simulated run's header fields and metrics) and Chrome
// trace events (one track per worker, polls as slices, steals and wakes as flows),
// which ui.perfetto.dev and chrome://tracing open as they are.
#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "weft/events.hpp"
#include "weft/harness/runner.hpp"
#include "weft/sim/json_input.hpp"
#include "weft/trace/format.hpp"

namespace weft::sim {
namespace {

using ojson = nlohmann::ordered_json;

ojson header(const Scenario& sc, const RunConfig& cfg, const RunReport& r) {
  ojson h = weft::trace::header_start();
  h["scenario"] = sc.name;
  h["scenario_file"] = sc.file;
  h["scenario_hash"] = sc.text_hash;
  h["seed"] = cfg.seed;
  h["strategy"] = cfg.strategy.for_seed(cfg.seed).label();  // the seed's own strategy under mixed
  h["step_bound"] = cfg.step_bound ? cfg.step_bound : sc.step_bound;
  const weft::Config c = sc.runtime.resolved();
  ojson rt;
  rt["flavor"] = sc.runtime.multi_thread() ? "multi_thread" : "current_thread";
  rt["workers"] = c.worker_threads;
  rt["local_queue_capacity"] = c.local_queue_capacity;
  rt["global_queue_interval"] = c.global_queue_interval;
  rt["event_interval"] = c.event_interval;
  rt["lifo"] = c.lifo_enabled;
  rt["max_lifo_polls"] = c.max_lifo_polls;
  rt["budget"] = c.budget;
  h["derived_options"] = rt;
  h["outcome"] = outcome_name(r.result.outcome);
  h["message"] = r.result.message;
  h["steps"] = r.result.steps;
  h["virtual_time_ns"] = r.result.virtual_time_ns;
  return h;
}

std::string weft_format(const Scenario& sc, const RunConfig& cfg, const RunReport& r) {
  std::string tail = "\"metrics_snapshots\":[";
  for (std::size_t i = 0; i < r.metrics_snapshots.size(); ++i) {
    const MetricsSnapshot& m = r.metrics_snapshots[i];
    tail += (i ? ",\n" : "\n") + std::string("{\"t_ns\":") + std::to_string(m.t_ns) + ",\"step\":" + std::to_string(m.step) +
            ",\"metrics\":" + m.json + "}";
  }
  tail += "],\"metrics\":" + (r.metrics_json.empty() ? std::string("null") : r.metrics_json);
  auto kind_name = [](std::uint8_t k) { return weft::event_name(static_cast<weft::EventKind>(k)); };
  return weft::trace::write_trace(header(sc, cfg, r), r.events, kind_name, tail);
}

// Chrome trace: ts is the event's position in the run (1 µs per event) so that
// zero-length virtual intervals stay visible; virtual time is in args.
std::string chrome_format(const Scenario& sc, const RunConfig& cfg, const RunReport& r) {
  ojson events = ojson::array();
  auto tid_of = [](std::int32_t w) { return w < 0 ? 0 : w + 1; };
  std::map<int, bool> seen_tid;
  std::map<std::int32_t, std::uint64_t> open_poll;  // worker -> task polled
  std::uint64_t flow_id = 0;
  std::map<std::uint64_t, std::uint64_t> pending_wake;  // task -> flow id
  for (std::size_t i = 0; i < r.events.size(); ++i) {
    const TraceEvent& e = r.events[i];
    auto kind = static_cast<weft::EventKind>(e.kind);
    int tid = tid_of(e.worker);
    seen_tid[tid] = true;
    ojson ev;
    ev["pid"] = 1;
    ev["tid"] = tid;
    ev["ts"] = static_cast<double>(i);
    ojson args = {{"t_ns", e.t_ns}, {"step", e.step}, {"task", e.task}, {"a", e.a}, {"b", e.b}};
    switch (kind) {
      case weft::EventKind::poll_start: {
        ev["ph"] = "B";
        ev["name"] = "poll task " + std::to_string(e.task);
        ev["args"] = args;
        events.push_back(ev);
        open_poll[e.worker] = e.task;
        auto it = pending_wake.find(e.task);
        if (it != pending_wake.end()) {
          events.push_back({{"pid", 1}, {"tid", tid}, {"ts", static_cast<double>(i)}, {"ph", "f"}, {"bp", "e"},
                            {"name", "wake"}, {"cat", "wake"}, {"id", it->second}});
          pending_wake.erase(it);
        }
        continue;
      }
      case weft::EventKind::poll_end:
        ev["ph"] = "E";
        ev["args"] = {{"result", e.a == 1 ? "complete" : e.a == 2 ? "cancelled" : "pending"}};
        if (!open_poll.count(e.worker)) continue;  // cancellation outside a poll
        open_poll.erase(e.worker);
        events.push_back(ev);
        continue;
      case weft::EventKind::steal: {
        std::uint64_t id = ++flow_id;
        int victim_tid = tid_of(static_cast<std::int32_t>(e.b));
        events.push_back({{"pid", 1}, {"tid", victim_tid}, {"ts", static_cast<double>(i)}, {"ph", "s"},
                          {"name", "steal"}, {"cat", "steal"}, {"id", id}});
        events.push_back({{"pid", 1}, {"tid", tid}, {"ts", static_cast<double>(i) + 0.5}, {"ph", "f"}, {"bp", "e"},
                          {"name", "steal"}, {"cat", "steal"}, {"id", id}});
        break;
      }
      case weft::EventKind::wake: {
        std::uint64_t id = ++flow_id;
        pending_wake[e.task] = id;
        events.push_back({{"pid", 1}, {"tid", tid}, {"ts", static_cast<double>(i)}, {"ph", "s"}, {"name", "wake"},
                          {"cat", "wake"}, {"id", id}});
        break;
      }
      default: break;
    }
    ev["ph"] = "i";
    ev["s"] = "t";
    std::string name = weft::event_name(kind);
    if (kind == weft::EventKind::mark) name = std::string("mark:") + weft::mark_name(static_cast<weft::Mark>(e.a));
    ev["name"] = name;
    ev["args"] = args;
    events.push_back(ev);
  }
  // Metrics snapshots as counter tracks, placed at the first event of their step.
  for (const MetricsSnapshot& m : r.metrics_snapshots) {
    auto at = std::lower_bound(r.events.begin(), r.events.end(), m.step,
                               [](const TraceEvent& e, std::uint64_t step) { return e.step < step; });
    const auto ts = static_cast<std::uint64_t>(at - r.events.begin());
    const nlohmann::json j = nlohmann::json::parse(m.json);
    events.push_back({{"pid", 1}, {"ph", "C"}, {"ts", ts}, {"name", "tasks"},
                      {"args", {{"alive", j.value("num_alive_tasks", 0ull)},
                                {"injection_queue_depth", j.value("injection_queue_depth", 0ull)}}}});
    ojson depths = ojson::object();
    std::size_t w = 0;
    for (const auto& wm : j["workers"]) depths["worker " + std::to_string(w++)] = wm.value("local_queue_depth", 0ull);
    events.push_back({{"pid", 1}, {"ph", "C"}, {"ts", ts}, {"name", "local queue depth"}, {"args", depths}});
  }
  for (auto& [tid, _] : seen_tid) {
    events.push_back({{"pid", 1}, {"tid", tid}, {"ph", "M"}, {"name", "thread_name"},
                      {"args", {{"name", tid == 0 ? std::string("outside") : "worker " + std::to_string(tid - 1)}}}});
  }
  events.push_back({{"pid", 1}, {"ph", "M"}, {"name", "process_name"}, {"args", {{"name", "weft " + sc.name}}}});
  ojson root;
  root["traceEvents"] = events;
  root["displayTimeUnit"] = "ns";
  root["metadata"] = header(sc, cfg, r);
  return dump_safe(root) + "\n";
}

}  // namespace

std::string trace_json(const Scenario& sc, const RunConfig& cfg, const RunReport& r, const std::string& format) {
  if (format == "chrome") return chrome_format(sc, cfg, r);
  return weft_format(sc, cfg, r);
}

}  // namespace weft::sim
