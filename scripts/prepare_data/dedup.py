"""Duplicates and near-duplicates: a case- and punctuation-insensitive key,
word 3-gram shingles of the key, exact Jaccard similarity (candidates found by
prefix filtering, so not every pair is compared) and groups by union-find."""

import math
import sys
import unicodedata
from collections import Counter, defaultdict

NEAR_DUPLICATE_JACCARD = 0.5   # keys whose 3-gram sets are at least this similar
SHINGLE_WORDS = 3

_PUNCTUATION = None             # str.translate table deleting Unicode categories P*


def dedup_key(text):
    """The text lower-cased, Unicode punctuation removed, whitespace collapsed."""
    global _PUNCTUATION
    if _PUNCTUATION is None:
        _PUNCTUATION = dict.fromkeys(c for c in range(sys.maxunicode + 1)
                                     if unicodedata.category(chr(c)).startswith("P"))
    return " ".join(text.lower().translate(_PUNCTUATION).split())


def shingles(key):
    """Word 3-grams of a key; a key of fewer than 3 words is one shingle, its word set."""
    words = key.split()
    if len(words) < SHINGLE_WORDS:
        return frozenset([tuple(sorted(set(words)))])
    return frozenset(tuple(words[i:i + SHINGLE_WORDS])
                     for i in range(len(words) - SHINGLE_WORDS + 1))


def similar(a, b):
    """Jaccard(a, b) >= NEAR_DUPLICATE_JACCARD, for two shingle sets."""
    common = len(a & b)
    return common >= NEAR_DUPLICATE_JACCARD * (len(a) + len(b) - common)


class ShingleIndex:
    """Texts to look near-duplicates up in.

    Prefix filtering: with all shingles in one total order (rarest in the
    indexed texts first), two sets A and B with Jaccard >= t share a shingle
    among the first |A| - ceil(t|A|) + 1 of A and the first |B| - ceil(t|B|) + 1
    of B. Only those prefixes are indexed and probed; every candidate pair is
    then compared exactly, so no pair is missed and none is invented."""

    def __init__(self, texts):
        self.sets = [shingles(dedup_key(t)) for t in texts]
        self.frequency = Counter(s for shingle_set in self.sets for s in shingle_set)
        self.postings = defaultdict(list)
        for i, shingle_set in enumerate(self.sets):
            for s in self.prefix(shingle_set):
                self.postings[s].append(i)

    def prefix(self, shingle_set):
        ordered = sorted(shingle_set, key=lambda s: (self.frequency[s], s))
        n = len(ordered)
        return ordered[:n - math.ceil(NEAR_DUPLICATE_JACCARD * n) + 1]

    def matches(self, text):
        """Indices of the indexed texts that are near-duplicates of `text`
        (same key included: equal keys have equal shingle sets). Probing the
        indexed prefixes with all of the text's shingles (a superset of its
        prefix) finds every candidate without sorting the text's shingles."""
        mine = shingles(dedup_key(text))
        candidates = {i for s in mine for i in self.postings.get(s, ())}
        return sorted(i for i in candidates if similar(mine, self.sets[i]))

    def pairs(self):
        """Every pair (i, j), i < j, of indexed texts that are near-duplicates."""
        found = []
        for ids in self.postings.values():
            for x, i in enumerate(ids):
                found += [(i, j) for j in ids[x + 1:] if similar(self.sets[i], self.sets[j])]
        return sorted(set(found))


def near_duplicate_groups(texts):
    """Connected components (union-find) of the near-duplicate graph over
    `texts`, as lists of texts; only components of two or more are returned."""
    texts = list(texts)
    parent = list(range(len(texts)))

    def root(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in ShingleIndex(texts).pairs():
        parent[root(i)] = root(j)
    members = defaultdict(list)
    for i, text in enumerate(texts):
        members[root(i)].append(text)
    return [group for group in members.values() if len(group) > 1]
