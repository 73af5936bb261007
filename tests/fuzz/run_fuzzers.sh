#!/usr/bin/env bash
# Runs every fuzz target for real, two at a time, and writes the run's figures
# (the trace checker's Python fuzzer too, as target "trace").
#   run_fuzzers.sh SECONDS BUILD_DIR OUT_JSON [TARGET...]
# Each target starts from a copy of its committed corpus (tests/fuzz/corpus/KIND)
# with the schema dictionary; new inputs stay in BUILD_DIR/fuzz-work/KIND, crashes
# in BUILD_DIR/fuzz-findings/KIND. OUT_JSON gets per target: executions, coverage
# (edges) and features, corpus size, findings, seconds. Exits 1 on any finding.
set -u
seconds=$1; build=$2; out=$3; shift 3
here=$(cd "$(dirname "$0")" && pwd)
targets=("$@"); [ ${#targets[@]} -eq 0 ] && targets=(scenario repro schedule trace)
declare -A max_len=([scenario]=16384 [repro]=65536 [schedule]=65536)
mkdir -p "$build/fuzz-logs"
run() {
  local k=$1 work="$build/fuzz-work/$1" finds="$build/fuzz-findings/$1"
  mkdir -p "$work" "$finds"
  cp -n "$here/corpus/$k"/* "$work"/ 2>/dev/null
  nice -n 15 "$build/tests/fuzz/fuzz_$k" "$work" -dict="$here/weft.dict" -max_total_time="$seconds" \
    -max_len="${max_len[$k]}" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$finds/" \
    >"$build/fuzz-logs/$k.log" 2>&1
  echo $? >"$build/fuzz-logs/$k.rc"
}
run_trace() {  # the trace checker's own fuzzer (Python: fuzz_trace_check.py)
  mkdir -p "$build/fuzz-findings/trace"
  nice -n 15 python3 "$here/fuzz_trace_check.py" "$here/../../tools/trace_check" "$here/corpus/trace" \
    --reject "$here/regressions/trace" --seconds "$seconds" --seed "$RANDOM" \
    --findings "$build/fuzz-findings/trace" --stats "$build/fuzz-logs/trace-stats.json" >"$build/fuzz-logs/trace.log" 2>&1
  echo $? >"$build/fuzz-logs/trace.rc"
}
# The commit is read at the start: the binaries were built from it.
commit=$(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo unknown)
git -C "$here" diff --quiet HEAD -- 2>/dev/null || commit="$commit (with uncommitted changes)"
started=$(date -u +%Y-%m-%dT%H:%M:%SZ); load_start=$(cut -d' ' -f1-3 /proc/loadavg)
pids=()
for k in "${targets[@]}"; do
  if [ "$k" = trace ]; then
    run_trace & pids+=($!)
    if [ ${#pids[@]} -ge 2 ]; then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
    continue
  fi
  run "$k" & pids+=($!)
  if [ ${#pids[@]} -ge 2 ]; then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
done
wait
python3 - "$build" "$out" "$seconds" "$started" "$load_start" "$commit" "${targets[@]}" <<'PY'
import json, os, re, subprocess, sys, time
build, out, seconds, started, load_start, commit, targets = (sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4],
                                                             sys.argv[5], sys.argv[6], sys.argv[7:])
doc = json.load(open(out)) if os.path.exists(out) else {}
# The run's provenance, written by this script (never by hand): when, at which
# commit, and how busy the machine was (the load average at start and at end).
doc["_run"] = {"started": started, "ended": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "commit": commit,
               "command": f"tests/fuzz/run_fuzzers.sh {seconds} (two targets at a time, nice 15)",
               "targets": targets, "cores": os.cpu_count(), "load_average_start": load_start,
               "load_average_end": " ".join(open("/proc/loadavg").read().split()[:3])}
bad = 0
for k in targets:
    if k == "trace":
        st = json.load(open(os.path.join(build, "fuzz-logs", "trace-stats.json")))
        rc = int(open(os.path.join(build, "fuzz-logs", "trace.rc")).read())
        findings = sorted(os.listdir(os.path.join(build, "fuzz-findings", "trace")))
        bad += bool(findings) or rc != 0
        doc[k] = {"seconds": seconds, "executions": st["executions"], "engine": "fuzz_trace_check.py (mutation, no coverage)",
                  "executions_per_second": int(st["executions"] / max(seconds, 1)), "exit_code": rc, "findings": findings}
        print(f"fuzz {k}: {doc[k]}")
        continue
    log = open(os.path.join(build, "fuzz-logs", k + ".log"), errors="replace").read()
    stats = dict(re.findall(r"^stat::(\w+):\s+(\d+)", log, re.M))
    last = [l for l in log.splitlines() if re.match(r"#\d+\s", l)]
    cov = re.search(r"cov: (\d+) ft: (\d+) corp: (\d+)", last[-1]) if last else None
    findings = sorted(os.listdir(os.path.join(build, "fuzz-findings", k)))
    rc = int(open(os.path.join(build, "fuzz-logs", k + ".rc")).read())
    bad += bool(findings) or rc != 0
    doc[k] = {"seconds": seconds, "executions": int(stats.get("number_of_executed_units", 0)),
              "executions_per_second": int(stats.get("average_exec_per_sec", 0)),
              "coverage_edges": int(cov.group(1)) if cov else None, "features": int(cov.group(2)) if cov else None,
              "corpus_inputs": int(cov.group(3)) if cov else None, "peak_rss_mb": int(stats.get("peak_rss_mb", 0)),
              "exit_code": rc, "findings": findings}
    print(f"fuzz {k}: {doc[k]}")
os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
json.dump(doc, open(out, "w"), indent=1)
sys.exit(1 if bad else 0)
PY
