#!/usr/bin/env python3
"""metrics_cost: what metrics cost the hot path, in instructions (stdlib only).

Builds weft_bench twice in Release, with metrics (-DWEFT_METRICS=ON) and without
(-DWEFT_METRICS=OFF), runs each benchmark cell under cachegrind
(valgrind --tool=cachegrind --cache-sim=no) several times, alternating on and off,
and writes a JSON report. Wall time on a shared two-core machine varies by 1.7x to
2x between repetitions of one binary; instruction counts do not, so they can answer
"is any cell more than 3% slower with metrics".

Each run is split with cg_annotate into the binary's own code (engine, workload,
libstdc++: rows without a source path, or with one under this repository) and
glibc (rows with a source path elsewhere: malloc, pthread, the loader; they carry
one when libc6-dbg is installed, which the tool checks). Multi-thread counts vary between runs (cachegrind serialises the
threads in an order that varies; glibc malloc's work depends on which thread frees),
so every run is kept and a cell reports, for the whole process and for own code:
  median ratio      median(on) / median(off): the estimate
  worst pairing     max(on) / min(off): the largest cost any pair of runs shows
Metrics add code to the engine only, so the verdict reads own code: a cell is
within the 3% line when its own-code median ratio is below it, and resolved when
even its worst own-code pairing is (the runs' variation cannot hide a cost above
the line). glibc's count is reported but not judged: in multi-thread cells it
takes one of a few values per run (malloc arenas and consolidation depend on which
thread allocates and frees first), tens of percent apart, in both builds alike;
the report gives the geometric mean of its on/off median ratios over all cells,
which would show a systematic effect.

With --against REV it answers a second question, "did a change cost the hot path
anything": both builds keep metrics on, one from REV's source (checked out into a
temporary git worktree), one from this tree, and the line is 1% (a refactor that
claims to change no behaviour must not move any cell beyond it).

Usage:
  tools/metrics_cost.py [--configs ct,1,2,4] [--workloads ...] [--runs 5]
                        [--keep-profiles DIR] [--against REV]
                        [--out reports/bench/metrics-cost-instructions.json]
"""
import argparse
import datetime
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORKLOADS = ["yield_many", "chained_spawn", "ping_pong", "spawn_many_local",
             "spawn_many_remote_idle", "spawn_many_remote_busy"]
LINE = 1.03


def die(msg):
    print(f"metrics_cost: {msg}", file=sys.stderr)
    sys.exit(2)


def build(metrics_on, build_dir, source=ROOT):
    """build configures and builds weft_bench from source in build_dir; returns the binary."""
    flag = "ON" if metrics_on else "OFF"
    cache = os.path.join(build_dir, "CMakeCache.txt")
    if os.path.exists(cache):
        with open(cache) as f:
            home = re.search(r"^CMAKE_HOME_DIRECTORY:INTERNAL=(.*)$", f.read(), re.M)
        if home and os.path.realpath(home.group(1)) != os.path.realpath(source):
            shutil.rmtree(build_dir)  # configured from another source tree: CMake would refuse it
    cfg = ["cmake", "-S", source, "-B", build_dir, "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release",
           f"-DWEFT_METRICS={flag}", "-DCMAKE_CXX_COMPILER_LAUNCHER=ccache"]
    subprocess.run(cfg, check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", build_dir, "-j2", "--target", "weft_bench"], check=True,
                   stdout=subprocess.DEVNULL)
    return os.path.join(build_dir, "tools", "weft_bench")


def split(profile, source=ROOT):
    """split returns (own, glibc) instruction counts of one cachegrind profile of a
    binary built from source."""
    repo = source.rstrip("/") + "/"
    out = subprocess.run(["cg_annotate", "--threshold=0", profile], capture_output=True, text=True,
                         check=True).stdout
    own = lib = 0
    in_table = False
    for line in out.splitlines():
        if "file:function" in line:
            in_table = True
            continue
        if not in_table:
            continue
        m = re.match(r"\s*([\d,]+)\s+\([\s\d.]+%\)\s+(.*)", line)
        if not m:
            if (own or lib) and not line.strip():
                break
            continue
        n = int(m.group(1).replace(",", ""))
        where = m.group(2)
        if where.startswith(("./", "/")) and not where.startswith(repo):
            lib += n
        else:
            own += n
    if lib == 0:
        die(f"{profile}: no glibc rows with a source path; install libc6-dbg so own code and glibc can be told apart")
    return own, lib


def run_once(binary, config, workload, tmp, keep, label, source=ROOT):
    """run_once runs one cell under cachegrind; returns (total, own, glibc)."""
    profile = os.path.join(keep or tmp, f"{label}.{config}.{workload}.cg.out")
    cmd = ["valgrind", "--tool=cachegrind", "--cache-sim=no", f"--cachegrind-out-file={profile}", binary,
           "--configs", config, "--workloads", workload, "--warmup", "1", "--iters", "3", "--min-iters", "3",
           "--quiet-below", "101", "--quiet-wait-secs", "0", "--retries", "0"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        lines = [l for l in r.stderr.splitlines() if not l.startswith("==")]
        die(f"weft_bench --configs {config} --workloads {workload} failed: "
            f"{lines[-1] if lines else 'exit ' + str(r.returncode)}")
    m = re.search(r"I\s+refs:\s+([\d,]+)", r.stderr)
    if not m:
        die(f"no instruction count in cachegrind's output for {workload} on config {config}")
    total = int(m.group(1).replace(",", ""))
    own, lib = split(profile, source)
    if not keep:
        os.unlink(profile)
    return total, own, lib


def summarise(on, off):
    return {
        "on_runs": on, "off_runs": off,
        "median_ratio": round(statistics.median(on) / statistics.median(off), 5),
        "worst_pairing": round(max(on) / min(off), 5),
        "spread_on": round(max(on) / min(on), 5), "spread_off": round(max(off) / min(off), 5),
    }


def geomean(xs):
    return math.exp(sum(math.log(x) for x in xs) / len(xs))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--configs", default="ct,1,2,4", help="weft_bench configs: ct, or a worker count")
    ap.add_argument("--workloads", default=",".join(WORKLOADS))
    ap.add_argument("--runs", type=int, default=5, help="runs per build and cell, alternating on and off")
    ap.add_argument("--build-root", default=os.path.join(ROOT, "build"),
                    help="where the two builds go (metrics-on, metrics-off)")
    ap.add_argument("--keep-profiles", default="", help="keep every cachegrind profile in this directory")
    ap.add_argument("--against", default="",
                    help="compare this tree (after) with git revision REV (before), both with metrics on")
    ap.add_argument("--out", default="")
    a = ap.parse_args()
    if not a.out:
        a.out = os.path.join(ROOT, "reports", "bench",
                             "refactor-cost-instructions.json" if a.against else "metrics-cost-instructions.json")
    if not 1 <= a.runs <= 50:
        die(f"--runs {a.runs}: expected 1 to 50")
    for tool in ("valgrind", "cg_annotate", "cmake", "ninja"):
        if shutil.which(tool) is None:
            die(f"{tool} not found (apt-get install valgrind cmake ninja-build)")
    configs = [c for c in a.configs.split(",") if c]
    workloads = [w for w in a.workloads.split(",") if w]
    if not configs:
        die(f"--configs '{a.configs}': expected a comma-separated list of ct or worker counts")
    if not workloads:
        die(f"--workloads '{a.workloads}': expected a comma-separated list of workloads")
    for c in configs:
        if c != "ct" and not (c.isdigit() and 1 <= int(c) <= 64):
            die(f"--configs: '{c}' is not ct or a worker count from 1 to 64")
    for w in workloads:
        if w not in WORKLOADS:
            die(f"--workloads: unknown workload '{w}' (expected one of {', '.join(WORKLOADS)})")
    line = 1.01 if a.against else LINE
    # True is the measured build, False the baseline: metrics on and off, or this
    # tree and REV's.
    sources = {True: ROOT, False: ROOT}
    base_tree = None
    if a.against:
        base_rev = subprocess.run(["git", "-C", ROOT, "rev-parse", "--verify", a.against + "^{commit}"],
                                  capture_output=True, text=True)
        if base_rev.returncode != 0:
            die(f"--against '{a.against}': not a git revision of {ROOT}")
        # A fixed path under the build root: the baseline's CMake cache names its
        # source directory, so a second run must find the source where it was.
        base_tree = os.path.join(os.path.abspath(a.build_root), "refactor-before-src")
        subprocess.run(["git", "-C", ROOT, "worktree", "remove", "--force", base_tree], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        subprocess.run(["git", "-C", ROOT, "worktree", "prune"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        subprocess.run(["git", "-C", ROOT, "worktree", "add", "--detach", base_tree, base_rev.stdout.strip()],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        sources[False] = base_tree
        bins = {True: build(True, os.path.join(a.build_root, "refactor-after")),
                False: build(True, os.path.join(a.build_root, "refactor-before"), base_tree)}
    else:
        bins = {True: build(True, os.path.join(a.build_root, "metrics-on")),
                False: build(False, os.path.join(a.build_root, "metrics-off"))}
    if a.keep_profiles:
        os.makedirs(a.keep_profiles, exist_ok=True)
    rev = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                         text=True).stdout.strip() or "unknown"
    dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--", "engine", "tools"], capture_output=True,
                           text=True).stdout.strip()
    cells = []
    with tempfile.TemporaryDirectory() as tmp:
        for config in configs:
            for w in workloads:
                runs = {True: [], False: []}
                for i in range(a.runs):
                    for on in (True, False):
                        label = f"{'on' if on else 'off'}{i + 1}"
                        runs[on].append(run_once(bins[on], config, w, tmp, a.keep_profiles, label, sources[on]))
                cell = {"config": config, "workload": w,
                        "total": summarise([r[0] for r in runs[True]], [r[0] for r in runs[False]]),
                        "own_code": summarise([r[1] for r in runs[True]], [r[1] for r in runs[False]]),
                        "glibc": summarise([r[2] for r in runs[True]], [r[2] for r in runs[False]])}
                cell["within_line"] = cell["own_code"]["median_ratio"] < line
                cell["resolved"] = cell["own_code"]["worst_pairing"] < line
                cells.append(cell)
                o, t = cell["own_code"], cell["total"]
                print(f"{config:>3} {w:<24} {'ok ' if cell['within_line'] else 'OVER'} "
                      f"{'resolved' if cell['resolved'] else 'in noise'}  own: median {100 * (o['median_ratio'] - 1):+.2f}% "
                      f"worst {100 * (o['worst_pairing'] - 1):+.2f}%   total: median "
                      f"{100 * (t['median_ratio'] - 1):+.2f}% worst {100 * (t['worst_pairing'] - 1):+.2f}%",
                      flush=True)
    if base_tree:
        subprocess.run(["git", "-C", ROOT, "worktree", "remove", "--force", base_tree], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    what = (f"instructions of this tree over {a.against}'s, both with metrics, weft_bench Release, cachegrind"
            if a.against else
            "instructions with metrics (WEFT_METRICS=ON) over without (OFF), weft_bench Release, cachegrind")
    doc = {
        "what": what,
        "engine_rev": rev + ("+dirty" if dirty else ""),
        "baseline_rev": a.against or None,
        "configs": configs,
        "workloads": workloads,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": "valgrind --tool=cachegrind --cache-sim=no weft_bench --configs C --workloads W --warmup 1 "
                   "--iters 3 --min-iters 3 --quiet-below 101 --quiet-wait-secs 0 --retries 0",
        "runs_per_build": a.runs,
        "line": line,
        "within_line_rule": "own_code.median_ratio < line",
        "resolved_rule": "own_code.worst_pairing < line",
        "cells": cells,
        "all_within_line": all(c["within_line"] for c in cells),
        "resolved_cells": sum(c["resolved"] for c in cells),
        "glibc_median_ratio_geomean": round(geomean([c["glibc"]["median_ratio"] for c in cells]), 5),
        "total_median_ratio_geomean": round(geomean([c["total"]["median_ratio"] for c in cells]), 5),
        "own_code_median_ratio_max": max(c["own_code"]["median_ratio"] for c in cells),
    }
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    with open(a.out, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print(f"wrote {a.out}; all cells within {100 * (line - 1):.0f}%: {doc['all_within_line']} (largest own-code median "
          f"{100 * (doc['own_code_median_ratio_max'] - 1):+.2f}%); resolved: {doc['resolved_cells']} of "
          f"{len(cells)}; geometric mean of median ratios: glibc "
          f"{100 * (doc['glibc_median_ratio_geomean'] - 1):+.2f}%, whole process "
          f"{100 * (doc['total_median_ratio_geomean'] - 1):+.2f}%")


if __name__ == "__main__":
    main()
