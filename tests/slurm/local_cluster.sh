#!/usr/bin/env bash
# A throw-away single-node Slurm cluster for tests, in a directory of its own:
#   source tests/slurm/local_cluster.sh
#   cluster_start DIR      # munged, slurmctld, slurmd; exports SLURM_CONF; returns 77 with a reason if impossible
#   cluster_stop           # kills the three daemons by PID (also safe to call twice)
# Needs root (slurmd runs jobs as their user) and Debian's slurmctld, slurmd,
# slurm-client and munge (scripts/setup installs them). The node claims 8 CPUs
# (config_overrides), more than the machine has, so a 4-rank job fits on 2 cores.

CLUSTER_PIDS=()

cluster_skip() { echo "SKIPPED: cannot run a local Slurm cluster: $*" >&2; return 77; }

cluster_wait_for() {  # seconds, description, command...
  local seconds=$1 what=$2; shift 2
  local i
  for ((i = 0; i < seconds * 5; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  echo "local Slurm cluster: $what did not come up within $seconds s" >&2
  return 1
}

cluster_start() {
  local dir=$1
  [ "$(id -u)" -eq 0 ] || { cluster_skip "not root (slurmd must start jobs as their owner)"; return 77; }
  local tool
  for tool in munged mungekey slurmctld slurmd sbatch srun squeue scontrol; do
    command -v "$tool" >/dev/null || { cluster_skip "'$tool' not found (scripts/setup installs slurmctld slurmd slurm-client munge)"; return 77; }
  done
  mkdir -p "$dir"/{state,spool,log}
  chmod 700 "$dir"
  local host
  host=$(hostname -s)
  mungekey -c -k "$dir/munge.key" || return 1
  munged -F --force --socket="$dir/munge.socket" --key-file="$dir/munge.key" --log-file="$dir/log/munged.log" \
    --pid-file="$dir/munged.pid" --seed-file="$dir/munged.seed" &
  CLUSTER_PIDS+=($!)
  cluster_wait_for 10 munged test -S "$dir/munge.socket" || return 1
  # Ports away from a system Slurm's defaults (6817/6818), chosen per test directory.
  local base=$((20000 + $$ % 20000))
  cat > "$dir/slurm.conf" <<CONF
ClusterName=moecollab-test
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$base
SlurmdPort=$((base + 1))
SlurmUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge.socket
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
SlurmdParameters=config_overrides
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SchedulerParameters=defer_batch
MinJobAge=600
NodeName=$host NodeAddr=127.0.0.1 CPUs=8 State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
CONF
  export SLURM_CONF=$dir/slurm.conf
  slurmctld -D -i -f "$SLURM_CONF" &
  CLUSTER_PIDS+=($!)
  slurmd -D -f "$SLURM_CONF" -N "$host" &
  CLUSTER_PIDS+=($!)
  if ! cluster_wait_for 60 "the node" bash -c "sinfo -h -N -o %T | grep -Eq '^(idle|mixed|allocated)'"; then
    tail -n 20 "$dir"/log/*.log >&2
    return 1
  fi
  echo "local Slurm cluster up: $SLURM_CONF (daemons ${CLUSTER_PIDS[*]})"
}

cluster_stop() {
  local pid
  for pid in "${CLUSTER_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${CLUSTER_PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  CLUSTER_PIDS=()
}
