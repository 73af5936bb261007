#!/usr/bin/env python3
"""lost_parallelism_sweep: the lost-parallelism bound the correct engine needs (stdlib only).
Also keeps, from the same runs, the longest stretch without progress (the livelock
oracle's quiet count, `longest_quiet`) per cell.

Runs every shipped and zoo scenario under random, pct:1, pct:2, pct:3 and hold,
seeds 0..N-1 each, with the check measuring only (`simrun --lost-parallelism-bound
0 --json`), and writes per scenario and strategy: runs, outcomes, stretches of
lost parallelism reached, the longest stretch in polls of the holders (what the
bound limits) with its seed, its 99th percentile over the runs, and the longest
stretch in decisions (for comparison), and the longest stretch in virtual time
of work waiting (spare, or behind a poll) while a worker slept (`max_ns`: what
the bound in virtual time limits). Two simrun processes run at once.

  tools/lost_parallelism_sweep.py --simrun build/release/tools/simrun --seeds 2000 \
      --out reports/lost-parallelism.json
"""
import argparse
import concurrent.futures
import glob
import json
import os
import subprocess
import sys

STRATEGIES = ["random", "pct:1", "pct:2", "pct:3", "hold"]


def cell(simrun, scenario, strategy, seeds):
    cmd = [simrun, scenario, "--seeds", f"0..{seeds - 1}", "--strategy", strategy, "--lost-parallelism-bound", "0",
           "--json", "--collect"]
    p = subprocess.run(cmd, capture_output=True, text=True)
    r = {"runs": 0, "outcomes": {}, "stretches": 0, "samples": 0, "max_polls": 0, "max_seed": 0,
         "longest_decisions": 0, "longest_quiet": 0, "longest_quiet_seed": 0, "max_ns": 0, "max_ns_seed": 0}
    polls = []
    for line in p.stdout.splitlines():
        if not line.startswith("{"):
            continue
        d = json.loads(line)
        if "seed" not in d:
            continue
        r["runs"] += 1
        r["outcomes"][d["outcome"]] = r["outcomes"].get(d["outcome"], 0) + 1
        g = d.get("progress", {})
        r["stretches"] += g.get("parallelism_stretches", 0)
        r["samples"] += g.get("parallelism_samples", 0)
        n = g.get("parallelism_longest", 0)
        polls.append(n)
        if n > r["max_polls"]:
            r["max_polls"], r["max_seed"] = n, d["seed"]
        r["longest_decisions"] = max(r["longest_decisions"], g.get("parallelism_longest_decisions", 0))
        if g.get("parallelism_longest_ns", 0) > r["max_ns"]:
            r["max_ns"], r["max_ns_seed"] = g["parallelism_longest_ns"], d["seed"]
        if d.get("longest_quiet", 0) > r["longest_quiet"]:
            r["longest_quiet"], r["longest_quiet_seed"] = d["longest_quiet"], d["seed"]
    if r["runs"] != seeds:
        sys.exit(f"lost_parallelism_sweep: {scenario} {strategy}: {r['runs']} runs of {seeds} "
                 f"(simrun exit {p.returncode}): {p.stderr.strip()[:300]}")
    polls.sort()
    r["p99_polls"] = polls[(len(polls) * 99) // 100 - 1] if polls else 0
    return r


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--simrun", default="build/release/tools/simrun")
    ap.add_argument("--seeds", type=int, default=2000)
    ap.add_argument("--out", default="reports/lost-parallelism.json")
    ap.add_argument("--bound", type=int, default=16, help="the bound the check uses (reported against)")
    ap.add_argument("--bound-ns", type=int, default=64_000_000, help="the bound in virtual time (reported against)")
    a = ap.parse_args()
    scenarios = sorted(glob.glob("scenarios/*.json")) + sorted(glob.glob("scenarios/zoo/*.json"))
    jobs = [(s, st) for s in scenarios for st in STRATEGIES]
    results = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as ex:
        futs = {ex.submit(cell, a.simrun, s, st, a.seeds): (s, st) for s, st in jobs}
        for f in concurrent.futures.as_completed(futs):
            s, st = futs[f]
            results[f"{s} {st}"] = f.result()
            print(f"{s} {st}: {results[f'{s} {st}']['max_polls']} polls", file=sys.stderr)
    results = dict(sorted(results.items()))
    top = max(results.items(), key=lambda kv: kv[1]["max_polls"])
    top_ns = max(results.items(), key=lambda kv: kv[1]["max_ns"])
    report = {
        "what": "stretches of lost parallelism in the correct engine (simrun --lost-parallelism-bound 0: measure "
                "only), every shipped and zoo scenario x " + ", ".join(STRATEGIES),
        "unit": "max_polls: the most polls the workers holding the spare work started during one stretch (what the "
                "bound limits); longest_decisions: the longest stretch in decisions, for comparison; max_ns: the "
                "longest stretch in virtual ns of work waiting (spare or behind a poll) while a worker slept",
        "command": f"tools/lost_parallelism_sweep.py --simrun {a.simrun} --seeds {a.seeds}",
        "seeds_per_cell": a.seeds,
        "cells": len(results),
        "runs": sum(r["runs"] for r in results.values()),
        "stretches": sum(r["stretches"] for r in results.values()),
        "max_polls": top[1]["max_polls"],
        "max_cell": top[0],
        "max_seed": top[1]["max_seed"],
        "longest_quiet": max(r["longest_quiet"] for r in results.values()),
        "bound_polls": a.bound,
        "max_ns": top_ns[1]["max_ns"],
        "max_ns_cell": top_ns[0],
        "max_ns_seed": top_ns[1]["max_ns_seed"],
        "bound_ns": a.bound_ns,
        "outcomes": {},
        "results": results,
    }
    for r in results.values():
        for k, v in r["outcomes"].items():
            report["outcomes"][k] = report["outcomes"].get(k, 0) + v
    os.makedirs(os.path.dirname(a.out) or ".", exist_ok=True)
    with open(a.out, "w") as f:
        json.dump(report, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"{report['runs']} runs in {report['cells']} cells, {report['stretches']} stretches; longest "
          f"{report['max_polls']} polls ({report['max_cell']}, seed {report['max_seed']}); bound {a.bound}; "
          f"longest in virtual time {report['max_ns']} ns ({report['max_ns_cell']}, seed {report['max_ns_seed']}); "
          f"bound {a.bound_ns} ns; "
          f"longest without progress {report['longest_quiet']} decisions; "
          f"outcomes {report['outcomes']}")


if __name__ == "__main__":
    main()
