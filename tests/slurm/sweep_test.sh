#!/usr/bin/env bash
# A λ1/λ2 sweep on a real, local Slurm cluster (tests/slurm/local_cluster.sh):
#  1. slurm/submit-sweep of a 2 x 2 grid (2 domains, tiny schedule): the job
#     array runs each point with srun --mpi=pmix, the summary job runs after it
#     (afterok) and writes summary.csv (4 rows, finite), summary.h5, sweep.png;
#  2. re-submitting skips the completed runs; a run that lost its marker and its
#     last checkpoint resumes from the one before (launched by mpirun this time);
#  3. srun without PMIx: tasks that cannot form one MPI job; every task refuses, saying why;
#  4. srun with fewer tasks than domains: every task exits 1, saying why.
# Exits 77 (CTest: skipped) with the reason when Slurm daemons cannot run here.
# Usage: sweep_test.sh MOECOLLAB REPO VOCAB WORK_DIR
set -euo pipefail
bin=$1 repo=$2 vocab=$3 work=$4
rm -rf "$work"
mkdir -p "$work"
source "$repo/tests/slurm/local_cluster.sh"
trap cluster_stop EXIT
status=0
cluster_start "$work/cluster" || status=$?
[ "$status" -eq 0 ] || exit "$status"

fail() { echo "FAILED: $*" >&2; tail -n 30 "$work"/sweep/slurm-logs/*.out >&2 2>/dev/null || true; exit 1; }

# Waits for a job to finish; fails unless it COMPLETED.
wait_job() {
  local job=$1 timeout=$2 state=""
  for ((i = 0; i < timeout; i++)); do
    state=$(scontrol show job "$job" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' | head -1)
    case $state in
      COMPLETED) return 0 ;;
      FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|PREEMPTED) fail "job $job ended $state" ;;
    esac
    # A dependent job whose dependency failed never starts.
    if scontrol show job "$job" 2>/dev/null | grep -q "Reason=DependencyNeverSatisfied"; then
      fail "job $job: dependency never satisfied (an array task failed)"
    fi
    sleep 1
  done
  fail "job $job not finished after $timeout s (state '$state')"
}

cat > "$work/run.ini" <<INI
domain = $repo/data/quotes
domain = $repo/data/language
vocab = $vocab
rounds = 2
local-steps = 10
gate-steps = 5
batch-size = 16
checkpoint-every = 1
keep-checkpoints = 0
threads = 1
INI
cat > "$work/grid.ini" <<INI
lambda1 = 0 0.1
lambda2 = 0 0.1
seeds = 1
run-config = $work/run.ini
sweep-dir = $work/sweep
INI

cd "$work"
out=$("$repo/slurm/submit-sweep" "$work/grid.ini")
echo "$out"
grep -q "4 runs of 2 ranks each, 4 pending" <<<"$out" || fail "submit-sweep did not see 4 pending runs"
summary_job=$(sed -n 's/^summary job \([0-9]*\):.*/\1/p' <<<"$out")
wait_job "$summary_job" 300
rows=$(tail -n +2 "$work/sweep/summary.csv" | wc -l)
[ "$rows" -eq 4 ] || fail "summary.csv has $rows rows, not 4"
python3 - "$work/sweep/summary.csv" <<'PY' || fail "summary.csv has non-finite metrics"
import csv, math, sys
rows = list(csv.DictReader(open(sys.argv[1])))
for r in rows:
    for k, v in r.items():
        if k in ("index", "name", "lambda1", "lambda2", "seed"):
            continue
        assert math.isfinite(float(v)), (r["name"], k, v)
    assert 0 < float(r["mean_acc"]) <= 1 and 0 <= float(r["load_balance"]) <= 1, r
print("ok: summary rows finite:", ", ".join(r["name"] for r in rows))
PY
[ -s "$work/sweep/summary.h5" ] || fail "no summary.h5"
[ "$(head -c 4 "$work/sweep/sweep.png" | od -An -tx1 | tr -d ' \n')" = 89504e47 ] || fail "sweep.png missing or not a PNG"
grep -q "launching with: srun --mpi=pmix" "$work"/sweep/slurm-logs/*_0.out || fail "task 0 was not launched with srun --mpi=pmix"
cat "$work"/sweep/slurm-logs/*-summary.out

# 2. Re-submit: nothing pending; then one run loses its marker and last checkpoint.
out=$("$repo/slurm/submit-sweep" "$work/grid.ini")
grep -q "0 pending" <<<"$out" || fail "re-submission did not skip the 4 completed runs: $out"
wait_job "$(sed -n 's/^summary job \([0-9]*\):.*/\1/p' <<<"$out")" 120
run=$work/sweep/lambda1-0.1_lambda2-0_seed-1
rm "$run/COMPLETED" "$run/checkpoints/round-000002.h5"
out=$(MOECOLLAB_LAUNCHER=mpirun "$repo/slurm/submit-sweep" "$work/grid.ini")
grep -q "1 pending" <<<"$out" || fail "expected 1 pending run: $out"
wait_job "$(sed -n 's/^summary job \([0-9]*\):.*/\1/p' <<<"$out")" 300
task_log=$(ls -t "$work"/sweep/slurm-logs/*_2.out | head -1)
grep -q "(resume)" "$task_log" || fail "$task_log: the run did not resume"
grep -q "resumed from .*round-000001.h5 at round 1" "$task_log" || fail "$task_log: not resumed from round 1"
grep -q "launching with: mpirun" "$task_log" || fail "$task_log: not launched by mpirun"
[ -e "$run/log-from-round-2.h5" ] && [ -e "$run/COMPLETED" ] || fail "the resumed run did not finish"
echo "ok: re-submission skipped 3 completed runs and resumed one from its checkpoint"

# 3. Singletons: srun without PMIx; every task must refuse, naming the cause.
if srun --mpi=none --ntasks=2 --output="$work/singleton-%t.out" "$bin" train --config "$work/run.ini" --rounds 1; then
  fail "2 singleton tasks trained"
fi
for t in 0 1; do
  grep -q "srun started 2 tasks that cannot join one MPI job" "$work/singleton-$t.out" ||
    { cat "$work/singleton-$t.out"; fail "task $t did not name the singleton problem"; }
done
echo "ok: singletons refused"

# 4. srun with fewer tasks than domains (3 domains, 2 tasks of one MPI job): every task
#    exits 1 (recorded per task by tests/faults/rank_fate.py) and the job says why.
fates=$work/fewer-tasks-fates
if srun --mpi=pmix --ntasks=2 --output="$work/fewer-tasks-%t.out" /usr/bin/python3 "$repo/tests/faults/rank_fate.py" \
     "$fates" "$bin" train --config "$work/run.ini" --rounds 1 \
     --domain "$repo/data/quotes" --domain "$repo/data/language" --domain "$repo/data/software"; then
  fail "3 domains trained on 2 tasks"
fi
grep -q "this run has 3 domains (.*) but 2 MPI ranks" "$work"/fewer-tasks-*.out ||
  { cat "$work"/fewer-tasks-*.out; fail "the world-size message is missing"; }
for t in 0 1; do
  [ "$(cut -d' ' -f3- "$fates/rank-$t" 2>/dev/null)" = "exit 1" ] || fail "task $t: $(cat "$fates/rank-$t" 2>/dev/null || echo 'no record')"
done
echo "ok: srun with fewer tasks than domains refused on every task"
echo "ok: slurm sweep test passed"
