#!/usr/bin/env bash
# Federated pre-training end to end on the bundled data (4 ranks, one per
# domain): the progress lines, OUT/pretrain-log.h5 against docs/hdf5-layout.md
# and through `report` and h5py, then experts and gate trained on the result
# (masked-LM only, no pooler: mean pooling chosen by "auto").
# Usage: pretrain_bundled.sh MPIEXEC MOECOLLAB LAYOUT_TEST VOCAB OUT
set -euo pipefail
mpiexec=$1 bin=$2 layout=$3 vocab=$4 out=$5
rm -rf "$out"
"$mpiexec" --oversubscribe -np 4 "$bin" pretrain --config experiments/demo.ini --vocab "$vocab" --out "$out" \
  --pretrain-rounds 2 --pretrain-steps 3 --pretrain-batch 8 | tee "$out.txt"
grep -q "^pretrain: 4 ranks, FedSGD" "$out.txt"
grep -Eq "^pretrain round 2/2 \| mlm loss [0-9.]+ acc [0-9.]+ \| lr .* \| rank 0 sent [0-9.]+ MB" "$out.txt"
"$layout" "$out/pretrain-log.h5" docs/hdf5-layout.md pretrain-log
"$bin" report "$out/pretrain-log.h5" | tee "$out.report"
grep -q "pre-training, fedsgd, 2 rounds on 4 ranks" "$out.report"
# The routing plot script given a pre-training log says to use `report`.
if plot=$(experiments/plot_routing.py "$out/pretrain-log.h5" 2>&1); then echo "FAILED: plot_routing.py took a pre-training log"; exit 1; fi
grep -q "a pre-training log .*: print it with .moecollab report" <<<"$plot" || { echo "FAILED: $plot"; exit 1; }
/usr/bin/python3 -c "
import h5py, sys
f = h5py.File('$out/pretrain-log.h5', 'r', swmr=True)
r = f['rounds']
assert list(r['round'][()]) == [1, 2], r['round'][()]
assert all(4.0 < x < 12.0 for x in r['mlm_loss'][()]), r['mlm_loss'][()]
assert all(n > 0 for n in r['masked_tokens'][()])
assert list(f.attrs['domains']) == ['quotes', 'language', 'software', 'lexicon'], f.attrs['domains']
print('ok: pretrain-log.h5 read with h5py')"
"$bin" train-local --config experiments/demo.ini --encoder "hf:$out" --rounds 1 --local-steps 3 --gate-steps 2 \
  --run-dir "" | tee "$out.train"
grep -q "^final (val)" "$out.train"
echo "ok: pre-trained federatedly and trained on it"
