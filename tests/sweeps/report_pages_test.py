#!/usr/bin/env python3
"""Report pages are portable and self-contained.

1. Every committed page under reports/ (and every page kind freshly written: a run's
   simrun --report, a sweep's simrun --seeds --report, the bench and bug zoo pages of
   tools/report/pages.py) loads nothing from elsewhere: no src/href/url()/@import with a
   scheme (http:, file:, ...) or protocol-relative (//host), no <link rel=stylesheet>.
2. No committed page names a machine path (/work/, /home/, /tmp/, /root/, /Users/),
   nor does any committed JSON under reports/ (summaries, reproductions, bench and
   zoo results) outside the fields that record how a measurement was run (its
   command line and binaries: PROVENANCE_KEYS).
3. bugzoo's assertion messages name files from the repository root (engine/src/...).
Each check is first shown to catch a planted defect.

  report_pages_test.py SIMRUN BUGZOO SCENARIO_DIR"""
import json
import os
import re
import subprocess
import sys
import tempfile

simrun, bugzoo, scenarios = (os.path.abspath(a) for a in sys.argv[1:4])
root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
failures = []


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what)
    if not cond:
        failures.append(what)


# A reference that makes the browser fetch or link outside the page: a URL with a
# scheme other than data: (inline), or one starting with // (protocol-relative).
EXTERNAL_URL = r"""(?:(?!data:)[a-zA-Z][a-zA-Z0-9+.-]*:|//)"""
EXTERNAL = [
    ("src/href attribute", re.compile(r"""\b(?:src|href|srcset|action|poster)\s*=\s*["']?\s*""" + EXTERNAL_URL)),
    ("CSS url()", re.compile(r"""url\(\s*["']?\s*""" + EXTERNAL_URL)),
    ("CSS @import", re.compile(r"""@import\b""")),
    ("stylesheet link", re.compile(r"""<link\b[^>]*\brel\s*=\s*["']?stylesheet""", re.I)),
    ("script or fetch of a URL", re.compile(r"""\b(?:fetch|importScripts|XMLHttpRequest)\s*\(""")),
]
MACHINE_PATH = re.compile(r"""(?<![\w.])/(?:work|home|tmp|root|Users)/""")


# Fields that record how a measurement was run, where the paths of that run's
# binaries and scratch files are the record itself: a benchmark's command line
# (meta.args, made_by), the binaries it compared (weft_bin, tokio_bin) and the raw
# files it merged (weft_files, tokio_files), and the first line of an error the
# parse-scaling measurement provoked on its scratch input (first_line).
PROVENANCE_KEYS = {"args", "made_by", "weft_bin", "tokio_bin", "weft_files", "tokio_files", "first_line"}


def json_machine_paths(value, where="$"):
    """The JSON paths of strings in `value` that name a machine path, outside PROVENANCE_KEYS."""
    if isinstance(value, dict):
        return [p for k, v in value.items() if k not in PROVENANCE_KEYS for p in json_machine_paths(v, f"{where}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in json_machine_paths(v, f"{where}[{i}]")]
    if isinstance(value, str) and MACHINE_PATH.search(value):
        return [f"{where}: {machine_paths(value)[0]}"]
    return []


def external_refs(text):
    return [f"{name}: {m.group(0)[:60]!r}" for name, rx in EXTERNAL for m in [rx.search(text)] if m]


def machine_paths(text):
    return [m.group(0) + text[m.end():m.end() + 40].split('"')[0] for m in MACHINE_PATH.finditer(text)][:3]


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, **kw)


with tempfile.TemporaryDirectory() as tmp:
    # Fresh pages of every kind.
    fresh = {}
    run_page = os.path.join(tmp, "run.html")
    run([simrun, os.path.join(scenarios, "canary.json"), "--seed", "0", "--report", run_page])
    fresh["run"] = run_page
    sweep_page = os.path.join(tmp, "sweep", "sweep.html")
    os.makedirs(os.path.dirname(sweep_page))
    run([simrun, os.path.join(scenarios, "canary.json"), "--seeds", "0..3", "--collect", "--quiet", "--report", sweep_page])
    fresh["sweep"] = sweep_page
    pages = os.path.join(root, "tools", "report", "pages.py")
    fresh["bench"] = os.path.join(tmp, "bench.html")
    run([sys.executable, pages, "bench",
         os.path.join(root, "reports", "bench", "side-by-side-2026-12-03", "comparison.ratios.json"), fresh["bench"]])
    os.makedirs(os.path.join(tmp, "zoo"))
    fresh["bugzoo"] = os.path.join(tmp, "zoo", "index.html")
    run([sys.executable, pages, "bugzoo", os.path.join(root, "reports", "bugzoo.json"), fresh["bugzoo"]])
    for kind, page in fresh.items():
        check(os.path.exists(page) and os.path.getsize(page) > 1000, f"a {kind} page is written ({page})")

    # The checks catch planted defects, each planted into a real page.
    base = open(fresh["run"]).read() if os.path.exists(fresh["run"]) else "<html><body></body></html>"
    check(external_refs(base) == [], f"the fresh run page is clean before planting: {external_refs(base)}")
    plants = [
        '<script src="https://cdn.example.com/d3.js"></script>',
        '<img src="//cdn.example.com/x.png">',
        '<a href="http://example.com/more">more</a>',
        '<div style="background: url(https://example.com/bg.png)"></div>',
        "<style>@import 'theme.css';</style>",
        '<link rel="stylesheet" href="report.css">',
        '<iframe src="file:///etc/passwd"></iframe>',
    ]
    for plant in plants:
        text = base.replace("</body>", plant + "</body>", 1)
        check(external_refs(text) != [], f"a planted external reference is caught: {plant}")
    check(external_refs('<img src="data:image/png;base64,AAAA"><a href="#lane-3">x</a><a href="canary-seed0.html">s</a>') == [],
          "inline data:, in-page anchors and links to sibling report files are not external")
    for plant in ("at /work/wt/x/engine/src/queues.hpp:288", "/home/user/weft/scenarios/a.json", "/tmp/zoo-out/a.json"):
        check(machine_paths(base + plant) != [], f"a planted machine path is caught: {plant}")
    check(machine_paths("at engine/src/multi_thread/../queues.hpp:288 and reports/bugzoo/x.json") == [],
          "repository-relative paths are not machine paths")

    # 2 on JSON: a planted machine path in a reproduction's message is caught; one in
    # a benchmark's recorded command line is provenance.
    planted = {"failure": {"message": "data race on a plain cell: write by fiber 3 at "
                                      "/work/wt/x/engine/src/multi_thread/../queues.hpp:331"}}
    found = json_machine_paths(planted)
    check(len(found) == 1 and found[0].startswith("$.failure.message: /work/wt/x/engine/src/"),
          f"a planted machine path in a JSON message is caught: {found}")
    check(json_machine_paths({"meta": {"args": ["--out", "/tmp/wb/weft-r1.json"]}}) == [],
          "a benchmark's recorded command line is provenance, not a machine path in its results")
    committed_json = []
    for d, _, files in os.walk(os.path.join(root, "reports")):
        committed_json += [os.path.join(d, f) for f in files if f.endswith(".json")]
    check(any(p.endswith(".repro.json") for p in committed_json) and any("/sweeps/" in p for p in committed_json),
          f"committed JSON includes reproductions and sweep summaries ({len(committed_json)} files)")
    for f in sorted(committed_json):
        name = os.path.relpath(f, root)
        try:
            value = json.load(open(f, encoding="utf-8"))
        except ValueError as e:
            check(False, f"{name} is JSON: {e}")
            continue
        paths = json_machine_paths(value)
        check(paths == [], f"{name} names no machine path{': ' + ', '.join(paths[:3]) if paths else ''}")

    # 1 and 2 on every committed page and every fresh one.
    committed = []
    for d, _, files in os.walk(os.path.join(root, "reports")):
        committed += [os.path.join(d, f) for f in files if f.endswith((".html", ".htm"))]
    kinds_seen = {k for k in ("bench", "bugzoo", "sweeps") for p in committed if f"/reports/{k}/" in p}
    check(len(committed) >= 3 and kinds_seen == {"bench", "bugzoo", "sweeps"},
          f"committed pages of the bench, bug zoo and sweeps: {len(committed)} pages in {sorted(kinds_seen)}")
    for page in sorted(committed) + list(fresh.values()):
        if not os.path.exists(page):
            continue
        text = open(page, encoding="utf-8").read()
        name = os.path.relpath(page, root) if page.startswith(root) else os.path.basename(page)
        refs = external_refs(text)
        check(refs == [], f"{name} is self-contained{': ' + '; '.join(refs) if refs else ''}")
        if page.startswith(root):
            paths = machine_paths(text)
            check(paths == [], f"{name} names no machine path{': ' + ', '.join(paths) if paths else ''}")

    # 3. An assertion's file from the repository root, in bugzoo's output and its reproduction.
    out = os.path.join(tmp, "zoo-out")
    p = run([bugzoo, "--bug", "steal_more_than_half", "--budget", "5", "--control-budget", "1", "--shrink-seconds", "1",
             "--default-exploration", "--scenarios", scenarios, "--out", out], cwd=tmp)
    repro = os.path.join(out, "bugzoo-default", "steal_more_than_half.repro.json")
    text = p.stdout + p.stderr + (open(repro).read() if os.path.exists(repro) else "")
    check(" at engine/src/" in text and os.path.exists(repro), "bugzoo names the asserting file as engine/src/...")
    check(root + "/" not in text and machine_paths(text) == [],
          f"bugzoo's messages name no machine path: {machine_paths(text) or ''}")

if failures:
    print(f"report pages: {len(failures)} failed")
    sys.exit(1)
print("report pages: all checks passed")
