"""Running the experiments behind experiments/results/RESULTS.md: every `moecollab` run that
experiments/reproduce needs (train under mpirun, train-local, pretrain, build-vocab, baseline,
predict, and the paper's design in Python), each cached under RUNS_DIR/NAME, and the metrics the
C++ wrote for them (final.json, `predict --scores`, `report --summary`, the logs through
moecollab_log). Nothing here renders: experiments/reproduce turns these results into Markdown
and figures.

A cached run is reused only when it was made from the same inputs: every run directory keeps
its run key in key.json (run_key: the git revision, the data stamp, the encoder, the vocabulary
and a hash of its command lines and experiments/demo.ini) and `Runs.cached` makes it again when
the key differs or is missing. The binary is $MOECOLLAB_BUILD_DIR/moecollab (default build/).
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time

import moecollab_log

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Absolute, so that every command (run from ROOT) and every script it starts (scripts/build,
# launch/demo: ENV passes it on) means the same build directory as the caller.
BUILD = os.path.abspath(os.environ.get("MOECOLLAB_BUILD_DIR", os.path.join(ROOT, "build")))
BIN = os.path.join(BUILD, "moecollab")
PY = "/usr/bin/python3"
CONFIG = "experiments/demo.ini"
DOMAINS = ["quotes", "language", "software", "lexicon"]
ENV = dict(os.environ, MOECOLLAB_BUILD_DIR=BUILD, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
# What a run's code is: the sources the binary is built from and these scripts (not their output).
SOURCES = ["src", "include", "CMakeLists.txt", "experiments", "benchmarks", ":(exclude)experiments/results"]
DATA_STAMP = "data/.prepared"  # written by scripts/prepare-data
KEY_FILE = "key.json"
# The routing studies (λ grid, ablations) compare routing options, not encoders: they run on the
# frozen encoder (features cached once per run), about 4x cheaper than a fine-tuned run.
FROZEN = ["--encoder-train", "none"]


def frozen(extra=()):
    """The first wave's model: the frozen encoder, and experts fixed in the gate phase (`--joint=false`,
    which the demo turns on) unless `extra` says otherwise."""
    joint = [] if any(a.startswith("--joint") for a in extra) else ["--joint=false"]
    return FROZEN + joint + list(extra)


def config_value(key, default):
    """The value of `key = value` in experiments/demo.ini (the last one), or `default`."""
    value = default
    with open(os.path.join(ROOT, CONFIG)) as f:
        for line in f:
            name, sep, rest = line.partition("=")
            if sep and name.strip() == key:
                value = rest.split("#")[0].strip()
    return value


def run(cmd, log=None, cwd=ROOT):
    """Runs `cmd` (exits on failure); its stdout then stderr go to `log`. Returns (stdout, seconds)."""
    started = time.time()
    out = subprocess.run(cmd, cwd=cwd, env=ENV, capture_output=True, text=True)
    if log:
        with open(log, "w") as f:
            f.write(out.stdout + out.stderr)
    if out.returncode != 0:
        sys.exit(f"{os.path.basename(sys.argv[0])}: failed ({out.returncode}): {' '.join(cmd)}\n{out.stdout[-3000:]}{out.stderr[-3000:]}")
    return out.stdout, time.time() - started


# ---- run keys -------------------------------------------------------------------------------
def sha256_file(path):
    """The sha256 of a file's content (hex), or "none" when there is no such file."""
    if not os.path.isfile(path):
        return "none"
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def git(root, *args):
    return subprocess.run(["git", "--no-optional-locks", *args], cwd=root, capture_output=True, check=True).stdout


def revision(root=ROOT):
    """`git rev-parse HEAD`, plus `+dirty-<12 hex>` where SOURCES have uncommitted changes: the sha256 of
    `git diff HEAD -- SOURCES` and of the untracked files there (name and content). "unknown" outside
    a git checkout (such keys are never reused)."""
    try:
        head = git(root, "rev-parse", "HEAD").decode().strip()
        diff = git(root, "diff", "HEAD", "--", *SOURCES)
        untracked = [n for n in git(root, "ls-files", "-z", "--others", "--exclude-standard", "--", *SOURCES)
                     .decode().split("\0") if n]
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    if not diff and not untracked:
        return head
    h = hashlib.sha256(diff)
    for name in sorted(untracked):
        h.update(f"\0{name}\0{sha256_file(os.path.join(root, name))}".encode())
    return f"{head}+dirty-{h.hexdigest()[:12]}"


def encoder_fingerprint(encoder, root=ROOT):
    """"random", or for `hf:DIR` the sha256 of DIR/model.safetensors and DIR/config.json."""
    if not encoder.startswith("hf:"):
        return encoder
    directory = os.path.join(root, encoder[3:])
    return hashlib.sha256("".join(sha256_file(os.path.join(directory, name))
                                  for name in ("model.safetensors", "config.json")).encode()).hexdigest()


def config_hash(cmds, root=ROOT):
    """The sha256 of a run's exact command lines and of experiments/demo.ini (which they may read)."""
    h = hashlib.sha256(json.dumps(cmds).encode())
    with open(os.path.join(root, CONFIG), "rb") as f:
        h.update(f.read())
    return h.hexdigest()


def invocation_inputs(root=ROOT):
    """What every run of one invocation shares: the code's revision and the data stamp (taken once, so
    that one invocation's runs and its header agree)."""
    return {"revision": revision(root), "data": sha256_file(os.path.join(root, DATA_STAMP))}


def run_key(inputs, cmds, encoder, vocab, root=ROOT):
    """A cached run's key: `inputs` (invocation_inputs), its encoder, its vocabulary file's sha256 and
    the hash of its command lines (config_hash)."""
    return dict(inputs, encoder=encoder_fingerprint(encoder, root), vocab=sha256_file(os.path.join(root, vocab)),
                config=config_hash(cmds, root))


def read_key_file(directory):
    """DIRECTORY/key.json as written by Runs.cached ({} when missing or unreadable)."""
    try:
        with open(os.path.join(directory, KEY_FILE)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


class Runs:
    """The runs of one reproduction, under OUT/runs: the demo's schedule and encoder, or (smoke) a tiny
    schedule on the random encoder. Every run goes through `cached`, which reuses a run only when its
    key matches (`fresh`: only when made in this invocation). Wall times of the runs (this invocation's,
    or what a reused run took when it was made) are in `timings` and `pretrain_timings`, and every run
    this invocation reports is in `made`: {directory: (reused, seconds)}."""

    def __init__(self, out, smoke, fresh=False, root=ROOT):
        self.smoke = smoke
        self.fresh = fresh
        self.root = root
        self.out = out
        self.runs = os.path.join(out, "runs")
        # The demo's schedule (experiments/demo.ini), or a tiny one.
        self.rounds, self.local, self.gate = (2, 10, 5) if smoke else (
            int(config_value("rounds", "8")), int(config_value("local-steps", "100")), int(config_value("gate-steps", "50")))
        # The demo's encoder, pre-trained here as launch/demo does (reproduce: runs.pretrained("encoder")).
        self.encoder = "random"
        # How the demo fine-tunes the encoder; the pooled baseline is trained the same way.
        self.encoder_train = config_value("encoder-train", "none")
        self.encoder_lr = config_value("encoder-lr", "0.0001")
        self.tuning = ["--encoder-train", self.encoder_train, "--encoder-lr", self.encoder_lr,
                       "--length-buckets", config_value("length-buckets", "0")]
        self.vocab = "data/vocab.txt"
        self.inputs = invocation_inputs(root)
        self.timings = {}
        self.pretrain_timings = {}
        self.made = {}
        self.keys = {}  # directory: the key it was asked for with in this invocation

    def schedule(self):
        return ["--rounds", str(self.rounds), "--local-steps", str(self.local), "--gate-steps", str(self.gate)]

    def key(self, cmds, encoder="random", vocab=None):
        """The run key of `cmds` on `encoder`; the vocabulary is `vocab`, else the encoder's (hf:DIR/vocab.txt,
        or self.vocab for the random encoder)."""
        if vocab is None:
            vocab = os.path.join(encoder[3:], "vocab.txt") if encoder.startswith("hf:") else self.vocab
        return run_key(self.inputs, cmds, encoder, vocab, self.root)

    def cached(self, directory, cmds, encoder="random", vocab=None, make=None):
        """The one door to a cached run: DIRECTORY is reused when its key.json holds the key this invocation
        gives it (self.key) and, with `fresh`, only when made in this invocation. Otherwise it is deleted and
        made again: the commands `cmds` in turn (command i's output in stdout.txt, stdout-i.txt), or
        `make(DIRECTORY)` for work done here in Python (`cmds` then names it), and key.json is written last,
        so a run cut short has none and is made again. One directory is one run: asking for it again in the
        same invocation with another key is an error. Returns the wall seconds it took when it was made."""
        key = self.key(cmds, encoder, vocab)
        if self.keys.setdefault(directory, key) != key:
            sys.exit(f"{os.path.basename(sys.argv[0])}: {directory} is asked for by two different runs:\n"
                     f"{json.dumps(cmds)}\nand the one in {KEY_FILE}; give them different names")
        stored = read_key_file(directory)
        reuse = (stored.get("key") == key and not key["revision"].startswith("unknown")
                 and not (self.fresh and directory not in self.made))
        if reuse:
            seconds = stored["seconds"]
        else:
            shutil.rmtree(directory, ignore_errors=True)
            os.makedirs(directory)
            started = time.time()
            if make:
                make(directory)
            else:
                for i, cmd in enumerate(cmds):
                    run(cmd, os.path.join(directory, f"stdout-{i}.txt" if i else "stdout.txt"), self.root)
            seconds = time.time() - started
            with open(os.path.join(directory, KEY_FILE), "w") as f:
                json.dump({"key": key, "seconds": round(seconds, 1), "made": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                           "command": cmds}, f, indent=1)
            print(f"  {os.path.basename(directory)}: {seconds:.0f} s", flush=True)
        self.made.setdefault(directory, (reuse, seconds))
        return seconds

    def moe(self, name, seed, extra=(), encoder=None, rounds=None, local=False):
        """A federated run (4 ranks; `local`: the same training in one process, `train-local`, for
        what the federated exchange refuses); returns (final.json, run dir). Its wall time is in self.timings."""
        run_dir = os.path.join(self.runs, name)
        encoder = encoder or self.encoder
        schedule = self.schedule()
        if rounds:
            schedule[1] = str(rounds)
        launch = [BIN, "train-local"] if local else ["mpirun", "--oversubscribe", "-np", str(len(DOMAINS)), BIN, "train"]
        cmd = launch + ["--config", CONFIG,
               "--encoder", encoder, "--seed", str(seed), "--run-dir", run_dir, "--test",
               "--checkpoint-every", "0", "--keep-checkpoints", "1", "--log-routing", "0"] + schedule
        if encoder == "random" and "--vocab" not in extra:
            cmd += ["--vocab", self.vocab]
        self.timings[name] = self.cached(run_dir, [cmd + list(extra)], encoder)
        with open(moecollab_log.final_json_path(run_dir)) as f:
            return json.load(f), run_dir

    def pooled_data(self):
        """One domain with every domain's texts, labels 'domain:label' (the union of label spaces), and
        each domain's test texts so labelled (test-DOMAIN.jsonl), to score the pooled model per domain."""
        pooled = os.path.join(self.out, "pooled")
        self.cached(pooled, [["pooled_data"] + DOMAINS], make=self.write_pooled_data)
        return pooled

    def write_pooled_data(self, pooled):
        labels = set()
        for split in ("train", "val", "test"):
            rows = {}
            for d in DOMAINS:
                with open(os.path.join(self.root, "data", d, f"{split}.jsonl")) as f:
                    rows[d] = [dict(r, label=f"{d}:{r['label']}") for r in map(json.loads, f)]
                labels.update(r["label"] for r in rows[d])
            files = {f"{split}.jsonl": sum(rows.values(), [])}
            if split == "test":
                files.update({f"test-{d}.jsonl": rows[d] for d in DOMAINS})
            for name, content in files.items():
                with open(os.path.join(pooled, name), "w") as out:
                    out.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in content)
        with open(os.path.join(pooled, "labels.txt"), "w") as f:
            f.write("\n".join(sorted(labels)) + "\n")

    def baseline(self, seed):
        """One dense model (encoder + one adapter + one head over the union of labels) on the pooled
        data, with as many optimizer steps as the mixture takes in all (E experts' local steps + gate
        steps per round). Evaluated per domain on its test split, argmax over that domain's labels
        (the mixture is scored the same way, by `moecollab predict`, answering among the domain's own
        labels). Returns {domain: (accuracy, macro-F1)}."""
        name = f"baseline-seed{seed}"
        run_dir = os.path.join(self.runs, name)
        steps = len(DOMAINS) * self.local + self.gate
        ckpt = moecollab_log.checkpoint_path(run_dir, self.rounds)
        pooled = self.pooled_data()
        cmds = [[BIN, "train-local", "--domain", pooled, "--encoder", self.encoder, "--seed", str(seed),
                 "--rounds", str(self.rounds), "--local-steps", str(steps), "--gate-steps", "0",
                 "--batch-size", "32", "--max-length", "64", "--run-dir", run_dir, "--keep-checkpoints", "1"
                 ] + self.tuning + (["--vocab", self.vocab] if self.encoder == "random" else [])]
        for d in DOMAINS:
            cmds.append([BIN, "predict", "--checkpoint", ckpt, "--input", os.path.join(pooled, f"test-{d}.jsonl"),
                         "--within-labels", f"{d}:", "--scores", os.path.join(run_dir, f"scores-{d}.json"),
                         "--out", os.path.join(run_dir, f"predict-{d}.jsonl")])
        self.timings[name] = self.cached(run_dir, cmds, self.encoder)
        result = {}
        for d in DOMAINS:
            with open(os.path.join(run_dir, f"scores-{d}.json")) as f:
                scores = json.load(f)
            result[d] = (scores["accuracy"], scores["macro_f1"])
        return result

    def bag_of_words(self):
        """`moecollab baseline` on the same splits: {(domain, model): (test acc, test F1, chosen)}; deterministic."""
        directory = os.path.join(self.runs, "bag-of-words")
        path = os.path.join(directory, "baseline.json")
        cmd = [BIN, "baseline", "--test", "--out", path]
        for d in DOMAINS:
            cmd += ["--domain", os.path.join(self.root, "data", d)]
        self.cached(directory, [cmd])
        with open(path) as f:
            rows = json.load(f)["domains"]
        return {(r["domain"], r["model"]): (r["test_accuracy"], r["test_macro_f1"], r["chosen"]) for r in rows}

    def pretrained(self, name, extra=(), vocab=None):
        """An encoder pre-trained federatedly as the demo's (`moecollab pretrain --config demo.ini`, 4 ranks)
        with `extra` options on top, into runs/NAME; returns its `hf:` spec. Its wall time is in
        self.pretrain_timings[name]."""
        out = os.path.join(self.runs, name)
        cmd = ["mpirun", "--oversubscribe", "-np", str(len(DOMAINS)), BIN, "pretrain", "--config", CONFIG,
               "--out", out] + (["--vocab", vocab] if vocab else []) + list(extra)
        self.pretrain_timings[name] = self.cached(out, [cmd], vocab=vocab)
        return "hf:" + out

    def vocabulary(self, size):
        """A federatedly built vocabulary of `size` tokens (as the demo's, which has 8000): runs/vocab-SIZE/vocab.txt."""
        path = os.path.join(self.runs, f"vocab-{size}", "vocab.txt")
        self.cached(os.path.dirname(path), [["mpirun", "--oversubscribe", "-np", str(len(DOMAINS)), BIN, "build-vocab",
                                             "--config", CONFIG, "--federated", "--max-size", str(size), "--out", path]])
        return path

    def paper_reference(self, options):
        """Samples/s of benchmarks/reference/paper_reference.py (the paper's design in Python torch) with
        `options`; cached in runs/compute-paper (its last line of JSON, in stdout.txt)."""
        directory = os.path.join(self.runs, "compute-paper")
        self.cached(directory, [[PY, os.path.join(self.root, "benchmarks", "reference", "paper_reference.py")] + options])
        with open(os.path.join(directory, "stdout.txt")) as f:
            last = [line for line in f if line.startswith("{")][-1]
        return json.loads(last)["samples_per_s"]

    def timed_local(self, name, options):
        """A `train-local` run with `options` into runs/NAME, timed by its own log: returns (seconds spent in
        the local and gate phases plus the feature cache, its run dir)."""
        run_dir = os.path.join(self.runs, name)
        self.cached(run_dir, [[BIN, "train-local", "--run-dir", run_dir, "--checkpoint-every", "0",
                               "--keep-checkpoints", "1"] + options])
        seconds = moecollab_log.column_totals(moecollab_log.log_path(run_dir))
        cache = moecollab_log.read_final(run_dir).get("feature_cache_seconds", 0.0)
        return seconds["local_phase"] + seconds["gate_phase"] + cache, run_dir


def routing_stats(log_path):
    """The last round's validation routing and accuracy, and the run's bytes, as `moecollab report --summary`
    computes them (the definitions are in the utilization section's text)."""
    r = moecollab_log.summary(BIN, log_path, ENV)
    return {"utilization_rate": r["utilization_rate"], "balance": r["load_balance"],
            "specialization": r["specialization"], "val_mean_accuracy": r["mean_accuracy"],
            "megabytes": r["bytes_sent"] / 1e6}
