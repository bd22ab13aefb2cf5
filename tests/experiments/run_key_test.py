#!/usr/bin/python3
"""experiments/experiment_runs.py reuses a cached run only when its run key matches: the same
inputs reuse it; a changed command line, experiments/demo.ini, data stamp, encoder, vocabulary or
source revision, a missing key.json, or --fresh make it again. Runs tiny commands (/bin/sh) through
Runs.cached in a scratch git checkout; needs neither the C++ binary nor the data.

usage: run_key_test.py REPO
"""
import os
import shutil
import subprocess
import sys
import tempfile

repo = sys.argv[1]
sys.dont_write_bytecode = True  # leave no __pycache__ in the checkout
sys.path.insert(0, os.path.join(repo, "experiments"))
import experiment_runs  # noqa: E402
from experiment_runs import KEY_FILE, Runs  # noqa: E402

failures = []


def write(root, name, text):
    path = os.path.join(root, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def git(root, *args):
    subprocess.run(["git", "-c", "user.name=test", "-c", "user.email=test@example.org", *args], cwd=root,
                   check=True, capture_output=True)


def scratch_checkout(tmp):
    """A git checkout with what a run key reads: experiments/demo.ini, a source, data/.prepared, data/vocab.txt."""
    root = os.path.join(tmp, "repo")
    write(root, "experiments/demo.ini", "rounds = 4\n")
    write(root, "src/main.cpp", "int main() {}\n")
    write(root, ".gitignore", "/data/\n")
    write(root, "data/.prepared", '{"files": {"a": "1"}}\n')
    write(root, "data/vocab.txt", "[PAD]\n[UNK]\nword\n")
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "scratch")
    return root


def command(run_dir, counter, word):
    """A tiny run: leaves RUN_DIR/made.txt behind (a run made again must start from nothing), counts
    itself in COUNTER (outside the run) and has WORD on its command line."""
    return ["/bin/sh", "-c", f'echo made >> {run_dir}/made.txt; echo "$2" >> "$1"', "sh", counter, word]


def times_run(counter):
    """How often the test's command has run: the lines it appended to COUNTER."""
    if not os.path.exists(counter):
        return 0
    with open(counter) as f:
        return len(f.readlines())


def check(what, runs, directory, cmd, expect_reused, **kw):
    """One invocation's request for DIRECTORY: was it reused (expect_reused) or made again? The command
    (command()) appends a line to its counter each time it runs."""
    before = times_run(cmd[4])
    runs.cached(directory, [cmd], **kw)
    reused = times_run(cmd[4]) == before
    ok = reused == expect_reused and os.path.exists(os.path.join(directory, KEY_FILE))
    print(f"{'ok  ' if ok else 'FAIL'} {what}: {'reused' if reused else 'run'}")
    if not ok:
        failures.append(what)


def main():
    tmp = tempfile.mkdtemp(prefix="run-key-test-")
    try:
        root = scratch_checkout(tmp)
        out = os.path.join(tmp, "out")
        d = os.path.join(out, "runs", "echo")
        cmd = command(d, os.path.join(tmp, "count"), "once")
        again = command(d, os.path.join(tmp, "count"), "again")

        def invocation(fresh=False):
            return Runs(out, smoke=True, fresh=fresh, root=root)

        check("first run", invocation(), d, cmd, False)
        check("same inputs", invocation(), d, cmd, True)
        check("changed command line", invocation(), d, again, False)
        check("same again", invocation(), d, again, True)
        write(root, "experiments/demo.ini", "rounds = 5\n")
        check("changed experiments/demo.ini", invocation(), d, again, False)
        write(root, "data/.prepared", '{"files": {"a": "2"}}\n')
        check("changed data stamp", invocation(), d, again, False)
        write(root, "data/vocab.txt", "[PAD]\n[UNK]\nother\n")
        check("changed vocabulary", invocation(), d, again, False)
        write(root, "src/main.cpp", "int main() { return 0; }\n")
        check("uncommitted source change", invocation(), d, again, False)
        check("same dirty tree", invocation(), d, again, True)
        write(root, "src/new.cpp", "// untracked\n")
        check("untracked source", invocation(), d, again, False)
        os.remove(os.path.join(d, KEY_FILE))
        check("missing key file", invocation(), d, again, False)
        runs = invocation(fresh=True)
        check("--fresh", runs, d, again, False)
        check("--fresh, asked again in the same invocation", runs, d, again, True)
        try:  # one directory, two different runs in one invocation: an error, not a silent overwrite
            runs.cached(d, [cmd])
            failures.append("two runs with different keys shared a directory in one invocation")
            print("FAIL two runs with different keys shared a directory in one invocation")
        except SystemExit:
            print("ok   two runs asking for one directory with different keys: refused")
        encoder = os.path.join(tmp, "encoder")
        for name, text in (("model.safetensors", "weights"), ("config.json", "{}"), ("vocab.txt", "[PAD]\n")):
            write(encoder, name, text)
        check("hf encoder", invocation(), d, cmd, False, encoder="hf:" + encoder)
        check("same hf encoder", invocation(), d, cmd, True, encoder="hf:" + encoder)
        write(encoder, "model.safetensors", "other weights")
        check("changed encoder weights", invocation(), d, cmd, False, encoder="hf:" + encoder)
        with open(os.path.join(d, "made.txt")) as f:
            if f.read() != "made\n":
                failures.append("a run made again did not start from an empty directory")
                print("FAIL a run made again kept the old run's files")
        key = invocation().key([cmd])
        if not key["revision"].split("+dirty-")[0] or "+dirty-" not in key["revision"]:
            failures.append(f"revision {key['revision']!r}: no +dirty- for a changed checkout")
        if experiment_runs.encoder_fingerprint("random") != "random":
            failures.append("the random encoder's fingerprint is not 'random'")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{len(failures)} failures" if failures else "run keys: every case as expected")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
