#!/usr/bin/env bash
# Runs the plot script on a run log and checks it wrote the four non-empty PNGs.
# Usage: plot_check.sh plot_routing.py LOG.h5 OUT_DIR
set -euo pipefail
script=$1 log=$2 out=$3
rm -rf "$out"
"$script" "$log" --out "$out"
for f in utilization_over_rounds performance_over_rounds utilization_final specialization; do
  if [ ! -s "$out/$f.png" ] || [ "$(head -c 8 "$out/$f.png" | od -An -tx1 | tr -d ' \n')" != 89504e470d0a1a0a ]; then
    echo "FAILED: $out/$f.png is missing, empty or not a PNG"
    exit 1
  fi
done
echo "ok: four PNGs in $out"
