#!/usr/bin/env bash
# Checks that a change to the continuous module leaves its results as they were: an
# InvertedPendulum collect, then a short train of each algorithm (bcq fp32 and bf16, ddpg, bc,
# vae-bc, and bcq --concurrent), with two builds, and compares what they wrote: policy.pt,
# checkpoint.pt and eval.csv byte for byte (eval.csv without its wall_seconds column), config.json
# (without the build's git commit and the buffer's path), and the buffer's datasets (its file
# also holds the build's git commit and HDF5 timestamps).
#   scripts/same-results.sh BUILD_BEFORE BUILD_AFTER [WORK_DIR]
# BUILD_* are build folders holding bcq (and the bcq-continuous it runs). Exit 0: identical; 1: a
# difference, listed. About 80 s per build on one thread.
set -euo pipefail
before=$(cd "${1:?usage: same-results.sh BUILD_BEFORE BUILD_AFTER [WORK_DIR]}" && pwd)
after=$(cd "${2:?usage: same-results.sh BUILD_BEFORE BUILD_AFTER [WORK_DIR]}" && pwd)
work=${3:-$(mktemp -d)}
mkdir -p "$work"

run() {  # run BUILD OUT
  local bcq=$1/bcq out=$2 common=(--env inverted-pendulum --threads 1 --quiet)
  rm -rf "$out" && mkdir -p "$out"
  "$bcq" collect "${common[@]}" --kind final --steps 3000 --start-steps 500 --seed 3 -o "$out/buf.h5"
  for algo in bcq ddpg bc vae-bc; do
    "$bcq" train "${common[@]}" --algo "$algo" --buffer "$out/buf.h5" --iterations 600 \
      --eval-every 200 --eval-episodes 3 --seed 4 --out "$out/$algo"
  done
  "$bcq" train "${common[@]}" --algo bcq --precision bf16 --buffer "$out/buf.h5" \
    --iterations 400 --eval-every 200 --eval-episodes 2 --seed 5 --out "$out/bcq-bf16"
  "$bcq" train "${common[@]}" --algo bcq --concurrent --iterations 400 --eval-every 200 \
    --eval-episodes 2 --start-steps 100 --seed 6 --out "$out/bcq-concurrent"
  (cd "$out" && {
    sha256sum -- */policy.pt */checkpoint.pt
    # config.json less what names the build and the folder (git_commit, the buffer's path).
    for f in */config.json; do
      /usr/bin/python3 -c 'import json, sys
c = json.load(open(sys.argv[1]))
c.pop("git_commit", None); c.pop("buffer", None); c.get("buffer_attributes", {}).pop("git_commit", None)
print(json.dumps(c, sort_keys=True))' "$f" | echo "$(sha256sum | cut -c1-64)  $f (without git_commit and buffer path)"
    done
    for f in */eval.csv; do
      echo "$(cut -d, -f1-5 "$f" | sha256sum | cut -c1-64)  $f (without wall_seconds)"
    done
  } > hashes.txt)
}

run "$before" "$work/before"
run "$after" "$work/after"
status=0
diff "$work/before/hashes.txt" "$work/after/hashes.txt" || status=1
/usr/bin/python3 - "$work/before/buf.h5" "$work/after/buf.h5" <<'EOF' || status=1
import sys
import h5py
import numpy as np

def datasets(group, prefix=""):
    out = {}
    for key, value in group.items():
        if isinstance(value, h5py.Dataset):
            out[prefix + key] = value[()]
        else:
            out.update(datasets(value, prefix + key + "/"))
    return out

a, b = (h5py.File(path, "r") for path in sys.argv[1:3])
da, db = datasets(a), datasets(b)
differ = sorted(k for k in set(da) | set(db)
                if k not in da or k not in db or not np.array_equal(da[k], db[k]))
attrs = sorted(k for k in set(a.attrs) | set(b.attrs)
               if k != "git_commit" and (k not in a.attrs or k not in b.attrs
                                         or a.attrs[k] != b.attrs[k]))
for k in differ + attrs:
    print("buf.h5: " + k + " differs")
sys.exit(1 if differ or attrs else 0)
EOF
if [ $status = 0 ]; then
  echo "same results: $(wc -l < "$work/after/hashes.txt") files and the buffer's datasets identical ($work)"
fi
exit $status
