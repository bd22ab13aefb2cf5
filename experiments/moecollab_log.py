"""Reading MoECollab's files from Python: run logs, pre-training logs, sweep summaries,
checkpoints and final.json (h5py; runs on Debian's /usr/bin/python3 with python3-h5py).

The Python twin of include/moecollab/io/run_dir.h: the one place the scripts spell a run
directory's file names and the files' formats (the CTest `unit.python_formats` checks that the
two agree). Metrics the C++ computes (macro-F1, the routing statistics) are not recomputed
here: `summary()` asks `moecollab report --summary`.
"""

import json
import os
import subprocess

import h5py

# /@format of each file kind (name, version), as in include/moecollab/io/run_dir.h.
RUN_LOG = ("moecollab-run-log", 1)
PRETRAIN_LOG = ("moecollab-pretrain-log", 1)
CHECKPOINT = ("moecollab-checkpoint", 2)
EXPERT_PACKAGE = ("moecollab-expert-package", 2)
SWEEP_SUMMARY = ("moecollab-sweep-summary", 1)
KINDS = {RUN_LOG[0]: "run log", PRETRAIN_LOG[0]: "pre-training log", CHECKPOINT[0]: "checkpoint",
         EXPERT_PACKAGE[0]: "expert package", SWEEP_SUMMARY[0]: "sweep summary"}


# ---- file names -----------------------------------------------------------------------------
def log_path(run_dir):
    """RUN_DIR/log.h5: the run log of a run that started at round 1."""
    return os.path.join(run_dir, "log.h5")


def final_json_path(run_dir):
    return os.path.join(run_dir, "final.json")


def checkpoint_path(run_dir, round_number):
    return os.path.join(run_dir, "checkpoints", f"round-{round_number:06d}.h5")


def pretrain_log_path(encoder_dir):
    return os.path.join(encoder_dir, "pretrain-log.h5")


# ---- reading ----------------------------------------------------------------------------------
class FormatError(SystemExit):
    """A file that is not the kind the caller asked for (exits with the message)."""


def open_file(path, expected):
    """`path` opened read-only (SWMR: a log still being written works too), after checking its
    /@format and /@format_version against `expected` (one of the tuples above)."""
    try:
        f = h5py.File(path, "r", swmr=True)
    except OSError as e:
        raise FormatError(f"{path}: cannot open as HDF5 ({e})")
    fmt = f.attrs.get("format")
    fmt = fmt.decode() if isinstance(fmt, bytes) else fmt
    if fmt != expected[0]:
        f.close()
        found = f"a MoECollab {KINDS[fmt]}" if fmt in KINDS else "not a MoECollab file"
        raise FormatError(f"{path}: {found}, where a {KINDS[expected[0]]} was expected")
    version = int(f.attrs.get("format_version", -1))
    if version != expected[1]:
        f.close()
        raise FormatError(f"{path}: {KINDS[expected[0]]} format version {version}; this script reads {expected[1]}")
    return f


def file_format(path):
    """The /@format of an HDF5 file (None when it has none)."""
    with h5py.File(path, "r", swmr=True) as f:
        fmt = f.attrs.get("format")
    return fmt.decode() if isinstance(fmt, bytes) else fmt


def strings(values):
    return [v.decode() if isinstance(v, bytes) else str(v) for v in values]


def columns(dataset):
    """The names of a 2-D dataset's columns (its `columns` attribute)."""
    return strings(dataset.attrs["columns"])


def column(dataset, name):
    """One named column of a 2-D dataset (e.g. rounds/seconds, "gate_phase"), over rounds."""
    return dataset[:, columns(dataset).index(name)]


def column_totals(log, dataset="rounds/seconds"):
    """{column name: total over rounds} of a run log's 2-D dataset (a path, or an open file)."""
    if isinstance(log, str):
        with open_file(log, RUN_LOG) as f:
            return column_totals(f, dataset)
    d = log[dataset]
    return {c: float(d[:, i].sum()) for i, c in enumerate(columns(d))}


def read_rounds(log, names):
    """{name: array over rounds} of the /rounds datasets `names` of a run log (a path, or an open
    file), cut to the rounds every one has (a round being appended may be partial), plus "domains"."""
    if isinstance(log, str):
        with open_file(log, RUN_LOG) as f:
            return read_rounds(f, names)
    data = {name: log["rounds"][name][()] for name in names}
    n = min(len(v) for v in data.values())
    data = {k: v[:n] for k, v in data.items()}
    data["domains"] = strings(log.attrs["domains"])
    return data


def read_final(run_dir):
    """RUN_DIR/final.json: the last evaluation (per domain), as a dict."""
    with open(final_json_path(run_dir)) as f:
        return json.load(f)


def model_config(path):
    """The model a checkpoint or expert package describes (/model, see docs/hdf5-layout.md), as
    {field: value}: numbers and strings as stored, lists as Python lists."""
    kind = EXPERT_PACKAGE if file_format(path) == EXPERT_PACKAGE[0] else CHECKPOINT
    with open_file(path, kind) as f:
        out = {}
        for name, value in f["model"].attrs.items():
            value = value.tolist() if hasattr(value, "tolist") else value
            if isinstance(value, list):
                value = [v.decode() if isinstance(v, bytes) else v for v in value]
            out[name] = value.decode() if isinstance(value, bytes) else value
        return out


def summary(binary, log, env=None):
    """The last round of a run log reduced as `moecollab sweep-summary` does (mean validation
    accuracy and macro-F1, load balance, utilization rate, specialization, KL of the load,
    total loss) plus the bytes and seconds of all its rounds: `moecollab report LOG --summary`."""
    out = subprocess.run([binary, "report", log, "--summary"], capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise SystemExit(f"moecollab report {log} --summary failed: {out.stderr.strip()}")
    return json.loads(out.stdout)
