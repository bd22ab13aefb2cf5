#!/usr/bin/env bash
# slurm/submit-sweep --help prints its usage (not its code), and --dry-run prints
# the sbatch commands and creates nothing (no sweep directory, no log directory).
# Usage: submit_sweep_dry_run.sh MOECOLLAB WORK_DIR   (from the repository root)
set -euo pipefail
bin=$1 work=$2
rm -rf "$work"
mkdir -p "$work"
fail() { echo "FAILED: $*"; exit 1; }
help=$(slurm/submit-sweep --help)
grep -q "^Submits a .* sweep to Slurm" <<<"$help" || fail "--help: $help"
! grep -q "set -euo\|repo=" <<<"$help" || fail "--help prints the script's code: $help"
cat >"$work/grid.ini" <<INI
lambda1 = 0 0.1
lambda2 = 0
seeds = 1
run-config = experiments/sweeps/demo-run.ini
sweep-dir = $work/sweep
INI
out=$(MOECOLLAB=$bin slurm/submit-sweep --dry-run "$work/grid.ini" --partition=cpu 2>&1)
grep -q "would run: sbatch --parsable --array=0,1 " <<<"$out" || fail "no array sbatch command: $out"
grep -q "would run: sbatch --parsable --dependency=afterok:0 " <<<"$out" || fail "no summary sbatch command: $out"
[ ! -e "$work/sweep" ] || fail "--dry-run created $work/sweep"
echo "ok: --help and --dry-run"
