#!/usr/bin/env bash
# A newcomer's first day (issue "options that mean what they say"): the
# command-line behaviours that once gave a silent wrong result or lost a run,
# one CASE per CTest test. Each case fails loudly, naming what went wrong.
# Usage: first_day.sh CASE MOECOLLAB VOCAB WORK_DIR [TINY_BERT_DIR]   (from the repository root)
#   CASE: run_dir | booleans | strict | domains | rounds | threads | predict_anywhere
set -euo pipefail
case_name=$1 bin=$2 vocab=$3 work=$4 bert=${5:-}
rm -rf "$work"
mkdir -p "$work"
fail() { echo "FAILED ($case_name): $*"; exit 1; }
steps=(--vocab "$vocab" --local-steps 3 --gate-steps 2 --threads 1 --log-routing 0)
small=("${steps[@]}" --rounds 1)
expert_small=(--vocab "$vocab" --rounds 1 --local-steps 3 --threads 1)
# True when TEXT (fixed string) is in the output of the command (read whole: no SIGPIPE under pipefail).
says() {
  local text=$1
  shift
  grep -qF -- "$text" <<<"$("$@" 2>&1)"
}
two=(--domain data/quotes --domain data/language)
# The progress and final lines of a run, for comparing two runs' numbers.
numbers() { "$bin" train-local "$@" 2>&1 | grep -E '^(round|  [a-z]+ +moe acc)' | sed 's/| [0-9.]* s$//'; }
# Runs a command that must fail; its output must hold TEXT.
refused() {
  local text=$1
  shift
  local out rc=0
  out=$("$@" 2>&1) || rc=$?
  [ "$rc" -ne 0 ] || fail "exit 0, expected a refusal ($text): $*"
  [ "$rc" -lt 128 ] || fail "killed by signal $((rc - 128)): $*"
  grep -qF -- "$text" <<<"$out" || fail "output lacks '$text': $*"$'\n'"$out"
}

case $case_name in
run_dir)
  # A run directory keeps what it holds: a second run is refused, --overwrite
  # clears the first run's files (only those), --resume continues it, and a
  # checkpoint of another run never lands beside them.
  run="$work/run"
  "$bin" train-local "${two[@]}" "${steps[@]}" --rounds 3 --checkpoint-every 1 --keep-checkpoints 0 --run-dir "$run" >/dev/null
  cp "$run/log.h5" "$work/first-log.h5"
  cp "$run/checkpoints/round-000003.h5" "$work/first-round3.h5"
  echo "mine" >"$run/notes.txt"
  refused "already holds a run" "$bin" train-local "${two[@]}" "${small[@]}" --lambda1 0.05 --run-dir "$run"
  cmp -s "$run/log.h5" "$work/first-log.h5" || fail "the refused run changed log.h5"
  cmp -s "$run/checkpoints/round-000003.h5" "$work/first-round3.h5" || fail "the refused run changed a checkpoint"
  "$bin" train-local "${two[@]}" "${small[@]}" --lambda1 0.05 --overwrite --run-dir "$run" >/dev/null
  [ "$(ls "$run/checkpoints")" = "round-000001.h5" ] || fail "--overwrite left other checkpoints: $(ls "$run/checkpoints")"
  [ -f "$run/notes.txt" ] || fail "--overwrite deleted a file that is not the run's"
  says "round-000001.h5 at round 1" "$bin" train-local "${two[@]}" "${steps[@]}" --lambda1 0.05 --rounds 2 --resume latest \
    --run-dir "$run" || fail "--resume latest did not continue the run"
  [ -f "$run/log-from-round-2.h5" ] || fail "the resumed part's log is missing"
  # Another run's checkpoint (another encoder) resumed into this directory: refused, nothing written.
  "$bin" train-local "${two[@]}" "${small[@]}" --encoder-seed 9 --run-dir "$work/other" >/dev/null
  refused "holds another run's checkpoints" "$bin" train-local "${two[@]}" "${steps[@]}" --encoder-seed 9 --rounds 2 \
    --resume "$work/other/checkpoints/round-000001.h5" --run-dir "$run"
  [ "$(ls "$run/checkpoints" | tr '\n' ' ')" = "round-000001.h5 round-000002.h5 " ] ||
    fail "checkpoints mixed: $(ls "$run/checkpoints")"
  refused "would delete the checkpoint" "$bin" train-local "${two[@]}" "${small[@]}" --resume latest --overwrite --run-dir "$run"
  # The incompatible --resume names the encoder the checkpoint was trained with and how to select it.
  refused "the checkpoint was trained with encoder random" "$bin" train-local "${two[@]}" "${steps[@]}" --rounds 3 \
    --resume latest --encoder-seed 5 --run-dir "$run"
  ;;
booleans)
  # --joint false is not --joint; every spelling means the same on the command line and in a config file.
  # 28 runs: 16 tokens per text (half the time of the default 64; any length tells the spellings apart).
  short=("${small[@]}" --max-length 16)
  off=$(numbers "${two[@]}" "${short[@]}" --run-dir "")
  on=$(numbers "${two[@]}" "${short[@]}" --run-dir "" --joint)
  [ "$off" != "$on" ] || fail "--joint changed nothing"
  for v in false no off 0 False; do
    [ "$(numbers "${two[@]}" "${short[@]}" --run-dir "" --joint "$v")" = "$off" ] || fail "--joint $v is not off"
    [ "$(numbers "${two[@]}" "${short[@]}" --run-dir "" --joint="$v")" = "$off" ] || fail "--joint=$v is not off"
    printf 'joint = %s\n' "$v" >"$work/joint.ini"
    [ "$(numbers --config "$work/joint.ini" "${two[@]}" "${short[@]}" --run-dir "")" = "$off" ] || fail "joint = $v is not off"
  done
  for v in true yes on 1 TRUE; do
    [ "$(numbers "${two[@]}" "${short[@]}" --run-dir "" --joint "$v")" = "$on" ] || fail "--joint $v is not on"
    printf 'joint = %s\n' "$v" >"$work/joint.ini"
    [ "$(numbers --config "$work/joint.ini" "${two[@]}" "${short[@]}" --run-dir "")" = "$on" ] || fail "joint = $v is not on"
  done
  # The command line overrides the config file's boolean.
  printf 'joint = true\n' >"$work/joint.ini"
  [ "$(numbers --config "$work/joint.ini" "${two[@]}" "${short[@]}" --run-dir "" --joint false)" = "$off" ] ||
    fail "--joint false did not override joint = true"
  refused "--joint takes true/false, 1/0, yes/no or on/off" "$bin" train-local "${two[@]}" "${short[@]}" --joint maybe
  refused "for option '--joint' is invalid" "$bin" train-local "${two[@]}" "${short[@]}" --joint=maybe
  printf 'joint = maybe\n' >"$work/joint.ini"
  refused "joint.ini" "$bin" train-local --config "$work/joint.ini" "${two[@]}" "${short[@]}"
  says "--joint [=true|false(=true)] (=false)" "$bin" train-local --help || fail "--help does not show --joint's default as false"
  ;;
strict)
  # A stray word and an abbreviated option are errors, on the command line as in a config file.
  refused "unexpected word 'banana'" "$bin" train-local "${two[@]}" "${small[@]}" banana
  refused "unrecognised option '--round'" "$bin" train-local "${two[@]}" --vocab "$vocab" --round 1
  printf 'round = 1\n' >"$work/typo.ini"
  refused "unrecognised option 'round'" "$bin" train-local --config "$work/typo.ini" "${two[@]}" --vocab "$vocab"
  refused "too many positional options" "$bin" report "$work/a.h5" "$work/b.h5"
  ;;
domains)
  # --domain on the command line replaces the config file's list; names come from the path or NAME=PATH.
  printf 'domain = data/quotes\ndomain = data/language\n' >"$work/two.ini"
  out=$("$bin" train-local --config "$work/two.ini" --domain data/software "${small[@]}" --run-dir "")
  grep -q "^train-local: 1 domains: software " <<<"$out" || fail "--domain did not replace the config's domains: $(head -1 <<<"$out")"
  out=$("$bin" train-local --config "$work/two.ini" "${small[@]}" --run-dir "")
  grep -q "^train-local: 2 domains: quotes (.*) language " <<<"$out" || fail "the config's domains, in order: $(head -1 <<<"$out")"
  mkdir -p "$work/a" "$work/b"
  cp -r data/quotes "$work/a/quotes"
  cp -r data/language "$work/b/quotes"
  refused "two domains are both named 'quotes'" "$bin" train-local --domain "$work/a/quotes" --domain "$work/b/quotes" "${small[@]}"
  out=$("$bin" train-local --domain "$work/a/quotes" --domain "languages=$work/b/quotes" "${small[@]}" --run-dir "")
  grep -q "^train-local: 2 domains: quotes (6 labels.*) languages (7 labels" <<<"$out" || fail "NAME=PATH: $(head -1 <<<"$out")"
  refused "not a valid domain name" "$bin" train-local --domain "a/b=data/quotes" "${small[@]}"
  refused "not a valid domain name" "$bin" expert train --domain "chores@1" --data data/quotes "${expert_small[@]}" -o "$work/x.h5"
  out=$("$bin" expert train --domain chores --data data/quotes "${expert_small[@]}" -o "$work/chores.h5")
  grep -q "give that rank --domain chores=data/quotes" <<<"$out" || fail "expert train does not say how to name its data: $out"
  ;;
rounds)
  refused "--rounds must be at least 1" "$bin" train-local "${two[@]}" "${steps[@]}" --rounds 0
  out=$("$bin" train-local "${two[@]}" --vocab "$vocab" --rounds 1 --threads 1 --local-steps 0 --gate-steps 2 --run-dir "")
  grep -q "^round 1/1 | local - | task [0-9]" <<<"$out" || fail "--local-steps 0 does not print 'local -': $(grep '^round' <<<"$out")"
  out=$("$bin" train-local "${two[@]}" --vocab "$vocab" --rounds 1 --threads 1 --local-steps 3 --gate-steps 0 --run-dir "")
  grep -q "| task - H - KL - |" <<<"$out" || fail "--gate-steps 0 does not print '-': $(grep '^round' <<<"$out")"
  ;;
threads)
  # Threads follow the CPUs the process may use (its affinity mask), not the machine's core count.
  out=$(taskset -c 0 "$bin" train-local "${two[@]}" --vocab "$vocab" --rounds 1 --local-steps 1 --gate-steps 1 --run-dir "")
  grep -q "; 1 threads;" <<<"$out" || fail "under taskset -c 0: $(head -1 <<<"$out")"
  cpus=$(nproc)
  out=$("$bin" train-local "${two[@]}" --vocab "$vocab" --rounds 1 --local-steps 1 --gate-steps 1 --run-dir "")
  grep -q "; $cpus threads;" <<<"$out" || fail "with $cpus CPUs allowed: $(head -1 <<<"$out")"
  ;;
predict_anywhere)
  # A checkpoint serves from any working directory, and after its run directory and
  # encoder moved together; --encoder points elsewhere, checked by fingerprint.
  [ -n "$bert" ] || fail "needs the tiny BERT directory"
  repo=$(pwd)
  "$bin" train-local "${two[@]}" "${small[@]}" --run-dir "$work/random" >/dev/null
  (cd / && says '"label"' "$bin" predict --checkpoint "$work/random/checkpoints/round-000001.h5" --text "Il gatto dorme") ||
    fail "predict of a random-encoder run from / failed"
  mkdir -p "$work/site"
  cp -r "$bert" "$work/site/encoder"
  (cd "$work/site" && "$bin" train-local --domain "$repo/data/quotes" --domain "$repo/data/language" --adapter 16 \
    --encoder hf:encoder --max-length 32 --rounds 1 --local-steps 3 --gate-steps 2 --threads 1 --run-dir run >/dev/null)
  mv "$work/site" "$work/moved"
  ckpt="$work/moved/run/checkpoints/round-000001.h5"
  out=$(cd / && "$bin" predict --checkpoint "$ckpt" --text "the cat sat on the mat" --text "")
  [ "$(wc -l <<<"$out")" = 2 ] || fail "predict after the move: $out"
  grep -q '"tokens":0' <<<"$out" || fail "the empty text is not marked by its token count: $out"
  for key in probability gate_weight truncated unk_fraction; do
    grep -q "\"$key\":" <<<"$out" || fail "predict lines lack \"$key\": $out"
  done
  grep -q '"gate":{"quotes":[0-9.e-]*,"language"' <<<"$out" || fail "gate weights not in expert order: $out"
  (cd / && says '"label"' "$bin" predict --checkpoint "$ckpt" --encoder "hf:$work/moved/encoder" --text "x") ||
    fail "--encoder hf:DIR was not accepted"
  refused "the checkpoint was trained with encoder hf:" "$bin" predict --checkpoint "$ckpt" --encoder random --text "x"
  refused "select it with --encoder hf:" "$bin" predict --checkpoint "$ckpt" --encoder random --text "x"
  mv "$work/moved/encoder" "$work/elsewhere"
  refused "give --encoder hf:DIR where it is now" "$bin" predict --checkpoint "$ckpt" --text "x"
  mv "$work/elsewhere" "$work/moved/encoder"
  refused "is not one of the checkpoint's domains: quotes, language" "$bin" predict --checkpoint "$ckpt" --domain nosuch --text "x"
  # A long text is flagged as truncated; an unknown label is reported, not counted as wrong.
  long=$(printf 'word %.0s' $(seq 1 80))
  says '"truncated":true' "$bin" predict --checkpoint "$ckpt" --text "$long" || fail "a long text is not flagged truncated"
  printf '{"text": "hello there", "label": "no-such-label"}\n{"text": "", "label": "science"}\n' >"$work/in.jsonl"
  err=$("$bin" predict --checkpoint "$ckpt" --input "$work/in.jsonl" --domain quotes -o "$work/out.jsonl" 2>&1)
  grep -q "1 labelled texts have a label outside the label space" <<<"$err" || fail "unknown label not reported: $err"
  grep -q "accuracy [0-9.]* on 1 labelled texts" <<<"$err" || fail "the unknown label was counted: $err"
  ;;
*) fail "unknown case" ;;
esac
echo "ok: $case_name"
