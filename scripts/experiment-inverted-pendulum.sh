#!/usr/bin/env bash
# The README's report, end to end: a DDPG expert collects an `imitation` batch on
# InvertedPendulum, BCQ and its three baselines train on it offline, and `bcq report` compares
# them (return against the expert's, each critic's estimate against the true return).
# About 30 minutes on one core. Usage: scripts/experiment-inverted-pendulum.sh [OUT] [BUILD]
# (OUT default experiments/inverted-pendulum, BUILD default build). Each step resumes: run it
# again after an interruption and finished steps are skipped, a killed training continues.
set -euo pipefail
out=${1:-experiments/inverted-pendulum}
bcq=${2:-build}/bcq
iterations=${ITERATIONS:-15000}
mkdir -p "$out/runs"
buffer="$out/imitation.h5"
if [[ ! -f $buffer ]]; then
  resume=()
  [[ -d $buffer.checkpoint ]] && resume=(--resume)
  "$bcq" collect --env inverted-pendulum --kind imitation --steps 20000 --expert-steps 20000 \
    --start-steps 1000 --seed 0 --threads 1 -o "$buffer" "${resume[@]}"
fi
for algo in bcq ddpg bc vae-bc; do
  run="$out/runs/$algo"
  if [[ -f $run/status.json ]] && grep -qE '"(completed|diverged)"' "$run/status.json"; then continue; fi
  resume=()
  [[ -f $run/checkpoint.pt ]] && resume=(--resume)
  "$bcq" train --algo "$algo" --env inverted-pendulum --buffer "$buffer" --iterations "$iterations" \
    --eval-every $((iterations / 10)) --seed 0 --threads 1 --out "$run" "${resume[@]}" ||
    [[ $? -eq 1 ]]  # diverged (a NaN loss): a result, kept in the report
done
"$bcq" report --runs "$out/runs" -o "$out/report" --title "InvertedPendulum, imitation batch"
