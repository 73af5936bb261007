#!/usr/bin/env python3
"""bench_compare: compares weft_bench and tokio-sched-bench results (stdlib only).

Writes a Markdown table (workload x config: Tokio median, weft median, ratio
weft/Tokio, whether the target ratio <= 0.5 is met) and a JSON file of the ratios.
Each side takes one results file, or several single-round files (an interleaved
run); several files are merged the way the harness merges rounds: the headline
median is the median of the round medians.
"""
import argparse
import json
import math
import os
import statistics
import sys

TARGET = 0.5


def load(path):
    """load reads one results document ({meta, results, per_round})."""
    with open(path) as f:
        return json.load(f)


def merge(docs):
    """merge combines documents into one: rounds renumbered in file order, headline
    lines recomputed as the median of every round median of a cell."""
    if len(docs) == 1:
        return docs[0]
    per_round, order, by_cell = [], [], {}
    round_no = 0
    for d in docs:
        rounds = sorted({r["round"] for r in d["per_round"]})
        remap = {r: round_no + i + 1 for i, r in enumerate(rounds)}
        round_no += len(rounds)
        for r in d["per_round"]:
            r = dict(r, round=remap[r["round"]])
            per_round.append(r)
            key = (r["workload"], r["config"])
            if key not in by_cell:
                by_cell[key] = []
                order.append(key)
            by_cell[key].append(r)
    results = []
    for key in order:
        rs = by_cell[key]
        meds = [r["median_ns"] for r in rs]
        med = statistics.median(meds)
        first = rs[0]
        line = {k: first[k] for k in ("workload", "config", "runtime", "worker_threads", "drivers",
                                      "busy_tasks") if k in first}
        line.update(round="all", warmup=first["warmup"], iters=first["iters"],
                    tasks_per_iter=first["tasks_per_iter"], ops_per_iter=first["ops_per_iter"],
                    op=first["op"], median_ns=round(med), round_medians_ns=meds,
                    round_spread_pct=round(100.0 * (max(meds) - min(meds)) / med, 1) if med else 0.0,
                    max_foreign_cpu_pct=max(r.get("foreign_cpu_pct", 0.0) for r in rs),
                    max_pre_foreign_cpu_pct=max(r.get("pre_foreign_cpu_pct", 0.0) for r in rs),
                    median_ns_per_task=round(med / first["tasks_per_iter"], 2),
                    median_ns_per_op=round(med / first["ops_per_iter"], 2))
        results.append(line)
    meta = dict(docs[0]["meta"])
    meta["rounds"] = round_no
    meta["finished_utc"] = docs[-1]["meta"].get("finished_utc", "")
    meta["loadavg_after"] = docs[-1]["meta"].get("loadavg_after", "")
    meta["merged_from_single_round_runs"] = len(docs)
    return {"meta": meta, "results": results, "per_round": per_round}


def cells(doc):
    """cells maps (workload, config) to the headline result line."""
    return {(r["workload"], r["config"]): r for r in doc["results"]}


def compare(weft, tokio):
    """compare pairs the cells both documents have, in the Tokio document's order."""
    w, t = cells(weft), cells(tokio)
    rows = []
    for key, tr in t.items():
        if key not in w:
            continue
        wr = w[key]
        ratio = wr["median_ns"] / tr["median_ns"] if tr["median_ns"] else float("inf")
        rows.append({
            "workload": key[0], "config": key[1],
            "tokio_median_ns": tr["median_ns"], "weft_median_ns": wr["median_ns"],
            "tokio_round_medians_ns": tr.get("round_medians_ns", [tr["median_ns"]]),
            "weft_round_medians_ns": wr.get("round_medians_ns", [wr["median_ns"]]),
            "ratio_weft_over_tokio": round(ratio, 3),
            "target_met": ratio <= TARGET,
        })
    return rows


# What the bench page says about when and where each side was measured (from meta).
MEASURED = ("tool", "tokio_version", "engine_rev", "build", "cpu_model", "available_parallelism", "started_utc",
            "loadavg_before", "loadavg_after", "rounds")


def comparison(weft, tokio, weft_files, tokio_files):
    """comparison is the ratios document (what --json-out writes and the bench page
    renders): the paired cells, the files and what their meta says about the run,
    and the weft cells the anchor has no figure for."""
    tokio_cells = cells(tokio)
    return {"target_ratio": TARGET, "weft_files": weft_files, "tokio_files": tokio_files,
            "weft_measured": {k: weft["meta"][k] for k in MEASURED if k in weft.get("meta", {})},
            "tokio_measured": {k: tokio["meta"][k] for k in MEASURED if k in tokio.get("meta", {})},
            "cells": compare(weft, tokio),
            "without_anchor": [f"{w}/{c}" for (w, c) in cells(weft) if (w, c) not in tokio_cells]}


def fmt_us(ns):
    """fmt_us prints nanoseconds as microseconds with sensible precision."""
    us = ns / 1000.0
    return f"{us:,.0f}" if us >= 100 else f"{us:.1f}"


def markdown(rows):
    """markdown renders the comparison table."""
    out = [f"| workload | config | tokio µs | weft µs | weft/tokio | ≤ {TARGET} |",
           "|---|---|---:|---:|---:|:---:|"]
    for r in rows:
        out.append(f"| {r['workload']} | {r['config']} | {fmt_us(r['tokio_median_ns'])} | "
                   f"{fmt_us(r['weft_median_ns'])} | {r['ratio_weft_over_tokio']:.2f} | "
                   f"{'yes' if r['target_met'] else 'no'} |")
    met = sum(r["target_met"] for r in rows)
    at_most_one = sum(r["ratio_weft_over_tokio"] <= 1.0 for r in rows)
    ratios = [r["ratio_weft_over_tokio"] for r in rows if r["ratio_weft_over_tokio"] > 0]
    geomean = math.exp(sum(math.log(x) for x in ratios) / len(ratios)) if ratios else float("nan")
    out.append("")
    out.append(f"{met} of {len(rows)} cells meet the target ratio ≤ {TARGET}; {at_most_one} of {len(rows)} are at "
               f"or below 1.0; geometric mean of the ratios {geomean:.2f}.")
    return "\n".join(out) + "\n"


def main():
    """main parses the arguments, merges, compares and writes the outputs."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*", help="WEFT.json TOKIO.json (or use --weft/--tokio)")
    ap.add_argument("--weft", nargs="+", default=[], help="weft results file(s)")
    ap.add_argument("--tokio", nargs="+", default=[], help="Tokio results file(s)")
    ap.add_argument("--out", help="write the Markdown table here (default: stdout)")
    ap.add_argument("--json-out", help="write the ratios as JSON here (default: next to --out, or none)")
    ap.add_argument("--html", help="write the comparison as an HTML page here (tools/report/pages.py)")
    ap.add_argument("--merged-weft", help="write the merged weft document here")
    ap.add_argument("--merged-tokio", help="write the merged Tokio document here")
    a = ap.parse_args()
    weft_files, tokio_files = list(a.weft), list(a.tokio)
    if a.files:
        if len(a.files) != 2 or weft_files or tokio_files:
            ap.error("give WEFT.json TOKIO.json, or --weft/--tokio")
        weft_files, tokio_files = [a.files[0]], [a.files[1]]
    if not weft_files or not tokio_files:
        ap.error("need weft and Tokio results")
    weft = merge([load(p) for p in weft_files])
    tokio = merge([load(p) for p in tokio_files])
    for path, doc in ((a.merged_weft, weft), (a.merged_tokio, tokio)):
        if path:
            with open(path, "w") as f:
                json.dump(doc, f, indent=2)
                f.write("\n")
    md = markdown(compare(weft, tokio))
    if a.out:
        with open(a.out, "w") as f:
            f.write(md)
    else:
        sys.stdout.write(md)
    doc = comparison(weft, tokio, weft_files, tokio_files)
    json_out = a.json_out or (a.out.rsplit(".", 1)[0] + ".ratios.json" if a.out else None)
    if json_out:
        with open(json_out, "w") as f:
            json.dump(doc, f, indent=2)
            f.write("\n")
    if a.html:
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "report"))
        import pages
        with open(a.html, "w") as f:
            f.write(pages.bench_page(doc))


if __name__ == "__main__":
    main()
