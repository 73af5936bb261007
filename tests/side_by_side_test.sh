#!/usr/bin/env bash
# tools/side_by_side: interleaved rounds (odd rounds the second binary first, even
# rounds weft first), merged into one table; bad arguments get one line and exit 2.
# Runs this build's weft_bench as both sides on one small cell, so it needs no Tokio.
set -uo pipefail
tool="$1" bench="$2"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
fail=0
"$tool" --weft-bin "$bench" --tokio-bin "$bench" --configs ct --workloads chained_spawn --rounds 2 --iters 1 --warmup 1 \
  --out-dir "$tmp/run" >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ $rc -ne 0 ]; then echo "FAIL: a two-round run exited $rc"; cat "$tmp/err"; fail=1; fi
for f in tokio-r1.json weft-r1.json tokio-r2.json weft-r2.json comparison.md comparison.ratios.json loadavg.txt; do
  [ -s "$tmp/run/$f" ] || { echo "FAIL: no $f"; fail=1; }
done
# Round 1 ran the other side first, round 2 weft first: the log says so in order.
order="$(grep -o 'round [12] [a-z]*' "$tmp/err" | tr '\n' ' ')"
[ "$order" = "round 1 tokio round 1 weft round 2 weft round 2 tokio " ] || { echo "FAIL: order '$order'"; fail=1; }
# One cell, merged from both rounds: its row and a ratio.
grep -q '^| chained_spawn | current_thread | ' "$tmp/run/comparison.md" || { echo "FAIL: no chained_spawn row"; cat "$tmp/run/comparison.md"; fail=1; }
python3 - "$tmp/run/comparison.ratios.json" <<'PY' || fail=1
import json, sys
d = json.load(open(sys.argv[1]))
cells = d["cells"]
assert len(cells) == 1, cells
assert len(cells[0]["weft_round_medians_ns"]) == 2 and len(cells[0]["tokio_round_medians_ns"]) == 2, cells[0]
assert cells[0]["ratio_weft_over_tokio"] > 0
PY
for bad in "--rounds 0" "--rounds x" "--iters 1000" "--configs ct;rm" "--bogus" "--rounds"; do
  # shellcheck disable=SC2086
  "$tool" --weft-bin "$bench" --tokio-bin "$bench" $bad >"$tmp/out" 2>"$tmp/err"
  rc=$?
  if [ $rc -ne 2 ] || [ "$(wc -l <"$tmp/err")" -ne 1 ] || ! grep -q '^tools/side_by_side: ' "$tmp/err"; then
    echo "FAIL: '$bad' exited $rc with: $(cat "$tmp/err")"; fail=1
  else echo "ok: '$bad' refused: $(cat "$tmp/err")"; fi
done
"$tool" --weft-bin "$tmp/none" --tokio-bin "$bench" >"$tmp/out" 2>"$tmp/err"
[ $? -eq 2 ] && grep -q "is not an executable" "$tmp/err" || { echo "FAIL: a missing binary"; cat "$tmp/err"; fail=1; }
[ $fail -eq 0 ] && echo "ok: side_by_side"
exit $fail
