#!/usr/bin/env python3
"""simrun --shard and simrun merge, end to end: the union of N shards is exactly
the unsharded sweep (the same seeds, each with the same outcome, strategy,
decisions and marks), their merged summary is the unsharded summary, and every
kind of bad shard value or merge input gets its exit code and one line; shards of
builds that differ only by their commit do not merge.
  shard_merge_test.py SIMRUN SCENARIO_DIR CMAKE"""
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

simrun, scenarios, cmake = sys.argv[1], sys.argv[2], sys.argv[3]
root = os.path.dirname(os.path.abspath(scenarios))
tmp = tempfile.mkdtemp()
failures = []


def run(args, env=None, expect=None):
    e = dict(os.environ)
    for v in ("JOB_COMPLETION_INDEX", "SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_MIN", "SLURM_ARRAY_TASK_STEP",
              "WEFT_SHARD_INDEX"):
        e.pop(v, None)
    e.update(env or {})
    p = subprocess.run([simrun] + args, capture_output=True, text=True, env=e)
    if expect is not None and p.returncode != expect:
        failures.append(f"{' '.join(args)}: exit {p.returncode}, expected {expect}\n{p.stdout[-2000:]}{p.stderr[-2000:]}")
    return p


def sweep_lines(out):
    """The per-run lines of a --json sweep and its summary (the last line)."""
    lines = [json.loads(l) for l in out.splitlines() if l.strip()]
    return lines[:-1], lines[-1]


def key(r):
    return (r["seed"], r["strategy"], r["outcome"], r["steps"], json.dumps(r["marks"], sort_keys=True))


def comparable(summary):
    s = dict(summary)
    for k in ("seconds", "shards"):
        s.pop(k)
    return s


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what)
    if not cond:
        failures.append(what)


# The union of the shards is the unsharded sweep, for a negative scenario under
# random walk, a scenario under the default exploration (mixed: each seed's own
# strategy), and more shards than seeds.
MIXED_CYCLE = ["random", "pct:1", "pct:2", "pct:3", "hold"]  # sim::kMixedCycle
for scenario, seeds, extra, ns in (("canary.json", "3..22", [], (3, 7)),
                                   ("fanout_overflow.json", "0..11", [], (2, 5)),
                                   ("lifo_pingpong.json", "5..8", ["--strategy", "hold"], (6,))):
    path = os.path.join(scenarios, scenario)
    whole = run([path, "--seeds", seeds, "--json", "--collect"] + extra, expect=0)
    runs, summary = sweep_lines(whole.stdout)
    first, last = map(int, seeds.split(".."))
    check([r["seed"] for r in runs] == list(range(first, last + 1)), f"{scenario}: the unsharded sweep ran {seeds}")
    if scenario == "fanout_overflow.json":
        check([r["strategy"] for r in runs] == [MIXED_CYCLE[s % 5] for s in range(first, last + 1)],
              f"{scenario}: the default exploration runs seed s under the cycle's entry s mod 5, named per run")
        check({k: v["seeds"] for k, v in summary["strategies"].items()} ==
              {label: sum(1 for s in range(first, last + 1) if MIXED_CYCLE[s % 5] == label) for label in MIXED_CYCLE},
              f"{scenario}: the summary counts the default exploration's seeds per concrete strategy")
    for n in ns:
        union, parts = [], []
        for i in range(n):
            p = run([path, "--seeds", seeds, "--json", "--collect", "--shard", f"{i}/{n}"] + extra, expect=0)
            rs, s = sweep_lines(p.stdout)
            check(s["shards"] == {"of": n, "parts": [i]}, f"{scenario} shard {i}/{n} names itself")
            union += rs
            f = os.path.join(tmp, f"{scenario}-{n}-{i}.jsonl")
            open(f, "w").write(p.stdout)
            parts.append(f)
        seeds_of = [r["seed"] for r in union]
        check(len(seeds_of) == len(set(seeds_of)), f"{scenario}, {n} shards: no seed runs twice")
        check(sorted(map(key, union)) == sorted(map(key, runs)),
              f"{scenario}, {n} shards: the union is the unsharded sweep, run by run")
        m = run(["merge", "--json"] + parts[::-1], expect=0)
        merged = json.loads(m.stdout)
        check(comparable(merged) == comparable(summary), f"{scenario}, {n} shards: merged summary = unsharded summary")
        check(merged["complete"] and merged["shards"] == {"of": n, "parts": list(range(n))}, f"{scenario}, {n}: complete")

# A negative scenario's rule applies to the merge, not to a shard: a shard that saw
# no expected failure exits 0; the sweep with none exits 7.
canary = os.path.join(scenarios, "canary.json")
run([canary, "--seeds", "0..1", "--shard", "0/2", "--summary", f"{tmp}/c0.json", "--strategy", "pct:1"], expect=0)
run([canary, "--seeds", "0..1", "--shard", "1/2", "--summary", f"{tmp}/c1.json", "--strategy", "pct:1"], expect=0)
steal = os.path.join(scenarios, "steal_storm.json")

# Bad --shard values: exit 9 and one line naming the flag.
for value, env in (("3/3", {}), ("x/2", {}), ("1/0", {}), ("2", {}), ("1/2000000", {}), ("-1/2", {}),
                   ("auto/4", {}), ("auto/4", {"JOB_COMPLETION_INDEX": "4"}), ("auto/4", {"WEFT_SHARD_INDEX": "a"}),
                   ("auto/4", {"SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_MIN": "2"})):
    p = run([steal, "--seeds", "0..3", "--shard", value], env=env, expect=9)
    check(p.stderr.count("\n") == 1 and "--shard" in p.stderr, f"--shard {value} {env}: one line ({p.stderr.strip()})")
p = run([steal, "--seed", "1", "--shard", "0/2"], expect=9)
check("many seeds" in p.stderr, "--shard needs many seeds")

# auto/N reads each variable (Slurm's from its minimum), in the documented order.
for env, index in (({"JOB_COMPLETION_INDEX": "2"}, 2), ({"SLURM_ARRAY_TASK_ID": "3"}, 3),
                   ({"SLURM_ARRAY_TASK_ID": "4", "SLURM_ARRAY_TASK_MIN": "1"}, 3), ({"WEFT_SHARD_INDEX": "1"}, 1),
                   ({"JOB_COMPLETION_INDEX": "0", "WEFT_SHARD_INDEX": "3"}, 3),
                   ({"SLURM_ARRAY_TASK_ID": "5", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_STEP": "2"}, 2)):
    p = run([steal, "--seeds", "0..7", "--shard", "auto/4", "--json", "--collect"], env=env, expect=0)
    rs, s = sweep_lines(p.stdout)
    check(s["shards"]["parts"] == [index] and [r["seed"] for r in rs] == [2 * index, 2 * index + 1],
          f"--shard auto/4 with {env} runs shard {index}")

# Hostile merge inputs: exit 8 and one line naming the file and the JSON path.
good = [os.path.join(tmp, f"canary.json-3-{i}.jsonl") for i in range(3)]
other = [os.path.join(tmp, f"fanout_overflow.json-2-{i}.jsonl") for i in range(2)]
summary0 = sweep_lines(open(good[0]).read())[1]


def write(name, text):
    f = os.path.join(tmp, name)
    open(f, "w").write(text)
    return f


def mutated(name, change):
    s = json.loads(json.dumps(summary0))
    change(s)
    return write(name, json.dumps(s))


cases = [
    ("malformed JSON", [write("bad.json", '{"format": "weft-sweep",')], "expected valid JSON"),
    ("a scenario file", [canary], "$.format"),
    ("not an object", [write("arr.json", "[1, 2]")], "$"),
    ("a future version", [mutated("v3.json", lambda s: s.update(version=3))], "$.version"),
    ("a version-1 summary (before PCT counted its covered runs)", [mutated("v1.json", lambda s: s.update(version=1))],
     "$.version"),
    ("an unknown field", [mutated("unk.json", lambda s: s.update(extra=1))], "$"),
    ("counts that do not add up", [mutated("sum.json", lambda s: s["outcomes"].update(assertion=99))], "$.outcomes"),
    ("an unknown outcome", [mutated("oc.json", lambda s: s["outcomes"].update(exploded=0))], "$.outcomes"),
    ("a shard beyond N", [mutated("part.json", lambda s: s["shards"].update(parts=[5]))], "$.shards.parts[0]"),
    ("a negative count", [mutated("neg.json", lambda s: s.update(unexpected=-1))], "$.unexpected"),
    ("the same shard twice", [good[0], good[0]], "overlapping"),
    ("shards of different sweeps", [good[0], other[1]], "$.scenario"),
    ("a different scenario text", [good[0], mutated("hash.json", lambda s: s.update(scenario_hash="0"))], "$.scenario_hash"),
    ("a different build", [good[0], mutated("ver.json", lambda s: s.update(weft_version="weft 9"))], "$.weft_version"),
    ("a different seed range", [good[0], mutated("rng.json", lambda s: s["seeds"].update(first=4))], "$.seeds"),
    ("different shard counts", [good[0], os.path.join(tmp, "canary.json-7-1.jsonl")], "$.shards.of"),
    ("a different step bound", [good[0], mutated("opt.json", lambda s: s.update(options=" --step-bound 5"))], "$.options"),
    ("a missing shard", good[:2], "missing 2"),
    ("a missing file", [os.path.join(tmp, "nope.json")], "nope.json"),
]

# Summaries whose counts do not add up (summary0: 6 runs, all the canary's expected
# assertion failures, all listed): each is refused naming the file and the path.
def set_in(path, value):
    def change(s):
        *outer, last = path
        for k in outer:
            s = s[k]
        s[last] = value
    return change


def both(*changes):
    return lambda s: [c(s) for c in changes]


random_marks = summary0["strategies"]["random"]["marks"]
mark, hits = next(iter(random_marks.items()))
count_cases = [
    ("a strategy's mark above its seeds", set_in(["strategies", "random", "marks", mark], 7),
     f"$.strategies.random.marks.{mark}:"),
    ("strategies' marks that disagree with $.marks", set_in(["strategies", "random", "marks", mark], hits - 1),
     "$.strategies:"),
    ("strategies' decisions that disagree with the total",
     set_in(["strategies", "random", "decisions"], summary0["decisions"]["total"] - 1), "$.strategies:"),
    ("a max outside the histogram's highest bucket", set_in(["decisions", "max"], 2 * summary0["decisions"]["max"] + 1),
     "$.decisions.max:"),
    ("a total the histogram cannot hold", set_in(["decisions", "total"], 5), "$.decisions.total:"),
    ("an empty failure list against failing runs", set_in(["failures"], []), "$.failures:"),
    ("a failure list shorter than the failing runs", set_in(["failures"], summary0["failures"][:3]), "$.failures:"),
    ("unexpected failures not counted in the outcomes", set_in(["unexpected"], 3), "$.unexpected:"),
    ("unexpected failures none of which is listed", both(set_in(["unexpected"], 3), set_in(["matched_failures"], 3)),
     "$.failures:"),
    ("an unlisted count that disagrees", set_in(["failures_unlisted"], 2), "$.failures_unlisted:"),
]
check(len(summary0["failures"]) == 6 and summary0["matched_failures"] == 6, "summary0 lists its 6 failures")
for i, (what, change, needle) in enumerate(count_cases):
    f = mutated(f"counts{i}.json", change)
    p = run(["merge", f], expect=8)
    check(p.stderr.count("\n") == 1 and f in p.stderr and needle in p.stderr and p.stdout == "",
          f"merge refuses {what}: {p.stderr.strip()}")
for what, files, needle in cases:
    p = run(["merge"] + files, expect=8)
    check(p.stderr.count("\n") == 1 and needle in p.stderr and p.stdout == "", f"merge refuses {what}: {p.stderr.strip()}")

# Strings from a summary reach the terminal escaped: a replay line, a message, a
# strategy label and the expected outcome with ESC and a newline print as \x1b and \n.
def hostile(s):
    s["failures"][0].update(unexpected=True, replay="tools/simrun \x1b[31mred\nforged line", message="m\x1b]0;t\x07")
    s["unexpected"], s["matched_failures"] = 1, s["matched_failures"] - 1
    s["expect"] = "assertion\x1b[2J"
    label = next(iter(s["strategies"]))
    s["strategies"]["rand\x1bom\n"] = s["strategies"].pop(label)


p = run(["merge", "--partial", mutated("hostile.json", hostile)])
check(p.returncode not in (0, 8, 9) and "\x1b" not in p.stdout and "\\x1b[31mred\\nforged line" in p.stdout
      and "rand\\x1bom\\n:" in p.stdout and "assertion\\x1b[2J" in p.stdout,
      f"merge prints a hostile summary's strings escaped (exit {p.returncode}): {p.stdout.strip()!r}")

# Forged maxima: a label's fibers_max and steps_max must allow its counts (a fiber
# in every run that ran; a longest run that holds its decisions in its runs), per
# strategy label. A maximum lowered within what the counts allow is trusted
# (docs/sweeps.md, "What merge checks and what it trusts").
pct0 = json.load(open(f"{tmp}/c0.json"))
pct_label = next(iter(pct0["strategies"]))
pct_counts = pct0["strategies"][pct_label]
check(pct_label == "pct:1" and pct_counts["decisions"] > pct_counts["seeds"] and pct_counts["fibers_max"] >= 1,
      f"the pct:1 shard ran real runs: {pct_counts}")


def forged(name, **fields):
    s = json.loads(json.dumps(pct0))
    s["strategies"][pct_label].update(fields)
    return write(name, json.dumps(s))


for what, f, needle in (
        ("one step per run against its decisions", forged("forged-steps.json", steps_max=1), ".steps_max:"),
        ("no fiber in runs that ran", forged("forged-fibers.json", fibers_max=0), ".fibers_max:"),
        ("both maxima forged to 1", forged("forged-both.json", steps_max=1, fibers_max=1), ".steps_max:"),
        ("no steps against its decisions", forged("forged-zero.json", steps_max=0), ".steps_max:")):
    p = run(["merge", f], expect=8)
    check(p.stderr.count("\n") == 1 and f"{f}: $.strategies.{pct_label}" in p.stderr and needle in p.stderr
          and p.stdout == "", f"merge refuses {what}: {p.stderr.strip()}")
# A random strategy's longest run is one of the runs: at most $.decisions.max.
f = mutated("forged-random.json", set_in(["strategies", "random", "steps_max"], summary0["decisions"]["max"] + 1))
p = run(["merge", f], expect=8)
check(p.stderr.count("\n") == 1 and f"{f}: $.strategies.random.steps_max:" in p.stderr,
      f"merge refuses a random strategy's longest run above the longest: {p.stderr.strip()}")
p = run(["merge", f"{tmp}/c0.json", f"{tmp}/c1.json"], expect=0)
check("at least 1 " not in p.stdout and "2 of 2 runs were its measuring walk; no PCT guarantee" in p.stdout,
      f"canary fails in PCT's measuring walk, which carries no PCT guarantee: {p.stdout.strip()}")
# PCT's coverage statement counts only the runs that stayed within the range their
# change points were drawn from (each run's pct_steps): n and k are the covered
# runs' maxima, and the runs that outlasted their range are named, across shards.
# dump_storm's pct:2 runs over seeds 0..7 are a mix (5 of 8 within their range at
# this writing); a change of the engine's decisions can move that, and the check
# below then says so rather than passing vacuously.
churn = os.path.join(scenarios, "dump_storm.json")
pct_runs, pct_parts = [], []
for i in range(2):
    p = run([churn, "--seeds", "0..7", "--strategy", "pct:2", "--json", "--collect", "--shard", f"{i}/2"], expect=0)
    pct_runs += sweep_lines(p.stdout)[0]
    pct_parts.append(write(f"churn-{i}.jsonl", p.stdout))
covered = [r for r in pct_runs if r["steps"] <= r["pct_steps"]]
check(0 < len(covered) < len(pct_runs), f"some pct:2 runs of dump_storm outlast their range, some do not "
      f"({len(covered)} of {len(pct_runs)} within)")
merged = json.loads(run(["merge", "--json"] + pct_parts, expect=0).stdout)["strategies"]["pct:2"]
check(merged["pct"]["covered_runs"] == len(covered) and 1 <= merged["pct"]["fibers_max"] <= merged["fibers_max"],
      f"the merged covered runs and their n: {merged['pct']}")
check(merged["pct"]["range_max"] == max(r["pct_steps"] for r in covered),
      f"k is the largest range among the covered runs: {merged['pct']['range_max']}")
check(merged["steps_max"] == max(r["steps"] for r in pct_runs), "steps_max is the longest run")
text = run(["merge"] + pct_parts, expect=0).stdout
check(f"{len(pct_runs) - len(covered)} of {len(pct_runs)} runs outlasted the range their change points were drawn "
      f"from; the bound counts only the other {len(covered)}: " in text and f"k={merged['pct']['range_max']} steps" in text,
      f"merge prints how many runs outlasted their range: {text.strip()}")
for i, (what, fields, needle) in enumerate((
        ("more covered runs than runs", {"covered_runs": merged["seeds"] + 1}, ".pct.covered_runs:"),
        ("covered runs with no range", {"range_max": 0}, ".pct:"),
        ("more fibers in covered runs than in all", {"fibers_max": merged["fibers_max"] + 1}, ".pct.fibers_max:"))):
    s = json.loads(open(pct_parts[0]).read().splitlines()[-1])
    s["strategies"]["pct:2"]["pct"].update(fields)
    f = write(f"forged-pct-{i}.json", json.dumps(s))
    p = run(["merge", f], expect=8)
    check(p.stderr.count("\n") == 1 and f"{f}: $.strategies.pct:2" in p.stderr and needle in p.stderr,
          f"merge refuses {what}: {p.stderr.strip()}")

# The build identity: version, build type and the source commit, which merge
# compares, so shards of two commits are not one sweep.
build = re.fullmatch(r"weft \S+ \((release|debug)\), commit ([0-9a-f]{40}(\+dirty)?|unknown)", summary0["weft_version"])
check(build is not None, f"a summary names its build with the commit: {summary0['weft_version']}")
git = shutil.which("git")
if build and git and os.path.exists(os.path.join(root, ".git")):
    commit = build.group(2).split("+")[0]
    check(subprocess.run([git, "-C", root, "cat-file", "-e", commit + "^{commit}"]).returncode == 0,
          f"the commit {commit} is one of this repository's")
other_commit = summary0["weft_version"].split(", commit ")[0] + ", commit " + "0123456789abcdef" * 2 + "01234567"
f = mutated("commit.json", lambda s: s.update(weft_version=other_commit))
p = run(["merge", good[0], f], expect=8)
check(p.stderr.count("\n") == 1 and f"{f}: $.weft_version:" in p.stderr and other_commit in p.stderr
      and p.stdout == "", f"merge refuses a shard of a build that differs only by its commit: {p.stderr.strip()}")


def with_build(path, name, build):
    s = sweep_lines(open(path).read())[1]
    s["weft_version"] = build
    return write(name, json.dumps(s))


unknown = summary0["weft_version"].split(", commit ")[0] + ", commit unknown"
tarball = [with_build(good[i], f"tarball{i}.json", unknown) for i in range(2)]
p = run(["merge", tarball[0], tarball[1], good[2]], expect=8)
check(f"{good[2]}: $.weft_version" in p.stderr, "a build without a commit does not merge with one that has it")
p = run(["merge", "--partial", tarball[0], tarball[1]], expect=0)
check(p.returncode == 0, f"two builds without a commit (tarballs, 'unknown') still merge ({p.stderr.strip()})")

# cmake/source_commit.cmake, which writes the commit at build time: the commit of
# the repository (+dirty when a tracked file differs), "unknown" outside a git work
# tree or below another repository's top (weft unpacked inside a project), and the
# file rewritten only when its text changes (so a build on the same commit
# recompiles nothing).
script = os.path.join(root, "cmake", "source_commit.cmake")


def source_commit(source, out):
    p = subprocess.run([cmake, f"-DSOURCE_DIR={source}", f"-DOUT={out}", "-P", script], capture_output=True, text=True)
    check(p.returncode == 0, f"source_commit.cmake runs for {source} ({p.stderr.strip()})")
    m = re.search(r'return "([^"]*)";', open(out).read()) if os.path.exists(out) else None
    return m.group(1) if m else None


not_git = tempfile.mkdtemp()
check(source_commit(not_git, f"{tmp}/c1.cpp") == "unknown", "source_commit: 'unknown' outside a git work tree")
check(source_commit(os.path.join(root, "tests"), f"{tmp}/c2.cpp") == "unknown",
      "source_commit: 'unknown' below another repository's top")
if git and os.path.exists(os.path.join(root, ".git")):
    head = subprocess.run([git, "-C", root, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run([git, "-C", root, "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                           text=True).stdout != ""
    check(source_commit(root, f"{tmp}/c3.cpp") == head + ("+dirty" if dirty else ""),
          f"source_commit: this repository's HEAD{' +dirty' if dirty else ''} ({head})")
    os.utime(f"{tmp}/c3.cpp", (1, 1))
    source_commit(root, f"{tmp}/c3.cpp")
    check(os.stat(f"{tmp}/c3.cpp").st_mtime == 1, "source_commit: the same commit does not rewrite the file")
    repo = tempfile.mkdtemp()
    g = lambda *a: subprocess.run([git, "-C", repo, "-c", "user.name=t", "-c", "user.email=t@t"] + list(a),
                                  capture_output=True, text=True)
    g("init", "-q")
    open(os.path.join(repo, "a.txt"), "w").write("a\n")
    g("add", "a.txt")
    g("commit", "-q", "-m", "a")
    first = g("rev-parse", "HEAD").stdout.strip()
    check(source_commit(repo, f"{tmp}/c4.cpp") == first, "source_commit: a clean tree's commit")
    open(os.path.join(repo, "scratch.txt"), "w").write("untracked\n")
    check(source_commit(repo, f"{tmp}/c4.cpp") == first, "source_commit: an untracked file is not +dirty")
    open(os.path.join(repo, "a.txt"), "w").write("b\n")
    check(source_commit(repo, f"{tmp}/c4.cpp") == first + "+dirty", "source_commit: a changed tracked file is +dirty")
    g("commit", "-q", "-am", "b")
    second = g("rev-parse", "HEAD").stdout.strip()
    check(second != first and source_commit(repo, f"{tmp}/c4.cpp") == second, "source_commit: follows a new commit")

# The newest sweep committed under reports/sweeps/ was run by a release build of a
# clean commit: its summaries read and merge, a shard of this build does not join
# them, and merge --report does not rerun their failures (this build is not
# theirs); --run-link still writes the page. No committed page or summary.md prints
# the PCT statement of version-1 summaries, which counted runs that outlasted the
# range their change points were drawn from.
sweeps_dir = os.path.join(root, "reports", "sweeps")
dated_dirs = sorted(d for d in os.listdir(sweeps_dir) if re.fullmatch(r"\d{4}-\d\d-\d\d", d))
check(len(dated_dirs) >= 1, f"a dated sweep is committed ({dated_dirs})")
for d in dated_dirs:
    for f in os.listdir(os.path.join(sweeps_dir, d)):
        if f.endswith((".html", ".md")):
            text = open(os.path.join(sweeps_dir, d, f), encoding="utf-8", errors="replace").read()
            if "PCT finds a depth" in text:
                check(False, f"{d}/{f} prints the version-1 PCT statement")
dated = os.path.join(sweeps_dir, dated_dirs[-1])
committed = sorted(os.path.join(dated, f) for f in os.listdir(dated) if f.endswith(".json") and f != "sweep.json")
check(len(committed) >= 13, f"the committed summaries are there ({len(committed)})")
deep_statements = 0
for f in committed:
    p = run(["merge", f], expect=0)
    # Every statement of depth 2 or more says how many runs its bound counts.
    for line in p.stdout.splitlines():
        m = re.search(r"PCT depth (\d+): ", line)
        if m and int(m.group(1)) >= 2:
            deep_statements += 1
            check("outlasted" in line or "every run stayed" in line,
                  f"{f}: the PCT statement counts covered runs: {line.strip()[:120]}")
check(deep_statements >= 13, f"the committed summaries print PCT statements of depth 2 and 3 ({deep_statements})")
old_canary = os.path.join(dated, "canary.json")
old = json.load(open(old_canary))
check(re.fullmatch(r"weft \S+ \(release\), commit [0-9a-f]{40}", old["weft_version"]) is not None,
      f"the committed sweep names a release build of a clean commit: {old['weft_version']}")
run([canary, "--seeds", "0..3", "--shard", f"0/{old['shards']['of']}", "--summary", f"{tmp}/new-shard.json",
     "--quiet"] + (["--strategy", old["strategy_flag"]] if old["strategy_flag"] else []) + old["options"].split())
if json.load(open(f"{tmp}/new-shard.json"))["weft_version"] != old["weft_version"]:
    p = run(["merge", old_canary, f"{tmp}/new-shard.json"], expect=8)
    check(p.stderr.count("\n") == 1 and f"{tmp}/new-shard.json: $.weft_version:" in p.stderr,
          f"a shard of this build does not join a committed summary: {p.stderr.strip()}")
    p = run(["merge", old_canary, "--report", f"{tmp}/old-sweep.html", "--scenario", canary], expect=8)
    check(p.stderr.count("\n") == 1 and old["weft_version"] in p.stderr and not os.path.exists(f"{tmp}/old-sweep.html"),
          f"merge --report does not rerun a committed summary's failures: {p.stderr.strip()}")
run(["merge", old_canary, "--report", f"{tmp}/old-sweep.html", "--run-link", "canary-seedSEED.html"], expect=0)
check(os.path.exists(f"{tmp}/old-sweep.html"), "merge --report --run-link renders a committed summary's page")

p = run(["merge", "--partial"] + good[:2], expect=0)
check("incomplete: shards 2 missing" in p.stdout, "merge --partial says what is missing")
p = run(["merge"], expect=9)

# A merged summary merges again, and --out writes what --json prints.
run(["merge", "--partial", "--out", f"{tmp}/01.json"] + good[:2], expect=0)
a = run(["merge", "--json", f"{tmp}/01.json", good[2]], expect=0)
b = run(["merge", "--json"] + good, expect=0)
check(comparable(json.loads(a.stdout)) == comparable(json.loads(b.stdout)), "a merge of merges is the same sweep")

# simrun --seeds ... --report writes the sweep's page; one --seed --report, the run's.
run([canary, "--seeds", "0..3", "--collect", "--quiet", "--report", f"{tmp}/sweep.html"], expect=0)
page = open(f"{tmp}/sweep.html").read()
check(page.count('<a href="canary-seed') == 4 and 'id="histogram"' in page, "--seeds --report: the sweep page lists 4 failures")
run([canary, "--seed", "1", "--quiet", "--report", f"{tmp}/run.html"], expect=1)
check('<script id="data" type="application/json">' in open(f"{tmp}/run.html").read(), "--seed --report: the run page")
p = run([steal, "--seed", "1", "--report", f"{tmp}/nope/run.html"], expect=9)
check(p.stderr.count("\n") == 1 and "--report" in p.stderr, "--report to a missing folder: usage error before the run")

# simrun merge --report writes, next to the sweep page, the run pages of the first
# 20 failures (unexpected ones first), each rerun from its replay line; every link
# opens its seed's failing run, and the rest show the line that writes their page.
def page_data(page):
    m = re.search(r'<script id="data" type="application/json">(.*?)</script>', open(page).read(), re.S)
    return json.loads(m.group(1))


def merge_pages(name, scenario, seeds, extra=(), merge_extra=()):
    d = os.path.join(tmp, name)
    os.makedirs(d)
    for i in range(2):
        run([scenario, "--seeds", seeds, "--shard", f"{i}/2", "--collect", "--quiet", "--summary", f"{d}/s{i}.json"]
            + list(extra))
    files = [f"{d}/s0.json", f"{d}/s1.json"]
    p = run(["merge", "--report", f"{d}/sweep.html"] + files + list(merge_extra))
    return d, files, p


# The mixed sweep cuts the canary's longest third of runs short (step_bound_exceeded,
# unexpected): the bound is read from the runs' own decision counts, so it stays
# inside their spread whatever the engine's protocols cost in decisions.
canary_steps = sorted(json.loads(line)["steps"] for line in
                      run([canary, "--seeds", "0..39", "--collect", "--json"]).stdout.splitlines()
                      if '"steps"' in line and '"seed"' in line)
cut_bound = str(canary_steps[len(canary_steps) * 2 // 3])
for name, scenario, seeds, extra in (
        ("pages-canary", canary, "0..29", []),  # a negative scenario: 30 expected failures
        ("pages-mixed", canary, "0..39", ["--step-bound", cut_bound])):  # cut short: some unexpected ones too
    d, files, p = merge_pages(name, scenario, seeds, extra)
    merged = json.loads(run(["merge", "--json"] + files).stdout)
    by_seed = {f["seed"]: f for f in merged["failures"]}
    want = sorted(merged["failures"], key=lambda f: (not f["unexpected"], f["seed"]))[:20]
    check(p.returncode == run(["merge"] + files).returncode,
          f"{name}: merge --report exits as the sweep ({p.returncode}; {p.stderr.strip()})")
    html_text = open(f"{d}/sweep.html").read()
    links = re.findall(r'<a href="([^"]+)">(\d+)</a>', html_text)
    written = sorted(f for f in os.listdir(d) if f.endswith(".html") and f != "sweep.html")
    check([int(s) for _, s in links] == sorted(f["seed"] for f in want) and sorted(l for l, _ in links) == written,
          f"{name}: the sweep page links exactly the {len(want)} pages merge wrote, the first failures "
          f"({sum(f['unexpected'] for f in want)} unexpected ones first)")
    for link, seed in links:
        data, f = page_data(os.path.join(d, link)), by_seed[int(seed)]
        check(data["seed"] == seed and data["outcome"] == f["outcome"] and data["replay"] == f["replay"] and
              data["strategy"] == f["strategy"], f"{name}: {link} is seed {seed}'s {f['outcome']} run")
    unlinked = [f for f in merged["failures"] if f not in want]
    check(all(html.escape(f["replay"] + " --report " + f"canary-seed{f['seed']}.html", quote=True) in html_text
              for f in unlinked), f"{name}: the {len(unlinked)} other failures show the line that writes their page")
check(len(merged["failures"]) > 20 and 0 < merged["unexpected"] < 20 and merged["matched_failures"] > 0,
      f"pages-mixed: unexpected and expected failures, more than 20 ({merged['unexpected']} unexpected, "
      f"{merged['matched_failures']} expected)")

# The scenario file must still hold the sweep's text; the replay lines must be
# simrun's; --scenario names a moved file; --run-link writes no page.
copy = os.path.join(tmp, "moved-canary.json")
shutil.copy(canary, copy)
d, files, p = merge_pages("pages-changed", copy, "0..5")
check(p.returncode == 0, f"pages-changed: merge --report before the change ({p.stderr.strip()})")
open(copy, "a").write("\n")
os.remove(f"{d}/sweep.html")
p = run(["merge", "--report", f"{d}/sweep.html"] + files, expect=8)
check(p.stderr.count("\n") == 1 and copy in p.stderr and "scenario_hash" in p.stderr and not os.path.exists(f"{d}/sweep.html"),
      f"merge --report refuses a changed scenario file, before writing anything: {p.stderr.strip()}")
p = run(["merge", "--report", f"{d}/sweep.html", "--scenario", canary] + files, expect=0)
check(p.returncode == 0, f"merge --report --scenario FILE reruns with that file ({p.stderr.strip()})")
s0 = json.load(open(files[0]))
s0["failures"][0]["replay"] += " --trace /tmp/x"
evil = write("evil-replay.json", json.dumps(s0))
p = run(["merge", "--report", f"{d}/evil.html", evil, files[1]], expect=8)
check(p.stderr.count("\n") == 1 and "replay line" in p.stderr and not os.path.exists(f"{d}/evil.html"),
      f"merge --report refuses a replay line simrun did not write: {p.stderr.strip()}")
s0 = json.load(open(files[0]))
s0["weft_version"] = "weft 0.0.0"
s1 = json.load(open(files[1]))
s1["weft_version"] = "weft 0.0.0"
p = run(["merge", "--report", f"{d}/old.html", "--scenario", canary, write("old0.json", json.dumps(s0)),
         write("old1.json", json.dumps(s1))], expect=8)
check(p.stderr.count("\n") == 1 and "weft 0.0.0" in p.stderr, f"merge --report refuses another build's sweep: {p.stderr.strip()}")
d2 = os.path.join(tmp, "pages-linked")
os.makedirs(d2)
run(["merge", "--report", f"{d2}/sweep.html", "--run-link", "runs/SEED.html", "--scenario", canary] + files, expect=0)
check(os.listdir(d2) == ["sweep.html"] and open(f"{d2}/sweep.html").read().count('<a href="runs/') == 6,
      "merge --report --run-link links every failure and writes no run page")

# A plain sweep prints what it covered, per strategy, as merge does: the seeds, the
# marks and the PCT statement.
p = run([churn, "--seeds", "0..9"], expect=0)
for label in ("random", "pct:1", "pct:2", "pct:3", "hold"):
    check(re.search(rf"^  strategy {re.escape(label)}: 2 seeds, pass=2, \d+ marks reached", p.stdout, re.M) is not None,
          f"a sweep's own output covers strategy {label}: {p.stdout.strip()[:300]}")
check("PCT depth 3: " in p.stdout, "a sweep's own output gives the PCT statement")

print("FAILED:\n" + "\n".join(failures) if failures else "shards and merge: all checks passed")
sys.exit(1 if failures else 0)
