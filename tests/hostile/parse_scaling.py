#!/usr/bin/env python3
# Measures how simrun's JSON readers scale: the time and peak memory of reading
# inputs of growing size (each step 4 times the last), for the shapes that made
# the old reader quadratic (an array of objects) or 18 times the file in memory
# (a schedule's decisions). Each input ends with a field the schema refuses, so
# simrun parses the whole file, reports one error line and exits before any run.
# A figure for reports/, never a test: wall-clock time depends on the machine.
#   parse_scaling.py SIMRUN [SIMRUN_BEFORE] --out reports/robustness/parse-scaling.json
import argparse
import json
import os
import subprocess
import sys
import tempfile


def scenario_of_objects(n):
    return json.dumps({"name": "h", "programs": {"m": [{"yield": 1}] * n}, "main": "m", "zzz": 1})


def schedule_of(n):
    doc = {"format": "weft-schedule", "version": 1, "seed": 2, "strategy": "random", "pct_depth": 0,
           "pct_steps": 0, "decisions": [["load", "f", 0]] * n}
    return json.dumps(doc, separators=(",", ":"))[:-1] + ', "zzz": 1}'


SHAPES = {
    # (shape, sizes, how simrun reads it)
    "scenario: array of step objects": ([4500, 18000, 72000, 288000], scenario_of_objects, "scenario"),
    "schedule: decisions": ([62500, 250000, 1000000, 4000000], schedule_of, "schedule"),
}


def measure(simrun, kind, path, scenario_for_schedule, timeout):
    """Runs simrun on one input under GNU time: exit code, first line, seconds, peak RSS."""
    cmd = [simrun, path, "--seed", "1"] if kind == "scenario" else \
        [simrun, scenario_for_schedule, "--seed", "2", "--strategy", "replay:" + path]
    try:
        p = subprocess.run(["/usr/bin/time", "-f", "TIME %e %U %S %M"] + cmd, capture_output=True, text=True,
                           errors="replace", timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"exit": None, "first_line": f"timed out after {timeout} s"}
    lines = p.stderr.splitlines()
    stats = [l for l in lines if l.startswith("TIME ")][-1].split()
    first = [l for l in lines if not l.startswith("TIME ") and not l.startswith("Command exited")][:1]
    return {"exit": p.returncode, "wall_s": float(stats[1]), "cpu_s": round(float(stats[2]) + float(stats[3]), 3),
            "peak_rss_kb": int(stats[4]), "first_line": (first[0] if first else "")[:160]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("simrun")
    ap.add_argument("before", nargs="?")
    ap.add_argument("--scenario", default=os.path.join(os.path.dirname(__file__), "..", "..", "scenarios", "canary.json"))
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    builds = {"after": args.simrun}
    if args.before:
        builds["before"] = args.before
    doc = {"what": "simrun reading inputs of growing size (x4 per step); cpu_s is user+system time of the "
                   "process, peak_rss_kb its peak resident set (each size runs in its own process)",
           "shapes": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for shape, (sizes, make, kind) in SHAPES.items():
            rows = []
            for n in sizes:
                path = os.path.join(tmp, f"in-{n}.json")
                with open(path, "w") as f:
                    f.write(make(n))
                row = {"elements": n, "bytes": os.path.getsize(path)}
                for label, binary in builds.items():
                    row[label] = measure(binary, kind, path, args.scenario, args.timeout)
                    print(shape, n, label, row[label], file=sys.stderr)
                rows.append(row)
                os.remove(path)
            for label in builds:
                for a, b in zip(rows, rows[1:]):
                    if a[label].get("cpu_s", 0) > 0.05 and "cpu_s" in b[label]:
                        b.setdefault("cpu_growth", {})[label] = round(b[label]["cpu_s"] / a[label]["cpu_s"], 2)
            doc["shapes"][shape] = rows
    with open(args.out, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
