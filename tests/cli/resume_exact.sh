#!/usr/bin/env bash
# Federated exact resume on 4 ranks: (4 rounds) vs (2 rounds, stop, --resume
# latest, 2 more) must end with bit-identical experts, gate and Adam states
# (and, given --encoder-train, the trained encoder and its Adam state).
# Usage: resume_exact.sh MPIEXEC MOECOLLAB VOCAB WORK_DIR [TRAIN OPTIONS...]
set -euo pipefail
mpiexec=$1 bin=$2 vocab=$3 work=$4
shift 4
rm -rf "$work"
common=(--config experiments/demo.ini --vocab "$vocab" --local-steps 8 --gate-steps 4 --keep-checkpoints 0 "$@")
run() { "$mpiexec" --oversubscribe -np 4 "$bin" train "${common[@]}" "$@" > /dev/null; }
run --rounds 4 --run-dir "$work/straight"
run --rounds 2 --run-dir "$work/split"
"$mpiexec" --oversubscribe -np 4 "$bin" train "${common[@]}" --rounds 4 --run-dir "$work/split" --resume latest |
  grep -q "resumed from .*round-000002.h5 at round 2"
a=$work/straight/checkpoints/round-000004.h5
b=$work/split/checkpoints/round-000004.h5
h5diff "$a" "$b" /gate /gate
h5diff "$a" "$b" /experts /experts
# A trained encoder (and its Adam state) is stored and must match too; a frozen one is not stored.
if h5ls "$a" | grep -q '^encoder '; then
  h5diff "$a" "$b" /encoder /encoder
  h5ls "$a/encoder/adam/exp_avg" | grep -q "word_embeddings.weight"
  trained=yes
else
  trained=no
fi
case " $* " in
  *" --encoder-train none "*) [ $trained = no ] || { echo "a frozen run stored an encoder"; exit 1; } ;;
  *" --encoder-train "*) [ $trained = yes ] || { echo "the trained encoder is missing from the checkpoint"; exit 1; } ;;
esac
test -f "$work/split/log-from-round-3.h5"
echo "ok: resumed run is bit-identical to the uninterrupted one"
