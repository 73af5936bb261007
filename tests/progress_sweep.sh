#!/usr/bin/env bash
# The progress checks (stall, fairness, budget) raise no false alarm: every
# scenario under scenarios/ (shipped and zoo) keeps its expected outcome over
# SEEDS seeds under each of random walk, PCT (depth 3) and hold, with every
# default check on. Prints the runs made; exits non-zero on the first sweep
# that fails (simrun's own exit code).
#   progress_sweep.sh SIMRUN SCENARIO_DIR SEEDS
set -u
simrun="$1"; dir="$2"; seeds="$3"
runs=0
for f in "$dir"/*.json "$dir"/zoo/*.json; do
  for st in random pct:3 hold; do
    out=$("$simrun" "$f" --seeds "0..$((seeds - 1))" --strategy "$st" --quiet 2>&1); rc=$?
    runs=$((runs + seeds))
    if [ "$rc" != 0 ]; then
      echo "FAIL: $f $st (exit $rc)"; echo "$out" | head -20; exit "$rc"
    fi
  done
done
echo "ok: $runs runs, every scenario kept its expected outcome"
