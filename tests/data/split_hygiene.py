#!/usr/bin/python3
"""Checks that no evaluation text of the prepared data leaks into text a model trains on.

For every domain in DATA_DIR (a directory per domain holding train/val/test.jsonl and
unlabelled.txt, as scripts/prepare-data writes them), every val and test text must have
no duplicate and no near-duplicate
  - in that domain's train.jsonl,
  - in the other evaluation split of that domain (val against test),
  - in ANY domain's unlabelled.txt (pre-training pools all domains' unlabelled text).
Two texts are duplicates when their keys are equal: lower-cased, Unicode punctuation
(categories P*) removed, whitespace collapsed. They are near-duplicates when the Jaccard
similarity of their keys' word 3-gram sets is at least 0.5; a key of fewer than 3 words
has one shingle, its set of words.

This is deliberately written apart from scripts/prepare_data (which removes such pairs)
so that it checks the output rather than repeating the code. It compares exact shingle
sets: an inverted index finds the texts that share a shingle, and each candidate pair's
Jaccard similarity is computed in full.

Prints what it checked; on failure exits 1 and lists the first 10 offending pairs.

usage: split_hygiene.py DATA_DIR
"""

import json
import sys
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

THRESHOLD = 0.5
SHOWN = 10


def key(text):
    """Lower-cased, punctuation removed, whitespace collapsed."""
    kept = "".join(c for c in text.lower() if not unicodedata.category(c).startswith("P"))
    return " ".join(kept.split())


def shingles(text_key):
    """Word 3-grams of a key; a key of fewer than 3 words is one shingle, its word set."""
    words = text_key.split()
    if len(words) < 3:
        return {frozenset(words)}
    return {tuple(words[i:i + 3]) for i in range(len(words) - 2)}


class Reference:
    """Texts indexed by key and by shingle, to look up a text's (near-)duplicates."""

    def __init__(self, texts):
        self.texts = list(texts)
        self.sets = [shingles(key(t)) for t in self.texts]
        self.by_key = defaultdict(list)
        self.postings = defaultdict(list)
        for i, text in enumerate(self.texts):
            self.by_key[key(text)].append(i)
            for s in self.sets[i]:
                self.postings[s].append(i)

    def matches(self, text):
        """(index, reason) for each duplicate or near-duplicate of `text`, by index."""
        found = {i: "same key" for i in self.by_key.get(key(text), ())}
        mine = shingles(key(text))
        shared = Counter(i for s in mine for i in self.postings.get(s, ()))
        for i, common in shared.items():
            jaccard = common / (len(mine) + len(self.sets[i]) - common)
            if i not in found and jaccard >= THRESHOLD:
                found[i] = f"3-gram Jaccard {jaccard:.2f}"
        return sorted(found.items())


def read_split(domain_dir, split):
    path = domain_dir / f"{split}.jsonl"
    return [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines()]


def read_unlabelled(domain_dir):
    return (domain_dir / "unlabelled.txt").read_text(encoding="utf-8").splitlines()


def short(text, width=90):
    return repr(text if len(text) <= width else text[:width - 3] + "...")


def main(data_dir):
    domains = sorted(p for p in Path(data_dir).iterdir() if (p / "train.jsonl").is_file())
    if not domains:
        print(f"no domain (a directory with train.jsonl) in {data_dir}")
        return 1
    splits = {d.name: {s: read_split(d, s) for s in ("train", "val", "test")} for d in domains}
    unlabelled = [(d.name, t) for d in domains for t in read_unlabelled(d)]
    pretraining = Reference(t for _, t in unlabelled)
    owner = [name for name, _ in unlabelled]
    bad = []
    for name, data in splits.items():
        train, test = Reference(data["train"]), Reference(data["test"])
        found = defaultdict(set)    # where -> the val/test texts with a match there
        for split in ("val", "test"):
            for text in data[split]:
                hits = [(f"{name}/train", train, i, r) for i, r in train.matches(text)]
                if split == "val":
                    hits += [(f"{name}/test", test, i, r) for i, r in test.matches(text)]
                hits += [(f"{owner[i]}/unlabelled", pretraining, i, r)
                         for i, r in pretraining.matches(text)]
                for where, ref, i, reason in hits:
                    found[where.split("/")[1]].add((split, text))
                    bad.append(f"{name}/{split} {short(text)}\n"
                               f"    ~ {where} {short(ref.texts[i])} ({reason})")
        print(f"{name}: {len(data['val'])} val + {len(data['test'])} test texts checked against "
              f"{len(data['train'])} train, val against test, and {len(unlabelled)} unlabelled "
              f"texts of {len(domains)} domains; val/test texts with a match in train: "
              f"{len(found['train'])}, val with a match in test: {len(found['test'])}, "
              f"with a match in unlabelled: {len(found['unlabelled'])}")
    if bad:
        print(f"FAIL: {len(bad)} pairs of a val/test text and a (near-)duplicate it must not "
              f"have; the first {SHOWN}:")
        print("\n".join("  " + b for b in bad[:SHOWN]))
        return 1
    print("ok: no val/test text has a duplicate or near-duplicate in train or any unlabelled.txt")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1]))
