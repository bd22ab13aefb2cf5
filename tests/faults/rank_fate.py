#!/usr/bin/python3
"""Runs one process (an MPI rank, or a lone process) and records how it ended.

usage: rank_fate.py FATE_DIR COMMAND [ARGS...]

Launched by mpirun in place of the rank (`mpirun -np 4 rank_fate.py DIR moecollab train ...`),
it runs COMMAND, then writes FATE_DIR/rank-R: "R SIZE exit CODE" or "R SIZE signal N" (R and
SIZE from Open MPI's OMPI_COMM_WORLD_RANK/SIZE, or Slurm's SLURM_PROCID/NTASKS under srun;
0 and 1 outside both). mpirun's own exit
status hides every rank but the first to end (a rank dying of SIGSEGV while the others exit 1
gives mpirun 1 and no word of the signal); these files say what became of each.

A rank that ended waits (at most GRACE seconds) until every rank of the job has written its
file before it exits itself: otherwise mpirun, seeing the first non-zero exit, would kill the
ranks still on their way out and their fate would read "signal 15" for mpirun's doing.
A SIGTERM/SIGINT to this wrapper is passed on to COMMAND.
"""
import os
import signal
import subprocess
import sys
import time

# Scaled where an instrumented build runs slower (scripts/sanitize sets MOECOLLAB_TEST_TIMEOUT_SCALE).
GRACE = 15.0 * float(os.environ.get("MOECOLLAB_TEST_TIMEOUT_SCALE", "1"))


def main():
    fate_dir, command = sys.argv[1], sys.argv[2:]
    env = os.environ
    rank = int(env.get("OMPI_COMM_WORLD_RANK", env.get("SLURM_PROCID", "0")))
    size = int(env.get("OMPI_COMM_WORLD_SIZE", env.get("SLURM_NTASKS", "1")))
    os.makedirs(fate_dir, exist_ok=True)
    child = subprocess.Popen(command)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda number, _frame: child.send_signal(number))
    while True:
        try:
            code = child.wait()
            break
        except InterruptedError:
            continue
    fate = f"signal {-code}" if code < 0 else f"exit {code}"
    tmp = os.path.join(fate_dir, f".rank-{rank}.tmp")
    with open(tmp, "w") as f:
        f.write(f"{rank} {size} {fate}\n")
    os.replace(tmp, os.path.join(fate_dir, f"rank-{rank}"))
    deadline = time.monotonic() + GRACE
    while time.monotonic() < deadline:
        if sum(name.startswith("rank-") for name in os.listdir(fate_dir)) >= size:
            break
        time.sleep(0.05)
    sys.exit(128 - code if code < 0 else code)


if __name__ == "__main__":
    main()
