"""Running the experiments behind experiments/results/RESULTS.md: every `moecollab` run that
experiments/reproduce needs (train under mpirun, train-local, pretrain, build-vocab, baseline,
predict, and the paper's design in Python), each cached under RUNS_DIR/NAME, and the metrics the
C++ wrote for them (final.json, `predict --scores`, `report --summary`, the logs through
moecollab_log). Nothing here renders: experiments/reproduce turns these results into Markdown
and figures.
"""
import json
import os
import shutil
import subprocess
import sys
import time

import moecollab_log

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(os.environ.get("MOECOLLAB_BUILD_DIR", os.path.join(ROOT, "build")), "moecollab")
PY = "/usr/bin/python3"
CONFIG = "experiments/demo.ini"
DOMAINS = ["quotes", "language", "software", "lexicon"]
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
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


def run(cmd, log=None):
    started = time.time()
    out = subprocess.run(cmd, cwd=ROOT, env=ENV, capture_output=True, text=True)
    if log:
        with open(log, "w") as f:
            f.write(out.stdout + out.stderr)
    if out.returncode != 0:
        sys.exit(f"{os.path.basename(sys.argv[0])}: failed ({out.returncode}): {' '.join(cmd)}\n{out.stdout[-3000:]}{out.stderr[-3000:]}")
    return out.stdout, time.time() - started



class Runs:
    """The runs of one reproduction, under OUT/runs: the demo's schedule and encoder, or (smoke) a tiny
    schedule on the random encoder. Wall times of the runs are collected in `timings` and
    `pretrain_timings` (this invocation's, or what a cached run took then)."""

    def __init__(self, out, smoke):
        self.smoke = smoke
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
        self.timings = {}
        self.pretrain_timings = {}

    def schedule(self):
        return ["--rounds", str(self.rounds), "--local-steps", str(self.local), "--gate-steps", str(self.gate)]

    def moe(self, name, seed, extra=(), encoder=None, rounds=None, local=False):
        """A federated run (4 ranks; `local`: the same training in one process, `train-local`, for
        what the federated exchange refuses); returns (final.json, run dir). Skips a run already done.
        Its wall time (this invocation's, or the one it left in seconds.txt) is in self.timings."""
        run_dir = os.path.join(self.runs, name)
        final = moecollab_log.final_json_path(run_dir)
        if not os.path.exists(final):
            shutil.rmtree(run_dir, ignore_errors=True)
            os.makedirs(run_dir)
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
            _, seconds = run(cmd + list(extra), os.path.join(run_dir, "stdout.txt"))
            with open(os.path.join(run_dir, "seconds.txt"), "w") as f:
                f.write(f"{seconds:.1f}\n")
            print(f"  {name}: {seconds:.0f} s", flush=True)
        with open(os.path.join(run_dir, "seconds.txt")) as f:
            self.timings[name] = float(f.read())
        with open(final) as f:
            return json.load(f), run_dir

    def pooled_data(self):
        """One domain with every domain's texts, labels 'domain:label' (the union of label spaces), and
        each domain's test texts so labelled (test-DOMAIN.jsonl), to score the pooled model per domain."""
        pooled = os.path.join(self.out, "pooled")
        made = ["labels.txt", "train.jsonl", "val.jsonl", "test.jsonl"] + [f"test-{d}.jsonl" for d in DOMAINS]
        if all(os.path.exists(os.path.join(pooled, name)) for name in made):
            return pooled
        os.makedirs(pooled, exist_ok=True)
        labels = set()
        for split in ("train", "val", "test"):
            rows = {}
            for d in DOMAINS:
                with open(os.path.join(ROOT, "data", d, f"{split}.jsonl")) as f:
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
        return pooled

    def baseline(self, seed):
        """One dense model (encoder + one adapter + one head over the union of labels) on the pooled
        data, with as many optimizer steps as the mixture takes in all (E experts' local steps + gate
        steps per round). Evaluated per domain on its test split, argmax over that domain's labels
        (the mixture is scored the same way). Returns {domain: (accuracy, macro-F1)}."""
        name = f"baseline-seed{seed}"
        run_dir = os.path.join(self.runs, name)
        steps = len(DOMAINS) * self.local + self.gate
        ckpt = moecollab_log.checkpoint_path(run_dir, self.rounds)
        if not os.path.exists(ckpt):
            shutil.rmtree(run_dir, ignore_errors=True)
            os.makedirs(run_dir)
            cmd = [BIN, "train-local", "--domain", self.pooled_data(), "--encoder", self.encoder, "--seed", str(seed),
                   "--rounds", str(self.rounds), "--local-steps", str(steps), "--gate-steps", "0",
                   "--batch-size", "32", "--max-length", "64", "--run-dir", run_dir, "--keep-checkpoints", "1"
                   ] + self.tuning
            if self.encoder == "random":
                cmd += ["--vocab", self.vocab]
            _, seconds = run(cmd, os.path.join(run_dir, "stdout.txt"))
            with open(os.path.join(run_dir, "seconds.txt"), "w") as f:
                f.write(f"{seconds:.1f}\n")
            print(f"  {name}: {seconds:.0f} s", flush=True)
        seconds_file = os.path.join(run_dir, "seconds.txt")
        if os.path.exists(seconds_file):
            with open(seconds_file) as f:
                self.timings[name] = float(f.read())
        result = {}
        for d in DOMAINS:  # scored by `moecollab predict`, answering among the domain's own labels
            scores_file = os.path.join(run_dir, f"scores-{d}.json")
            if not os.path.exists(scores_file):
                run([BIN, "predict", "--checkpoint", ckpt, "--input", os.path.join(self.pooled_data(), f"test-{d}.jsonl"),
                     "--within-labels", f"{d}:", "--scores", scores_file, "--out", os.path.join(run_dir, f"predict-{d}.jsonl")])
            with open(scores_file) as f:
                scores = json.load(f)
            result[d] = (scores["accuracy"], scores["macro_f1"])
        return result

    def bag_of_words(self):
        """`moecollab baseline` on the same splits: {(domain, model): (test acc, test F1, chosen)}; deterministic."""
        path = os.path.join(self.runs, "bag-of-words", "baseline.json")
        if not os.path.exists(path):
            os.makedirs(os.path.dirname(path), exist_ok=True)
            cmd = [BIN, "baseline", "--test", "--out", path]
            for d in DOMAINS:
                cmd += ["--domain", os.path.join(ROOT, "data", d)]
            _, seconds = run(cmd, os.path.join(os.path.dirname(path), "stdout.txt"))
            print(f"  bag-of-words: {seconds:.0f} s", flush=True)
        with open(path) as f:
            rows = json.load(f)["domains"]
        return {(r["domain"], r["model"]): (r["test_accuracy"], r["test_macro_f1"], r["chosen"]) for r in rows}

    def pretrained(self, name, extra=(), vocab=None):
        """An encoder pre-trained federatedly as the demo's (`moecollab pretrain --config demo.ini`, 4 ranks)
        with `extra` options on top, into runs/NAME; returns its `hf:` spec. Skipped when already there; its
        wall time is in self.pretrain_timings[name]."""
        out = os.path.join(self.runs, name)
        if not os.path.exists(os.path.join(out, "model.safetensors")):
            shutil.rmtree(out, ignore_errors=True)
            os.makedirs(self.runs, exist_ok=True)
            cmd = ["mpirun", "--oversubscribe", "-np", str(len(DOMAINS)), BIN, "pretrain", "--config", CONFIG,
                   "--out", out] + (["--vocab", vocab] if vocab else []) + list(extra)
            _, seconds = run(cmd, out + "-stdout.txt")
            with open(out + "-seconds.txt", "w") as f:
                f.write(f"{seconds:.1f}\n")
            print(f"  pre-training {name}: {seconds:.0f} s", flush=True)
        with open(out + "-seconds.txt") as f:
            self.pretrain_timings[name] = float(f.read())
        return "hf:" + out

    def vocabulary(self, size):
        """A federatedly built vocabulary of `size` tokens (as the demo's, which has 8000)."""
        path = os.path.join(self.runs, f"vocab-{size}.txt")
        if not os.path.exists(path):
            os.makedirs(self.runs, exist_ok=True)
            run(["mpirun", "--oversubscribe", "-np", str(len(DOMAINS)), BIN, "build-vocab", "--config", CONFIG,
                 "--federated", "--max-size", str(size), "--out", path])
        return path

    def paper_reference(self, options):
        """Samples/s of benchmarks/reference/paper_reference.py (the paper's design in Python torch) with
        `options`; cached in runs/compute-paper.json."""
        path = os.path.join(self.runs, "compute-paper.json")
        if not os.path.exists(path):
            out, _ = run([PY, os.path.join(ROOT, "benchmarks", "reference", "paper_reference.py")] + options)
            os.makedirs(self.runs, exist_ok=True)
            with open(path, "w") as f:
                f.write(out.strip().splitlines()[-1])
        with open(path) as f:
            return json.load(f)["samples_per_s"]

    def timed_local(self, name, options):
        """A `train-local` run with `options` into runs/NAME, timed by its own log: returns (seconds spent in
        the local and gate phases plus the feature cache, its run dir)."""
        run_dir = os.path.join(self.runs, name)
        if not os.path.exists(moecollab_log.final_json_path(run_dir)):
            shutil.rmtree(run_dir, ignore_errors=True)
            os.makedirs(run_dir)
            run([BIN, "train-local", "--run-dir", run_dir, "--checkpoint-every", "0", "--keep-checkpoints", "1"]
                + options, os.path.join(run_dir, "stdout.txt"))
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
