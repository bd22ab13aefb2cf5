#!/usr/bin/env bash
# The bad-input suite: every case must end with a clear message naming the
# file / field / rank, a non-zero exit on every rank, and no hang (hard timeout
# per case). MPI cases run under mpirun -np 4 --oversubscribe. Prints one line
# per case and "N cases ran, N held"; exits 1 if any did not hold.
# Usage: bad_inputs.sh MOECOLLAB MPIEXEC VOCAB WORK_DIR   (from the repository root)
set -u
bin=$1 mpiexec=$2 vocab=$3 work=$4
rm -rf "$work"
mkdir -p "$work"
ran=0 held=0 slowest=0 slowest_case=""
mpi4=("$mpiexec" --oversubscribe -np 4)
data="--domain data/quotes --domain data/language --domain data/software --domain data/lexicon"
small=(--rounds 1 --local-steps 2 --gate-steps 5 --vocab "$vocab")

# case NAME 'expected text' command...   (every process must exit non-zero within 60 s)
case_() {
  local name=$1 expected=$2
  shift 2
  ran=$((ran + 1))
  local start out rc
  start=$(date +%s.%N)
  out=$(timeout -k 5 60 "$@" 2>&1 >/dev/null)
  rc=$?
  printf '%s\n' "$out" > "$work/last.err"
  local seconds
  seconds=$(echo "$(date +%s.%N) - $start" | bc)
  if (( $(echo "$seconds > $slowest" | bc) )); then slowest=$seconds slowest_case=$name; fi
  if [ "$rc" -eq 0 ]; then echo "FAILED  $name: exit 0"; return; fi
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then echo "FAILED  $name: hung (killed after 60 s)"; return; fi
  if [ "$rc" -gt 128 ]; then echo "FAILED  $name: killed by signal $((rc - 128))"; echo "$out" | tail -5; return; fi
  case "$out" in
    *"$expected"*) held=$((held + 1)); printf 'held    %-28s exit %d in %4.1f s: %s\n' "$name" "$rc" "$seconds" \
                     "$(grep -m1 -F -- "$expected" <<<"$out" | cut -c1-150)" ;;
    *) echo "FAILED  $name: message lacks '$expected':"; echo "$out" | head -5 ;;
  esac
}

d=$work/data
mkdir -p "$d"
mkdir -p "$d/empty" && : > "$d/empty/train.jsonl" && cp data/quotes/val.jsonl data/quotes/test.jsonl "$d/empty/"
printf '{"label": "a"}\n' > "$d/notext.jsonl"
printf '{"text": "hello"}\n' > "$d/nolabel.jsonl"
printf '{"text": "caf\xe9", "label": "a"}\n' > "$d/latin1.jsonl"
mkdir -p "$d/unseen" && cp data/quotes/train.jsonl data/quotes/val.jsonl "$d/unseen/" &&
  { cat data/quotes/test.jsonl; printf '{"text": "a new kind", "label": "no-such-label"}\n'; } > "$d/unseen/test.jsonl"
mkdir -p "$d/oneclass" && for s in train val test; do grep '"label": "science"' data/quotes/$s.jsonl > "$d/oneclass/$s.jsonl"; done
printf 'text,label\n"a ""quoted"" text\nover two lines",x\nplain,y\n"unterminated,x\n' > "$d/badquote.csv"
grep -v '^\[CLS\]$' "$vocab" > "$d/vocab-nocls.txt"
cp "$d/vocab-nocls.txt" /dev/null
printf 'domain = data/quotes\nbatch-size = 0\n' > "$d/zero-batch.ini"

case_ empty_data_file "empty" "$bin" train-local --domain "$d/empty" "${small[@]}"
case_ missing_text_field "text" "$bin" train-local --domain "$d/notext.jsonl" "${small[@]}"
case_ missing_label_field "label" "$bin" train-local --domain "$d/nolabel.jsonl" "${small[@]}"
case_ non_utf8_text "UTF-8" "$bin" train-local --domain "$d/latin1.jsonl" "${small[@]}"
case_ unseen_test_label "no-such-label" "$bin" train-local --domain "$d/unseen" "${small[@]}"
case_ one_class_domain "has one class in its training split ('science')" "$bin" train-local --domain "$d/oneclass" "${small[@]}"
case_ csv_unterminated_quote "badquote.csv" "$bin" train-local --domain "$d/badquote.csv" "${small[@]}"
case_ config_unknown_option "unrecognised option 'no-such-key'" "$bin" train-local --config <(printf 'no-such-key = 1\n') --domain data/quotes
case_ zero_batch_size "--batch-size must be between 1" "$bin" train-local --config "$d/zero-batch.ini" "${small[@]}"
case_ negative_batch_size "--batch-size must be between 1 and 1048576, got -3" "$bin" train-local --domain data/quotes --batch-size -3 "${small[@]}"
case_ negative_lambda "lambda1" "$bin" train-local --domain data/quotes --lambda1 -0.5 "${small[@]}"
case_ adapter_over_hidden "--adapter 512 exceeds the encoder's hidden size 128" "$bin" train-local --domain data/quotes --adapter 512 "${small[@]}"
case_ max_length_over_encoder "exceeds the encoder's max_positions" "$bin" train-local --domain data/quotes --max-length 500 "${small[@]}"
case_ vocab_without_cls "[CLS]" "$bin" train-local --domain data/quotes --rounds 1 --vocab "$d/vocab-nocls.txt"
case_ data_path_is_directory_vocab "is a directory" "$bin" train-local --domain data/quotes --rounds 1 --vocab data/quotes
case_ world_size_not_domains "has 4 domains" "${mpi4[@]:0:3}" 3 "$bin" train $data "${small[@]}"
case_ option_twice_mpi "option '--rounds' cannot be specified more than once" "${mpi4[@]}" "$bin" train $data \
  "${small[@]}" --rounds 2
case_ same_domain_twice "domain 'data/quotes' is given twice (ranks 0 and 1)" "${mpi4[@]}" "$bin" train --domain data/quotes --domain data/quotes --domain data/software --domain data/lexicon "${small[@]}"
case_ exchange_unknown "--exchange must be 'features', 'experts' or 'auto', not 'pixels'" "${mpi4[@]}" "$bin" train $data --exchange pixels "${small[@]}"
case_ capacity_without_top_k "--capacity-factor and --eval-capacity-factor need --top-k K" "${mpi4[@]}" "$bin" train $data --capacity-factor 1.25 "${small[@]}"
case_ balance_unknown "--balance must be 'kl', 'switch' or 'none', not 'aux'" "${mpi4[@]}" "$bin" train $data --balance aux "${small[@]}"
case_ overflow_unknown "--overflow must be 'drop' or 'next', not 'spill'" "$bin" train-local $data --top-k 1 --overflow spill "${small[@]}"
case_ capacity_negative "--capacity-factor and --eval-capacity-factor must be 0 (no limit) or positive" "$bin" train-local $data --top-k 1 --eval-capacity-factor -1 "${small[@]}"
mkdir -p "$work/site-b"
cp -r data/language "$work/site-b/quotes"
case_ same_domain_name "two domains are both named 'quotes' (--domain data/quotes for rank 0, --domain $work/site-b/quotes for rank 1); name them apart with --domain NAME=PATH" \
  "${mpi4[@]}" "$bin" train --domain data/quotes --domain "$work/site-b/quotes" --domain data/software --domain data/lexicon "${small[@]}"
case_ mismatched_encoders "encoder fingerprint differs from rank 0" "$mpiexec" --oversubscribe \
  -np 2 "$bin" train $data "${small[@]}" : -np 2 "$bin" train $data "${small[@]}" --encoder-seed 7

# Checkpoints and packages: a real run's checkpoint, then damaged copies.
run=$work/run
"$bin" train-local --domain data/quotes --domain data/language "${small[@]}" --run-dir "$run" > /dev/null
ckpt=$run/checkpoints/round-000001.h5
head -c $(( $(stat -c %s "$ckpt") / 2 )) "$ckpt" > "$d/truncated.h5"
cp "$ckpt" "$d/wrong-shape.h5"
/usr/bin/python3 - "$d/wrong-shape.h5" <<'PY'
import h5py, numpy as np, sys
with h5py.File(sys.argv[1], "r+") as f:
    name = [n for n in f["gate"].keys()][0]
    path = f"gate/{name}/gate.weight" if isinstance(f["gate"][name], h5py.Group) else "gate/" + name
    def find(g, prefix=""):
        for k, v in g.items():
            if isinstance(v, h5py.Group):
                r = find(v, prefix + k + "/")
                if r: return r
            elif k.endswith("gate.weight"):
                return prefix + k
    path = "gate/" + find(f["gate"])
    shape = f[path].shape
    del f[path]
    f[path] = np.zeros((shape[0] + 1, shape[1]), dtype=np.float32)
PY
resume=(--domain data/quotes --domain data/language "${small[@]}")
case_ checkpoint_other_model "incompatible checkpoint" "$bin" train-local --domain data/quotes --domain data/software \
  "${small[@]}" --resume "$ckpt"
case_ checkpoint_truncated "truncated.h5" "$bin" train-local "${resume[@]}" --resume "$d/truncated.h5"
case_ checkpoint_wrong_shape "wrong-shape.h5: gate: tensor 'adam/exp_avg/gate.weight' has shape [3, 128], expected [2, 128]" "$bin" train-local "${resume[@]}" --resume "$d/wrong-shape.h5"
case_ checkpoint_is_directory "is a directory, not an HDF5 file" "$bin" train-local "${resume[@]}" --resume "$run"
"$bin" expert train --domain quotes --data data/quotes --rounds 1 --local-steps 2 --vocab "$vocab" --out "$d/pkg.h5" > /dev/null
/usr/bin/python3 -c "
import h5py, sys
with h5py.File('$d/pkg.h5', 'r+') as f: f['tensors/parameters/classifier.bias'][0] += 1.0"
case_ package_bad_hash "content_hash: the manifest says" "$bin" registry add --registry "$d/registry" "$d/pkg.h5"
: > "$d/a-file"
case_ run_dir_unwritable "--run-dir $d/a-file/run: cannot create it: Not a directory" "$bin" train-local --domain data/quotes "${small[@]}" --run-dir "$d/a-file/run"
case_ run_dir_unwritable_mpi "--run-dir $d/a-file/run: cannot create it" "${mpi4[@]}" "$bin" train $data "${small[@]}" --run-dir "$d/a-file/run"

# NaN/Inf, injected by the fault wrapper (MOECOLLAB_FAULT=KIND:RANK:OP:CALL, comm/fault_injection.h).
# (A NaN fault counts only the calls that carry floating-point data.) Rank 2's 3rd such
# all-gather is its features' exchange of gate step 3: NaN rows of rank 2 make only rank 2's
# loss NaN, caught on rank 2 before the all-reduce.
nan_rank2=nan:2:allgather_rows:3
case_ nonfinite_stop "non-finite loss or gate gradient on rank 2 at gate step 3 (round 1); stopped" \
  env MOECOLLAB_FAULT=$nan_rank2 "${mpi4[@]}" "$bin" train $data "${small[@]}"
# Rank 2's 6th floating-point all-reduce is gate step 3's fused gradient all-reduce (the 5th
# its mean gate's): rank 2's buffer turns NaN after its own check, so the sum is caught on every rank.
case_ nonfinite_sum_stop "non-finite sum of the all-reduced gate gradients at gate step 3 (round 1) although every rank sent finite values; stopped" \
  env MOECOLLAB_FAULT=nan:2:allreduce_sum:6 "${mpi4[@]}" "$bin" train $data "${small[@]}"
case_ fault_spec_bad "MOECOLLAB_FAULT: a fault is KIND:RANK:OP:CALL" \
  env MOECOLLAB_FAULT=nan:2:allreduce "${mpi4[@]}" "$bin" train $data "${small[@]}"
ran=$((ran + 1))
if MOECOLLAB_FAULT=$nan_rank2 timeout -k 5 60 "${mpi4[@]}" "$bin" train $data "${small[@]}" \
     --on-nonfinite skip --run-dir "$work/nonfinite-skip" > "$work/skip.out" 2>&1 &&
   grep -q "on rank 2 at gate step 3 (round 1): step skipped on every rank" "$work/skip.out" &&
   /usr/bin/python3 -c "
import h5py, numpy as np
out = []
h5py.File('$work/nonfinite-skip/checkpoints/round-000001.h5', 'r')['gate'].visititems(
    lambda n, o: out.append(np.isfinite(o[()]).all()) if isinstance(o, h5py.Dataset) else None)
assert out and all(out)"; then
  held=$((held + 1)); echo "held    nonfinite_skip               run finished, step skipped on every rank, gate finite"
else
  echo "FAILED  nonfinite_skip"; tail -5 "$work/skip.out"
fi

# A rank that never reaches a collective (it sleeps before its first all-reduce): the
# watchdog of every waiting rank reports, the job ends; rank 2 is the one without a report.
case_ collective_stall "rank 0: collective 'allreduce' (#" \
  env MOECOLLAB_FAULT=stall:2:allreduce_sum:1 "${mpi4[@]}" "$bin" train $data "${small[@]}" --collective-timeout 5
if grep -q "rank 2: collective" "$work/last.err" 2>/dev/null; then
  echo "FAILED  collective_stall: the stalled rank 2 reported as waiting"; held=$((held - 1))
fi
# A rank that crashes mid-run (SIGSEGV in its 2nd all-reduce): the job ends, no rank
# hangs, and mpirun says which rank died of which signal.
ran=$((ran + 1))
MOECOLLAB_FAULT=crash:3:allreduce_sum:2 timeout -k 5 60 "${mpi4[@]}" "$bin" train $data "${small[@]}" \
  > /dev/null 2> "$work/crash.err"
rc=$?
if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && [ "$rc" -ne 137 ] &&
   grep -q "process rank 3 .* exited on signal 11" "$work/crash.err"; then
  held=$((held + 1)); echo "held    rank_crash                   exit $rc: rank 3 exited on signal 11, the job ended"
else
  echo "FAILED  rank_crash: exit $rc"; tail -5 "$work/crash.err"
fi

printf '\n%d cases ran, %d held; slowest: %s (%.1f s)\n' "$ran" "$held" "$slowest_case" "$slowest"
[ "$ran" -eq "$held" ]
