#!/usr/bin/env bash
# `predict` on a domain's validation split must reproduce the run's own
# evaluation of the last round (the MoE accuracy in the run log).
# Usage: predict_matches_eval.sh MOECOLLAB RUN_DIR DOMAIN_DIR DOMAIN
set -euo pipefail
bin=$1 run=$2 data=$3 domain=$4
ckpt=$(ls "$run"/checkpoints/round-*.h5 | sort | tail -n 1)
got=$("$bin" predict --checkpoint "$ckpt" --input "$data/val.jsonl" --domain "$domain" -o "$run/predictions.jsonl" 2>&1 |
      sed -n 's/^predict: accuracy \([0-9.]*\) on.*/\1/p')
csv=$("$bin" report --csv "$run/log.h5")
column=$(head -n 1 <<<"$csv" | tr ',' '\n' | grep -n "^moe_acc_$domain\$" | cut -d: -f1)
want=$(tail -n 1 <<<"$csv" | cut -d, -f"$column")
echo "predict accuracy $got, run log $want ($ckpt)"
python3 - "$got" "$want" <<'PY'
import sys
got, want = float(sys.argv[1]), float(sys.argv[2])
sys.exit(0 if abs(got - want) < 1e-5 else "predict disagrees with the run's evaluation")
PY
