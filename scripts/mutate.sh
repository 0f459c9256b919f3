#!/usr/bin/env bash
# The mutation campaign (`make mutate`): applies each mutant of mutation/mutants.txt alone to a
# torch-free copy of the committed tree, rebuilds it and runs the default tests (ctest -LE slow);
# prints the score and every survivor. Exit 0 when every mutant is killed, 1 otherwise, 2 on a
# mutant that no longer applies or a tree that fails without any mutant.
#   scripts/mutate.sh [WORK_DIR] [MUTANT_ID...]     (WORK_DIR default /tmp/bcq-mutate)
# Environment: JOBS (build and test parallelism, default 2), MUTANTS_FILE, MUTATE_COMMIT (the
# commit whose tree is mutated, default HEAD; the results name it).
# Each mutant first meets the tests of its own module (tests/mdp for mdp/..., a quick kill when
# they fail), then, if it survives them, the whole default suite: a mutant counts as killed only
# when some default test fails, so the order changes the time, never the score.
# Resumes: a rerun on the same commit and mutants file keeps the results already in
# WORK_DIR/logs/results.txt and runs only the missing mutants.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-/tmp/bcq-mutate}
shift || true
only=("$@")
jobs=${JOBS:-2}
mutants_file=${MUTANTS_FILE:-$repo/mutation/mutants.txt}
src=$work/src
build=$work/build
log=$work/logs
mkdir -p "$work" "$log"
# What the results in $log belong to: this commit and this mutants file.
commit=$(git -C "$repo" rev-parse "${MUTATE_COMMIT:-HEAD}")
stamp="$commit $(sha256sum "$mutants_file" | cut -c1-16)"
if [ "$(cat "$work/stamp" 2>/dev/null)" != "$stamp" ]; then
  # Another tree: its files carry the commit's times (git archive), which ninja may take for
  # older than the objects built from the previous tree, so build from scratch.
  rm -rf "$build" "$work/applied"
  rm -f "$log/results.txt" "$work/baseline.ok"
  echo "$stamp" >"$work/stamp"
fi
touch "$log/results.txt"

say() { if [ -t 2 ]; then printf '\r\033[K%s' "$*" >&2; fi; }

# A fresh copy of the committed tree (what a clone gives), configured without LibTorch/MuJoCo.
rm -rf "$src"
mkdir -p "$src"
git -C "$repo" archive "$commit" | tar -x -C "$src"
# A run stopped while a mutant was applied left objects built from the mutated file; the
# pristine copy just extracted is older than them, so mark it changed.
if [ -s "$work/applied" ]; then touch "$src/$(cat "$work/applied")"; fi
rm -f "$work/applied"
cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBCQ_WITH_TORCH=OFF \
  -DBCQ_WITH_MUJOCO=OFF -DBCQ_BUILD_BENCH=OFF >"$log/configure.txt" 2>&1 ||
  { echo "mutate: configure failed, see $log/configure.txt" >&2; exit 2; }

run_tests() {  # run_tests LOG [MODULE]: rebuild; MODULE's tests, then the default suite
  cmake --build "$build" -j "$jobs" >"$1.build.txt" 2>&1 || return 3
  if [ -n "${2:-}" ] && [ -d "$build/tests/$2" ]; then
    (cd "$build/tests/$2" && ctest -LE slow -j "$jobs" --stop-on-failure --timeout 900 >"$1.test.txt" 2>&1) ||
      return 1
  fi
  (cd "$build" && ctest -LE slow -j "$jobs" --stop-on-failure --timeout 900 >>"$1.test.txt" 2>&1)
}

if [ ! -e "$work/baseline.ok" ]; then
  say "mutate: building and testing the unmutated tree"
  if ! run_tests "$log/baseline"; then
    echo "mutate: the unmutated tree does not pass its default tests (see $log/baseline.*)" >&2
    exit 2
  fi
  touch "$work/baseline.ok"
fi

# Splits the mutants file into one folder per mutant: file, original, replacement.
python3 - "$mutants_file" "$work/mutants" <<'PY'
import os, sys, shutil
text = open(sys.argv[1]).read()
out = sys.argv[2]
shutil.rmtree(out, ignore_errors=True)
os.makedirs(out)
blocks = text.split("\n## ")[1:]
for b in blocks:
    head, rest = b.split("\n", 1)
    mid = head.strip()
    meta = {}
    for line in rest.splitlines():
        if line.startswith("# ") and ":" in line:
            k, v = line[2:].split(":", 1)
            meta[k.strip()] = v.strip()
        if line == "<<<":
            break
    orig = rest.split("<<<\n", 1)[1].split("\n===\n", 1)
    original = orig[0] + "\n"
    replacement = orig[1].split(">>>", 1)[0]
    d = os.path.join(out, mid)
    os.makedirs(d)
    open(os.path.join(d, "file"), "w").write(meta["file"])
    open(os.path.join(d, "kind"), "w").write(meta.get("kind", ""))
    open(os.path.join(d, "original"), "w").write(original)
    open(os.path.join(d, "replacement"), "w").write(replacement)
PY

apply() {  # apply MUTANT_DIR: replaces the original text, which must occur exactly once
  python3 - "$src" "$1" <<'PY'
import os, sys
src, d = sys.argv[1], sys.argv[2]
path = os.path.join(src, open(os.path.join(d, "file")).read())
original = open(os.path.join(d, "original")).read()
replacement = open(os.path.join(d, "replacement")).read()
text = open(path).read()
n = text.count(original)
if n != 1:
    sys.exit("mutant %s: its original text occurs %d times in %s" % (os.path.basename(d), n, path))
open(path, "w").write(text.replace(original, replacement))
PY
}

ids=()
if [ ${#only[@]} -gt 0 ]; then ids=("${only[@]}"); else
  for d in "$work"/mutants/*/; do ids+=("$(basename "$d")"); done
fi
killed=0; survived=(); total=${#ids[@]}; i=0
start=$(date +%s)
for id in "${ids[@]}"; do
  i=$((i + 1))
  d=$work/mutants/$id
  [ -d "$d" ] || { echo "mutate: no mutant called $id" >&2; exit 2; }
  file=$(cat "$d/file")
  previous=$(grep -m1 "^$id: " "$log/results.txt" | cut -d' ' -f2- || true)
  if [ -n "$previous" ]; then  # done in an earlier run of this commit
    case $previous in SURVIVED) survived+=("$id") ;; *) killed=$((killed + 1)) ;; esac
    printf '%-44s %s (earlier run)\n' "$id" "$previous"
    continue
  fi
  elapsed=$(( $(date +%s) - start ))
  say "mutate: [$i/$total] $id (${elapsed} s elapsed)"
  cp "$src/$file" "$work/pristine"
  echo "$file" >"$work/applied"
  apply "$d" || { cp "$work/pristine" "$src/$file"; exit 2; }
  if run_tests "$log/$id" "${file%%/*}"; then
    survived+=("$id")
    result="SURVIVED"
  else
    killed=$((killed + 1))
    if grep -q "FAILED\|error:" "$log/$id.build.txt" 2>/dev/null && [ ! -s "$log/$id.test.txt" ]; then
      result="killed (build)"
    else
      result="killed by $(grep -m1 -oE '[0-9]+ - [^ ]+' "$log/$id.test.txt" | sed 's/^[0-9]* - //' || echo tests)"
    fi
  fi
  cp "$work/pristine" "$src/$file"
  touch "$src/$file"  # newer than the mutant's objects, so the next build restores them
  rm -f "$work/applied"
  echo "$id: $result" >>"$log/results.txt"
  [ -t 2 ] && printf '\r\033[K' >&2
  printf '%-44s %s\n' "$id" "$result"
done
cmake --build "$build" -j "$jobs" >/dev/null 2>&1 || true  # leave the copy unmutated
echo
echo "mutation score on commit ${commit:0:12}: $killed of $total killed ($(( total > 0 ? 100 * killed / total : 0 ))%), $(( $(date +%s) - start )) s"
if [ ${#survived[@]} -gt 0 ]; then
  echo "survivors:"
  for id in "${survived[@]}"; do echo "  $id ($(cat "$work/mutants/$id/file"): $(cat "$work/mutants/$id/kind"))"; done
  exit 1
fi
