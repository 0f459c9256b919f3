#!/usr/bin/env bash
# Verify throughput: cases per second of `bcq verify` with 1 and 2 MPI ranks (and, with
# --baseline OLD_BCQ, of another build, e.g. the previous commit, run alternately in the same
# session), with their ratios. Cases per second = cases run over all statements / wall seconds
# of the whole command; CPU seconds (user + sys of every rank) are printed beside it, since on
# a shared machine the wall time follows the load.
#   bench/verify_bench.sh BCQ [--cases N] [--seed S] [--repeat R] [--baseline OLD_BCQ] [--no-mpi] [--no-probes]
set -euo pipefail
bcq=${1:?usage: verify_bench.sh BCQ [--cases N] [--seed S] [--repeat R] [--baseline OLD_BCQ] [--no-mpi]}
shift
cases=300; seed=11; repeat=1; baseline=""; mpi=1; extra=()
while [ $# -gt 0 ]; do
  case $1 in
    --cases) cases=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    --baseline) baseline=$2; shift 2 ;;
    --no-mpi) mpi=0; shift ;;
    --no-probes) extra=(--no-probes); shift ;;  # statements only: every one runs all its cases
    *) echo "verify_bench.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mpirun_args="--oversubscribe"
[ "$(id -u)" = 0 ] && mpirun_args="$mpirun_args --allow-run-as-root"

# run LABEL CMD...: prints "label wall cpu cases"
run() {
  local label=$1; shift
  local start end
  start=$(date +%s.%N)
  /usr/bin/time -f "%U %S" -o "$tmp/time" "$@" "${extra[@]}" --cases "$cases" --seed "$seed" --quiet --json "$tmp/v.json" >/dev/null || true
  end=$(date +%s.%N)
  python3 - "$label" "$start" "$end" "$tmp/time" "$tmp/v.json" <<'PY'
import json, sys
label, start, end, tfile, vfile = sys.argv[1:]
u, s = (float(x) for x in open(tfile).read().split()[-2:])
cases = sum(st["cases_run"] for st in json.load(open(vfile))["statements"])
print(label, float(end) - float(start), u + s, cases)
PY
}

{
  for r in $(seq "$repeat"); do
    [ -n "$baseline" ] && run baseline "$baseline" verify
    run "1-rank" "$bcq" verify
    # mpirun's own CPU is not counted by time(1) for the ranks it starts: time the ranks by
    # timing mpirun, which waits for them (time(1) includes waited-for children).
    [ "$mpi" = 1 ] && command -v mpirun >/dev/null && run "2-ranks" mpirun $mpirun_args -np 2 "$bcq" verify
  done
} >"$tmp/rows"

python3 - "$tmp/rows" "$cases" <<'PY'
import sys, collections
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    label, wall, cpu, cases = line.split()
    rows[label].append((float(wall), float(cpu), int(cases)))
print(f"bcq verify --cases {sys.argv[2]}: best of {max(len(v) for v in rows.values())} run(s)")
print(f"{'run':<10} {'cases':>7} {'wall s':>8} {'cpu s':>8} {'cases/s':>9} {'cases/cpu-s':>12}")
best = {}
for label, v in rows.items():
    wall, cpu, cases = min(v)
    best[label] = (cases / wall, cases / cpu)
    print(f"{label:<10} {cases:>7} {wall:>8.2f} {cpu:>8.2f} {cases / wall:>9.1f} {cases / cpu:>12.1f}")
if "2-ranks" in best:
    print(f"2 ranks / 1 rank, cases per wall second: {best['2-ranks'][0] / best['1-rank'][0]:.2f}")
if "baseline" in best:
    print(f"this build / baseline, cases per wall second: {best['1-rank'][0] / best['baseline'][0]:.2f}, "
          f"per CPU second: {best['1-rank'][1] / best['baseline'][1]:.2f}")
PY
