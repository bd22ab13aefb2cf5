#!/usr/bin/env bash
# The --encoder hf:DIR path end to end (the tiny BERT has d = 32, so adapter k = 16):
# train on two bundled domains with a
# Hugging Face-layout encoder (its vocab.txt and config replace ours), then
# serve the checkpoint with predict.
# Usage: train_with_hf.sh MOECOLLAB BERT_DIR RUN_DIR
set -euo pipefail
bin=$1 bert=$2 run=$3
rm -rf "$run"
"$bin" train-local --adapter 16 --encoder "hf:$bert" --domain data/quotes --domain data/language --rounds 1 --local-steps 5 \
  --gate-steps 3 --max-length 32 --run-dir "$run" | tee "$run.out"
grep -q "^final (val)" "$run.out"
"$bin" predict --checkpoint "$run/checkpoints/round-000001.h5" --text "the cat sat on the mat" | tee "$run.pred"
grep -q '"domain_from":"highest gate weight"' "$run.pred"
# Mean pooling over a loaded BERT when asked ("auto" gives CLS here: the directory has a pooler).
"$bin" train-local --adapter 16 --encoder "hf:$bert" --encoder-pooling mean --domain data/quotes --domain data/language --rounds 1 \
  --local-steps 5 --gate-steps 3 --max-length 32 | grep -q "^final (val)"
echo "ok: trained and served with hf:$bert"
