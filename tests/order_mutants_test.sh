#!/usr/bin/env bash
# tools/order_mutants end to end on a small slice: the local queue's orders
# against steal_storm. A weakened publish of the queue's tail must be killed (a
# data race), every mutant must be an engine order one step weaker than written,
# and a bad flag is one line and exit 9.
set -u
simrun="$1"; root="$2"; tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
"$root/tools/order_mutants" --simrun "$simrun" --seeds 0 2>"$tmp/err"; code=$?
[ "$code" = 9 ] && [ "$(wc -l < "$tmp/err")" = 1 ] && grep -q "^order_mutants: --seeds: expected an integer from 1 to 1000000, got '0'" "$tmp/err" \
  || { echo "FAIL: a bad --seeds: exit $code"; cat "$tmp/err"; fail=1; }
"$root/tools/order_mutants" --simrun "$simrun" --bogus 2>"$tmp/err"; code=$?
[ "$code" = 9 ] || { echo "FAIL: an unknown flag: exit $code"; fail=1; }
"$root/tools/order_mutants" --simrun "$simrun" --properties none --census-seeds 2 --seeds 20 --only queues.hpp \
  --out "$tmp/out" "$root/scenarios/steal_storm.json" 2>"$tmp/log" || { echo "FAIL: the campaign did not run"; cat "$tmp/log"; fail=1; }
python3 - "$tmp/out/order-mutants.json" "$root/engine/src/queues.hpp" <<'PY' || fail=1
import json, sys
doc = json.load(open(sys.argv[1]))
src = open(sys.argv[2]).read().split("\n")
ms = doc["mutants"]
assert ms, "no mutant"
strength = {"relaxed": 0, "acquire": 1, "release": 1, "acq_rel": 2, "seq_cst": 3}
for m in ms:
    assert m["file"] == "engine/src/queues.hpp", m
    assert strength[m["to"]] < strength[m["order"]], m
    assert m["status"] in ("killed", "survived"), m
killed = [m for m in ms if m["status"] == "killed"]
publish = [m for m in ms if "tail_.store(" in src[m["line"] - 1] and m["order"] == "release"]
assert publish and all(m["status"] == "killed" for m in publish), publish
for m in killed:
    assert m["killer"]["outcome"] in ("data_race", "use_after_free", "assertion", "stale_read", "lost_wakeup", "deadlock", "stall", "crash"), m
    assert "--weaken-order " + m["mutant"] in m["killer"]["replay"], m
print(f"order_mutants: {len(killed)} of {len(ms)} local-queue mutants killed by steal_storm in 20 seeds")
PY
grep -q "^## Survivors" "$tmp/out/order-mutants.md" || { echo "FAIL: no report"; fail=1; }
[ $fail = 0 ] && echo "order_mutants: all checks passed"
exit $fail
