#!/usr/bin/env bash
# No false alarm: every scenario under scenarios/ (shipped and zoo) keeps its
# expected outcome over seeds 0 to SEEDS-1 of the default exploration (simrun
# without --strategy: each seed under random, pct:1, pct:2, pct:3 or hold by seed
# mod 5, unless the scenario pins a strategy and says why), with every default
# check on (the progress checks stall, fairness, budget, lost_parallelism, the
# exact leak count and the livelock oracle among them). Prints the runs made;
# exits non-zero on the first sweep that fails (simrun's own exit code).
#   progress_sweep.sh SIMRUN SCENARIO_DIR SEEDS
set -u
simrun="$1"; dir="$2"; seeds="$3"
runs=0
for f in "$dir"/*.json "$dir"/zoo/*.json; do
  out=$("$simrun" "$f" --seeds "0..$((seeds - 1))" --quiet 2>&1); rc=$?
  runs=$((runs + seeds))
  if [ "$rc" != 0 ]; then
    echo "FAIL: $f (exit $rc)"; echo "$out" | head -20; exit "$rc"
  fi
  echo "$out" | head -2
done
echo "ok: $runs runs of the default exploration, every scenario kept its expected outcome"
