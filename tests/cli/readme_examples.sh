#!/usr/bin/env bash
# The README's examples are tests: every fenced block opened with "```sh readme-test"
# runs, in README order, in a scratch copy of the repository (the prepared data
# copied, build/ pointing at BUILD_DIR), with small step counts: the copy's
# experiments/demo.ini and every --local-steps / --gate-steps / --pretrain-steps
# in the blocks are cut down; rounds, paths and everything else run as written.
# A block that fails fails the test, naming its line in README.md.
# `scripts/test` lines are skipped (they would run this test suite again).
# Usage: readme_examples.sh REPO BUILD_DIR WORK_DIR
set -euo pipefail
repo=$(cd "$1" && pwd) build=$(cd "$2" && pwd) work=$3
rm -rf "$work"
mkdir -p "$work/repo"
scratch=$(cd "$work/repo" && pwd)
# Build directories stay out of the copy: build/, build-ci/ (CI's), build-sanitize/ and the one under
# test wherever it is inside the repository (a copy of a build directory is gigabytes, and it
# holds this test's own scratch directory).
excludes=(--exclude=./.git --exclude='./build*' --exclude=./runs --exclude=./data
  --exclude=./experiments/results/runs --exclude=./experiments/results/pooled)
case "$build/" in "$repo"/*) excludes+=("--exclude=./${build#"$repo"/}") ;; esac
tar -C "$repo" "${excludes[@]}" -cf - . | tar -C "$scratch" -xf -
cp -a "$repo/data" "$scratch/data"
ln -s "$build" "$scratch/build"
export MOECOLLAB_BUILD_DIR=$build
sed -i -e 's/^local-steps *=.*/local-steps = 5/' -e 's/^gate-steps *=.*/gate-steps = 3/' \
  -e 's/^pretrain-rounds *=.*/pretrain-rounds = 2/' -e 's/^pretrain-steps *=.*/pretrain-steps = 3/' \
  "$scratch/experiments/demo.ini"
small() {
  sed -E -e 's/--local-steps [1-9][0-9]*/--local-steps 5/g' -e 's/--gate-steps [1-9][0-9]*/--gate-steps 3/g' \
    -e 's/--pretrain-steps [1-9][0-9]*/--pretrain-steps 3/g'
}

# The marked blocks: "LINE<TAB>command line" records, blocks separated by "@@ LINE".
awk '/^```sh readme-test/ { inside = 1; print "@@ " NR + 1; next }
     /^```/ && inside { inside = 0; next }
     inside { print NR "\t" $0 }' "$repo/README.md" >"$work/blocks.txt"
blocks=$(grep -c '^@@ ' "$work/blocks.txt" || true)
[ "$blocks" -gt 0 ] || { echo "FAILED: no \`\`\`sh readme-test blocks in README.md"; exit 1; }

ran=0
while read -r marker line; do
  ran=$((ran + 1))
  script="$work/block-$ran.sh"
  {
    echo "set -euo pipefail"
    echo "cd '$scratch'"
    awk -v start="$line" -F "\t" '
      /^@@ / { if (found) exit; if ($0 == "@@ " start) found = 1; next }
      found { sub(/^[0-9]+\t/, ""); print }' "$work/blocks.txt" |
      sed -E 's|^(scripts/test\b.*)$|echo "skipped: \1 (it would run this test suite again)"|' | small
  } >"$script"
  echo "== README.md line $line =="
  sed '1,2d' "$script"
  start=$(date +%s)
  # </dev/null: mpirun would read the loop's input. 600 s: a block that hangs is named, not
  # left to CTest's timeout of the whole test.
  if ! timeout --kill-after=10 600 bash "$script" >"$work/block-$ran.out" 2>&1 </dev/null; then
    echo "FAILED: the README block at line $line failed (or ran past 600 s); its output:"
    tail -40 "$work/block-$ran.out"
    exit 1
  fi
  echo "-- ok in $(( $(date +%s) - start )) s"
done < <(grep '^@@ ' "$work/blocks.txt")
[ "$ran" -eq "$blocks" ] || { echo "FAILED: $ran of $blocks README blocks ran"; exit 1; }
echo "ok: $ran README blocks ran"
