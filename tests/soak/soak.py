#!/usr/bin/python3
"""Soak: many short federated rounds, checking that nothing grows with them.

usage: soak.py --bin BIN --config INI --vocab VOCAB --work DIR [--ranks 4] [--rounds 200]
               [--every 10] [--keep 3] [--at 20] [--tolerance 0.05] [-- TRAIN_OPTIONS...]

Runs `mpirun -np RANKS BIN train --config INI ...` for ROUNDS short rounds with a checkpoint
every EVERY rounds and --keep-checkpoints KEEP. Each rank runs under this script's sampler
(`soak.py --sample DIR -- COMMAND...`), which reads the rank's resident memory
(/proc/PID/statm) and its open file descriptors (/proc/PID/fd) every 5 ms. Rank 0's progress
lines, timed as they arrive, say which samples belong to which round: round N is the time
between the lines of rounds N-1 and N (its checkpoint, written after its line, falls in
round N+1). Then it checks, for every rank:
  - resident memory in round ROUNDS within TOLERANCE of round AT (peak of each round);
  - open file descriptors in round ROUNDS equal to those in round AT;
and that checkpoints/ holds exactly the KEEP newest checkpoints and nothing else (no
temporary file left behind). Prints a table of the numbers; exits 1 on any failed check.
"""
import argparse
import os
import re
import subprocess
import sys
import time

PERIOD = 0.005


def sample(out_dir, command):
    """Runs COMMAND (one MPI rank) and writes `time rss_kib fds` lines to OUT_DIR/rank-R.tsv."""
    rank = int(os.environ.get("OMPI_COMM_WORLD_RANK", "0"))
    os.makedirs(out_dir, exist_ok=True)
    page_kib = os.sysconf("SC_PAGE_SIZE") // 1024
    child = subprocess.Popen(command)
    with open(os.path.join(out_dir, f"rank-{rank}.tsv"), "w") as out:
        while child.poll() is None:
            try:
                with open(f"/proc/{child.pid}/statm") as f:
                    rss = int(f.read().split()[1]) * page_kib
                fds = len(os.listdir(f"/proc/{child.pid}/fd"))
            except (FileNotFoundError, ProcessLookupError):
                break  # ended between poll() and the read
            out.write(f"{time.monotonic():.6f} {rss} {fds}\n")
            time.sleep(PERIOD)
    return child.wait()


def read_samples(path):
    with open(path) as f:
        return [(float(t), int(rss), int(fds)) for t, rss, fds in (line.split() for line in f if line.strip())]


def in_round(samples, start, end):
    """The samples taken during a round; the last one before its end where it was too short."""
    inside = [s for s in samples if start <= s[0] <= end]
    if not inside:
        before = [s for s in samples if s[0] <= end]
        inside = before[-1:]
    if not inside:
        raise SystemExit(f"FAILED: no sample before t={end:.3f}")
    return inside


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--sample":
        return sample(sys.argv[2], sys.argv[4:] if sys.argv[3] == "--" else sys.argv[3:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    for name in ("bin", "config", "vocab", "work"):
        parser.add_argument("--" + name, required=True)
    parser.add_argument("--ranks", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--every", type=int, default=10)
    parser.add_argument("--keep", type=int, default=3)
    parser.add_argument("--at", type=int, default=20)
    parser.add_argument("--tolerance", type=float, default=0.05)
    parser.add_argument("extra", nargs="*", help="more `train` options (after --)")
    a = parser.parse_args()
    samples_dir = os.path.join(a.work, "samples")
    run_dir = os.path.join(a.work, "run")
    os.makedirs(samples_dir, exist_ok=True)
    for name in os.listdir(samples_dir):
        os.remove(os.path.join(samples_dir, name))
    command = ["mpirun", "--oversubscribe", "-np", str(a.ranks), sys.executable, os.path.abspath(__file__),
               "--sample", samples_dir, "--", a.bin, "train", "--config", a.config, "--vocab", a.vocab,
               "--rounds", str(a.rounds), "--run-dir", run_dir, "--overwrite", "--checkpoint-every",
               str(a.every), "--keep-checkpoints", str(a.keep)] + a.extra
    print("soak:", " ".join(command), flush=True)
    started = time.monotonic()
    line_at = {}
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as run:
        for line in run.stdout:
            m = re.match(r"round (\d+)/", line)
            if m:
                line_at[int(m.group(1))] = time.monotonic()
            if not m or int(m.group(1)) % 20 == 0 or int(m.group(1)) <= 2:
                print(line, end="", flush=True)
    if run.returncode != 0:
        raise SystemExit(f"FAILED: the run exited {run.returncode}")
    wall = time.monotonic() - started
    missing = [n for n in (a.at - 1, a.at, a.rounds - 1, a.rounds) if n not in line_at]
    if missing:
        raise SystemExit(f"FAILED: no progress line for round(s) {missing}")

    bad = []
    print(f"\n{a.rounds} rounds on {a.ranks} ranks in {wall:.0f} s; resident memory is each round's peak")
    print(f"rank | RSS round {a.at} (MiB) | RSS round {a.rounds} (MiB) | change | fds round {a.at} -> "
          f"{a.rounds} | fds min-max over the run")
    for rank in range(a.ranks):
        samples = read_samples(os.path.join(samples_dir, f"rank-{rank}.tsv"))
        early = in_round(samples, line_at[a.at - 1], line_at[a.at])
        late = in_round(samples, line_at[a.rounds - 1], line_at[a.rounds])
        rss_early, rss_late = max(s[1] for s in early), max(s[1] for s in late)
        fds_early, fds_late = max(s[2] for s in early), max(s[2] for s in late)
        change = rss_late / rss_early - 1
        fds_all = [s[2] for s in samples if line_at[1] <= s[0] <= line_at[a.rounds]]
        print(f"{rank} | {rss_early / 1024:.1f} | {rss_late / 1024:.1f} | {100 * change:+.2f}% | "
              f"{fds_early} -> {fds_late} | {min(fds_all)}-{max(fds_all)}")
        if abs(change) > a.tolerance:
            bad.append(f"rank {rank}: resident memory {rss_early} KiB in round {a.at}, {rss_late} KiB in round "
                       f"{a.rounds} ({100 * change:+.1f}%, more than {100 * a.tolerance:.0f}%)")
        if fds_late != fds_early:
            bad.append(f"rank {rank}: {fds_early} open file descriptors in round {a.at}, {fds_late} in round {a.rounds}")

    checkpoints = os.path.join(run_dir, "checkpoints")
    left = sorted(os.listdir(checkpoints))
    expected = [f"round-{n:06d}.h5" for n in range(a.rounds - (a.keep - 1) * a.every, a.rounds + 1, a.every)]
    print(f"checkpoints/ holds {left}")
    if left != expected:
        bad.append(f"checkpoints/ holds {left}, expected exactly {expected} (--keep-checkpoints {a.keep})")
    if bad:
        raise SystemExit("FAILED:\n  " + "\n  ".join(bad))
    print(f"soak: {a.rounds} rounds: memory within {100 * a.tolerance:.0f}% of round {a.at} on every rank, "
          f"file descriptors constant, {a.keep} checkpoints kept")
    return 0


if __name__ == "__main__":
    sys.exit(main())
