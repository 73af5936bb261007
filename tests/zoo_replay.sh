#!/usr/bin/env bash
# Every reproduction the bug zoo's reports link (reports/bugzoo/, reports/bugzoo-default/)
# replays to its recorded failure with its bug planted: bugzoo --replay FILE --bug NAME
# exits 0 only when the replay fails as recorded. A bug without a reproduction in
# either folder fails too, so a new planted bug needs its reports regenerated.
set -u
bugzoo="$1"; reports="$2"
fail=0; n=0
bugs=$("$bugzoo" --list) || { echo "FAIL: bugzoo --list"; exit 1; }
for dir in bugzoo bugzoo-default; do
  for bug in $bugs; do
    f="$reports/$dir/$bug.repro.json"
    if [ ! -f "$f" ]; then echo "FAIL: $dir has no reproduction of $bug"; fail=1; continue; fi
    if "$bugzoo" --bug "$bug" --replay "$f" >/dev/null 2>&1; then n=$((n + 1)); else echo "FAIL: $f does not replay its failure"; fail=1; fi
  done
done
echo "$n reproductions replayed"
[ "$n" -gt 0 ] || fail=1
exit $fail
