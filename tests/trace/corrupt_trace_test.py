#!/usr/bin/env python3
# corrupt_trace_test: proves tools/trace_check can fail. It records a simrun trace
# of steal_storm, checks that the clean trace passes, then corrupts a copy in one
# way per case and requires the checker to exit non-zero naming the fault.
# Usage: corrupt_trace_test.py SIMRUN TRACE_CHECK SCENARIO
import copy
import json
import os
import subprocess
import sys
import tempfile


def run_check(check, doc, tmp):
    path = os.path.join(tmp, "t.json")
    with open(path, "w") as f:
        json.dump(doc, f)
    p = subprocess.run([check, path], capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


def first(evs, pred):
    for i, e in enumerate(evs):
        if pred(e):
            return i
    raise AssertionError("no event matches")


def corruptions(doc):
    """corruptions yields (name, expected exit code, expected text, corrupted doc)."""
    evs = doc["events"]
    workers = doc["header"]["derived_options"]["workers"]
    ps = first(evs, lambda e: e[3] == "poll_start" and e[4] != 0)
    task, w = evs[ps][4], evs[ps][2]

    d = copy.deepcopy(doc)  # a second worker polls the same task inside the first poll
    e = list(d["events"][ps])
    e[2] = (w + 1) % workers
    d["events"].insert(ps + 1, e)
    yield "task polled on two workers at once", 1, "while worker", d

    d = copy.deepcopy(doc)  # the task's spawn is lost
    sp = first(d["events"], lambda e: e[3] == "spawn" and e[4] == task)
    del d["events"][sp]
    yield "poll of a task never spawned", 1, "never spawned", d

    d = copy.deepcopy(doc)  # a poll after the completing poll_end
    done = first(d["events"], lambda e: e[3] == "poll_end" and e[5] == 1 and e[4] != 0)
    t2, w2 = d["events"][done][4], d["events"][done][2]
    step = d["events"][done][1]
    d["events"].insert(done + 1, [d["events"][done][0], step, w2, "poll_start", t2, 0, 0])
    d["events"].insert(done + 2, [d["events"][done][0], step, w2, "poll_end", t2, 0, 0])
    yield "poll after completion", 1, "after its completing poll_end", d

    d = copy.deepcopy(doc)  # a poll_end that closes a poll its worker never opened
    pe = first(d["events"], lambda e: e[3] == "poll_end" and e[5] == 0 and e[4] != 0)
    d["events"][pe][4] += 100000
    yield "poll_end not matching the open poll", 1, "innermost poll", d

    d = copy.deepcopy(doc)  # a steal of zero tasks
    st = first(d["events"], lambda e: e[3] == "steal")
    d["events"][st][5] = 0
    yield "steal of zero tasks", 1, "steal of 0 tasks", d

    d = copy.deepcopy(doc)  # events out of order
    d["events"][10], d["events"][-10] = d["events"][-10], d["events"][10]
    yield "events out of step order", 1, "out of order", d

    d = copy.deepcopy(doc)  # a worker outside the runtime
    d["events"][ps][2] = workers + 3
    yield "worker index beyond the header", 1, "workers", d

    d = copy.deepcopy(doc)  # schema: an event with a field missing
    d["events"][5] = d["events"][5][:6]
    yield "event with 6 fields", 2, "7 fields", d

    d = copy.deepcopy(doc)  # schema: an unknown kind
    d["events"][5][3] = "teleport"
    yield "unknown event kind", 2, "unknown kind", d

    d = copy.deepcopy(doc)  # schema: wrong format name
    d["header"]["format"] = "chrome"
    yield "wrong format", 2, "header.format", d


def main():
    simrun, check, scenario = sys.argv[1:4]
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        trace = os.path.join(tmp, "clean.json")
        subprocess.run([simrun, scenario, "--seed", "7", "--trace", trace, "--quiet"], check=True)
        with open(trace) as f:
            doc = json.load(f)
        code, out = run_check(check, doc, tmp)
        if code != 0:
            print(f"FAIL: the clean trace does not pass (exit {code}):\n{out}")
            return 1
        print("ok: the clean trace passes")
        for name, want_code, want_text, bad in corruptions(doc):
            code, out = run_check(check, bad, tmp)
            if code == want_code and want_text in out:
                print(f"ok: caught {name} (exit {code})")
            else:
                failures += 1
                print(f"FAIL: {name}: exit {code} (wanted {want_code}, text {want_text!r}):\n{out}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
