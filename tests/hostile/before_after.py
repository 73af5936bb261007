#!/usr/bin/env python3
# Joins two tables of hostile_test.sh --table (before and after a change) into
# the before/after table of reports/robustness.md: one row per case.
import sys


def rows(path):
    out = []
    for line in open(path, encoding="utf-8", errors="replace"):
        if not line.startswith("| ") or line.startswith("| class"):
            continue
        # | class | `command` | exit | first line |  (the command may hold escaped pipes)
        cells = [c.strip() for c in line.replace("\\|", "\x00").strip().strip("|").split("|")]
        out.append([c.replace("\x00", "\\|") for c in cells])
    return out


before, after = rows(sys.argv[1]), rows(sys.argv[2])
assert len(before) == len(after), (len(before), len(after))
print("| class | command | before: exit, first line | after: exit, first line |")
print("|---|---|---|---|")
for b, a in zip(before, after):
    assert b[0] == a[0], (b[0], a[0])
    print(f"| {a[0]} | {a[1]} | **{b[2]}** {b[3]} | **{a[2]}** {a[3]} |")
