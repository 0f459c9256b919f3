#!/usr/bin/env bash
# Copies the small result files of a study folder (what `bcq report` reads) into another
# folder, for committing: spec.json, study.json, summary.csv, findings.md if present, and per
# cell cell.json, collect.json, config.json, status.json, eval.csv. Buffers, checkpoints,
# experts and policies (megabytes each) are left out. DEST is replaced whole, so that a cell
# removed from the study does not linger.
#   scripts/export-study.sh STUDY_DIR DEST
set -euo pipefail
src=${1:?usage: export-study.sh STUDY_DIR DEST}
dest=${2:?usage: export-study.sh STUDY_DIR DEST}
[ -f "$src/study.json" ] || { echo "export-study: $src is not a study folder (no study.json)" >&2; exit 2; }
tmp=$(mktemp -d "$(dirname "$dest")/.export.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
for f in spec.json study.json summary.csv; do cp "$src/$f" "$tmp/$f"; done
# findings.md is written by whoever investigated the claims: keep DEST's if the study has none.
if [ -f "$src/findings.md" ]; then cp "$src/findings.md" "$tmp/"; elif [ -f "$dest/findings.md" ]; then cp "$dest/findings.md" "$tmp/"; fi
for cell in "$src"/cells/*/; do
  name=$(basename "$cell")
  mkdir -p "$tmp/cells/$name"
  for f in cell.json collect.json config.json status.json eval.csv; do
    if [ -f "$cell/$f" ]; then cp "$cell/$f" "$tmp/cells/$name/$f"; fi
  done
done
rm -rf "$dest"
mv "$tmp" "$dest"
trap - EXIT
echo "exported $(ls "$dest/cells" | wc -l) cells of $src to $dest"
