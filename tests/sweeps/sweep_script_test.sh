#!/usr/bin/env bash
# tools/sweep end to end on a small range: it runs every shard with the job-array
# command (--shard auto/N from WEFT_SHARD_INDEX), merges each scenario, and its
# merged summary is the unsharded sweep's; a scenario that fails makes it fail
# with the failure's exit code and the replay line in its report.
#   sweep_script_test.sh SIMRUN SCENARIO_DIR
set -u
simrun="$1"; scenarios="$2"; root="$(cd "$(dirname "$0")/../.." && pwd)"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
"$root/tools/sweep" --simrun "$simrun" --seeds 3..22 --shards 3 --jobs 2 --out "$tmp/a" --keep-shards \
  "$scenarios/canary.json" "$scenarios/lifo_pingpong.json" > "$tmp/log" 2>&1
rc=$?
[ $rc = 0 ] || { echo "FAIL: tools/sweep exit $rc"; cat "$tmp/log"; fail=1; }
[ "$(ls "$tmp"/a/shards/canary-*.json | wc -l)" = 3 ] || { echo "FAIL: expected 3 canary shards"; ls "$tmp/a/shards"; fail=1; }
for name in canary lifo_pingpong; do
  "$simrun" "$scenarios/$name.json" --seeds 3..22 --collect --quiet --summary "$tmp/$name-whole.json" > /dev/null
  python3 - "$tmp/a/$name.json" "$tmp/$name-whole.json" <<'PY' || { echo "FAIL: $name merged != unsharded"; fail=1; }
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:])
for d in (a, b):
    d.pop("seconds"); d.pop("shards")
assert a == b and a["seeds_run"] == 20 and a["complete"], (a, b)
PY
done
grep -q "## canary: exit 0" "$tmp/a/summary.md" || { echo "FAIL: summary.md"; cat "$tmp/a/summary.md"; fail=1; }
python3 -c "import json,sys; d=json.load(open('$tmp/a/sweep.json')); assert [s['exit'] for s in d['scenarios']]==[0,0]" \
  || { echo "FAIL: sweep.json"; fail=1; }
# What ran is recorded by the script itself: the command with every flag, the date,
# the commit (+dirty when a tracked file differs) and the build of simrun, which
# is what the merged summaries name.
python3 - "$tmp/a" <<'PY' || { echo "FAIL: sweep.json does not record the run"; cat "$tmp/a/sweep.json"; fail=1; }
import json, re, sys
d = json.load(open(sys.argv[1] + "/sweep.json"))
for flag in ("--seeds 3..22", "--shards 3", "--jobs 2", "--keep-shards", "canary.json", "lifo_pingpong.json"):
    assert flag in d["command"], (flag, d["command"])
assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", d["date"]), d["date"]
assert re.fullmatch(r"[0-9a-f]{40}(\+dirty)?|unknown", d["commit"]), d["commit"]
assert d["build"] == json.load(open(sys.argv[1] + "/canary.json"))["weft_version"], d["build"]
assert d["seeds"] == "3..22" and d["shards"] == 3 and d["jobs"] == 2, d
md = open(sys.argv[1] + "/summary.md").read()
assert d["command"] in md and d["build"] in md and d["commit"] in md, md[:600]
PY
# A second run into the same OUT merges only its own shards: the first run's
# canary-2.json (of 3 shards) is not in a 2-shard sweep.
"$root/tools/sweep" --simrun "$simrun" --seeds 3..22 --shards 2 --jobs 2 --out "$tmp/a" --keep-shards \
  "$scenarios/canary.json" > "$tmp/log" 2>&1
rc=$?
{ [ $rc = 0 ] && [ ! -e "$tmp/a/shards/canary-2.json" ] && grep -q "2 of 2 shards, 2 files" "$tmp/a/summary.md"; } \
  || { echo "FAIL: a second run in the same OUT (exit $rc)"; cat "$tmp/log"; ls "$tmp/a/shards"; fail=1; }
# A scenario whose tasks throw where a pass is expected: exit 6 and the replay line.
cat > "$tmp/throws.json" <<'JSON'
{"name": "throws", "runtime": {"workers": 2}, "programs": {"m": [{"throw": "boom"}]}, "main": "m"}
JSON
"$root/tools/sweep" --simrun "$simrun" --seeds 0..5 --shards 2 --jobs 2 --out "$tmp/b" "$tmp/throws.json" > "$tmp/log" 2>&1
rc=$?
[ $rc = 6 ] || { echo "FAIL: a failing sweep exits $rc, expected 6"; cat "$tmp/log"; fail=1; }
grep -q "replay: tools/simrun .*throws.json --seed 0" "$tmp/b/summary.md" || { echo "FAIL: no replay line"; cat "$tmp/b/summary.md"; fail=1; }
[ ! -d "$tmp/b/shards" ] || { echo "FAIL: shards kept without --keep-shards"; fail=1; }
# Relative paths are the caller's, not the repository's.
mkdir -p "$tmp/here" && cp "$scenarios/lifo_pingpong.json" "$tmp/here/mine.json"
(cd "$tmp/here" && "$root/tools/sweep" --simrun "$simrun" --seeds 0..3 --shards 2 --jobs 2 --out rel mine.json) > "$tmp/log" 2>&1
rc=$?
[ $rc = 0 ] && [ -f "$tmp/here/rel/mine.json" ] || { echo "FAIL: relative --out and scenario (exit $rc)"; cat "$tmp/log"; ls -R "$tmp/here"; fail=1; }
# Flags are checked before any shard starts: one line naming the flag, exit 9, nothing launched.
check_refused() {  # FLAG-NAME ARGS...
  local flag="$1"; shift
  rm -rf "$tmp/c"
  "$root/tools/sweep" --simrun "$simrun" --jobs 2 --out "$tmp/c" "$scenarios/canary.json" "$@" > "$tmp/log" 2>&1
  local rc=$?
  { [ $rc = 9 ] && [ "$(wc -l < "$tmp/log")" = 1 ] && grep -q "^tools/sweep: $flag" "$tmp/log" && [ ! -e "$tmp/c" ]; } \
    || { echo "FAIL: tools/sweep $* should be refused naming $flag with exit 9 before launching (exit $rc)"; cat "$tmp/log"; fail=1; }
}
check_refused --seeds --seeds junk --shards 2
check_refused --seeds --seeds 9..2 --shards 2
check_refused --shards --seeds 0..3 --shards 5
check_refused --shards --seeds 0..9 --shards 0
check_refused --shards --seeds 0..9999999 --shards 2000000
check_refused --jobs --seeds 0..9 --jobs many
check_refused --out --seeds 0..9 --out
# A shard that fails before sweeping (a scenario simrun cannot read) shows simrun's
# own error and keeps the logs, and nothing is merged.
echo '{"name": "broken"' > "$tmp/broken.json"
"$root/tools/sweep" --simrun "$simrun" --seeds 0..3 --shards 2 --jobs 2 --out "$tmp/d" "$tmp/broken.json" > "$tmp/log" 2>&1
rc=$?
{ [ $rc = 8 ] && grep -q "shard 0/2 of .*broken.json wrote no summary (simrun exit 8)" "$tmp/log" \
    && grep -q "^  simrun: .*broken.json: \$: expected valid JSON" "$tmp/log" && [ -f "$tmp/d/shards/broken-0.log" ] \
    && [ ! -e "$tmp/d/broken.json" ]; } \
  || { echo "FAIL: a failing shard's simrun error is not shown (exit $rc)"; cat "$tmp/log"; fail=1; }
[ $fail = 0 ] && echo "tools/sweep: all checks passed"
exit $fail
