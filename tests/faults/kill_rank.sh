#!/usr/bin/env bash
# A rank killed with SIGKILL in the middle of a 4-rank run: every process of the
# job must be gone within 30 s (Open MPI's default: mpirun sees a rank die and
# kills the rest); the last checkpoint must load; `--resume latest` must then
# end bit-identical to an uninterrupted run (h5diff of gate and experts).
# Usage: kill_rank.sh MPIEXEC MOECOLLAB VOCAB WORK_DIR
set -euo pipefail
mpiexec=$1 bin=$2 vocab=$3 work=$4
rm -rf "$work"
mkdir -p "$work"
common=(--config experiments/demo.ini --vocab "$vocab" --encoder-train none --rounds 6 --local-steps 30 --gate-steps 30
  --checkpoint-every 1 --keep-checkpoints 0 --log-routing 0)
"$mpiexec" --oversubscribe -np 4 "$bin" train "${common[@]}" --run-dir "$work/straight" > /dev/null

"$mpiexec" --oversubscribe -np 4 "$bin" train "${common[@]}" --run-dir "$work/killed" > "$work/killed.out" 2>&1 &
launcher=$!
for _ in $(seq 600); do  # until round 2's checkpoint exists
  [ -e "$work/killed/checkpoints/round-000002.h5" ] && break
  sleep 0.1
done
[ -e "$work/killed/checkpoints/round-000002.h5" ] || { echo "FAILED: no checkpoint of round 2"; kill "$launcher"; exit 1; }
ranks=$(pgrep -f -- "--run-dir $work/killed" | grep -v "^$launcher$" || true)
victim=$(echo "$ranks" | tail -1)
echo "ranks: $(echo $ranks); SIGKILL to $victim (mid-round 3)"
start=$(date +%s.%N)
kill -9 "$victim"
for _ in $(seq 300); do
  alive=$(pgrep -f -- "--run-dir $work/killed" || true)
  [ -z "$alive" ] && break
  sleep 0.1
done
seconds=$(echo "$(date +%s.%N) - $start" | bc)
if [ -n "$(pgrep -f -- "--run-dir $work/killed" || true)" ]; then
  echo "FAILED: processes still alive 30 s after the kill"; pkill -9 -f -- "--run-dir $work/killed"; exit 1
fi
wait "$launcher" && { echo "FAILED: mpirun exited 0 after a rank was killed"; exit 1; } || true
printf 'every process gone %.1f s after the SIGKILL; mpirun exited non-zero\n' "$seconds"
latest=$(ls "$work/killed/checkpoints/" | grep -v tmp | sort | tail -1)
echo "last checkpoint: $latest"
"$mpiexec" --oversubscribe -np 4 "$bin" train "${common[@]}" --run-dir "$work/killed" --resume latest |
  grep "resumed from"
h5diff "$work/straight/checkpoints/round-000006.h5" "$work/killed/checkpoints/round-000006.h5" /gate /gate
h5diff "$work/straight/checkpoints/round-000006.h5" "$work/killed/checkpoints/round-000006.h5" /experts /experts
echo "ok: killed run resumed to the same parameters as the uninterrupted one"
