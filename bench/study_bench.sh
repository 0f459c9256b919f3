#!/usr/bin/env bash
# Wall time of the smoke study three ways on this machine, in one session, with ratios against
# --workers 1: two local workers (one LibTorch thread each), two MPI ranks (mpirun -np 2), and
# one worker with two LibTorch threads (the alternative to two one-thread workers).
# Usage: bench/study_bench.sh [BUILD] [PROFILE]   (default build, smoke)
set -euo pipefail
build=${1:-build}
profile=${2:-smoke}
bcq="$(cd "$build" && pwd)/bcq"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bcq" study plan --profile "$profile" --json > "$work/plan.json"
# The same spec with threads = 2, for the one-worker-two-threads run.
/usr/bin/python3 - "$work/plan.json" "$work/threads2.json" <<'PY'
import json, sys
spec = json.load(open(sys.argv[1]))["spec"]
spec["threads"] = 2
json.dump(spec, open(sys.argv[2], "w"))
PY

seconds() {  # seconds LABEL COMMAND...: runs it, prints LABEL and the wall seconds
  local label=$1; shift
  local t0 t1
  t0=$(date +%s.%N)
  # (stderr: stdout is captured by the caller's $(...), which would swallow the reason)
  "$@" > "$work/$label.log" 2>&1 || { echo "$label failed:" >&2; tail -5 "$work/$label.log" >&2; exit 1; }
  t1=$(date +%s.%N)
  python3 -c "print(f'{$t1 - $t0:.1f}')"
}
echo "study $profile on $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs))"
w1=$(seconds workers1 "$bcq" study run --profile "$profile" --out "$work/w1" --workers 1 --quiet)
w2=$(seconds workers2 "$bcq" study run --profile "$profile" --out "$work/w2" --workers 2 --quiet)
t2=$(seconds threads2 "$bcq" study run --spec "$work/threads2.json" --out "$work/t2" --workers 1 --quiet)
mpi=""
if command -v mpirun >/dev/null; then
  mpi=$(seconds mpi2 mpirun --allow-run-as-root --oversubscribe -np 2 "$bcq" study run \
        --profile "$profile" --out "$work/mpi2" --quiet)
fi
ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }
printf '%-36s %8s s  %s\n' "--workers 1 (1 thread)" "$w1" "1.00x"
printf '%-36s %8s s  %sx\n' "--workers 2 (1 thread each)" "$w2" "$(ratio "$w1" "$w2")"
printf '%-36s %8s s  %sx\n' "--workers 1, 2 LibTorch threads" "$t2" "$(ratio "$w1" "$t2")"
if [ -n "$mpi" ]; then
  printf '%-36s %8s s  %sx\n' "mpirun -np 2 (1 thread each)" "$mpi" "$(ratio "$w1" "$mpi")"
fi
# The same cells give the same numbers whichever way they ran (threads = 2 may differ).
cut -d, -f1-12 "$work/w1/summary.csv" > "$work/a"; cut -d, -f1-12 "$work/w2/summary.csv" > "$work/b"
cmp -s "$work/a" "$work/b" && echo "workers 1 and 2: identical results" || echo "workers 1 and 2: RESULTS DIFFER"
