#!/bin/bash
# Interleaved side-by-side rounds: Tokio round r, then weft round r.
T=/tmp/speed-tokio-dbg/release/tokio-sched-bench
W=/tmp/speed-weft-pool
for r in 1 2 3; do
  $T --rounds 1 --warmup 3 --iters 15 --min-iters 5 --max-secs 10 --quiet-wait-secs 2 --retries 0 --out tokio-r$r.json > tokio-r$r.jsonl 2>tokio-r$r.err
  $W --rounds 1 --warmup 3 --iters 15 --min-iters 5 --max-secs 10 --quiet-wait-secs 2 --retries 0 --out weft-r$r.json > weft-r$r.jsonl 2>weft-r$r.err
done
echo done > done.txt
