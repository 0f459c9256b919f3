#!/usr/bin/env bash
# Runs every benchmark binary built under BUILD/bench (Google Benchmark targets and bench drivers).
# Usage: scripts/run-benchmarks.sh [BUILD]   (default build)
# bench_bcq runs with BCQ_BENCH_ITERATIONS (300), BCQ_BENCH_THREADS (1,2) and, unless
# BCQ_BENCH_NO_FLUSH=1, denormals flushed. Before it, bench/reference_bcq.py times the reference
# PyTorch BCQ with the same settings on the same machine and bench_bcq compares against that
# (--reference); when no Python here can import torch, it says why and bench_bcq falls back on
# the published reference rates. BCQ_PYTHON picks the interpreter (default: the first of
# python3 and /usr/bin/python3 that imports torch; Debian's python3-torch is visible only to
# /usr/bin/python3, which a pyenv or virtualenv python3 may shadow).
set -euo pipefail
build=${1:-build}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
iterations=${BCQ_BENCH_ITERATIONS:-300}
threads=${BCQ_BENCH_THREADS:-1,2}
settings=(--iterations "$iterations" --threads "$threads")
if [ "${BCQ_BENCH_NO_FLUSH:-0}" = 1 ]; then settings+=(--no-flush); fi

reference_json="$build/bench/reference_bcq.json"
reference_args=()
if [ -x "$build/bench/bench_bcq" ]; then
  python=""
  for candidate in ${BCQ_PYTHON:-python3 /usr/bin/python3}; do
    if "$candidate" -c 'import torch' >/dev/null 2>&1; then python=$candidate; break; fi
  done
  echo "== reference_bcq.py (the reference PyTorch BCQ, for bench_bcq)"
  if [ -z "$python" ]; then
    echo "skipped: no Python here imports torch (tried ${BCQ_PYTHON:-python3 /usr/bin/python3};" \
         "scripts/install-deps.sh installs python3-torch); bench_bcq uses the published rates"
  else
    rm -f "$reference_json"
    "$python" "$here/bench/reference_bcq.py" "${settings[@]}" --json "$reference_json"
    reference_args=(--reference "$reference_json")
  fi
fi

shopt -s nullglob
for b in "$build"/bench/bench_*; do
  [ -x "$b" ] || continue
  echo "== $(basename "$b")"
  if [ "$(basename "$b")" = bench_bcq ]; then
    "$b" "${settings[@]}" "${reference_args[@]}"
  else
    "$b"
  fi
done
