#!/usr/bin/env python3
# Fuzzes tools/trace_check's reader (load, then check) in its own language: the
# checker is Python, libFuzzer drives native code and no Python fuzzing engine is
# packaged here, so this is a seeded mutation fuzzer of its own. It mutates the
# committed traces two ways, bytes (flip, insert, delete, splice) and structure (a
# value replaced by a look-alike: true or 1.0 for an integer, null, a string, a
# deep nest, 1e999, NaN; a key duplicated), and checks the property every input
# must keep: load() returns or raises SchemaError (exit 2, one line), and check()
# of what load() accepted never raises.
#   fuzz_trace_check.py TRACE_CHECK [--seconds S | --runs N] [--seed N] FILE_OR_DIR... [--reject FILE_OR_DIR...]
# With --runs 0 it only replays the files named: the corpus, and the regressions
# after --reject, each of which must be refused (exit 2), not merely survived.
import argparse
import importlib.machinery
import importlib.util
import json
import os
import random
import sys
import time
import traceback

LOOK_ALIKES = [True, False, 1.0, -1, 0, 2**64, None, "x", "", [], {}, [[]], 1e308, "park", -2]


def load_checker(path):
    loader = importlib.machinery.SourceFileLoader("trace_check", path)
    spec = importlib.util.spec_from_loader("trace_check", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


def inputs(paths):
    for p in paths:
        if os.path.isdir(p):
            for name in sorted(os.listdir(p)):
                yield os.path.join(p, name)
        else:
            yield p


def mutate_bytes(rng, data, seeds):
    data = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(5)
        at = rng.randrange(len(data) + 1)
        if op == 0 and data:
            data[min(at, len(data) - 1)] ^= 1 << rng.randrange(8)
        elif op == 1:
            data[at:at] = rng.choice([b"[", b"]", b"{", b"}", b",", b":", b'"', b"1e999", b"NaN", b"-", b"\xff", b"\x00"])
        elif op == 2 and data:
            del data[at:at + rng.randint(1, 16)]
        elif op == 3:
            other = rng.choice(seeds)
            start = rng.randrange(len(other))
            data[at:at] = other[start:start + rng.randint(1, 64)]
        else:
            data[at:at] = b"[" * rng.randint(1, 3000)
    return bytes(data)


def mutate_tree(rng, doc):
    """Replaces one value of the parsed trace by a look-alike; returns JSON text."""
    node, path = doc, []
    for _ in range(rng.randint(1, 4)):
        if isinstance(node, dict) and node:
            key = rng.choice(list(node))
        elif isinstance(node, list) and node:
            key = rng.randrange(len(node))
        else:
            break
        path.append((node, key))
        node = node[key]
    if not path:
        return json.dumps(doc)
    parent, key = path[-1]
    choice = rng.randrange(4)
    if choice == 0:
        parent[key] = rng.choice(LOOK_ALIKES)
    elif choice == 1:
        parent[key] = json.loads("[" * 200 + "]" * 200)
    elif choice == 2 and isinstance(parent, dict):
        text = json.dumps(doc)
        k = json.dumps(key) + ":"
        return text.replace(k, k + " 0, " + k, 1)  # a duplicate key
    else:
        parent[key] = float("inf") if rng.randrange(2) else float("nan")
    return json.dumps(doc)


def run_one(tc, data, scratch):
    with open(scratch, "wb") as f:
        f.write(data)
    try:
        h, evs = tc.load(scratch)
    except tc.SchemaError as e:
        if "\n" in str(e).encode("unicode_escape").decode("ascii"):
            return f"a schema error of more than one line: {e!r}"
        return None
    except Exception:
        return "load() raised something other than SchemaError (a traceback, exit 1):\n" + traceback.format_exc(limit=2)
    try:
        tc.check(h, evs)
    except Exception:
        return "check() raised on a trace load() accepted:\n" + traceback.format_exc()
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("trace_check")
    ap.add_argument("files", nargs="+")
    ap.add_argument("--seconds", type=float, default=0)
    ap.add_argument("--runs", type=int, default=0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--reject", nargs="*", default=[],
                    help="files or folders of malformed traces (the regressions): each must be refused with exit 2")
    ap.add_argument("--findings", default=None, help="folder for inputs that break the property")
    ap.add_argument("--stats", default=None, help="write the run's figures (JSON) here")
    args = ap.parse_args()
    tc = load_checker(args.trace_check)
    scratch = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"fuzz_trace_check_{os.getpid()}.json")
    seeds, findings = [], []

    def record(data, why):
        findings.append(why)
        print(f"fuzz_trace_check: FINDING: {why}", file=sys.stderr)
        if args.findings:
            os.makedirs(args.findings, exist_ok=True)
            with open(os.path.join(args.findings, f"finding-{len(findings)}.json"), "wb") as f:
                f.write(data)

    replayed = 0
    for path in inputs(args.files):
        data = open(path, "rb").read()
        seeds.append(data)
        replayed += 1
        why = run_one(tc, data, scratch)
        if why:
            record(data, f"{path}: {why}")
    for path in inputs(args.reject):
        data = open(path, "rb").read()
        seeds.append(data)
        replayed += 1
        why = run_one(tc, data, scratch)
        if why is None:
            try:
                tc.load(path)
                why = "a malformed trace was accepted (a look-alike type, a duplicate key, ...)"
            except tc.SchemaError:
                pass
        if why:
            record(data, f"{path}: {why}")
    rng = random.Random(args.seed)
    parsed = []
    for s in seeds:
        try:
            parsed.append(json.loads(s))
        except (ValueError, RecursionError):
            pass  # a seed that is not JSON (or too deep) is mutated as bytes only
    deadline = time.monotonic() + args.seconds
    executions = 0
    while (args.runs and executions < args.runs) or (args.seconds and time.monotonic() < deadline):
        if parsed and rng.randrange(2):
            data = mutate_tree(rng, json.loads(json.dumps(rng.choice(parsed)))).encode("utf-8")
        else:
            data = mutate_bytes(rng, rng.choice(seeds), seeds)
        executions += 1
        why = run_one(tc, data, scratch)
        if why:
            record(data, why)
    if os.path.exists(scratch):
        os.remove(scratch)
    stats = {"replayed": replayed, "executions": executions, "seconds": args.seconds, "findings": len(findings)}
    print(f"fuzz_trace_check: {stats}")
    if args.stats:
        with open(args.stats, "w") as f:
            json.dump(stats, f, indent=1)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
