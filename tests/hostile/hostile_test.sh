#!/usr/bin/env bash
# Hostile input for simrun and trace_check: every class of issue #13 (number
# extremes, deep nesting, wrong types, non-UTF-8 paths, huge files, memory,
# bad flags, duplicate keys, control characters, shell characters, syntax
# errors, directories, wrong shapes, unwritable outputs, deadlock reports).
#   hostile_test.sh SIMRUN TRACE_CHECK SCENARIO_DIR           check every case
#   hostile_test.sh --table SIMRUN TRACE_CHECK SCENARIO_DIR   print the table only
#     (the memory cases then run at the default budget, or $WEFT_HOSTILE_TABLE_MEM)
# A case passes when the exit code is the expected one, stderr+stdout hold no
# crash (signal, "terminate called", Python traceback), and an error is one line.
set -u
table=0
# The memory cases stop at a small budget when checking (seconds); the table
# shows the default budget (4G), under the same 4 GB address-space limit.
MEM="--memory-limit 128M"
if [ "${1:-}" = --table ]; then table=1; MEM="${WEFT_HOSTILE_TABLE_MEM:-}"; shift; fi
simrun="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; trace_check="$2"; scenarios="$3"
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
fail=0; cases=0

# run_case CLASS EXPECTED COMMAND: COMMAND is a bash string over $simrun, $tc, $T, $S.
run_case() {
  local class=$1 want=$2 cmd=$3
  cases=$((cases + 1))
  ( [ "${WEFT_HOSTILE_NO_ULIMIT:-0}" = 1 ] || ulimit -v 4000000; S="$scenarios" tc="$trace_check" T="$T" simrun="$simrun" MEM="$MEM" \
      timeout 60 bash -c "$cmd" ) >"$T/out" 2>"$T/err" </dev/null
  local got=$?
  local first
  first=$( { cat "$T/err"; cat "$T/out"; } | head -c 4000 | LC_ALL=C tr -d '\000' | head -n 1 | LC_ALL=C tr -c '[:print:]' '?' | cut -c1-150)
  local shown=${cmd//\$simrun/simrun}; shown=${shown//\$tc/trace_check}; shown=${shown//\$S\//scenarios\/}; shown=${shown// \$MEM/}
  if [ $table = 1 ]; then
    printf '| %s | `%s` | %s | %s |\n' "$class" "${shown//|/\\|}" "$got" "${first//|/\\|}"
    return
  fi
  local bad=""
  [ "$got" = "$want" ] || bad="exit $got, expected $want"
  if [ "$got" -ge 124 ]; then bad="crashed or hung (exit $got)"; fi
  if grep -qa "terminate called\|Traceback\|AddressSanitizer\|runtime error:" "$T/err" "$T/out"; then bad="crash text"; fi
  if grep -qa "(it does not exist)" "$T/err"; then bad="${bad:+$bad; }its input file is missing (a broken case)"; fi
  if LC_ALL=C grep -qaP '[\x00\x1b]|\xe2\x80[\x8b-\x8f\xa8-\xae]|\xe2\x81[\xa0-\xa4\xa6-\xaf]' "$T/err" "$T/out"; then
    bad="${bad:+$bad; }a raw NUL, ESC or invisible format character (bidi, zero-width) reached the terminal"; fi
  if { [ "$want" = 8 ] || [ "$want" = 9 ] || [ "${cmd#\$tc}" != "$cmd" ]; } && [ "$want" != 0 ] && [ "$(wc -l <"$T/err")" != 1 ]; then bad="${bad:+$bad; }error is not one line"; fi
  if [ -n "$bad" ]; then
    echo "FAIL [$class] $shown: $bad"; head -c 600 "$T/err"; echo; fail=1
  else
    echo "ok [$class] exit $got: $first"
  fi
}

# --- inputs -------------------------------------------------------------------
scenario() {  # scenario FILE MAIN_STEPS [EXTRA_TOP_LEVEL]
  printf '{"name": "h", "programs": {"m": %s, "w": [{"yield": 1}]}, "main": "m"%s}\n' "$2" "${3:-}" > "$T/$1"
}
scenario ok.json '[{"spawn": "w", "count": 2}, {"join": true}]'
scenario num_inf.json '[{"yield": 1e999}]'
scenario num_neginf.json '[{"yield": -1e999}]'
scenario num_2p64.json '[{"yield": 18446744073709551616}]'
scenario num_tiny.json '[{"yield": 1e-999}]'
printf '{"name": "h", "runtime": {"workers": 1e999}, "programs": {"m": []}, "main": "m"}' > "$T/num_workers.json"
python3 - "$T" <<'PY'
import json, sys, os
T = sys.argv[1]
def w(name, text, mode="w"):
    with open(os.path.join(T, name), mode) as f: f.write(text)
deep = 100000
w("deep_arrays.json", '{"name": "h", "programs": {"m": ' + "[" * deep + "]" * deep + '}, "main": "m"}')
w("deep_objects.json", '{"name": "h", "x": ' + '{"a":' * deep + "1" + "}" * deep + "}")
w("deep_unclosed.json", "[" * deep)
w("deep_valid_prefix.json", '{"name": "h", "programs": {"m": [], "n": ' + "[" * 5000 + "]" * 5000 + '}, "main": "m"}')
w("dup_name.json", '{"name": "a", "name": "b", "programs": {"m": []}, "main": "m"}')
w("dup_program.json", '{"name": "a", "programs": {"m": [], "m": [{"yield": 1}]}, "main": "m"}')
w("ctl_newline.json", json.dumps({"name": "line1\nline2", "programs": {"m": [{"spawn": "x\nFAKE: all passed"}]}, "main": "m"}))
w("ctl_ansi.json", json.dumps({"name": "h", "programs": {"m": [{"spawn": "\u001b[2J\u001b[31mred"}]}, "main": "m"}))
w("ctl_nul.json", json.dumps({"name": "h", "programs": {"m": [{"spawn": "a\u0000hidden"}]}, "main": "m"}))
w("ctl_throw.json", json.dumps({"name": "h", "programs": {"m": [{"throw": "\u001b[2J\u001b[31mred\nFAKE"}]}, "main": "m"}))
w("ctl_bidi.json", json.dumps({"name": "h", "programs": {"m": [{"spawn": "x\u202egnp.exe\u2066y\u200b"}]}, "main": "m"}))
open(os.path.join(T, "ctl_badutf8_name.json"), "wb").write(b'{"name": "h\xff\xfe", "programs": {"m": []}, "main": "m"}')
w("syn_unclosed.json", '{"name": 1')
w("syn_colon.json", '{"name" "h"}')
w("syn_N.json", 'N')
w("syn_trailing_comma.json", '{"name": "h",}')
w("syn_empty.json", '')
w("syn_comment.json", '{"name": "h" // c\n}')
w("shape_array.json", '[]')
w("shape_number.json", '5')
w("shape_string.json", '"x"')
w("big.json", '{"name": "' + "x" * (5 * 1024 * 1024) + '"}')
# Memory inside the limits: a million detached spawns, a large repeat of spawns.
w("mem_detach.json", json.dumps({"name": "mem", "programs": {"m": [{"spawn": "w", "count": 10000000, "detach": True}],
     "w": [{"sleep_ns": 3600000000000}]}, "main": "m", "exploration": {"step_bound": 1000000000}}))
# The repeat's body never suspends: each step is a ready await, which must not
# nest a stack frame (Debug and ASan builds have no guaranteed tail calls).
w("mem_repeat.json", json.dumps({"name": "mem2", "programs": {"m": [{"repeat": 10000000, "steps": [{"spawn": "w", "detach": True}]}],
     "w": [{"sleep_ns": 3600000000000}]}, "main": "m", "exploration": {"step_bound": 1000000000}}))
w("ready_repeat.json", json.dumps({"name": "ready", "programs": {"m": [{"repeat": 20000, "steps": [{"notify": "n"}]}]},
     "main": "m", "exploration": {"step_bound": 100000000}}))
# Linear parsing: 4 MiB of step objects (nlohmann's callback parser rescanned the
# parent array at every object's end: minutes), then a field the schema refuses.
w("many_objects.json", json.dumps({"name": "h", "programs": {"m": [{"yield": 1}] * 290000}, "main": "m", "zzz": 1}))
# A loop that makes no decision: nested repeats of a join without children.
w("quiet_loop.json", json.dumps({"name": "quiet", "programs": {"m": [{"repeat": 10000000, "steps": [
     {"repeat": 10000000, "steps": [{"join": True}]}]}]}, "main": "m"}))
# Ten thousand channels: closing them takes ~50,000 decisions, which are no livelock.
w("channels_10k.json", json.dumps({"name": "ch", "channels": {f"c{i}": {"capacity": 1} for i in range(10000)},
     "programs": {"m": [{"yield": 1}]}, "main": "m"}))
# A megabyte-long key and name in a file, for errors that must stay short.
w("long_key.json", '{"name": "h", "' + "k" * (1024 * 1024) + '": 1}')
w("long_program.json", json.dumps({"name": "h", "programs": {"m": [{"spawn": "p" * (1024 * 1024)}]}, "main": "m"}))
# A program and a channel whose names try to end their quotes and fake a line.
w("deadlock_spoof.json", json.dumps({"name": "dl", "runtime": {"workers": 2}, "channels": {"c'; x": {"capacity": 1}},
     "programs": {"m": [{"spawn": "x'\nFAKE: all passed"}, {"notified": "n"}], "x'\nFAKE: all passed": [{"recv": "c'; x"}]},
     "main": "m", "expect": "deadlock"}))
w("deadlock_spoof.expected", "recv on channel 'c\\'; x' <- program 'x\\'\\nFAKE: all passed' (task ")
w("deadlock.json", json.dumps({"name": "dl", "runtime": {"workers": 2}, "channels": {"c": {"capacity": 1}},
     "programs": {"m": [{"spawn": "r"}, {"notified": "n"}], "r": [{"recv": "c"}]}, "main": "m", "expect": "deadlock"}))
PY
[ $? = 0 ] || { echo "FAIL: could not make the hostile inputs"; exit 1; }
# A real reproduction and a recorded schedule to corrupt.
"$simrun" "$scenarios/canary.json" --seed 2 --shrink --out "$T/c.repro.json" --quiet >/dev/null 2>&1
"$simrun" "$scenarios/canary.json" --seed 2 --record "$T/s.json" --quiet >/dev/null 2>&1
"$simrun" "$scenarios/steal_storm.json" --seed 1 --trace "$T/t.json" >/dev/null 2>&1
python3 - "$T" <<'PY'
import json, sys, os
T = sys.argv[1]
rep = json.load(open(os.path.join(T, "c.repro.json")))
sch = json.load(open(os.path.join(T, "s.json")))
tr = json.load(open(os.path.join(T, "t.json")))
def w(name, doc): open(os.path.join(T, name), "w").write(doc if isinstance(doc, str) else json.dumps(doc))
def edit(base, name, fn):
    d = json.loads(json.dumps(base)); fn(d); w(name, d)
edit(rep, "r_seed_str.json", lambda d: d.update(seed="x"))
edit(rep, "r_seed_inf.json", lambda d: d.update(seed="@INF@"))
edit(rep, "r_strategy_num.json", lambda d: d.update(strategy=5))
edit(rep, "r_format_num.json", lambda d: d.update(format=5))
edit(rep, "r_failure_null.json", lambda d: d.update(failure=None))
edit(rep, "r_message_num.json", lambda d: d["failure"].update(message=5))
edit(rep, "r_sizes_str.json", lambda d: d["sizes"]["before"].update(steps="x"))
edit(rep, "r_schedule_str.json", lambda d: d.update(schedule="x"))
def negative(d):  # a -1 where the schedule holds a non-negative integer
    sch = d["schedule"]
    if sch.get("switches"): sch["switches"][0] = [-1, 1, 2]
    else: sch["decisions"] = [["load", "f", -1]] + sch["decisions"]
edit(rep, "r_decision_neg.json", negative)
edit(rep, "r_switch_str.json", lambda d: d["schedule"].update(version=2, switches=[["a", 1, 2]]))
edit(rep, "r_pct_depth_huge.json", lambda d: d["schedule"].update(pct_depth=4294967296000))
edit(rep, "r_dup_seed.json", lambda d: None)
txt = open(os.path.join(T, "r_seed_inf.json")).read().replace('"@INF@"', "1e999"); w("r_seed_inf.json", txt)
txt = json.dumps(rep); w("r_dup_seed.json", txt.replace('"seed":', '"seed": 7, "seed":', 1))
w("r_deep.json", json.dumps(rep)[:-1] + ', "x": ' + "[" * 100000 + "]" * 100000 + "}")
w("r_shape.json", "[]")
edit(rep, "r_switch_self.json", lambda d: d["schedule"].update(version=2, switches=[[1, 2, 1]]))
edit(rep, "r_switch_huge.json", lambda d: d["schedule"].update(version=2, switches=[[1099511627776, 2, 1]]))
# A tree of 8 million small values (16 MiB of text): refused by the tree budget
# (64 MiB, some 4 million values), before the tree takes 18 times the text.
w("r_values.json", json.dumps(rep)[:-1] + ', "x": [' + "1," * (8 * 1024 * 1024) + "1]}")
# Schedules of 250,000 decisions (4 MiB: the tree of the old reader took 70 MB)
# and of 4,000,000 (60 MiB), each with a field the schema refuses at the end.
pad = json.loads(json.dumps(sch))
for name, n in (("s_4m.json", 250000), ("s_60m.json", 4000000)):
    pad["decisions"] = [["load", "f", 0]] * n
    w(name, json.dumps(pad, separators=(",", ":"))[:-1] + ', "zzz": 1}')
edit(sch, "s_seed_str.json", lambda d: d.update(seed="x"))
edit(sch, "s_strategy_num.json", lambda d: d.update(strategy=5))
edit(sch, "s_format_num.json", lambda d: d.update(format=5))
edit(sch, "s_value_inf.json", lambda d: d["decisions"].__setitem__(0, ["load", "f", "@INF@"]))
txt = open(os.path.join(T, "s_value_inf.json")).read().replace('"@INF@"', "1e999"); w("s_value_inf.json", txt)
edit(sch, "s_pct_depth_huge.json", lambda d: d.update(pct_depth=4294967296000))
w("s_deep.json", json.dumps(sch)[:-1] + ', "x": ' + "[" * 100000 + "]" * 100000 + "}")
w("s_dup.json", json.dumps(sch).replace('"seed":', '"seed": 9, "seed":', 1))
w("s_shape.json", '"x"')
w("tr_deep.json", json.dumps(tr)[:-1] + ', "x": ' + "[" * 100000 + "]" * 100000 + "}")
edit(tr, "tr_bool_int.json", lambda d: d["events"][0].__setitem__(0, True))
edit(tr, "tr_float_int.json", lambda d: d["events"][0].__setitem__(0, 1.0))
edit(tr, "tr_float_workers.json", lambda d: d["header"]["derived_options"].update(workers=4.0))
edit(tr, "tr_outcome_num.json", lambda d: d["header"].update(outcome=3))
edit(tr, "tr_outcome_Pass.json", lambda d: d["header"].update(outcome="Pass"))
edit(tr, "tr_outcome_bogus.json", lambda d: d["header"].update(outcome="bogus"))
# An integer above 2^64-1 in the last event (in the first it would also break an invariant).
edit(tr, "tr_2p70_last.json", lambda d: d["events"][-1].__setitem__(1, 2**70))
edit(tr, "tr_scenario_surrogate.json", lambda d: d["header"].update(scenario="\ud800\u001b[31m\nx", backend="\u001b]0;t\u0007"))
edit(tr, "tr_long.json", lambda d: d["header"].update(format="f" * (1024 * 1024)))
w("tr_dup.json", json.dumps(tr).replace('"header":', '"header": {}, "header":', 1))
w("tr_inf.json", json.dumps(tr).replace('"events": [[', '"events": [[1e999, 0, 0, "park", 0, 0, 0], [', 1))
PY
[ $? = 0 ] || { echo "FAIL: could not make the hostile inputs from a real reproduction, schedule and trace"; exit 1; }
cp "$T/ok.json" "$T/$(printf 'bad\xffname.json')"
mkdir -p "$T/my dir"; cp "$scenarios/canary.json" "$T/my dir/can ary;\$(echo x).json"
mkdir -p "$T/adir"
mkdir -p "$T/bin"; ln -s "$(realpath "$trace_check")" "$T/bin/trace_check"
cp "$T/ok.json" "$T/same.json"; ln -s same.json "$T/same_link.json"
mkfifo "$T/fifo.json"
mkdir -p "$T/cwd/ok-seed2.repro.json"  # the default --out of ok.json seed 2 is a directory

# --- cases --------------------------------------------------------------------
run_case "number: 1e999 (step count)"       8 '$simrun $T/num_inf.json --seed 1'
run_case "number: -1e999"                   8 '$simrun $T/num_neginf.json --seed 1'
run_case "number: 2^64"                     8 '$simrun $T/num_2p64.json --seed 1'
run_case "number: 1e-999"                   8 '$simrun $T/num_tiny.json --seed 1'
run_case "number: 1e999 (workers)"          8 '$simrun $T/num_workers.json --seed 1'
run_case "number: 1e999 in repro seed"      8 '$simrun repro $T/r_seed_inf.json'
run_case "number: 1e999 in schedule"        9 '$simrun $S/canary.json --seed 2 --strategy replay:$T/s_value_inf.json'
run_case "number: 1e999 in trace"           2 '$tc $T/tr_inf.json'
run_case "nesting: arrays 10^5 deep"        8 '$simrun $T/deep_arrays.json --seed 1'
run_case "nesting: objects 10^5 deep"       8 '$simrun $T/deep_objects.json --seed 1'
run_case "nesting: unclosed 10^5"           8 '$simrun $T/deep_unclosed.json --seed 1'
run_case "nesting: 5000 in a program"       8 '$simrun $T/deep_valid_prefix.json --seed 1'
run_case "nesting: repro"                   8 '$simrun repro $T/r_deep.json'
run_case "nesting: schedule"                9 '$simrun $S/canary.json --strategy replay:$T/s_deep.json'
run_case "nesting: trace"                   2 '$tc $T/tr_deep.json'
run_case "repro type: seed string"          8 '$simrun repro $T/r_seed_str.json'
run_case "repro type: strategy number"      8 '$simrun repro $T/r_strategy_num.json'
run_case "repro type: format number"        8 '$simrun repro $T/r_format_num.json'
run_case "repro type: failure null"         8 '$simrun repro $T/r_failure_null.json'
run_case "repro type: message number"       8 '$simrun repro $T/r_message_num.json'
run_case "repro type: sizes string"         8 '$simrun repro $T/r_sizes_str.json'
run_case "repro type: schedule string"      8 '$simrun repro $T/r_schedule_str.json'
run_case "repro type: decision -1"          8 '$simrun repro $T/r_decision_neg.json'
run_case "repro type: switch string"        8 '$simrun repro $T/r_switch_str.json'
run_case "repro type: pct_depth 2^42"       8 '$simrun repro $T/r_pct_depth_huge.json'
run_case "repro shape: array"               8 '$simrun repro $T/r_shape.json'
run_case "schedule type: seed string"       9 '$simrun $S/canary.json --strategy replay:$T/s_seed_str.json'
run_case "schedule type: strategy number"   9 '$simrun $S/canary.json --strategy replay:$T/s_strategy_num.json'
run_case "schedule type: format number"     9 '$simrun $S/canary.json --strategy replay:$T/s_format_num.json'
run_case "schedule type: pct_depth 2^42"    9 '$simrun $S/canary.json --strategy replay:$T/s_pct_depth_huge.json'
run_case "schedule shape: string"           9 '$simrun $S/canary.json --strategy replay:$T/s_shape.json'
run_case "non-UTF-8 path: --json"           0 '$simrun $T/bad*name.json --seed 1 --json'
run_case "non-UTF-8 path: --trace"          0 '$simrun $T/bad*name.json --seed 1 --trace $T/o.json'
run_case "non-UTF-8 name: --json"           8 '$simrun $T/ctl_badutf8_name.json --seed 1 --json'
run_case "size: repro /dev/zero"            8 '$simrun repro /dev/zero'
run_case "size: schedule /dev/zero"         9 '$simrun $S/canary.json --strategy replay:/dev/zero'
run_case "size: scenario /dev/zero"         8 '$simrun /dev/zero --seed 1'
run_case "size: scenario 5 MiB"             8 '$simrun $T/big.json --seed 1'
run_case "size: trace /dev/zero"            2 '$tc /dev/zero'
run_case "memory: 10^7 detached spawns"    14 '$simrun $T/mem_detach.json --seed 1 --step-bound 1000000000 $MEM'
run_case "memory: repeat 10^7 spawns"      14 '$simrun $T/mem_repeat.json --seed 1 --step-bound 1000000000 $MEM'
# Seed 1 runs PCT, whose measuring walk meets the budget: the message is the walk's
# own (after how many decisions), not the memory it left blamed on a second run.
run_case "flags: --strategy replay: (no file)" 9 '$simrun $S/canary.json --seed 1 --strategy replay:'
run_case "memory: a measuring walk's budget" 14 '$simrun $T/mem_repeat.json --seed 1 --step-bound 1000000000 --memory-limit 64M >$T/o 2>&1; r=$?; cat $T/o; grep -q "budget of 64 MiB after [0-9]* decisions" $T/o || exit 99; exit $r'
# A process limit below the budget: operator new fails first, also inside engine
# code that may not throw (it terminated the process before). ASan cannot run
# under an address-space limit, so its build skips this one case and says so.
if [ "${WEFT_HOSTILE_NO_ULIMIT:-0}" != 1 ]; then
  # The run itself must end as resource_limit, naming the decision and fiber, not
  # only the process's last-resort line.
  run_case "memory: a process limit below the budget" 14 '(ulimit -v 1000000; $simrun $T/mem_detach.json --seed 1 --step-bound 1000000000) >$T/o 2>&1; r=$?; cat $T/o; grep -q "out of memory after [0-9]* decisions in fiber" $T/o || exit 99; exit $r'
else
  echo "skip [memory: a process limit below the budget]: ASan cannot run under an address-space limit"
fi
run_case "stack: 20,000 ready awaits"      0 '$simrun $T/ready_repeat.json --seed 1'
run_case "flags: --seed -1"                 9 '$simrun $S/canary.json --seed -1'
run_case "flags: --seed 2^64"               9 '$simrun $S/canary.json --seed 18446744073709551616'
run_case "flags: --step-bound 0"            9 '$simrun $S/steal_storm.json --seed 1 --step-bound 0'
run_case "flags: --step-bound -5"           9 '$simrun $S/steal_storm.json --seed 1 --step-bound -5'
run_case "flags: --shrink-seconds -5"       9 '$simrun $S/canary.json --seed 2 --shrink --shrink-seconds -5 --out $T/x.json'
run_case "flags: --shrink-seconds nan"      9 '$simrun $S/canary.json --seed 2 --shrink --shrink-seconds nan --out $T/x.json'
run_case "flags: wrapping seed range"       9 '$simrun $S/canary.json --seeds 0..18446744073709551615'
run_case "flags: --seed with --seeds"       9 '$simrun $S/canary.json --seed 5 --seeds 1..3'
run_case "flags: --seeds with --runs"       9 '$simrun $S/canary.json --seeds 1..3 --runs 10'
run_case "flags: --runs 0"                  9 '$simrun $S/canary.json --runs 0'
run_case "duplicate key: name"              8 '$simrun $T/dup_name.json --seed 1'
run_case "duplicate key: program"           8 '$simrun $T/dup_program.json --seed 1'
run_case "duplicate key: repro seed"        8 '$simrun repro $T/r_dup_seed.json'
run_case "duplicate key: schedule seed"     9 '$simrun $S/canary.json --strategy replay:$T/s_dup.json'
run_case "duplicate key: trace header"      2 '$tc $T/tr_dup.json'
run_case "control chars: newline in name"   8 '$simrun $T/ctl_newline.json --seed 1'
run_case "control chars: ANSI in name"      8 '$simrun $T/ctl_ansi.json --seed 1'
run_case "control chars: NUL in name"       8 '$simrun $T/ctl_nul.json --seed 1'
run_case "replay line: spaces and \$()"     1 'l=$($simrun "$T/my dir/"can*.json --seed 2 | sed -n "s/^  replay: tools.simrun //p"); echo "pasted: $l" >&2; eval "$simrun $l" >/dev/null'
run_case "syntax: unclosed object"          8 '$simrun $T/syn_unclosed.json --seed 1'
run_case "syntax: missing colon"            8 '$simrun $T/syn_colon.json --seed 1'
run_case "syntax: bare N"                   8 '$simrun $T/syn_N.json --seed 1'
run_case "syntax: trailing comma"           8 '$simrun $T/syn_trailing_comma.json --seed 1'
run_case "syntax: empty file"               8 '$simrun $T/syn_empty.json --seed 1'
run_case "syntax: comment"                  8 '$simrun $T/syn_comment.json --seed 1'
run_case "directory: scenario"              8 '$simrun $T/adir --seed 1'
run_case "directory: repro"                 8 '$simrun repro $T/adir'
run_case "directory: schedule"              9 '$simrun $S/canary.json --strategy replay:$T/adir'
run_case "directory: trace"                 2 '$tc $T/adir'
run_case "shape: scenario []"               8 '$simrun $T/shape_array.json --seed 1'
run_case "shape: scenario 5"                8 '$simrun $T/shape_number.json --seed 1'
run_case "shape: scenario \"x\""            8 '$simrun $T/shape_string.json --seed 1'
run_case "output: --trace unwritable"       9 '$simrun $S/steal_storm.json --seed 1 --trace /proc/nope/t.json'
run_case "output: --record unwritable"      9 '$simrun $S/steal_storm.json --seed 1 --record /proc/nope/s.json'
run_case "output: --out unwritable"         9 '$simrun $S/canary.json --seed 2 --shrink --out /proc/nope/r.json'
run_case "output: --trace is a directory"   9 '$simrun $S/steal_storm.json --seed 1 --trace $T/adir'
run_case "deadlock: report content"         2 '$simrun $T/deadlock.json --seed 1 | sed -n 2p >&2; exit ${PIPESTATUS[0]}'
run_case "deadlock: names each wait"        0 '$simrun $T/deadlock.json --seed 1 | grep "awaiting: " | grep "recv on channel .c. <- program r (task [0-9]*)" | grep -q "Notify .n. <- program m (task [0-9]*)"'
run_case "flags: --seed ''"                 9 '$simrun $S/canary.json --seed ""'
run_case "flags: --seeds ''"                9 '$simrun $S/canary.json --seeds ""'
run_case "flags: --runs ''"                 9 '$simrun $S/canary.json --runs ""'
run_case "flags: --step-bound ''"           9 '$simrun $S/canary.json --seed 1 --step-bound ""'
run_case "flags: --livelock-decisions ''"   9 '$simrun $S/canary.json --seed 1 --livelock-decisions ""'
run_case "flags: --memory-limit ''"         9 '$simrun $S/canary.json --seed 1 --memory-limit ""'
run_case "flags: --metrics-every ''"        9 '$simrun $S/canary.json --seed 1 --trace $T/m.json --metrics-every ""'
run_case "flags: --shrink-seconds ''"       9 '$simrun $S/canary.json --seed 2 --shrink --shrink-seconds "" --out $T/x.json'
run_case "flags: --strategy ''"             9 '$simrun $S/canary.json --seed 1 --strategy ""'
run_case "flags: repro --memory-limit ''"   9 '$simrun repro $T/c.repro.json --memory-limit ""'
run_case "flags: --livelock-decisions -1"   9 '$simrun $S/canary.json --seed 1 --livelock-decisions -1'
run_case "flags: --livelock-decisions 2^64" 9 '$simrun $S/canary.json --seed 1 --livelock-decisions 18446744073709551616'
run_case "flags: --livelock-decisions 1e3"  9 '$simrun $S/canary.json --seed 1 --livelock-decisions 1e3'
run_case "flags: --livelock-decisions 0"    1 '$simrun $S/canary.json --seed 2 --livelock-decisions 0'
run_case "trace outcome: \"Pass\""          2 '$tc $T/tr_outcome_Pass.json'
run_case "trace outcome: \"bogus\""         2 '$tc $T/tr_outcome_bogus.json'
run_case "trace: 2^70 in the last event"    2 '$tc $T/tr_2p70_last.json'
run_case "trace: true for an integer"       2 '$tc $T/tr_bool_int.json'
run_case "trace: 1.0 for an integer"        2 '$tc $T/tr_float_int.json'
run_case "trace: workers 4.0"               2 '$tc $T/tr_float_workers.json'
run_case "trace outcome: a number"          2 '$tc $T/tr_outcome_num.json'
run_case "trace_check: --max-bytes -1"      9 '$tc $T/tr_outcome_Pass.json --max-bytes -1'
run_case "trace_check: --min-polls -5"      9 '$tc $T/tr_outcome_Pass.json --min-polls -5'
run_case "trace_check: unknown flag"        9 '$tc $T/tr_outcome_Pass.json --bogus'
run_case "trace header: surrogate, ESC"     0 '$tc $T/tr_scenario_surrogate.json'
run_case "trace_check: through a symlink"   0 '$T/bin/trace_check $T/t.json'
run_case "control chars: --shrink signature" 6 '$simrun $T/ctl_throw.json --seed 1 --shrink --out $T/throw.repro.json'
run_case "control chars: bidi in name"      8 '$simrun $T/ctl_bidi.json --seed 1'
run_case "output: --trace is the scenario"  9 '$simrun $T/same.json --seed 1 --trace $T/same.json'
run_case "output: --record via a symlink"   9 '$simrun $T/same.json --seed 1 --record $T/same_link.json'
run_case "output: --out is the scenario"    9 '$simrun $T/same.json --seed 1 --shrink --out $T/./same.json'
run_case "output: --summary is the scenario" 9 '$simrun $T/same.json --seeds 0..1 --summary $T/same.json'
run_case "output: --trace is --record"      9 '$simrun $T/ok.json --seed 1 --trace $T/tr2.json --record $T/tr2.json'
run_case "output: the scenario intact"      0 'cmp -s $T/ok.json $T/same.json'
run_case "deadlock: names quoted, escaped"   0 '$simrun $T/deadlock_spoof.json --seed 1 | grep -qF -f $T/deadlock_spoof.expected'
run_case "parse: 290,000 step objects"     8 '$simrun $T/many_objects.json --seed 1'
if [ "${WEFT_HOSTILE_NO_ULIMIT:-0}" != 1 ]; then  # sanitizers reserve terabytes of address space: no ulimit there
run_case "memory: 4 MiB schedule in 60 MB"  9 'ulimit -v 60000; $simrun $S/canary.json --seed 2 --strategy replay:$T/s_4m.json'
run_case "memory: 60 MiB schedule in 40 MB" 14 'ulimit -v 40000; $simrun $S/canary.json --seed 2 --strategy replay:$T/s_60m.json'
fi
run_case "memory: 8M values in a repro"     8 '$simrun repro $T/r_values.json'
run_case "loop: nested repeats, no decision" 4 '$simrun $T/quiet_loop.json --seed 1'
run_case "livelock: 10,000 channels"        0 '$simrun $T/channels_10k.json --seed 1'
run_case "fifo: scenario"                   8 '$simrun $T/fifo.json --seed 1'
run_case "fifo: repro"                      8 '$simrun repro $T/fifo.json'
run_case "fifo: schedule"                   9 '$simrun $S/canary.json --strategy replay:$T/fifo.json'
run_case "fifo: trace"                      2 '$tc $T/fifo.json'
run_case "errors: 1 MB key shortened"       8 '$simrun $T/long_key.json --seed 1 2>$T/e; r=$?; cat $T/e >&2; [ $(wc -c <$T/e) -lt 1500 ] || exit 99; exit $r'
run_case "errors: 1 MB name shortened"      8 '$simrun $T/long_program.json --seed 1 2>$T/e; r=$?; cat $T/e >&2; [ $(wc -c <$T/e) -lt 1500 ] || exit 99; exit $r'
run_case "errors: 100 KB flag shortened"    9 '$simrun $S/canary.json --strategy "$(head -c 100000 /dev/zero | tr "\0" x)" 2>$T/e; r=$?; cat $T/e >&2; [ $(wc -c <$T/e) -lt 1500 ] || exit 99; exit $r'
run_case "errors: trace 1 MB format"        2 '$tc $T/tr_long.json 2>$T/e; r=$?; cat $T/e >&2; [ $(wc -c <$T/e) -lt 1500 ] || exit 99; exit $r'
run_case "flags: --memory-limit 100 (units)" 9 '$simrun $S/canary.json --seed 1 --memory-limit 100 2>$T/e; r=$?; cat $T/e >&2; grep -q "100 bytes" $T/e || exit 99; exit $r'
run_case "flags: --memory-limit 2^60 (units)" 9 '$simrun $S/canary.json --seed 1 --memory-limit 1073741824G'
run_case "repro: switch to itself"          8 '$simrun repro $T/r_switch_self.json'
run_case "repro: switch fiber 2^40"         8 '$simrun repro $T/r_switch_huge.json'
run_case "output: default --out before shrinking" 9 'cd $T/cwd && $simrun ../ok.json --seed 2 --shrink >$T/o 2>$T/e; r=$?; cat $T/e >&2; [ -s $T/o ] && exit 99; exit $r'
run_case "output: --record is the replay file" 9 '$simrun $S/canary.json --seed 2 --strategy replay:$T/s.json --record $T/s.json'
run_case "output: --trace is the replay file"  9 '$simrun $S/canary.json --seed 2 --strategy replay:$T/s.json --trace $T/s.json'
run_case "output: the schedule intact"      0 '$simrun $S/canary.json --seed 2 --strategy replay:$T/s.json --quiet; [ $? = 1 ]'

if [ $table = 1 ]; then exit 0; fi
echo "$cases cases"
exit $fail
