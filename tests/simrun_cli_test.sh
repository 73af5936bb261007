#!/usr/bin/env bash
# simrun's exit codes and one-line errors, end to end.
set -u
simrun="$1"; scenarios="$2"; tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
expect() {  # expect CODE DESCRIPTION -- COMMAND...
  local want=$1 what=$2; shift 3
  "$@" >"$tmp/out" 2>"$tmp/err"; local got=$?
  if [ "$got" != "$want" ]; then echo "FAIL: $what: exit $got, expected $want"; cat "$tmp/out" "$tmp/err"; fail=1;
  else echo "ok: $what (exit $got)"; fi
}
expect 0 "steal_storm passes" -- "$simrun" "$scenarios/steal_storm.json" --seed 42
grep -q "steals" "$tmp/out" || { echo "FAIL: summary lacks steals"; fail=1; }
expect 1 "the canary fails with an assertion" -- "$simrun" "$scenarios/canary.json" --seed 1
grep -q "replay: tools/simrun" "$tmp/out" || { echo "FAIL: no replay line"; fail=1; }
expect 0 "the canary's failure is expected over seeds" -- "$simrun" "$scenarios/canary.json" --seeds 1..5 --quiet
# The teardown of a failed run changes nothing simrun reports, for the run or for
# the runs after it in the same process: --no-teardown prints the same summary,
# byte for byte (its wall-clock "seconds" aside), over steal_storm seeds that a
# step bound cuts in the middle of the work (about half of them) and seeds that
# pass after them.
"$simrun" "$scenarios/steal_storm.json" --seeds 0..11 --step-bound 43400 --collect --json 2>&1 | sed 's/"seconds":[0-9.e+-]*//' >"$tmp/td-on"
"$simrun" "$scenarios/steal_storm.json" --seeds 0..11 --step-bound 43400 --collect --json --no-teardown 2>&1 | sed 's/"seconds":[0-9.e+-]*//' >"$tmp/td-off"
if ! cmp -s "$tmp/td-on" "$tmp/td-off"; then echo "FAIL: --no-teardown changed the report"; diff "$tmp/td-on" "$tmp/td-off" | head -c 2000; fail=1;
elif ! grep -q '"step_bound_exceeded":[2-9]' "$tmp/td-on" || ! grep -q '"pass":[2-9]' "$tmp/td-on"; then
  echo "FAIL: the step bound should cut some seeds and pass others"; head -c 600 "$tmp/td-on"; fail=1;
else echo "ok: --no-teardown changes no report line"; fi
# The same where a dumper, the budget monitor and LIFO hand-offs run when the
# step bound cuts the run (each wrote into the report in the teardown once).
# Each early (2,000 decisions: every seed cut) and near its median length (some
# seeds cut, some passing after them).
for cut in lifo_pingpong:2000 lifo_pingpong:23870 dump_storm:2000 dump_storm:15400; do
  sc=${cut%%:*}; bound=${cut##*:}
  "$simrun" "$scenarios/$sc.json" --seeds 0..7 --step-bound "$bound" --collect --json 2>&1 | sed 's/"seconds":[0-9.e+-]*//' >"$tmp/td-on"
  "$simrun" "$scenarios/$sc.json" --seeds 0..7 --step-bound "$bound" --collect --json --no-teardown 2>&1 | sed 's/"seconds":[0-9.e+-]*//' >"$tmp/td-off"
  if ! grep -q '"step_bound_exceeded":[1-9]' "$tmp/td-on" || { [ "$bound" != 2000 ] && ! grep -q '"pass":[1-9]' "$tmp/td-on"; }; then
    echo "FAIL: $sc at $bound decisions should cut some seeds (and pass some unless 2000)"; fail=1;
  elif cmp -s "$tmp/td-on" "$tmp/td-off"; then echo "ok: --no-teardown changes no line of $sc cut at $bound";
  else echo "FAIL: --no-teardown changed $sc's report at $bound"; diff "$tmp/td-on" "$tmp/td-off" | head -c 1500; fail=1; fi
done
expect 9 "a bad flag is a usage error" -- "$simrun" "$scenarios/steal_storm.json" --sedd 1
expect 9 "a bad strategy is a usage error" -- "$simrun" "$scenarios/steal_storm.json" --strategy dfs
echo '{"name": 1' > "$tmp/bad.json"
expect 8 "malformed JSON is a scenario error" -- "$simrun" "$tmp/bad.json" --seed 1
grep -q "bad.json: \$: expected valid JSON" "$tmp/err" || { echo "FAIL: message"; cat "$tmp/err"; fail=1; }
echo '{"name": "x", "runtime": {"workers": 1000000}, "programs": {"m": []}, "main": "m"}' > "$tmp/absurd.json"
expect 8 "a million workers is a scenario error" -- "$simrun" "$tmp/absurd.json" --seed 1
[ "$(wc -l < "$tmp/err")" = 1 ] || { echo "FAIL: error is not one line"; fail=1; }
expect 1 "record a failing schedule" -- "$simrun" "$scenarios/canary.json" --seed 2 --record "$tmp/s.json" --quiet
expect 1 "recorded schedule replays to the same failure" -- "$simrun" "$scenarios/canary.json" --seed 2 --strategy "replay:$tmp/s.json"
expect 1 "shrink the canary" -- "$simrun" "$scenarios/canary.json" --seed 2 --shrink --out "$tmp/c.repro.json" --quiet
python3 -c "import json; d=json.load(open('$tmp/c.repro.json')); json.dump(d['schedule'], open('$tmp/c.sched.json', 'w'))"
expect 9 "a shrunk schedule is not replayed strictly" -- "$simrun" "$scenarios/canary.json" --strategy "replay:$tmp/c.sched.json"
# Memory models: bad flags and values, and a replay under another model or history
# depth refused with the reason (a divergence otherwise), one line each.
expect 9 "an unknown memory model flag is a usage error" -- "$simrun" "$scenarios/steal_storm.json" --seed 1 --memory-model tso
grep -q "^simrun: --memory-model: expected sc or c11, got 'tso' (see simrun --help)$" "$tmp/err" || { echo "FAIL: message"; cat "$tmp/err"; fail=1; }
for d in 0 65 -1 99999999999999999999; do
  expect 9 "a history depth of $d is a usage error" -- "$simrun" "$scenarios/steal_storm.json" --seed 1 --history-depth "$d"
  [ "$(wc -l < "$tmp/err")" = 1 ] && grep -q "history-depth" "$tmp/err" || { echo "FAIL: message"; cat "$tmp/err"; fail=1; }
done
echo '{"name": "x", "programs": {"m": []}, "main": "m", "exploration": {"memory_model": "tso"}}' > "$tmp/tso.json"
expect 8 "a scenario naming an unknown memory model" -- "$simrun" "$tmp/tso.json" --seed 1
grep -q 'tso.json: \$.exploration.memory_model: expected one of "sc", "c11"' "$tmp/err" && [ "$(wc -l < "$tmp/err")" = 1 ] || { echo "FAIL: message"; cat "$tmp/err"; fail=1; }
for d in 0 65; do
  echo '{"name": "x", "programs": {"m": []}, "main": "m", "exploration": {"history_depth": '$d'}}' > "$tmp/depth.json"
  expect 8 "a scenario with history depth $d" -- "$simrun" "$tmp/depth.json" --seed 1
  grep -q 'depth.json: \$.exploration.history_depth: expected an integer from 1 to 64' "$tmp/err" || { echo "FAIL: message"; cat "$tmp/err"; fail=1; }
done
expect 1 "record the canary under sc" -- "$simrun" "$scenarios/canary.json" --seed 2 --memory-model sc --record "$tmp/sc.json" --quiet
expect 9 "an sc schedule replayed under c11 is refused" -- "$simrun" "$scenarios/canary.json" --strategy "replay:$tmp/sc.json" --memory-model c11
grep -q "recorded under the sc memory model and this run is c11 (a replay would diverge): pass --memory-model sc" "$tmp/err" || { echo "FAIL: message"; cat "$tmp/err"; fail=1; }
expect 1 "a scenario naming no model replays it under sc, as recorded" -- "$simrun" "$scenarios/canary.json" --strategy "replay:$tmp/sc.json"
expect 1 "record the canary under c11 keeping 8 stores" -- "$simrun" "$scenarios/canary.json" --seed 2 --history-depth 8 --record "$tmp/d8.json" --quiet
grep -q '"history_depth":8' "$tmp/d8.json" || { echo "FAIL: the schedule does not record its depth"; fail=1; }
expect 9 "replayed keeping 4 it is refused" -- "$simrun" "$scenarios/canary.json" --strategy "replay:$tmp/d8.json"
grep -q "recorded keeping 8 stores per atomic and this run keeps 4 (a replay would diverge): pass --history-depth 8" "$tmp/err" || { echo "FAIL: message"; cat "$tmp/err"; fail=1; }
expect 1 "replayed keeping 8 it replays" -- "$simrun" "$scenarios/canary.json" --strategy "replay:$tmp/d8.json" --history-depth 8
python3 -c "
import json; d=json.load(open('$tmp/c.repro.json')); assert d['scenario']['exploration']['memory_model'] == 'c11'
d['scenario']['exploration']['memory_model'] = 'sc'; json.dump(d, open('$tmp/other-model.repro.json', 'w'))"
expect 8 "a reproduction whose scenario names another model than its schedule" -- "$simrun" repro "$tmp/other-model.repro.json"
grep -q 'other-model.repro.json: \$.scenario.exploration.memory_model: expected "c11", the memory model the schedule was recorded under' "$tmp/err" && [ "$(wc -l < "$tmp/err")" = 1 ] || { echo "FAIL: message"; cat "$tmp/err"; fail=1; }
expect 0 "determinism check" -- "$simrun" "$scenarios/fanout_overflow.json" --seed 3 --check-determinism
expect 0 "hold: determinism check" -- "$simrun" "$scenarios/steal_storm.json" --seed 3 --strategy hold --check-determinism
expect 0 "hold: record a schedule" -- "$simrun" "$scenarios/steal_storm.json" --seed 3 --strategy hold --record "$tmp/h.json" --json
cp "$tmp/out" "$tmp/hold.out"
expect 0 "hold: the recorded schedule replays" -- "$simrun" "$scenarios/steal_storm.json" --strategy "replay:$tmp/h.json" --json
python3 -c "import json; a=json.load(open('$tmp/hold.out')); b=json.load(open('$tmp/out')); assert a['strategy']=='hold' and a['steps']==b['steps'] and a['context_switches']==b['context_switches']" || { echo "FAIL: hold replay"; fail=1; }
expect 0 "chrome trace" -- "$simrun" "$scenarios/steal_storm.json" --seed 1 --trace "$tmp/t.json" --trace-format chrome
python3 -c "import json,sys; d=json.load(open('$tmp/t.json')); assert d['traceEvents'] and d['metadata']['seed']==1" || { echo "FAIL: chrome trace"; fail=1; }
expect 9 "--metrics-every needs --trace" -- "$simrun" "$scenarios/steal_storm.json" --seed 1 --metrics-every 20000
expect 0 "metrics snapshots in the trace" -- "$simrun" "$scenarios/steal_storm.json" --seed 42 --trace "$tmp/m1.json" --metrics-every 20000
expect 0 "metrics snapshots, same seed again" -- "$simrun" "$scenarios/steal_storm.json" --seed 42 --trace "$tmp/m2.json" --metrics-every 20000
cmp -s "$tmp/m1.json" "$tmp/m2.json" || { echo "FAIL: metrics snapshots differ between two runs of one seed"; fail=1; }
python3 -c "
import json; d=json.load(open('$tmp/m1.json')); s=d['metrics_snapshots']
assert len(s) >= 3, len(s)
assert all(a['t_ns'] < b['t_ns'] and a['step'] < b['step'] for a, b in zip(s, s[1:]))
alive=[x['metrics']['num_alive_tasks'] for x in s]; assert max(alive) > 0 and len(set(alive)) > 1, alive
assert d['metrics']['num_alive_tasks'] == 0" || { echo "FAIL: metrics snapshots"; fail=1; }
expect 0 "metrics snapshots as Perfetto counters" -- "$simrun" "$scenarios/steal_storm.json" --seed 1 --trace "$tmp/mc.json" --trace-format chrome --metrics-every 20000
python3 -c "import json; d=json.load(open('$tmp/mc.json')); c=[e for e in d['traceEvents'] if e['ph']=='C']; assert c and any(e['name']=='local queue depth' for e in c)" || { echo "FAIL: chrome counters"; fail=1; }
expect 0 "json summary" -- "$simrun" "$scenarios/steal_storm.json" --seed 1 --json
python3 -c "import json; d=json.load(open('$tmp/out')); assert d['outcome']=='pass' and d['steals']>0" || { echo "FAIL: json"; fail=1; }
# The default exploration: seed 9 of an unpinned scenario runs hold (9 mod 5 = 4),
# says so, and naming it outright is the same run; a failure's replay line names
# the seed's own strategy and replays the same failure.
expect 0 "the default exploration runs seed 9 under hold" -- "$simrun" "$scenarios/steal_storm.json" --seed 9 --json
cp "$tmp/out" "$tmp/mixed.out"
expect 0 "hold named outright, seed 9" -- "$simrun" "$scenarios/steal_storm.json" --seed 9 --strategy hold --json
python3 -c "import json; a=json.load(open('$tmp/mixed.out')); b=json.load(open('$tmp/out')); assert a['strategy']=='hold' and (a['steps'],a['context_switches'],a['polls'])==(b['steps'],b['context_switches'],b['polls'])" || { echo "FAIL: mixed seed 9 is not hold's run"; fail=1; }
expect 1 "mixed on the canary: seed 7 fails under pct:2" -- "$simrun" "$scenarios/canary.json" --seed 7 --strategy mixed
line=$(grep -o "replay: tools/simrun .*" "$tmp/out" | sed 's/^replay: tools\/simrun //'); head -1 "$tmp/out" > "$tmp/mixed.first"
case "$line" in *"--seed 7 --strategy pct:2") ;; *) echo "FAIL: the replay line does not name pct:2: $line"; fail=1 ;; esac
expect 1 "its replay line replays it" -- "$simrun" "$scenarios/canary.json" --seed 7 --strategy pct:2
head -1 "$tmp/out" | cmp -s - "$tmp/mixed.first" || { echo "FAIL: the replay differs"; cat "$tmp/out"; fail=1; }
expect 0 "a mixed sweep counts each concrete strategy" -- "$simrun" "$scenarios/lifo_pingpong.json" --seeds 0..9 --json
python3 -c "
import json; s=[json.loads(l) for l in open('$tmp/out')][-1]
assert s['strategy_flag']=='' and {k: v['seeds'] for k, v in s['strategies'].items()} == {'random': 2, 'pct:1': 2, 'pct:2': 2, 'pct:3': 2, 'hold': 2}, s['strategies']" || { echo "FAIL: mixed sweep summary"; fail=1; }
# Memory-order mutation: the census lists the engine's sites, a weakening runs
# with the changed count reported and names itself in the replay line, bad values
# are one-line usage errors.
expect 0 "the census of a sweep" -- "$simrun" "$scenarios/steal_storm.json" --seeds 0..2 --quiet --order-sites "$tmp/sites.json"
site=$(python3 -c "
import json; s=json.load(open('$tmp/sites.json')); assert s['format']=='weft-order-sites'
src=open('$scenarios/../engine/src/queues.hpp').read().split(chr(10))
rel=[x for x in s['sites'] if x['file']=='engine/src/queues.hpp' and x['op']=='store' and x['order']=='release' and 'tail_.store(' in src[x['line']-1]]
assert rel and rel[0]['weaker']==['relaxed'], s['sites'][:3]; print('%s:%d' % (rel[0]['file'], rel[0]['line']))") || { echo "FAIL: the census lacks the local queue's release store of its tail"; fail=1; }
expect 0 "a weakened run says how many operations it weakened" -- "$simrun" "$scenarios/steal_storm.json" --seed 0 --weaken-order "$site=relaxed" --no-race-detection --memory-model sc
grep -q "^  weakened: [1-9][0-9]* operations ran with a weaker order (--weaken-order $site=relaxed)$" "$tmp/out" || { echo "FAIL: no weakened count"; cat "$tmp/out"; fail=1; }
expect 11 "the local queue's publish weakened to relaxed is a data race" -- "$simrun" "$scenarios/steal_storm.json" --seeds 0..20 --weaken-order "$site=relaxed"
grep -q "replay: tools/simrun .* --weaken-order $site=relaxed   # data_race" "$tmp/out" || { echo "FAIL: replay line without the weakening"; cat "$tmp/out"; fail=1; }
expect 9 "a weakening to seq_cst is refused" -- "$simrun" "$scenarios/steal_storm.json" --weaken-order "$site=seq_cst"
grep -q "^simrun: --weaken-order: ORDER must be relaxed, acquire, release or acq_rel, got '$site=seq_cst' (see simrun --help)$" "$tmp/err" || { echo "FAIL: message"; cat "$tmp/err"; fail=1; }
expect 9 "a weakening without a line is refused" -- "$simrun" "$scenarios/steal_storm.json" --weaken-order "engine/src/queues.hpp=relaxed"
expect 9 "a weakening cannot be shrunk into a reproduction" -- "$simrun" "$scenarios/steal_storm.json" --weaken-order "$site=relaxed" --shrink
[ "$(wc -l < "$tmp/err")" = 1 ] || { echo "FAIL: error is not one line"; cat "$tmp/err"; fail=1; }
# A weakening that breaks memory (steal_into2's acquire load of the victim's head,
# relaxed): seeds 0 to 11 pass, seed 12 fails an assertion. A sweep must give
# seed 12 the verdict its run alone gives (the teardown of its first PCT walk
# once left the pool a broken list that its second walk took: a wild access;
# weft/sim/detail/retired.hpp, Step R4), and the run alone must print its verdict
# and end by its exit code, not die at exit of what its teardown left.
head=$(python3 -c "
import json; s=json.load(open('$tmp/sites.json'))
src=open('$scenarios/../engine/src/queues.hpp').read().split(chr(10))
acq=[x for x in s['sites'] if x['file']=='engine/src/queues.hpp' and x['op']=='load' and x['order']=='acquire'
     and 'prev = head_.load(' in src[x['line']-1] and 'steal_into2' in src[x['line']-2]]
assert len(acq)==1, acq; print('%s:%d' % (acq[0]['file'], acq[0]['line']))") || { echo "FAIL: the census lacks steal_into2's acquire load of head_"; fail=1; }
expect 1 "a sweep's seed fails as its run alone does" -- "$simrun" "$scenarios/steal_storm.json" --seeds 0..12 --quiet --weaken-order "$head=relaxed"
grep -q "replay: tools/simrun .* --seed 12 .*# assertion: .*n <= policy::steal_amount" "$tmp/out" || { echo "FAIL: seed 12 of the sweep did not fail its assertion (if the engine's schedules moved, find a seed that passes and one after it that fails)"; cat "$tmp/out" "$tmp/err"; fail=1; }
expect 1 "the seed alone prints its verdict and exits by it" -- "$simrun" "$scenarios/steal_storm.json" --seed 12 --weaken-order "$head=relaxed"
grep -q "^steal_storm seed=12 .*: assertion" "$tmp/out" || { echo "FAIL: no verdict"; cat "$tmp/out" "$tmp/err"; fail=1; }
[ $fail = 0 ] && echo "simrun CLI: all checks passed"
exit $fail
