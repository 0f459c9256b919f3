#!/usr/bin/env bash
# Runs every fuzz target for FUZZ_SECONDS (default 60) on its seed corpus (fuzz/corpus/<t>,
# read only); new inputs go to BUILD/fuzz-corpus/<t>, findings to BUILD/fuzz-findings/.
# A finding (crash, sanitizer report, leak, an input over FUZZ_TIMEOUT s (default 1), over
# 2 GB) fails the run.
set -euo pipefail
build=${1:-build-fuzz}
seconds=${2:-${FUZZ_SECONDS:-60}}
here=$(cd "$(dirname "$0")" && pwd)
status=0
export LSAN_OPTIONS="suppressions=$here/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
# A huge allocation returns NULL as in a normal build (libhdf5 asks for 2^53 bytes on some
# corrupt headers, sees NULL and reports an error) instead of ASan stopping the run.
export ASAN_OPTIONS="allocator_may_return_null=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
targets=${FUZZ_TARGETS:-mdp_json policy_json batch_csv batch_csv_mdp eval_csv buffer_hdf5 buffer_layout study_spec run_config run_status}
for t in $targets; do
  mkdir -p "$build/fuzz-corpus/$t" "$build/fuzz-findings"
  echo "== fuzz_$t for ${seconds} s"
  if ! "$build/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout="${FUZZ_TIMEOUT:-1}" -rss_limit_mb=2048 -max_len=65536 \
       -print_final_stats=1 -artifact_prefix="$build/fuzz-findings/$t-" \
       "$build/fuzz-corpus/$t" "$here/corpus/$t" 2>&1 | tail -n 25; then
    status=1
  fi
done
exit $status
