#!/usr/bin/python3
"""Checks that scripts/prepare-data wrote exactly the files it is expected to write.

tests/data/prepared-data.json is the stamp (data/.prepared) that prepare-data left
when the expected output was last fixed on purpose: the inputs (package versions, a
hash of `apt-cache dumpavail`) and the sha256 of every file. For each domain whose
inputs on this machine equal the recorded ones, every file's checksum must match
(byte-identical output); a domain whose inputs differ is reported as not compared.
Exit 77 (CTest: skipped) when no domain could be compared. Regenerate the expected
stamp only when the data is meant to change: cp data/.prepared tests/data/prepared-data.json

usage: prepared_data_identical.py EXPECTED.json ACTUAL.json (data/.prepared)
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from prepare_data import language, lexicon, quotes, software  # noqa: E402


def inputs_differ(domain, expected, actual):
    """Why `domain`'s inputs here differ from the expected ones, or None."""
    if domain is software and expected["apt_dumpavail_sha256"] != actual["apt_dumpavail_sha256"]:
        return "the apt lists differ"
    for pkg in domain.PACKAGES:
        if expected["packages"].get(pkg) != actual["packages"].get(pkg):
            return f"{pkg} {actual['packages'].get(pkg)} here, {expected['packages'].get(pkg)} expected"
    return None


def main(expected_path, actual_path):
    expected = json.loads(Path(expected_path).read_text(encoding="utf-8"))
    actual = json.loads(Path(actual_path).read_text(encoding="utf-8"))
    compared, failures = 0, []
    for domain in (quotes, language, lexicon, software):
        reason = inputs_differ(domain, expected, actual)
        if reason:
            print(f"{domain.NAME}: not compared ({reason})")
            continue
        names = sorted(f for f in set(expected["files"]) | set(actual["files"])
                       if f.startswith(domain.NAME + "/"))
        wrong = [f for f in names if expected["files"].get(f) != actual["files"].get(f)]
        failures += [f"{f}: sha256 {actual['files'].get(f)}, expected {expected['files'].get(f)}"
                     for f in wrong]
        print(f"{domain.NAME}: {len(names) - len(wrong)} of {len(names)} files identical")
        compared += 1
    if failures:
        print("prepare-data's output changed:\n  " + "\n  ".join(failures))
        return 1
    if not compared:
        print("skipped: no domain's inputs match the expected stamp's")
        return 77
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
