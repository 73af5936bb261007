#!/usr/bin/env python3
"""The sweep recipes of docs/sweeps/ run as written, as far as this machine
allows: each recipe's shard command runs once per index with the variable its
scheduler sets (WEFT_SHARD_INDEX for the GitHub matrix, JOB_COMPLETION_INDEX for
the Kubernetes Indexed Job, SLURM_ARRAY_TASK_ID from an array starting at 1 for
Slurm), on a small seed range in a tree laid out as each recipe expects; the
GitHub merge step then merges them, and each scenario's merged summary is the
unsharded sweep's.
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
                                                            "SLURM_ARRAY_TASK_MIN", "WEFT_SHARD_INDEX")}
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

# Slurm: the array script as is, for an array 1..SHARDS.
root = tree("build/release/tools/simrun")
for task in range(1, SHARDS + 1):
    p = subprocess.run([os.path.join(docs, "slurm-array.sh")], cwd=root, capture_output=True, text=True,
                       env=dict(os.environ, SEEDS=SEEDS, SHARDS=str(SHARDS), SLURM_ARRAY_TASK_ID=str(task),
                                SLURM_ARRAY_TASK_MIN="1"))
    check(p.returncode == 0, f"Slurm: task {task} ran ({p.stderr.strip()[-300:]})")
for n in NAMES:
    out = os.path.join(root, n + ".merged.json")
    files = [os.path.join(root, "results", f"{n}-{t}.json") for t in range(1, SHARDS + 1)]
    p = subprocess.run([simrun, "merge", "--out", out] + files, capture_output=True, text=True)
    check(p.returncode == 0, f"Slurm: {n}'s shards merge ({p.stderr.strip()})")
    same_as_unsharded(out, n, "Slurm")

print("FAILED:\n" + "\n".join(failures) if failures else "sweep recipes: all checks passed")
sys.exit(1 if failures else 0)
