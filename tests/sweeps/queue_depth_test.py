#!/usr/bin/env python3
"""The run page's queue depths against the runtime's own metrics: over several
scenarios and seeds, each --metrics-every snapshot's injection and local queue
depths agree with the depths the page rebuilds from the queue events, up to the
operations in flight at the snapshot.

What each measures. A snapshot reads the queues' atomics at one point of the
schedule (read detached: no other fiber moves between its reads): a local queue's
depth is tail - head as thieves see it, the injection queue's its length. The page
replays the events: a task enters a queue at its push event and leaves it at its
poll_start (or a steal, batch or overflow event). An operation's event and its
effect on the atomics are a few decisions apart, so at a snapshot each fiber may
have one operation in flight: the event already seen and the effect not yet
(local_push, inject_push, a thief's steal), or the effect done and the event not
yet (a pop before its poll_start, a victim's steal, an overflow, an injection
batch). Each snapshot's metric must lie within the model's depth plus what the
in-flight operations (each fiber's event just before and just after the snapshot)
can account for; a model that puts a task in the wrong queue drifts beyond that
(as it did when a task that came back to a queue was matched to its stale entry,
when two workers' injection batches were emitted in the other order, and, in
dump_storm, whose local queues of 8 overflow on several workers at once, when an
overflow emitted its event before its batch took the injection lock, so two racing
overflows put their batches in the queue in the other order than their events).
  queue_depth_test.py SIMRUN SCENARIO_DIR"""
import bisect
import json
import os
import re
import subprocess
import sys
import tempfile

simrun, scenarios = sys.argv[1], sys.argv[2]
tmp = tempfile.mkdtemp()
failures, compared, exact = [], 0, 0
RUNS = (("steal_storm.json", 4, 3000), ("injection_flood.json", 4, 2000), ("fanout_overflow.json", 4, 2000),
        ("park_unpark_churn.json", 4, 5000), ("dump_timeout.json", 2, 20000), ("dump_idle_and_shutdown.json", 2, 5000),
        ("current_thread.json", 4, 2000), ("shutdown_under_load.json", 4, 1000), ("dump_storm.json", 8, 1000))


def data(page):
    return json.loads(re.search(r'<script id="data" type="application/json">(.*?)</script>', open(page).read(), re.S).group(1))


def depth(points, idx):
    """The depth after event idx (points: [event index, depth] in order)."""
    j = bisect.bisect_right([p[0] for p in points], idx) - 1
    return points[j][1] if j >= 0 else 0


for name, seeds, every in RUNS:
    for seed in range(seeds):
        trace, page = os.path.join(tmp, "t.json"), os.path.join(tmp, "r.html")
        subprocess.run([simrun, os.path.join(scenarios, name), "--seed", str(seed), "--metrics-every", str(every),
                        "--trace", trace, "--report", page, "--quiet"], capture_output=True)
        snaps, d = json.load(open(trace))["metrics_snapshots"], data(page)
        ev, kinds = d["events"], d["kinds"]
        steps, n = ev["step"], len(ev["step"])
        workers = len(d["queues"]) - 1
        by_lane = {}
        for i in range(n):
            if kinds[ev["kind"][i]] != "mark":
                by_lane.setdefault(ev["lane"][i], []).append(i)
        for m in snaps:
            idx = bisect.bisect_right(steps, m["step"]) - 1
            model = [depth(q["points"], idx) for q in d["queues"]]  # [0]: injection, [w+1]: worker w
            metric = [m["metrics"]["injection_queue_depth"]] + [w["local_queue_depth"] for w in m["metrics"]["workers"]]
            lo, hi = list(model), list(model)

            def may(q, delta):
                (lo if delta < 0 else hi)[q] += delta

            for lane, idxs in by_lane.items():
                k = bisect.bisect_right(idxs, idx)
                if k > 0:  # the event seen, its effect maybe not yet
                    i = idxs[k - 1]
                    kind, a, b = kinds[ev["kind"][i]], ev["a"][i], ev["b"][i]
                    if kind == "local_push" and lane < workers:
                        may(lane + 1, -1)
                    elif kind == "inject_push":
                        may(0, -1)
                    elif kind == "steal" and lane < workers:
                        may(lane + 1, -(a - 1))
                    elif kind == "overflow" and lane < workers and a > 1:
                        may(0, -a)
                if k < len(idxs):  # the effect maybe done, its event not yet
                    i = idxs[k]
                    kind, a, b = kinds[ev["kind"][i]], ev["a"][i], ev["b"][i]
                    if kind in ("poll_start", "poll_end") and lane < workers:
                        for q in range(len(model)):
                            may(q, -1) if model[q] else None  # the popped task, wherever the model has it
                    elif kind == "steal" and lane < workers and b < workers:
                        may(b + 1, -a)
                    elif kind == "overflow" and lane < workers and a > 1:
                        may(lane + 1, -(a - 1))
                    elif kind == "inject_pop" and lane < workers:
                        may(0, -a)
                        may(lane + 1, a - 1)
            compared += 1
            exact += metric == model
            for q in range(len(model)):
                if not lo[q] <= metric[q] <= hi[q]:
                    failures.append(f"{name} seed {seed} step {m['step']}: {'injection' if q == 0 else f'worker {q - 1}'} "
                                    f"queue: metrics say {metric[q]}, the page {model[q]} (in-flight range {lo[q]}..{hi[q]})")
print(f"{compared} snapshots compared, {exact} agree exactly in every queue")
if compared < 500 or exact < compared // 2:
    failures.append(f"too few snapshots compared ({compared}) or too few exact ({exact}): the check does not reach its cases")
print("FAILED:\n" + "\n".join(failures[:40]) if failures else "queue depths: the page agrees with the metrics at every snapshot")
sys.exit(1 if failures else 0)
