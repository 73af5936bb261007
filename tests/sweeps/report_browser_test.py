#!/usr/bin/env python3
"""The HTML reports in a real browser (headless Chromium): each kind of report
loads with no console error and reaches its ready marker; a known run's page
holds the lanes and queue plots it should (injection_flood seed 3: two workers,
the main thread and three outside threads; the injection queue and two local
queues); a failing run's page shows the failure, its fiber and the decisions
before it; a sweep report holds its outcome, mark, histogram and failure rows; the
benchmark and bug zoo pages hold a row per workload, cell, bug and class (and
tools/bench, run briefly, writes its page with each cell's ratio against the anchor);
the queue depths the page plots return to zero at the end of a passing run
(the queue model follows every task). Saves a screenshot of the run report.
Every run: a run of a million decisions opens, its drawing decimated (shapes drawn
bounded by the plot's width, not the run's length) and its page at most 16 bytes
per decision. With --full (tools/test --long) or --measure: a screenshot of each
kind; --measure writes how long the big page took to open to FILE.json (measured,
never asserted).
Exits 77 (CTest: skipped) where Chromium is missing.
  report_browser_test.py SIMRUN SCENARIO_DIR OUT_DIR [--full | --measure FILE.json] [--weft-bench WEFT_BENCH]"""
import html
import json
import os
import re
import shutil
import subprocess
import sys
import time

argv = list(sys.argv)
weft_bench = None
if "--weft-bench" in argv:
    i = argv.index("--weft-bench")
    weft_bench = os.path.abspath(argv[i + 1])
    del argv[i:i + 2]
simrun, scenario_dir, out = (os.path.abspath(a) for a in argv[1:4])
measure = argv[5] if len(argv) > 5 and argv[4] == "--measure" else None
full = measure is not None or argv[4:5] == ["--full"]
# simrun runs from the repository's top with scenario paths relative to it, so the
# replay lines the pages show (and the committed screenshots) hold no machine's paths.
root = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
scenarios = os.path.relpath(scenario_dir, root)
chromium = shutil.which("chromium") or shutil.which("chromium-browser")
if not chromium:
    print("SKIPPED: no chromium on PATH (tools/setup installs Debian's chromium)")
    sys.exit(77)
os.makedirs(out, exist_ok=True)
failures = []


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what)
    if not cond:
        failures.append(what)


def browse(page, screenshot=None):
    """Loads `page`; returns (body attributes, DOM, console lines, seconds)."""
    args = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1400,900",
            "--enable-logging=stderr", "--v=0", "--virtual-time-budget=60000"]
    t0 = time.monotonic()
    p = subprocess.run(args + ["--dump-dom", "file://" + page], capture_output=True, text=True, timeout=300)
    seconds = time.monotonic() - t0
    if screenshot:
        subprocess.run(args + ["--screenshot=" + screenshot, "file://" + page], capture_output=True, timeout=300)
    body = re.search(r"<body([^>]*)>", p.stdout)
    attrs = dict(re.findall(r'data-([a-z-]+)="([^"]*)"', body.group(1))) if body else {}
    console = [l for l in p.stderr.splitlines() if "CONSOLE" in l]
    return attrs, p.stdout, console, seconds


def no_console_errors(console, what):
    bad = [l for l in console if "weft-report-ready" not in l]
    check(any("weft-report-ready" in l for l in console) and not bad, f"{what}: no console error ({bad[:3]})")


def page_data(page):
    text = open(page).read()
    m = re.search(r'<script id="data" type="application/json">(.*?)</script>', text, re.S)
    return json.loads(m.group(1))


def run(args):
    return subprocess.run([simrun] + args, capture_output=True, text=True, cwd=root)


def no_machine_paths(dom, what):
    """The page shows paths relative to the repository, never where it is checked out."""
    check(root not in dom, f"{what}: no absolute path shown")


KIND_CATEGORY = {"steal": 0, "overflow": 1, "inject_push": 2, "inject_pop": 2, "mark": 3, "spawn": 5, "wake": 5}


def check_marks_drawn(attrs, d, what):
    """The lanes canvas draws one mark per (lane, pixel column, kind) of instant
    events: at the first view (the whole run) each kind shows at least once on
    every lane where it happens, and never more often than it happens; park and
    poll intervals narrower than a pixel add marks, at most one each."""
    drawn = [int(x) for x in attrs.get("marks-drawn", "").split(",") if x]
    if len(drawn) != 8:
        check(False, f"{what}: the page says how many marks it drew per kind (got {attrs.get('marks-drawn')})")
        return
    lanes, counts = [set() for _ in range(6)], [0] * 6
    for lane, kind in zip(d["events"]["lane"], d["events"]["kind"]):
        name = d["kinds"][kind]
        c = 4 if name.startswith("dump_") else KIND_CATEGORY.get(name)
        if c is not None:
            lanes[c].add(lane)
            counts[c] += 1
    ok = all(len(lanes[c]) <= drawn[c] <= counts[c] for c in range(6))
    ok = ok and drawn[6] <= len(d["parks"]) and drawn[7] <= len(d["polls"]) and sum(drawn[:6]) > 0
    check(ok, f"{what}: marks drawn per kind {drawn} within [lanes, events] "
              f"{[(len(lanes[c]), counts[c]) for c in range(6)]}, parks/polls {len(d['parks'])}/{len(d['polls'])}")


# A known passing run.
flood = os.path.join(out, "run-injection_flood-seed3.html")
run([os.path.join(scenarios, "injection_flood.json"), "--seed", "3", "--report", flood, "--quiet"])
attrs, dom, console, _ = browse(flood, os.path.join(out, "run-report.png"))
check(attrs.get("ready") == "1", "run report: ready")
no_console_errors(console, "run report")
check(attrs.get("lanes") == "6", f"run report: 6 lanes (2 workers, main, 3 outside threads), got {attrs.get('lanes')}")
check(attrs.get("series") == "3", f"run report: 3 queue plots (injection, 2 local), got {attrs.get('series')}")
d = page_data(flood)
check(sorted(l.split(" (")[0] for l in d["lanes"]) == ["main", "outside", "outside", "outside", "worker 0", "worker 1"],
      f"run report: the lanes are named ({d['lanes']})")
check(all(q["points"][-1][1] == 0 for q in d["queues"]), "run report: every queue is empty at the end of a passing run")
check(max(p[1] for p in d["queues"][0]["points"]) > 100, "run report: the injection queue fills (injection_flood)")
check(attrs.get("events") == str(len(d["events"]["step"])) and int(attrs["events"]) > 1000, "run report: every event is read")
check_marks_drawn(attrs, d, "run report")
check(sum(1 for l, _, _ in d["polls"] if l < 2) > 500, "run report: the workers' polls are drawn as intervals")

# Every shipped scenario at one seed: the queue model never loses a task (empty at the end of a pass).
for f in sorted(os.listdir(scenario_dir)):
    if not f.endswith(".json"):
        continue
    page = os.path.join(out, "model-" + f.replace(".json", ".html"))
    p = run([os.path.join(scenarios, f), "--seed", "4", "--report", page, "--quiet"])
    d = page_data(page)
    if d["outcome"] == "pass":
        check(all(q["points"][-1][1] == 0 for q in d["queues"]), f"queue model: {f} ends with empty queues")
    os.remove(page)

# A failing run: the failure, its fiber, the last decisions.
canary = os.path.join(out, "run-canary-seed2.html")
run([os.path.join(scenarios, "canary.json"), "--seed", "2", "--report", canary, "--quiet"])
attrs, dom, console, _ = browse(canary, os.path.join(out, "run-report-failure.png") if full else None)
check(attrs.get("ready") == "1", "failing run report: ready")
no_console_errors(console, "failing run report")
check('class="fail"' in dom and "lost update" in html.unescape(dom) and "[fiber 0, main]" in dom,
      "failing run report: the failure box names the assertion and its fiber")
check(attrs.get("decisions") == "40" and dom.count('<tr class="last">') == 1, "failing run report: the last 40 decisions, the final one marked")
check(page_data(canary)["replay"] == f"tools/simrun {scenarios}/canary.json --seed 2 --strategy random",
      f"failing run report: the replay command, with the scenario's path in the repository ({page_data(canary)['replay']})")
no_machine_paths(dom, "failing run report")
check_marks_drawn(attrs, page_data(canary), "failing run report")

# A sweep report, from merged shards with failures.
c = os.path.join(scenarios, "canary.json")
for i in range(2):
    run([c, "--seeds", "0..29", "--shard", f"{i}/2", "--collect", "--quiet", "--summary", os.path.join(out, f"c{i}.json")])
sweep = os.path.join(out, "sweep-canary.html")
p = run(["merge", os.path.join(out, "c0.json"), os.path.join(out, "c1.json"), "--report", sweep])
attrs, dom, console, _ = browse(sweep, os.path.join(out, "sweep-report.png") if full else None)
check(attrs.get("ready") == "1", "sweep report: ready")
no_console_errors(console, "sweep report")
summary = json.loads(run(["merge", "--json", os.path.join(out, "c0.json"), os.path.join(out, "c1.json")]).stdout)
rows = lambda table: len(re.findall("<tr>", re.search(f'<table id="{table}">(.*?)</table>', dom, re.S).group(1))) - 1
check(rows("outcomes") == len(summary["outcomes"]), "sweep report: a row per outcome")
no_machine_paths(dom, "sweep report")
check(rows("marks") == len(summary["marks"]), "sweep report: a row per mark reached")
check(rows("histogram") == len(summary["decisions"]["histogram"]), "sweep report: a row per histogram bucket")
merged_links = re.findall(r'<a href="(canary-seed\d+\.html)">', dom)
check(rows("failures") == 30 and len(merged_links) == 20 and all(os.path.exists(os.path.join(out, l)) for l in merged_links),
      "sweep report: 30 failures, the first 20 linking to the run reports merge wrote")
attrs, _, console, _ = browse(os.path.join(out, merged_links[0]) if merged_links else sweep)
check(attrs.get("ready") == "1" and page_data(os.path.join(out, merged_links[0]))["outcome"] == "assertion",
      f"sweep report: its first link opens a failing run's page ({merged_links[:1]})")
no_console_errors(console, "a run page merge wrote")

# A sweep with --report also writes the first failures' run reports, where its links point.
direct = os.path.join(out, "direct")
os.makedirs(direct, exist_ok=True)
for f in os.listdir(direct):
    os.remove(os.path.join(direct, f))
run([c, "--seeds", "0..29", "--collect", "--quiet", "--report", os.path.join(direct, "sweep.html")])
links = re.findall(r'<a href="([^"]+)">', open(os.path.join(direct, "sweep.html")).read())
written = sorted(f for f in os.listdir(direct) if f != "sweep.html")
check(len(links) == 20 and sorted(links) == written,
      f"sweep --report: its first 20 failures link to the run reports it wrote ({len(written)} written)")
d = page_data(os.path.join(direct, links[0])) if links and os.path.exists(os.path.join(direct, links[0])) else {}
check(d.get("outcome") not in (None, "pass") and f"canary-seed{d.get('seed')}.html" == links[0],
      f"sweep --report: the first link's page is that seed's failing run ({d.get('outcome')}, seed {d.get('seed')})")

# The benchmark comparison and bug zoo pages (tools/report/pages.py), from the shipped JSON.
pages = os.path.join(root, "tools", "report", "pages.py")


def render_and_browse(kind, source):
    """Renders `source` as a `kind` page and opens it; returns its DOM."""
    page = os.path.join(out, kind + ".html")
    p = subprocess.run([sys.executable, pages, kind, source, page], capture_output=True, text=True)
    check(p.returncode == 0, f"{kind} page: written ({p.stderr.strip()})")
    attrs, dom, console, _ = browse(page, os.path.join(out, kind + "-report.png") if full else None)
    check(attrs.get("ready") == "1", f"{kind} page: ready")
    no_console_errors(console, f"{kind} page")
    return page, dom


bench_json = os.path.join(root, "reports", "bench", "side-by-side-2026-12-03", "comparison.ratios.json")
_, dom = render_and_browse("bench", bench_json)
cells = json.load(open(bench_json))["cells"]
workloads, configs = {c["workload"] for c in cells}, {c["config"] for c in cells}
check(rows("ratios") == len(workloads) and rows("cells") == len(cells), "bench page: a row per workload, a row per cell")
check(all(f"{c['ratio_weft_over_tokio']:.2f}</span>" in dom for c in cells), "bench page: every cell's ratio shown")

# tools/bench writes its own page next to its JSON: a short run of the benchmark
# (this build's weft_bench, a few iterations of two workloads on two configurations)
# and each cell's ratio against the committed Tokio anchor figure for it.
if weft_bench:
    bench_out = os.path.join(out, "bench-run")
    shutil.rmtree(bench_out, ignore_errors=True)
    os.makedirs(bench_out)
    env = dict(os.environ, WEFT_BENCH_BIN=weft_bench)
    p = subprocess.run([os.path.join(root, "tools", "bench"), "--workloads", "chained_spawn,ping_pong", "--configs", "ct,1",
                        "--warmup", "1", "--iters", "3", "--min-iters", "1", "--max-secs", "5", "--rounds", "1",
                        "--quiet-below", "101", "--quiet-wait-secs", "0", "--retries", "0",
                        "--out", os.path.join(bench_out, "weft.json")], capture_output=True, text=True, env=env, timeout=600)
    check(p.returncode == 0 and sorted(os.listdir(bench_out)) == ["weft.html", "weft.json"],
          f"tools/bench: writes its JSON and, next to it, its page ({sorted(os.listdir(bench_out))}; {p.stderr[-300:]})")
    if p.returncode == 0:
        anchor_json = os.path.join(root, "reports", "bench", "tokio-1.24.2-2026-11-26.json")
        anchor = {(r["workload"], r["config"]): r["median_ns"] for r in json.load(open(anchor_json))["results"]}
        ran = {(r["workload"], r["config"]): r["median_ns"] for r in json.load(open(f"{bench_out}/weft.json"))["results"]}
        attrs, dom, console, _ = browse(f"{bench_out}/weft.html", os.path.join(out, "bench-run-report.png") if full else None)
        check(attrs.get("ready") == "1", "tools/bench page: ready")
        no_console_errors(console, "tools/bench page")
        check(len(ran) == 4 and rows("cells") == 4 and rows("ratios") == 2, f"tools/bench page: a row per cell run ({len(ran)})")
        want = [f"{ran[k] / anchor[k]:.3f}" for k in ran]
        shown = re.findall(r'<td class="n">([0-9.]+)</td><td class="n">[0-9.]+%</td>', dom)
        check(sorted(shown) == sorted(want), f"tools/bench page: each cell's ratio against the anchor's figure ({shown} vs {want})")
        check("reports/bench/tokio-1.24.2-2026-11-26.json" in dom and "tokio_version 1.24.2" in dom and
              "started_utc 2026-11-26T17:26:59Z" in dom, "tools/bench page: names its anchor, the Tokio version and when it ran")
        no_machine_paths(dom.replace(bench_out, "OUT"), "tools/bench page")
else:
    check(False, "tools/bench page: the test needs --weft-bench (the build has no weft_bench target?)")

zoo_json = os.path.join(root, "reports", "bugzoo.json")
zoo, dom = render_and_browse("bugzoo", zoo_json)
bugs = json.load(open(zoo_json))["bugs"]
check(rows("bugs") == len(bugs) and rows("classes") == len({b["class"] for b in bugs if b["found"]} |
      ({"not found"} if not all(b["found"] for b in bugs) else set())), "bugzoo page: a row per bug, a row per class")
check(dom.count("tools/simrun repro reports/bugzoo/") == len(bugs), "bugzoo page: every bug's replay line")
shipped = os.path.join(root, "reports", "bugzoo", "index.html")
hrefs = re.findall(r'href="([^"]+)"', open(shipped).read())
check(len(hrefs) == len(bugs) and all(os.path.exists(os.path.join(os.path.dirname(shipped), h)) for h in hrefs),
      f"reports/bugzoo/index.html: every reproduction link has its file ({len(hrefs)} links)")
bad = os.path.join(out, "bad-zoo.json")
json.dump({"budget_seeds": 1, "control": {}, "bugs": [{"name": "x", "found": "yes"}]}, open(bad, "w"))
p = subprocess.run([sys.executable, pages, "bugzoo", bad, zoo], capture_output=True, text=True)
check(p.returncode == 7 and p.stderr.strip() == f"{bad}: $.bugs[0].found: expected bool, got \"yes\"",
      f"pages: bad input is one line naming the file and the JSON path ({p.stderr.strip()})")

# One simulated thread, one lane: a worker thread's events that name no worker (a
# coverage mark emitted before its worker took its index) are on its worker's lane.
# canary seed 2 has such marks on weft-worker-0 and weft-worker-2.
lanes_page = os.path.join(out, "run-canary-seed2.html")
run([os.path.join(scenarios, "canary.json"), "--seed", "2", "--report", lanes_page, "--quiet"])
d = page_data(lanes_page)
check(len(d["lanes"]) == 4 and sorted(l.split(" (")[0] for l in d["lanes"]) == ["main", "worker 0", "worker 1", "worker 2"],
      f"canary seed 2: 4 lanes, one per thread (3 workers, main), got {d['lanes']}")
check(any(d["kinds"][k] == "mark" and d["lanes"][l].startswith("worker 0") for l, k in zip(d["events"]["lane"], d["events"]["kind"])),
      "canary seed 2: worker 0's coverage marks are on its lane")

# A run of a million decisions, in every run of this test: what makes its page fast
# is checked deterministically (the time it takes is measured by --measure, never
# asserted). The page's script counts every shape it draws (rectangles, path
# points); decimated drawing is bounded by the plot's width in pixels, whatever the
# run's length: per lane at most one rectangle per pixel column for each of 8 kinds
# of instant or narrow interval plus 2 kinds of intervals wider than a pixel (they do
# not overlap within a lane and kind), and per queue plot 4 points per column; plus
# each lane's background, the dump bands (one per column) and the failure line.
big = os.path.join(out, "big_run.json")
json.dump({"name": "big_run", "runtime": {"workers": 4, "local_queue_capacity": 64},
           "programs": {"root": [{"spawn": "spawner", "count": 4}, {"join": True}],
                        "spawner": [{"spawn": "leaf", "count": 5000}, {"join": True}], "leaf": [{"yield": 2}]},
           "main": "root", "exploration": {"livelock_decisions": 0}}, open(big, "w"))
big_page = os.path.join(out, "run-big.html")
p = run([big, "--seed", "1", "--report", big_page, "--step-bound", "5000000", "--json"])
steps = json.loads(p.stdout.splitlines()[0])["steps"]
check(steps >= 1_000_000, f"big run: {steps} decisions")
attrs, dom, console, seconds = browse(big_page, os.path.join(out, "run-report-big.png") if full else None)
check(attrs.get("ready") == "1", "big run report: ready")
no_console_errors(console, "big run report")
d = page_data(big_page)
L, S = len(d["lanes"]), len(d["queues"])
width = int(attrs.get("plot-width", 0))
shapes = int(attrs.get("shapes-drawn", -1))
bound = (10 * L + 4 * S + 1) * width + 2 * L + 2 * S + 4
undecimated = len(d["events"]["step"]) + len(d["polls"]) + len(d["parks"]) + sum(len(q["points"]) for q in d["queues"])
check(0 < width <= 4000 and 0 < shapes <= bound,
      f"big run report: {shapes} shapes drawn, within the bound of a {width}-pixel plot ({bound}: {L} lanes, {S} plots)")
check(undecimated > 2 * bound,
      f"big run report: drawing each event, interval and depth change ({undecimated}) would exceed the bound twice over")
size = os.path.getsize(big_page)
check(size <= 16 * steps, f"big run report: {size} bytes, at most 16 per decision ({size / steps:.1f})")
if measure:
    import datetime
    load = os.getloadavg()
    target = 5.0
    ready_s = int(attrs.get("ready-ms", -1)) / 1000
    json.dump({"what": "a run report of a 1,000,000-decision run opened in headless Chromium",
               "measured": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
               "machine": f"{os.cpu_count()} processors, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (1, 5, 15 min)",
               "decisions": steps, "events": int(attrs.get("events", 0)), "bytes": size,
               "shapes_drawn": shapes, "plot_width_px": width,
               "page_ready_ms": int(attrs.get("ready-ms", -1)), "chromium_process_seconds": round(seconds, 2),
               "target_seconds": target, "page_ready_vs_target": round(ready_s / target, 3),
               "chromium_process_vs_target": round(seconds / target, 3),
               "note": "page_ready_ms: from navigation start to the ready marker (parse and first draw); "
                       "chromium_process_seconds includes starting the browser. Measured by "
                       "tests/sweeps/report_browser_test.py --measure, never asserted by a test."},
              open(measure, "w"), indent=2)
    print(f"measured: {measure}")

print("FAILED:\n" + "\n".join(failures) if failures else "reports in the browser: all checks passed")
sys.exit(1 if failures else 0)
