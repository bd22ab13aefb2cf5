#!/usr/bin/env bash
# `moecollab sweep-summary` on a real run log (a 4-rank run of the bundled data,
# posing as the one point of a 1 x 1 x 1 grid), its summary.h5 checked against
# docs/hdf5-layout.md, the CSV's one row, and the heat-map script's PNG.
# Usage: sweep_summary.sh MOECOLLAB LAYOUT_TEST REPO RUN_DIR WORK_DIR
set -euo pipefail
bin=$1 layout=$2 repo=$3 run=$4 work=$5
rm -rf "$work"
mkdir -p "$work/sweep"
ln -s "$run" "$work/sweep/lambda1-0_lambda2-0.01_seed-42"
printf 'lambda1 = 0\nlambda2 = 0.01\nseeds = 42\nrun-config = %s\nsweep-dir = %s\n' \
  "$repo/experiments/demo.ini" "$work/sweep" > "$work/grid.ini"
eval "$("$bin" sweep-point --grid "$work/grid.ini" --info)"
[ "$SWEEP_SIZE" = 1 ] && [ "$SWEEP_RANKS" = 4 ] && [ "$SWEEP_PENDING" = 0 ] ||
  { echo "FAILED: sweep-point --info: size $SWEEP_SIZE ranks $SWEEP_RANKS pending '$SWEEP_PENDING'"; exit 1; }
"$bin" sweep-summary --grid "$work/grid.ini"
"$layout" "$work/sweep/summary.h5" "$repo/docs/hdf5-layout.md" sweep-summary
[ "$(wc -l < "$work/sweep/summary.csv")" -eq 2 ] || { echo "FAILED: summary.csv should have a header and 1 row"; exit 1; }
"$repo/experiments/plot_sweep.py" "$work/sweep/summary.h5" -o "$work/sweep.png"
[ "$(head -c 4 "$work/sweep.png" | od -An -tx1 | tr -d ' \n')" = 89504e47 ] || { echo "FAILED: no PNG"; exit 1; }
echo "ok: sweep summary of a real run log matches the documented layout"
