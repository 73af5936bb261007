#!/usr/bin/env python3
"""The sweep recipes of docs/sweeps/ run as written, as far as this machine
allows: each recipe's shard command runs once per index with the variable its
scheduler sets (WEFT_SHARD_INDEX for the GitHub matrix, JOB_COMPLETION_INDEX for
the Kubernetes Indexed Job, SLURM_ARRAY_TASK_ID from an array starting at 1 for
Slurm, whose header's submit and merge commands run as written against a stand-in
sbatch), on a small seed range in a tree laid out as each recipe expects; the
GitHub merge step and the Slurm merge line run as written, and each scenario's
merged summary is the unsharded sweep's.
  recipes_test.py SIMRUN SCENARIO_DIR DOCS_SWEEPS_DIR"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import yaml

simrun, scenarios, docs = (os.path.abspath(a) for a in sys.argv[1:4])
SEEDS, SHARDS = "2..14", 3
NAMES = ("canary", "lifo_pingpong")
failures = []


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what)
    if not cond:
        failures.append(what)


def tree(simrun_at):
    """A work tree with simrun at `simrun_at` and two scenarios under scenarios/."""
    root = tempfile.mkdtemp()
    os.makedirs(os.path.join(root, os.path.dirname(simrun_at)), exist_ok=True)
    os.symlink(simrun, os.path.join(root, simrun_at))
    os.makedirs(os.path.join(root, "scenarios"))
    for n in NAMES:
        shutil.copy(os.path.join(scenarios, n + ".json"), os.path.join(root, "scenarios"))
    return root


def sh(script, cwd, env):
    e = {k: v for k, v in os.environ.items() if k not in ("JOB_COMPLETION_INDEX", "SLURM_ARRAY_TASK_ID",
                                                            "SLURM_ARRAY_TASK_MIN", "SLURM_ARRAY_TASK_STEP", "WEFT_SHARD_INDEX")}
    e.update(env)
    return subprocess.run(["bash", "-e", "-c", script], cwd=cwd, env=e, capture_output=True, text=True)


def same_as_unsharded(summary_file, name, what):
    whole = subprocess.run([simrun, os.path.join(scenarios, name + ".json"), "--seeds", SEEDS, "--collect", "--quiet",
                            "--json"], capture_output=True, text=True).stdout.splitlines()[-1]
    a, b = json.load(open(summary_file)), json.loads(whole)
    for d in (a, b):
        d.pop("seconds"), d.pop("shards")
        for f in d["failures"]:  # the scenario's path differs (the recipe's tree): the rest of the line does not
            f["replay"] = f["replay"].replace(os.path.join(scenarios, name + ".json"), "scenarios/" + name + ".json")
    check(a == b, f"{what}: {name}'s merged summary is the unsharded sweep's")


# GitHub Actions: the matrix covers 0..SHARDS-1; each index runs the shard step.
gh = yaml.safe_load(open(os.path.join(docs, "github-actions.yml")))
shard_job, merge_job = gh["jobs"]["shard"], gh["jobs"]["merge"]
check(shard_job["strategy"]["matrix"]["index"] == list(range(int(gh["env"]["SHARDS"]))), "GitHub: the matrix is 0..SHARDS-1")
check(shard_job["env"]["WEFT_SHARD_INDEX"] == "${{ matrix.index }}", "GitHub: WEFT_SHARD_INDEX is the matrix index")
step = next(s["run"] for s in shard_job["steps"] if "--shard" in s.get("run", ""))
merge_step = next(s["run"] for s in merge_job["steps"] if "merge" in s.get("run", ""))
root = tree("build/release/tools/simrun")
for i in range(SHARDS):
    p = sh(step, root, {"SEEDS": SEEDS, "SHARDS": str(SHARDS), "WEFT_SHARD_INDEX": str(i)})
    check(p.returncode == 0, f"GitHub: shard {i} ran ({p.stderr.strip()[-300:]})")
check(not os.path.exists(os.path.join(root, "merged")), "GitHub: nothing but the recipe makes merged/")
p = sh(merge_step, root, {})
check(p.returncode == 0, f"GitHub: the merge step passes ({p.stdout[-500:]}{p.stderr[-500:]})")
for n in NAMES:
    same_as_unsharded(os.path.join(root, "merged", n + ".json"), n, "GitHub")

# Kubernetes: an Indexed Job of SHARDS completions; each pod's command with its index.
k8s = yaml.safe_load(open(os.path.join(docs, "k8s-indexed-job.yaml")))
spec = k8s["spec"]
check(spec["completionMode"] == "Indexed", "Kubernetes: an Indexed Job")
pod = spec["template"]["spec"]["containers"][0]
env = {e["name"]: e["value"] for e in pod["env"]}
check(spec["completions"] == int(env["SHARDS"]), "Kubernetes: completions = SHARDS")
root = tree("tools/simrun")
results = os.path.join(root, "results")
os.makedirs(results)
script = pod["args"][0].replace("/results/", results + "/")
for i in range(SHARDS):
    p = sh(script, root, {"SEEDS": SEEDS, "SHARDS": str(SHARDS), "JOB_COMPLETION_INDEX": str(i)})
    check(p.returncode == 0, f"Kubernetes: pod {i} ran ({p.stderr.strip()[-300:]})")
for n in NAMES:
    out = os.path.join(root, n + ".merged.json")
    files = sorted(os.path.join(results, f) for f in os.listdir(results) if f.startswith(n + "-"))
    p = subprocess.run([simrun, "merge", "--out", out] + files, capture_output=True, text=True)
    check(p.returncode == 0 and len(files) == SHARDS, f"Kubernetes: {n}'s {len(files)} shards merge")
    same_as_unsharded(out, n, "Kubernetes")

# Slurm: the header's submit commands as written, in a tree holding the script,
# with a stand-in sbatch on PATH that does what Slurm does with them: the array's
# tasks (SBATCH_ARRAY_INX, Slurm's input variable for --array, makes it 1..SHARDS)
# each run with their stdout opened at #SBATCH --output first, which fails when its
# directory is missing, as Slurm's does; --wrap runs its command after them.
FAKE_SBATCH = r"""#!PYTHON
import os, re, subprocess, sys
args = sys.argv[1:]
if "--wrap" in args:
    sys.exit(subprocess.run(["bash", "-c", args[args.index("--wrap") + 1]]).returncode)
script = args[-1]
opts = dict(re.findall(r"^#SBATCH --([a-z-]+)=(\S+)", open(script).read(), re.M))
lo, hi = map(int, os.environ.get("SBATCH_ARRAY_INX", opts["array"]).split("-"))
for task in range(lo, hi + 1):
    out = opts["output"].replace("%A", "7").replace("%a", str(task))
    if not os.path.isdir(os.path.dirname(out) or "."):
        sys.exit(f"sbatch stand-in: task {task}: the --output directory of '{out}' does not exist")
    with open(out, "w") as log:
        env = dict(os.environ, SLURM_ARRAY_JOB_ID="7", SLURM_ARRAY_TASK_ID=str(task), SLURM_ARRAY_TASK_MIN=str(lo))
        if subprocess.run(["bash", script], stdout=log, stderr=log, env=env).returncode != 0:
            sys.exit(f"sbatch stand-in: task {task} failed (log {out})")
if "--parsable" in args:
    print(7)
"""
root = tree("build/release/tools/simrun")
os.makedirs(os.path.join(root, "docs", "sweeps"))
shutil.copy(os.path.join(docs, "slurm-array.sh"), os.path.join(root, "docs", "sweeps"))
bindir = os.path.join(root, "fakebin")
os.makedirs(bindir)
with open(os.path.join(bindir, "sbatch"), "w") as f:
    f.write(FAKE_SBATCH.replace("PYTHON", sys.executable))
os.chmod(os.path.join(bindir, "sbatch"), 0o755)
header = [l[4:] for l in open(os.path.join(docs, "slurm-array.sh")) if l.startswith("#   ")]
check(any("sbatch --parsable" in l for l in header) and any("--wrap" in l for l in header),
      "Slurm: the header holds the submit and the merge commands")
p = sh("\n".join(header), root, {"PATH": bindir + os.pathsep + os.environ["PATH"], "SEEDS": SEEDS,
                                  "SHARDS": str(SHARDS), "SBATCH_ARRAY_INX": f"1-{SHARDS}"})
check(p.returncode == 0, f"Slurm: the header's commands ran ({p.stdout[-300:]}{p.stderr.strip()[-300:]})")
for n in NAMES:
    check(all(os.path.exists(os.path.join(root, "results", f"{n}-{t}.json")) for t in range(1, SHARDS + 1)),
          f"Slurm: tasks 1..{SHARDS} wrote {n}'s shards")
    same_as_unsharded(os.path.join(root, "results", n + ".merged.json"), n, "Slurm")

print("FAILED:\n" + "\n".join(failures) if failures else "sweep recipes: all checks passed")
sys.exit(1 if failures else 0)
