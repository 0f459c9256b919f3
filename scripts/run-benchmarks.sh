#!/usr/bin/env bash
# Runs every benchmark binary built under BUILD/bench (Google Benchmark targets and bench drivers).
set -euo pipefail
build=${1:-build}
shopt -s nullglob
for b in "$build"/bench/bench_*; do
  [ -x "$b" ] || continue
  echo "== $(basename "$b")"
  "$b"
done
