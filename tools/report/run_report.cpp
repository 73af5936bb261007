// The HTML reports (see run_report.hpp). The run's data is computed here, once,
// in exact integers (lanes, intervals, queue depths); the page's script only
// draws it, a pixel column at a time, so a run of a million decisions stays
// quick to open: what falls in one column is drawn once.
#include "report/run_report.hpp"

#include <algorithm>
#include <deque>
#include <map>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <nlohmann/json.hpp>

#include "weft/events.hpp"
#include "weft/sim/json_input.hpp"

namespace weft::report {
namespace {

using ojson = nlohmann::ordered_json;
using weft::EventKind;

// kLastDecisions is how many decisions before the end of a run the report lists.
constexpr std::size_t kLastDecisions = 40;

// script_json renders data for a <script type="application/json"> element: no
// "</" can close the element early ("<\/" is the same JSON string).
std::string script_json(const ojson& j) {
  std::string s = sim::dump_safe(j);
  std::string o;
  o.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '<' && i + 1 < s.size() && s[i + 1] == '/') {
      o += "<\\/";
      ++i;
    } else {
      o += s[i];
    }
  }
  return o;
}

// QueueModel replays the queue events to the depth of each queue after each
// event. The local queue is FIFO for its owner and for thieves (both take the
// oldest); the injection queue is FIFO. What no event names is inferred from the
// engine's queue protocol (engine/src/queues.hpp): a batch taken from the
// injection queue keeps its first task to run and puts the rest in the taker's
// local queue; a steal moves the victim's oldest n tasks and runs the newest of
// them; an overflow of a > 1 moves the newest a-1 tasks and the new one to the
// injection queue (an overflow of one task is followed by its inject_push). A
// polled task, or one cancelled outside a poll (shutdown drains the queues),
// leaves whichever queue the model has it in (entries leave the
// deques lazily: where_ is the truth, the deques keep the order; each entry
// carries the number of its put, so a task that left a queue and came back is
// found at its new place, not at the stale entry of its earlier stay). A task
// cancelled outside a poll is gone for good: at shutdown another worker may
// still move its queue entry (its LIFO slot into its local queue), and that
// entry is dropped with no event, so the model does not put it again.
class QueueModel {
 public:
  explicit QueueModel(std::size_t workers) : local_(workers), count_(workers + 1, 0) {}

  // apply updates the queues for event e; returns the series it changed (-1: the
  // injection queue, w: worker w's local queue).
  std::vector<int> apply(const sim::TraceEvent& e) {
    const auto kind = static_cast<EventKind>(e.kind);
    const bool on_worker = e.worker >= 0 && static_cast<std::size_t>(e.worker) < local_.size();
    const int w = e.worker;
    switch (kind) {
      case EventKind::local_push:
        if (!on_worker) return {};
        put(e.task, w, false);
        return {w};
      case EventKind::inject_push:
        put(e.task, -1, false);
        return {-1};
      case EventKind::inject_pop: {
        if (!on_worker) return {};
        for (std::uint64_t i = 0; i < e.a; ++i) {
          const auto t = take(-1, true);
          if (!t) break;
          if (i > 0) put(*t, w, false);
        }
        return {-1, w};
      }
      case EventKind::steal: {
        if (!on_worker || e.b >= local_.size()) return {};
        const int victim = static_cast<int>(e.b);
        for (std::uint64_t i = 0; i < e.a; ++i) {
          const auto t = take(victim, true);
          if (!t) break;
          if (i + 1 < e.a) put(*t, w, false);  // the newest stolen runs at once
        }
        return {victim, w};
      }
      case EventKind::overflow: {
        if (!on_worker || e.a <= 1) return {};
        std::vector<std::uint64_t> moved;
        for (std::uint64_t i = 0; i + 1 < e.a; ++i) {
          const auto t = take(w, false);
          if (!t) break;
          moved.push_back(*t);
        }
        for (auto it = moved.rbegin(); it != moved.rend(); ++it) put(*it, -1, false);
        put(e.task, -1, false);
        return {w, -1};
      }
      case EventKind::poll_end:  // a task cancelled outside a poll (drained at shutdown) leaves its queue too
        if (e.a != 2) return {};
        cancelled_.insert(e.task);
        [[fallthrough]];
      case EventKind::poll_start: {
        auto it = where_.find(e.task);
        if (it == where_.end()) return {};
        const int q = it->second.queue;
        where_.erase(it);
        --count_[index(q)];
        return {q};
      }
      default: return {};
    }
  }

  std::uint64_t depth(int q) const { return count_[index(q)]; }

 private:
  static std::size_t index(int q) { return static_cast<std::size_t>(q + 1); }
  // Entry is a task's place in a queue's deque: the task and the number of its put.
  struct Entry {
    std::uint64_t task = 0, put = 0;
  };
  // Place is where the model has a task: its queue and the put that placed it.
  struct Place {
    int queue = 0;
    std::uint64_t put = 0;
  };
  std::deque<Entry>& queue(int q) { return q < 0 ? inject_ : local_[static_cast<std::size_t>(q)]; }
  void put(std::uint64_t task, int q, bool front) {
    if (cancelled_.count(task) != 0) return;
    if (auto it = where_.find(task); it != where_.end()) --count_[index(it->second.queue)];  // moved without an event
    const Entry e{task, ++puts_};
    where_[task] = Place{q, e.put};
    ++count_[index(q)];
    if (front) queue(q).push_front(e); else queue(q).push_back(e);
  }
  // take removes the oldest (front) or newest task of queue q, skipping entries
  // that are no longer where the task is (it left, or left and was put again).
  std::optional<std::uint64_t> take(int q, bool front) {
    auto& d = queue(q);
    while (!d.empty()) {
      const Entry e = front ? d.front() : d.back();
      if (front) d.pop_front(); else d.pop_back();
      auto it = where_.find(e.task);
      if (it == where_.end() || it->second.queue != q || it->second.put != e.put) continue;
      where_.erase(it);
      --count_[index(q)];
      return e.task;
    }
    return std::nullopt;
  }

  std::vector<std::deque<Entry>> local_;
  std::deque<Entry> inject_;
  std::unordered_map<std::uint64_t, Place> where_;
  std::unordered_set<std::uint64_t> cancelled_;  // cancelled outside a poll: never queued again
  std::uint64_t puts_ = 0;
  std::vector<std::uint64_t> count_;  // [0]: injection; [w+1]: worker w
};

// run_data computes what the page draws.
ojson run_data(const sim::Scenario& sc, const sim::RunConfig& cfg, const sim::RunReport& r, const std::string& replay) {
  const std::size_t workers = sc.runtime.resolved().worker_threads;
  const bool multi = sc.runtime.multi_thread();
  const std::size_t n_workers = multi ? workers : 1;
  // Lanes: each worker, then each other simulated thread that emitted an event.
  ojson lanes = ojson::array();
  for (std::size_t w = 0; w < n_workers; ++w) lanes.push_back(multi ? "worker " + std::to_string(w) : "driver");
  std::map<std::uint32_t, std::size_t> lane_of_fiber;
  // A worker thread's events that do not name their worker (a coverage mark, or one
  // emitted before the worker took its index) go to that worker's lane: the fiber of
  // any event that names a worker is that worker's thread, so one thread has one lane.
  // The lane is named with the fiber too, so the failing fiber's lane is found from the message.
  // (A current-thread runtime's driver is whichever thread drives it: its lane stays shared.)
  for (std::size_t i = 0; multi && i < r.events.size() && i < r.event_fibers.size(); ++i) {
    const auto& e = r.events[i];
    const std::uint32_t f = r.event_fibers[i];
    if (e.worker < 0 || static_cast<std::size_t>(e.worker) >= n_workers || f == sim::kNoFiber) continue;
    const auto w = static_cast<std::size_t>(e.worker);
    if (lane_of_fiber.emplace(f, w).second && lanes[w].get<std::string>().find(" (fiber ") == std::string::npos)
      lanes[w] = lanes[w].get<std::string>() + " (fiber " + std::to_string(f) + ")";
  }
  auto lane_of = [&](std::size_t i) -> std::size_t {
    const auto& e = r.events[i];
    if (e.worker >= 0 && static_cast<std::size_t>(e.worker) < n_workers) return static_cast<std::size_t>(e.worker);
    const std::uint32_t f = i < r.event_fibers.size() ? r.event_fibers[i] : sim::kNoFiber;
    auto it = lane_of_fiber.find(f);
    if (it != lane_of_fiber.end()) return it->second;
    auto name = r.fiber_names.find(f);
    lanes.push_back((name != r.fiber_names.end() ? name->second : std::string("thread")) + " (fiber " + std::to_string(f) + ")");
    return lane_of_fiber[f] = lanes.size() - 1;
  };
  ojson ev_step = ojson::array(), ev_t = ojson::array(), ev_lane = ojson::array(), ev_kind = ojson::array(),
        ev_task = ojson::array(), ev_a = ojson::array(), ev_b = ojson::array();
  // Intervals, as event indices: polls (start to end on one lane), parks, dump rounds.
  ojson polls = ojson::array(), parks = ojson::array(), dumps = ojson::array();
  std::map<std::size_t, std::size_t> open_poll, open_park;
  std::map<std::uint64_t, std::size_t> open_round;
  QueueModel queues(n_workers);
  std::vector<ojson> series(n_workers + 1, ojson::array());  // [0]: injection; [w+1]: worker w's local queue
  for (auto& s : series) s.push_back({0, 0});
  for (std::size_t i = 0; i < r.events.size(); ++i) {
    const auto& e = r.events[i];
    const std::size_t lane = lane_of(i);
    ev_step.push_back(e.step);
    ev_t.push_back(e.t_ns);
    ev_lane.push_back(lane);
    ev_kind.push_back(e.kind);
    ev_task.push_back(e.task);
    ev_a.push_back(e.a);
    ev_b.push_back(e.b);
    switch (static_cast<EventKind>(e.kind)) {
      case EventKind::poll_start: open_poll[lane] = i; break;
      case EventKind::poll_end:
        if (auto it = open_poll.find(lane); it != open_poll.end()) {
          polls.push_back({lane, it->second, i});
          open_poll.erase(it);
        }
        break;
      case EventKind::park: open_park[lane] = i; break;
      case EventKind::unpark:
        if (auto it = open_park.find(lane); it != open_park.end()) {
          parks.push_back({lane, it->second, i});
          open_park.erase(it);
        }
        break;
      case EventKind::dump_request: open_round.emplace(e.a, i); break;
      case EventKind::dump_done:
        if (auto it = open_round.find(e.a); it != open_round.end()) {
          dumps.push_back({it->second, i, e.a, e.b});
          open_round.erase(it);
        }
        break;
      default: break;
    }
    for (int s : queues.apply(e)) series[static_cast<std::size_t>(s + 1)].push_back({i, queues.depth(s)});
  }
  // What is still open at the end ran to the end.
  const std::size_t last = r.events.empty() ? 0 : r.events.size() - 1;
  for (auto& [lane, i] : open_poll) polls.push_back({lane, i, last});
  for (auto& [lane, i] : open_park) parks.push_back({lane, i, last});
  for (auto& [round, i] : open_round) dumps.push_back({i, last, round, 0});

  ojson d;
  d["scenario"] = sc.name;
  d["seed"] = std::to_string(cfg.seed);  // as text: a seed may exceed what a JavaScript number holds exactly
  d["strategy"] = cfg.strategy.for_seed(cfg.seed).label();  // the seed's own strategy under mixed
  d["outcome"] = sim::outcome_name(r.result.outcome);
  d["expect"] = sc.expect;
  d["message"] = r.result.message;
  d["replay"] = replay;
  d["steps"] = r.result.steps;
  d["virtual_time_ns"] = r.result.virtual_time_ns;
  d["lanes"] = lanes;
  ojson kinds = ojson::array();
  for (const char* k : weft::kEventKindNames) kinds.push_back(k);
  d["kinds"] = kinds;
  ojson marks = ojson::array();
  for (const char* m : weft::kMarkNames) marks.push_back(m);
  d["marks"] = marks;
  d["events"] = {{"step", ev_step}, {"t", ev_t}, {"lane", ev_lane}, {"kind", ev_kind},
                 {"task", ev_task}, {"a", ev_a}, {"b", ev_b}};
  d["polls"] = polls;
  d["parks"] = parks;
  d["dumps"] = dumps;
  ojson qs = ojson::array();
  qs.push_back({{"name", "injection queue"}, {"points", series[0]}});
  for (std::size_t w = 0; w < n_workers; ++w)
    qs.push_back({{"name", std::string(multi ? "worker " + std::to_string(w) : "driver") + " local queue"},
                  {"points", series[w + 1]}});
  d["queues"] = qs;
  // The last decisions, with the fiber each chose (named).
  ojson decisions = ojson::array();
  const auto& ds = r.result.schedule.decisions;
  for (std::size_t i = ds.size() > kLastDecisions ? ds.size() - kLastDecisions : 0; i < ds.size(); ++i) {
    const auto& dec = ds[i];
    std::string what;
    if (dec.kind == sim::DecisionKind::fiber) {
      auto name = r.fiber_names.find(static_cast<std::uint32_t>(dec.value));
      what = "runs fiber " + std::to_string(dec.value) + (name != r.fiber_names.end() ? " (" + name->second + ")" : "");
    } else {
      what = "draws " + std::to_string(dec.value);
    }
    decisions.push_back({i, sim::op_name(dec.op), what});
  }
  d["decisions"] = decisions;
  return d;
}

// kRunPage is the run report's page around its data: styles and the script that
// draws the lanes and the queue plots (canvas, one pass over what is visible,
// one mark per pixel column and kind), with zoom by dragging.
constexpr const char* kRunPageHead = R"HTML(<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>weft run report</title>
<style>
body { font: 13px system-ui, sans-serif; margin: 12px 18px; color: #222; }
h1 { font-size: 18px; margin: 4px 0 8px; } h2 { font-size: 15px; margin: 16px 0 6px; }
.fail { background: #fde8e8; border-left: 4px solid #c62828; padding: 6px 10px; margin: 6px 0; }
.pass { background: #e8f5e9; border-left: 4px solid #2e7d32; padding: 6px 10px; margin: 6px 0; }
pre { background: #f4f4f4; padding: 6px 8px; overflow-x: auto; margin: 4px 0; }
canvas { display: block; border: 1px solid #ccc; cursor: crosshair; }
#status { font-family: monospace; min-height: 1.4em; color: #444; }
table { border-collapse: collapse; } td, th { padding: 1px 8px; border-bottom: 1px solid #eee; text-align: left; }
tr.last td { background: #fde8e8; font-weight: bold; }
.legend span { display: inline-block; margin-right: 14px; } .legend i { display: inline-block; width: 12px; height: 10px; margin-right: 4px; }
</style></head>
<body>
<h1 id="title"></h1>
<div id="verdict"></div>
<div>Replay: <pre id="replay"></pre></div>
<div>x axis: <select id="axis"><option value="step">decisions</option><option value="t">virtual time (ns)</option></select>
<button id="reset">whole run</button> drag across the lanes to zoom in</div>
<div class="legend" id="legend"></div>
<canvas id="lanes"></canvas>
<div id="status"></div>
<h2>Queue depths</h2>
<canvas id="queues"></canvas>
<div class="legend" id="qlegend"></div>
<h2>The last decisions</h2>
<table id="decisions"><tr><th>decision</th><th>at</th><th>chose</th></tr></table>
<script id="data" type="application/json">)HTML";

constexpr const char* kRunPageTail = R"HTML(</script>
<script>
"use strict";
const D = JSON.parse(document.getElementById("data").textContent);
const E = D.events, N = E.step.length;
const KIND = {}; D.kinds.forEach((k, i) => KIND[k] = i);
const COLORS = {poll: "#4f7fbf", park: "#c9c9c9", steal: "#ef8a17", overflow: "#c62828", mark: "#2e7d32",
                inject: "#7b1fa2", spawn: "#9e9e9e", dump: "#00838f", fail: "#c62828"};
const laneH = 20, labelW = 190, plotH = 150;
let axis = "step", view = null;
const byId = id => document.getElementById(id);
const failed = D.outcome !== "pass";
byId("title").textContent = `${D.scenario}, seed ${D.seed}, ${D.strategy}: ${D.outcome} (scenario expects ${D.expect})`;
const fiberMatch = /fiber (\d+) \(([^)]*)\)/.exec(D.message || "");
byId("verdict").className = failed ? "fail" : "pass";
byId("verdict").textContent = failed
  ? `${D.outcome} after ${D.steps} decisions: ${D.message}` + (fiberMatch ? `  [fiber ${fiberMatch[1]}, ${fiberMatch[2]}]` : "")
  : `passed: ${D.steps} decisions, ${D.virtual_time_ns} ns of virtual time`;
byId("replay").textContent = D.replay;
const legend = [["poll", "polls"], ["park", "parked"], ["steal", "steals"], ["overflow", "overflows"], ["inject", "injection"],
                ["mark", "coverage marks"], ["dump", "dump rounds"], ["spawn", "spawns, wakes"]];
byId("legend").innerHTML = legend.map(([c, t]) => `<span><i style="background:${COLORS[c]}"></i>${t}</span>`).join("")
  + (failed ? `<span><i style="background:${COLORS.fail}"></i>the failure</span>` : "");
const X = i => axis === "step" ? E.step[i] : E.t[i];
const xEnd = () => axis === "step" ? Math.max(D.steps, N ? E.step[N - 1] : 1) : Math.max(D.virtual_time_ns, N ? E.t[N - 1] : 1, 1);
// first event at or after x (events are in order on both axes).
function lowerBound(x) { let lo = 0, hi = N; while (lo < hi) { const m = (lo + hi) >> 1; if (X(m) < x) lo = m + 1; else hi = m; } return lo; }
// The lane of fiber N in the message, if it has one.
const failLane = fiberMatch ? D.lanes.findIndex(l => l.endsWith(`(fiber ${fiberMatch[1]})`)) : -1;
function category(k) {
  const name = D.kinds[k];
  if (name === "steal") return "steal";
  if (name === "overflow") return "overflow";
  if (name === "inject_push" || name === "inject_pop") return "inject";
  if (name === "mark") return "mark";
  if (name.startsWith("dump_")) return "dump";
  if (name === "spawn" || name === "wake") return "spawn";
  return null;
}
const CAT_ROW = {steal: 0, overflow: 0, inject: 1, mark: 2, dump: 3, spawn: 3};
function setup(canvas, height) {
  const w = Math.max(600, document.body.clientWidth - 40), r = window.devicePixelRatio || 1;
  canvas.width = w * r; canvas.height = height * r; canvas.style.width = w + "px"; canvas.style.height = height + "px";
  const g = canvas.getContext("2d"); g.setTransform(r, 0, 0, r, 0, 0); g.clearRect(0, 0, w, height);
  if (!g.weftCounted) {  // every shape drawn counts, so a test can see the drawing is decimated
    g.weftCounted = true;
    for (const op of ["fillRect", "moveTo", "lineTo"]) { const f = g[op].bind(g); g[op] = (...a) => { drawn.shapes++; f(...a); }; }
  }
  drawn.width = Math.max(drawn.width, w - labelW - 10);
  return [g, w - labelW - 10];
}
let drawn = {lanes: 0, series: 0, columns: 0, shapes: 0, width: 0};
function draw() {
  drawn.shapes = 0;
  const [x0, x1] = view || [0, xEnd()];
  const span = Math.max(x1 - x0, 1);
  // Lanes.
  const L = D.lanes.length, H = L * laneH + 24;
  const [g, W] = setup(byId("lanes"), H);
  const px = x => labelW + (x - x0) / span * W;
  g.font = "12px system-ui, sans-serif"; g.textBaseline = "middle";
  for (let l = 0; l < L; l++) {
    g.fillStyle = l % 2 ? "#fafafa" : "#f0f0f0"; g.fillRect(labelW, l * laneH, W, laneH);
    g.fillStyle = l === failLane ? COLORS.fail : "#222"; g.fillText(D.lanes[l], 4, l * laneH + laneH / 2);
  }
  // Dump rounds: bands across every lane.
  g.fillStyle = "rgba(0,131,143,0.12)";
  let dumpCol = -1;  // rounds narrower than a pixel: one band per pixel column
  for (const [i0, i1] of D.dumps) {
    const a = px(X(i0)), b = px(X(i1));
    if (b < labelW || a > labelW + W) continue;
    if (b - a < 1) { if (Math.floor(a) === dumpCol) continue; dumpCol = Math.floor(a); }
    g.fillRect(Math.max(a, labelW), 0, Math.max(Math.min(b, labelW + W) - Math.max(a, labelW), 1), L * laneH);
  }
  // Intervals: one rectangle per interval wider than a pixel, else one mark per pixel column.
  const columns = new Map();
  const colMark = (lane, col, cat) => { const k = (lane * 8 + cat) * 100000 + col; columns.set(k, 1); };
  const bars = (list, color, y0, h, cat) => {
    g.fillStyle = color;
    for (const [lane, i0, i1] of list) {
      const a = px(X(i0)), b = px(X(i1));
      if (b < labelW || a > labelW + W) continue;
      if (b - a >= 1) g.fillRect(Math.max(a, labelW), lane * laneH + y0, Math.min(b, labelW + W) - Math.max(a, labelW), h);
      else colMark(lane, Math.floor(a - labelW), cat);
    }
  };
  bars(D.parks, COLORS.park, 3, laneH - 6, 6);
  bars(D.polls, COLORS.poll, 5, laneH - 10, 7);
  // Instants, in the visible range only, one per (lane, pixel column, kind).
  const from = lowerBound(x0), to = lowerBound(x1 + 1e-9);
  const catIndex = {steal: 0, overflow: 1, inject: 2, mark: 3, dump: 4, spawn: 5};
  for (let i = from; i < to; i++) {
    const c = category(E.kind[i]);
    if (c) colMark(E.lane[i], Math.floor(px(X(i)) - labelW), catIndex[c]);
  }
  const catColor = ["steal", "overflow", "inject", "mark", "dump", "spawn", "park", "poll"].map(c => COLORS[c]);
  const catY = [1, 1, laneH - 5, laneH - 5, 1, laneH - 3, 3, 5], catH = [6, 6, 4, 4, 4, 2, laneH - 6, laneH - 10];
  for (const k of columns.keys()) {
    const col = k % 100000, rest = (k - col) / 100000, cat = rest % 8, lane = (rest - cat) / 8;
    g.fillStyle = catColor[cat];
    g.fillRect(labelW + col, lane * laneH + catY[cat], 1, catH[cat]);
  }
  drawn.columns = columns.size;
  // Marks drawn per kind (steal, overflow, inject, mark, dump, spawn, park, poll), for the browser test.
  drawn.byKind = [0, 0, 0, 0, 0, 0, 0, 0];
  for (const k of columns.keys()) drawn.byKind[((k - k % 100000) / 100000) % 8]++;
  // The failure, at the end of the run.
  if (failed) {
    const f = px(axis === "step" ? D.steps : D.virtual_time_ns);
    if (f >= labelW && f <= labelW + W + 1) { g.fillStyle = COLORS.fail; g.fillRect(Math.min(f, labelW + W - 2), 0, 2, L * laneH); }
  }
  g.fillStyle = "#444";
  g.fillText(`${axis === "step" ? "decision" : "ns"} ${Math.round(x0)}`, labelW, L * laneH + 12);
  const endLabel = `${Math.round(x1)}`;
  g.fillText(endLabel, labelW + W - g.measureText(endLabel).width, L * laneH + 12);
  drawn.lanes = L;
  // Queue depths: per pixel column the least and the most depth of each queue.
  const Q = D.queues;
  const [q, QW] = setup(byId("queues"), plotH + 20);
  let maxDepth = 1;
  for (const s of Q) for (const p of s.points) maxDepth = Math.max(maxDepth, p[1]);
  const qx = x => labelW + (x - x0) / span * QW, qy = v => plotH - v / maxDepth * (plotH - 10);
  const palette = ["#7b1fa2", "#1565c0", "#2e7d32", "#ef6c00", "#6d4c41", "#00838f", "#ad1457", "#558b2f"];
  q.font = "12px system-ui, sans-serif";
  q.fillStyle = "#444"; q.fillText(`depth (max ${maxDepth})`, 4, 12);
  Q.forEach((s, si) => {
    q.strokeStyle = palette[si % palette.length]; q.lineWidth = si === 0 ? 2 : 1; q.beginPath();
    // Per pixel column: the depth entering it, the least, the most, the last; drawn as steps.
    let prev = 0, started = false, colIn = 0, colMin = 0, colMax = 0, col = -1;
    const flush = () => { if (col < 0) return; const x = labelW + col + 0.5;
      if (!started) { q.moveTo(x, qy(colIn)); started = true; } else q.lineTo(x, qy(colIn));
      q.lineTo(x, qy(colMin)); q.lineTo(x, qy(colMax)); q.lineTo(x, qy(prev)); };
    for (const [i, v] of s.points) {
      const c = Math.floor(qx(i === 0 && v === 0 ? x0 : X(i)) - labelW);
      if (c < 0) { prev = v; continue; }
      if (c >= QW) break;
      if (c !== col) { flush(); col = c; colIn = prev; colMin = Math.min(prev, v); colMax = Math.max(prev, v); }
      else { colMin = Math.min(colMin, v); colMax = Math.max(colMax, v); }
      prev = v;
    }
    flush();
    if (started) q.lineTo(labelW + QW, qy(prev));
    q.stroke();
  });
  byId("qlegend").innerHTML = Q.map((s, si) => `<span><i style="background:${palette[si % palette.length]}"></i>${s.name}</span>`).join("");
  drawn.series = Q.length;
}
// The last decisions.
const table = byId("decisions");
D.decisions.forEach((d, k) => {
  const tr = table.insertRow(); if (k === D.decisions.length - 1 && failed) tr.className = "last";
  d.forEach(v => tr.insertCell().textContent = v);
});
// Zoom: drag across the lanes; hover: the nearest event.
let dragFrom = null;
const lanesCanvas = byId("lanes");
const toX = ev => { const rect = lanesCanvas.getBoundingClientRect(), W = rect.width - labelW - 10;
  const [x0, x1] = view || [0, xEnd()]; return x0 + (ev.clientX - rect.left - labelW) / W * (x1 - x0); };
lanesCanvas.addEventListener("mousedown", ev => dragFrom = toX(ev));
lanesCanvas.addEventListener("mouseup", ev => { const to = toX(ev);
  if (dragFrom !== null && Math.abs(to - dragFrom) > 1) { view = [Math.max(0, Math.min(dragFrom, to)), Math.max(dragFrom, to)]; draw(); }
  dragFrom = null; });
lanesCanvas.addEventListener("mousemove", ev => {
  const x = toX(ev), lane = Math.floor((ev.clientY - lanesCanvas.getBoundingClientRect().top) / laneH);
  let i = Math.min(lowerBound(x), N - 1), best = -1;
  for (let j = Math.max(0, i - 200); j < Math.min(N, i + 200); j++) if (E.lane[j] === lane && (best < 0 || Math.abs(X(j) - x) < Math.abs(X(best) - x))) best = j;
  byId("status").textContent = best < 0 ? "" : `${D.lanes[lane]}: ${D.kinds[E.kind[best]]} task ${E.task[best]} a=${E.a[best]} b=${E.b[best]} at decision ${E.step[best]}, ${E.t[best]} ns`;
});
byId("reset").onclick = () => { view = null; draw(); };
byId("axis").onchange = ev => { axis = ev.target.value; view = null; draw(); };
draw();
document.body.dataset.lanes = drawn.lanes;
document.body.dataset.series = drawn.series;
document.body.dataset.marksDrawn = drawn.byKind.join(",");
document.body.dataset.events = N;
document.body.dataset.shapesDrawn = drawn.shapes;
document.body.dataset.plotWidth = drawn.width;
document.body.dataset.decisions = D.decisions.length;
document.body.dataset.readyMs = Math.round(performance.now());
document.body.dataset.ready = "1";
console.log("weft-report-ready");
</script></body></html>
)HTML";

}  // namespace

std::string run_report_html(const sim::Scenario& sc, const sim::RunConfig& cfg, const sim::RunReport& r,
                            const std::string& replay) {
  return std::string(kRunPageHead) + script_json(run_data(sc, cfg, r, replay)) + kRunPageTail;
}

}  // namespace weft::report
