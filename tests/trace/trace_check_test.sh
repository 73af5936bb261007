#!/usr/bin/env bash
# Records traces and runs tools/trace_check on them.
#   trace_check_test.sh os  OS_TRACE_RECORD TRACE_CHECK   a real 4-worker run, 3 times
#   trace_check_test.sh sim SIMRUN TRACE_CHECK SCENARIOS  every shipped scenario, 2 seeds
set -euo pipefail
mode="$1"; bin="$2"; check="$3"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
case "$mode" in
  os)
    for i in 1 2 3; do
      "$bin" "$tmp/os.json" 1000
      # 1000 leaves + 16 ping-pong tasks + 100 injected, each polled at least once.
      "$check" "$tmp/os.json" --min-polls 1116
      grep -q '"backend":"os"' "$tmp/os.json"
    done
    ;;
  sim)
    dir="$4"
    for sc in "$dir"/*.json; do
      for seed in 1 2; do
        # A failing run (the canary) still writes its trace; its exit code is not ours.
        "$bin" "$sc" --seed "$seed" --trace "$tmp/sim.json" --quiet || true
        "$check" "$tmp/sim.json"
      done
    done
    ;;
  *) echo "usage: trace_check_test.sh os|sim ..." >&2; exit 2 ;;
esac
echo "trace_check_test ($mode): every trace passed"
