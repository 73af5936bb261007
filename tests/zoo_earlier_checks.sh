#!/usr/bin/env bash
# The progress oracles find bugs nothing else finds: with stall, fairness, budget,
# lost_parallelism, the exact leak count and the livelock oracle all off
# (bugzoo --earlier-checks-only --no-check ...), each planted bug below goes
# unfound over the default exploration, while with them on the zoo finds each
# within 5 seeds (reports/bugzoo-default.md, reports/progress-oracles-earlier-checks.md).
# Fails if one of them is found, or if bugzoo does not report on each (a run
# that explored nothing proves nothing).
# Two stall bugs are left out because earlier checks find them too
# (remote_push_trusts_driver, ct_push_trusts_timer: lost_wakeup), the two
# livelock bugs because without the oracle they end at the step bound, and the two
# searcher-count leaks because stall and lost_wakeup find them.
set -u
bugzoo="$1"; scenarios="$2"; budget="${3:-10}"
bugs="lifo_cap_removed inject_every_tick ct_budget_not_armed recheck_spends_no_budget shutdown_defer_ref_kept
timer_cancel_keeps_entry queue_buffer_leaked ct_parks_with_deferred driver_sleeps_on_fired lifo_displaced_unannounced
searcher_leaves_unchained"
args=()
for b in $bugs; do args+=(--bug "$b"); done
out=$("$bugzoo" --scenarios "$scenarios" --default-exploration --earlier-checks-only --no-check stall --no-check fairness \
  --no-check budget --no-check lost_parallelism "${args[@]}" --budget "$budget" --control-budget 1 --no-report \
  --shrink-seconds 0 --quiet 2>&1) || { echo "FAIL: bugzoo exited $?"; echo "$out"; exit 1; }
fail=0; n=0
for b in $bugs; do
  if echo "$out" | grep -Eq "^$b +NOT FOUND"; then n=$((n + 1));
  else echo "FAIL: $b: $(echo "$out" | grep -E "^$b " || echo 'no report line')"; fail=1; fi
done
echo "$n of $(echo $bugs | wc -w) progress bugs unfound by the earlier checks over $budget seeds"
exit $fail
