#!/bin/bash
# A sweep as a Slurm job array: task I runs shard I of every shipped scenario
# (SLURM_ARRAY_TASK_ID, counted from the array's first index); then merge. Submit
# from the repository's top; results/ must exist first, since Slurm opens each
# task's --output file before the script runs and does not create its directory:
#   mkdir -p results
#   jid=$(sbatch --parsable docs/sweeps/slurm-array.sh)
#   sbatch --dependency=afterany:$jid --wrap 'for f in scenarios/*.json; do n=$(basename $f .json); build/release/tools/simrun merge results/$n-*.json --out results/$n.merged.json; done'
# SEEDS, SHARDS, SIMRUN and RESULTS may be set in the environment (sbatch --export).
#SBATCH --job-name=weft-sweep
#SBATCH --array=0-15
#SBATCH --cpus-per-task=1
#SBATCH --output=results/sweep-%A-%a.log
SEEDS=${SEEDS:-0..999999}
SHARDS=${SHARDS:-16}
SIMRUN=${SIMRUN:-build/release/tools/simrun}
RESULTS=${RESULTS:-results}
mkdir -p "$RESULTS"
for f in scenarios/*.json; do
  "$SIMRUN" "$f" --seeds "$SEEDS" --shard "auto/$SHARDS" --collect --quiet \
    --summary "$RESULTS/$(basename "$f" .json)-$SLURM_ARRAY_TASK_ID.json" || true
done
