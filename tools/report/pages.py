#!/usr/bin/env python3
"""pages: renders the benchmark comparison and the bug zoo's JSON as self-contained
HTML pages in the sweep report's style (static tables, no network at view time).
tools/bench writes its run's page through bench_page (via tools/bench_compare.py).

  pages.py bench RATIOS.json OUT.html    # bench_compare's ratios: weft/Tokio per cell, with the noise
  pages.py bugzoo BUGZOO.json OUT.html   # bugzoo's findings: seeds to find per bug and per class

Bad input: one line naming the file, the JSON path and what was expected; exit 7.
"""
import html
import json
import os
import statistics
import sys

# The sweep report's style (tools/sweeps/sweep_report.cpp), so every page of reports/ reads alike.
STYLE = """body { font: 13px system-ui, sans-serif; margin: 12px 18px; color: #222; }
h1 { font-size: 18px; } h2 { font-size: 15px; margin-top: 18px; }
table { border-collapse: collapse; } td, th { padding: 2px 10px; border-bottom: 1px solid #eee; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.bar { display: inline-block; height: 11px; background: #4f7fbf; vertical-align: middle; }
.bad { color: #c62828; font-weight: bold; } .good { color: #2e7d32; } code { font-size: 12px; }"""

# The ready marker the browser test waits for, as on the run and sweep pages.
READY = '<script>document.body.dataset.ready = "1"; console.log("weft-report-ready");</script>'


class BadInput(Exception):
    pass


def esc(v):
    return html.escape(str(v), quote=True)


def field(doc, path, key, kind):
    """field returns doc[key], checked to be of `kind`; `path` names doc in the file."""
    if not isinstance(doc, dict) or key not in doc:
        raise BadInput(f"{path}.{key}: missing, expected {kind.__name__ if isinstance(kind, type) else 'a number'}")
    v = doc[key]
    ok = isinstance(v, kind) and not (kind in ((int, float), int) and isinstance(v, bool))
    if not ok:
        raise BadInput(f"{path}.{key}: expected {getattr(kind, '__name__', 'a number')}, got {json.dumps(v)[:40]}")
    return v


def page(title, body):
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>\n'
            f"<style>\n{STYLE}\n</style></head><body>\n<h1>{esc(title)}</h1>\n{body}\n{READY}\n</body></html>\n")


def spread_pct(rounds):
    """spread_pct is the run's noise on one side of a cell: (max - min) / median of its round medians."""
    med = statistics.median(rounds)
    return 100.0 * (max(rounds) - min(rounds)) / med if med else 0.0


def bench_page(doc):
    target = field(doc, "$", "target_ratio", (int, float))
    cells = field(doc, "$", "cells", list)
    workloads = list(dict.fromkeys(field(c, f"$.cells[{i}]", "workload", str) for i, c in enumerate(cells)))
    configs = list(dict.fromkeys(field(c, f"$.cells[{i}]", "config", str) for i, c in enumerate(cells)))
    grid = {}
    for i, c in enumerate(cells):
        p = f"$.cells[{i}]"
        ratio = field(c, p, "ratio_weft_over_tokio", (int, float))
        noise = [spread_pct(field(c, p, k, list) or [0]) for k in ("weft_round_medians_ns", "tokio_round_medians_ns")]
        grid[(c["workload"], c["config"])] = (c, ratio, noise)
    files = ", ".join(esc(f) for f in doc.get("weft_files", []) + doc.get("tokio_files", []))
    o = [f"<p>weft's median over Tokio's per workload and configuration (the anchor: Tokio = 1). "
         f"Target ratio &le; {esc(target)}; {sum(1 for _, r, _ in grid.values() if r <= target)} of {len(grid)} cells meet it. "
         f"Noise: the spread of the round medians, (max &minus; min) / median, weft / Tokio. From {files}.</p>"]
    measured = [(side, doc[key]) for side, key in (("weft", "weft_measured"), ("Tokio (the anchor)", "tokio_measured"))
                if isinstance(doc.get(key), dict) and doc[key]]
    if measured:
        # Two runs at different times share the machine's load only by chance: say when and how loaded each was.
        o.append('<table id="measured"><tr><th>side</th><th>measured</th></tr>' + "".join(
            f"<tr><td>{esc(side)}</td><td>{'; '.join(f'{esc(k)} {esc(v)}' for k, v in m.items())}</td></tr>"
            for side, m in measured) + "</table>")
    missing = doc.get("without_anchor") or []
    if missing:
        o.append(f'<p id="without-anchor">No anchor figure for {len(missing)} weft cell(s): {esc(", ".join(missing))}.</p>')
    o.append('<h2>Ratio weft/Tokio</h2><table id="ratios"><tr><th>workload</th>' +
             "".join(f"<th>{esc(c)}</th>" for c in configs) + "</tr>")
    for w in workloads:
        row = f"<tr><td>{esc(w)}</td>"
        for cf in configs:
            if (w, cf) not in grid:
                row += "<td></td>"
                continue
            _, r, (nw, nt) = grid[(w, cf)]
            cls = "good" if r <= target else "bad"
            row += f'<td class="n"><span class="{cls}">{r:.2f}</span> <small>&plusmn;{nw:.0f}% / {nt:.0f}%</small></td>'
        o.append(row + "</tr>")
    o.append('</table>\n<h2>Cells</h2><table id="cells"><tr><th>workload</th><th>config</th><th>Tokio µs</th>'
             "<th>weft µs</th><th>ratio</th><th>weft noise</th><th>Tokio noise</th><th></th></tr>")
    most = max([r for _, r, _ in grid.values()] + [1.0])
    for (w, cf), (c, r, (nw, nt)) in grid.items():
        o.append(f"<tr><td>{esc(w)}</td><td>{esc(cf)}</td><td class=\"n\">{c.get('tokio_median_ns', 0) / 1000:,.1f}</td>"
                 f"<td class=\"n\">{c.get('weft_median_ns', 0) / 1000:,.1f}</td><td class=\"n\">{r:.3f}</td>"
                 f'<td class="n">{nw:.1f}%</td><td class="n">{nt:.1f}%</td>'
                 f'<td><span class="bar" style="width:{1 + int(300 * r / most)}px"></span></td></tr>')
    o.append("</table>")
    return page("weft benchmark: weft against Tokio", "\n".join(o))


def bugzoo_page(doc, out_dir):
    budget = field(doc, "$", "budget_seeds", int)
    bugs = field(doc, "$", "bugs", list)
    control = field(doc, "$", "control", dict)
    rows, classes = [], {}
    for i, b in enumerate(bugs):
        p = f"$.bugs[{i}]"
        name, found, cls = field(b, p, "name", str), field(b, p, "found", bool), field(b, p, "class", str)
        seeds = field(b, p, "seeds_to_find", int)
        classes.setdefault(cls if found else "not found", []).append(seeds if found else None)
        repro = os.path.basename(b.get("repro") or "")
        here = repro and os.path.exists(os.path.join(out_dir, repro))
        replay = f"tools/simrun repro reports/bugzoo/{repro}" if repro else ""
        link = f'<a href="{esc(repro)}">{esc(repro)}</a>' if here else esc(repro)
        found_cell = '<td>yes</td>' if found else '<td class="bad">no</td>'
        rows.append(f"<tr><td>{esc(name)}</td>{found_cell}"
                    f"<td>{esc(b.get('by', ''))}</td><td>{esc(cls)}</td><td class=\"n\">{seeds}</td>"
                    f"<td class=\"n\">{b.get('decisions_before_shrink', '')} &rarr; {b.get('shrunk_decisions', '')}</td>"
                    f"<td class=\"n\">{b.get('switches_before_shrink', '')} &rarr; {b.get('shrunk_switches', '')}</td>"
                    f"<td>{link}</td><td><code>{esc(replay)}</code></td><td>{esc(b.get('message', ''))}</td></tr>")
    found = sum(1 for b in bugs if b["found"])
    seeds = [b["seeds_to_find"] for b in bugs if b["found"]]
    o = [f"<p>Found {found} of {len(bugs)} planted bugs (engine/src/zoo/bug_hooks.hpp) within {budget} seeds each"
         + (f"; median seeds to find: {statistics.median(seeds):g}" if seeds else "") + ". Control (no bug planted): "
         + (f'<span class="bad">failed: {esc(control.get("message", ""))}</span>' if control.get("found")
            else f"no failure in {esc(control.get('runs', 0))} runs") + ".</p>",
         '<h2>Per class</h2><table id="classes"><tr><th>class</th><th>bugs</th><th>median seeds to find</th><th>most</th></tr>']
    for cls, s in sorted(classes.items()):
        f = [x for x in s if x is not None]
        o.append(f"<tr><td>{esc(cls)}</td><td class=\"n\">{len(s)}</td><td class=\"n\">{statistics.median(f) if f else '':g}</td>"
                 f"<td class=\"n\">{max(f) if f else ''}</td></tr>" if f else
                 f"<tr><td class=\"bad\">{esc(cls)}</td><td class=\"n\">{len(s)}</td><td></td><td></td></tr>")
    o.append('</table>\n<h2>Per bug</h2><table id="bugs"><tr><th>bug</th><th>found</th><th>by</th><th>class</th>'
             "<th>seeds</th><th>decisions (shrunk)</th><th>switches (shrunk)</th><th>reproduction</th><th>replay</th>"
             "<th>message</th></tr>")
    o += rows
    o.append("</table>")
    return page("weft bug zoo", "\n".join(o))


def main(argv):
    if len(argv) != 4 or argv[1] not in ("bench", "bugzoo"):
        print(__doc__.strip().splitlines()[2:4], file=sys.stderr)
        return 7
    kind, src, dst = argv[1:]
    try:
        with open(src) as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        print(f"{src}: $: expected a readable JSON document ({e})", file=sys.stderr)
        return 7
    try:
        text = bench_page(doc) if kind == "bench" else bugzoo_page(doc, os.path.dirname(os.path.abspath(dst)))
    except BadInput as e:
        print(f"{src}: {e}", file=sys.stderr)
        return 7
    os.makedirs(os.path.dirname(os.path.abspath(dst)), exist_ok=True)
    with open(dst, "w") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
