#!/usr/bin/env bash
# One whole collaborative step of `train-local --precision float64` against the independent
# numpy reference (tests/train/step_reference.py, relative tolerance 1e-9): 3 domains with
# unequal batches (7, 11 and 16 rows: two domains hold fewer training texts than a batch) and
# different label counts (6, 7, 10), every loss term switched on, the gate trained until its
# mean weight over the step's rows is clearly non-uniform; then the reference's self-check
# (a 1% error in the balance weight must be caught).
# Usage: step_reference.sh MOECOLLAB VOCAB WORK_DIR   (from the repository root)
set -euo pipefail
bin=$1 vocab=$2 work=$3
rm -rf "$work"
mkdir -p "$work"
small_domain() {  # NAME SOURCE TRAIN_ROWS: SOURCE's labels, val and test, and its first TRAIN_ROWS training texts
  mkdir -p "$work/$1"
  cp "data/$2/labels.txt" "data/$2/val.jsonl" "data/$2/test.jsonl" "$work/$1/"
  head -n "$3" "data/$2/train.jsonl" > "$work/$1/train.jsonl"
}
small_domain quotes quotes 7
small_domain language language 11
"$bin" train-local --precision float64 --domain "$work/quotes" --domain "$work/language" --domain data/lexicon \
  --vocab "$vocab" --batch-size 16 --rounds 1 --local-steps 10 --gate-steps 40 --gate-lr 0.05 --lambda1 0.05 \
  --lambda2 0.2 --z-loss 0.01 --domain-routing-loss 0.1 --threads 1 --dump-step "$work/step.h5"
/usr/bin/python3 tests/train/step_reference.py "$work/step.h5" --self-check
