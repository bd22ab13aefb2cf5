"""From a domain's candidates to its files: clean, deduplicate (by a case- and
punctuation-insensitive key), cap, split (by a hash of the text; near-duplicates
together), filter the unlabelled text against every domain's val and test texts,
write atomically, describe (SOURCE.md) and re-check."""

import hashlib
import json
import os
import tempfile
from collections import Counter, defaultdict

from .common import (CAP_PER_LABEL, MAX_CHARS, MIN_CHARS, MIN_TRAIN_PER_LABEL, SPLITS, UNLABELLED_CAP,
                     PrepareError, normalise, package_licence, sha256_hex)
from .dedup import NEAR_DUPLICATE_JACCARD, ShingleIndex, dedup_key, near_duplicate_groups

HELD_OUT = ("val", "test")


def split_digest(domain, text):
    return hashlib.sha256(f"split:{domain}:{text}".encode("utf-8")).digest()


def split_of(domain, text):
    bucket = int.from_bytes(split_digest(domain, text)[:8], "big") % 100
    return "train" if bucket < 80 else "val" if bucket < 90 else "test"


def by_key(texts):
    """{dedup_key: set of cleaned texts} over the texts at least MIN_CHARS long."""
    grouped = defaultdict(set)
    for text in texts:
        text = normalise(text)
        if len(text) >= MIN_CHARS:
            grouped[dedup_key(text)].add(text)
    return grouped


def dedupe_labelled(candidates):
    """One text per key (the smallest sha256(text)), by label; a key whose
    texts carry two labels is dropped. Returns (by_label, stats)."""
    texts_of, labels_of = defaultdict(set), defaultdict(set)
    for text, label in candidates:
        text = normalise(text)
        if len(text) >= MIN_CHARS:
            key = dedup_key(text)
            texts_of[key].add(text)
            labels_of[key].add(label)
    by_label, stats = defaultdict(list), {"key_duplicates": 0, "ambiguous": 0}
    for key, labels in labels_of.items():
        if len(labels) == 1:
            by_label[next(iter(labels))].append(min(texts_of[key], key=sha256_hex))
            stats["key_duplicates"] += len(texts_of[key]) - 1
        else:
            stats["ambiguous"] += len(texts_of[key])
    return by_label, stats


def assign_splits(domain, texts):
    """{text: split}: each text's own hash decides, except that every group of
    near-duplicates goes to the split of its member with the smallest sha256(text)."""
    split = {text: split_of(domain, text) for text in texts}
    groups = near_duplicate_groups(sorted(texts, key=sha256_hex))
    moved = 0
    for group in groups:
        target = split_of(domain, min(group, key=sha256_hex))
        moved += sum(split[text] != target for text in group)
        split.update(dict.fromkeys(group, target))
    return split, {"groups": len(groups), "grouped": sum(map(len, groups)), "moved": moved,
                   "largest_group": max(map(len, groups), default=0)}


def select_examples(domain, candidates):
    """Clean, filter, deduplicate by key, cap per label and split the candidates.
    Returns (splits, stats)."""
    by_label, stats = dedupe_labelled(candidates)
    stats["available"] = {label: len(texts) for label, texts in by_label.items()}
    kept = {text: label for label, texts in by_label.items()
            for text in sorted(texts, key=sha256_hex)[:CAP_PER_LABEL]}
    split, stats["near_duplicates"] = assign_splits(domain, kept)
    splits = {s: [] for s in SPLITS}
    for text, label in kept.items():
        splits[split[text]].append({"text": text, "label": label})
    for s in SPLITS:
        splits[s].sort(key=lambda ex: split_digest(domain, ex["text"]))
    return splits, stats


def unlabelled_pool(candidates, extra, splits):
    """Every candidate and `extra` text, cleaned, one per key (the smallest
    sha256(text)), none sharing a key with a labelled text of any split."""
    labelled = {dedup_key(ex["text"]) for s in SPLITS for ex in splits[s]}
    grouped = by_key([text for text, _ in candidates] + list(extra))
    return sorted(min(texts, key=sha256_hex) for key, texts in grouped.items() if key not in labelled)


def filter_unlabelled(pool, held_out):
    """Drop the pool's texts that share a key with, or are near-duplicates of,
    a text in `held_out` (a ShingleIndex); sort by sha256(text) and cap.
    Returns (texts, number removed)."""
    kept = [text for text in pool if not held_out.matches(text)]
    return sorted(kept, key=sha256_hex)[:UNLABELLED_CAP], len(pool) - len(kept)


def write_atomic(path, content):
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + path.name + ".", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(content)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def jsonl(examples):
    return "".join(json.dumps(ex, ensure_ascii=False) + "\n" for ex in examples)


def counts_table(labels, splits):
    rows = ["| label | " + " | ".join(SPLITS) + " | total |",
            "|---|" + "---:|" * (len(SPLITS) + 1)]
    totals = Counter()
    for label in labels:
        n = [sum(ex["label"] == label for ex in splits[s]) for s in SPLITS]
        totals.update(dict(zip(SPLITS, n)))
        rows.append(f"| {label} | " + " | ".join(map(str, n)) + f" | {sum(n)} |")
    rows.append("| **all** | " + " | ".join(str(totals[s]) for s in SPLITS)
                + f" | {sum(totals.values())} |")
    return "\n".join(rows)


def source_md(domain, labels, splits, info, stats):
    lines = [f"# Domain `{domain}` ({len(labels)} labels)", "",
             "Built by `scripts/prepare-data`; do not edit by hand.", "", "## Source", ""]
    for pkg, version in info["packages"].items():
        lines.append(f"- `{pkg}` {version} — licence: {package_licence(pkg)}")
    lines += [f"- {extra}" for extra in info.get("other_sources", [])]
    near = stats["near_duplicates"]
    lines += ["", info["description"], "", "## Processing", "",
              f"Whitespace normalised to single spaces; texts shorter than {MIN_CHARS} "
              f"characters dropped; texts longer than {MAX_CHARS} characters cut at a word "
              "boundary.", "",
              "Duplicates: texts are compared by a key — the text lower-cased, Unicode "
              "punctuation (categories P*) removed, whitespace collapsed. Texts with the same "
              "key are kept once (the one with the smallest sha256(text)); here "
              f"{stats['key_duplicates']} texts were dropped that differ from a kept text of the "
              "same label only in case or punctuation (exact repeats not counted). A key whose "
              "texts carry two labels is dropped altogether "
              f"({stats['ambiguous']} distinct texts here).", "",
              f"Each label is capped at {CAP_PER_LABEL} examples: candidates sorted by "
              "sha256(text), first ones kept. Split: the first 8 bytes of "
              f"sha256(\"split:{domain}:\" + text) as a big-endian integer modulo 100: < 80 "
              "train, < 90 val, else test. Near-duplicates share a split: two kept texts "
              "whose keys' sets of word 3-grams (a key of fewer than 3 words: its set of words "
              f"as one item) have a Jaccard similarity of at least {NEAR_DUPLICATE_JACCARD} are "
              "linked, and each connected group goes to the split of its member with the "
              f"smallest sha256(text). Here {near['groups']} groups hold {near['grouped']} "
              f"texts (the largest {near['largest_group']}); {near['moved']} of them moved to "
              "another split than their own hash gives. Files are sorted by that hash.", "",
              "Candidates per label after filtering and deduplication (before the cap): "
              + ", ".join(f"{l} {stats['available'].get(l, 0)}" for l in labels) + ".", "",
              f"`unlabelled.txt` (one text per line, read only by `moecollab pretrain`): "
              f"{stats['unlabelled']} texts — {info['unlabelled_source']} — cleaned and "
              "deduplicated by key the same way, never sharing a key with a labelled text of "
              "any split. Because pre-training pools every domain's unlabelled text, texts "
              "that share a key with, or are near-duplicates (as above) of, a val or test "
              "text of any domain (" + ", ".join(stats["held_out_domains"]) + ") are removed: "
              f"{stats['unlabelled_removed']} here. The rest are sorted by sha256(text) and "
              f"capped at {UNLABELLED_CAP}.", ""]
    notes = info["notes"]
    if notes["legacy_decoded"] or notes["mojibake_repairs"]:
        lines += ["## Encoding repairs", ""]
        lines += [f"- decoded in legacy encoding: {n}" for n in notes["legacy_decoded"]]
        lines += [f"- mojibake sequences repaired: {n}" for n in notes["mojibake_repairs"]]
        lines.append("")
    lines += ["## Counts", "", counts_table(labels, splits), ""]
    return "\n".join(lines)


def check_domain(domain_dir, expected_labels):
    """Re-read a written domain and verify it; returns {split: count}."""
    domain = domain_dir.name
    labels = (domain_dir / "labels.txt").read_text(encoding="utf-8").splitlines()
    if len(labels) != expected_labels or len(set(labels)) != len(labels):
        raise PrepareError(f"{domain}: {len(labels)} labels, expected {expected_labels}")
    counts, per_split = {}, {}
    for s in SPLITS:
        per_split[s] = Counter()
        path = domain_dir / f"{s}.jsonl"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            ex = json.loads(line)
            if set(ex) != {"text", "label"} or ex["label"] not in labels:
                raise PrepareError(f"{path}:{number}: bad record {line[:80]!r}")
            per_split[s][ex["label"]] += 1
        counts[s] = sum(per_split[s].values())
    for label in labels:
        if per_split["train"][label] < MIN_TRAIN_PER_LABEL:
            raise PrepareError(f"{domain}: label {label!r} has only {per_split['train'][label]} "
                               f"training examples (need {MIN_TRAIN_PER_LABEL})")
    for s in ("val", "test"):
        missing = set(per_split[s]) - set(per_split["train"])
        if missing:
            raise PrepareError(f"{domain}: {s} labels missing from train: {sorted(missing)}")
    return counts


def prepare_domain(name, builder, n_labels, *args):
    """Build a domain's candidates and select its labelled splits; its unlabelled
    pool is filtered later (write_domain), against every domain's val and test."""
    candidates, info = builder(*args)
    splits, stats = select_examples(name, candidates)
    labels = sorted({ex["label"] for s in SPLITS for ex in splits[s]})
    if len(labels) != n_labels:
        raise PrepareError(f"{name}: got {len(labels)} labels, expected {n_labels}")
    pool = unlabelled_pool(candidates, info.get("unlabelled_extra", ()), splits)
    return {"name": name, "labels": labels, "splits": splits, "pool": pool, "info": info,
            "stats": stats}


def held_out_index(domains):
    """A ShingleIndex of the val and test texts of all the prepared domains."""
    return ShingleIndex(ex["text"] for d in domains for s in HELD_OUT for ex in d["splits"][s])


def write_domain(out, domain, held_out, held_out_domains):
    """Filter the domain's unlabelled pool against `held_out`, write its files,
    re-check them and print a summary line."""
    name, labels, splits = domain["name"], domain["labels"], domain["splits"]
    unlabelled, removed = filter_unlabelled(domain["pool"], held_out)
    stats = {**domain["stats"], "unlabelled": len(unlabelled), "unlabelled_removed": removed,
             "held_out_domains": held_out_domains}
    domain_dir = out / name
    for s in SPLITS:
        write_atomic(domain_dir / f"{s}.jsonl", jsonl(splits[s]))
    write_atomic(domain_dir / "labels.txt", "".join(l + "\n" for l in labels))
    write_atomic(domain_dir / "unlabelled.txt", "".join(t + "\n" for t in unlabelled))
    write_atomic(domain_dir / "SOURCE.md", source_md(name, labels, splits, domain["info"], stats))
    counts = check_domain(domain_dir, len(labels))
    near = stats["near_duplicates"]
    print(f"prepare-data: {name:<9} labels={len(labels):<3} train={counts['train']:<5} "
          f"val={counts['val']:<4} test={counts['test']:<4} unlabelled={len(unlabelled):<6} "
          f"(key duplicates {stats['key_duplicates']}, near-duplicate groups {near['groups']} "
          f"moving {near['moved']}, unlabelled removed {removed})")


def build_domains(out, specs):
    """Prepare every domain, then write each, its unlabelled text filtered
    against all of them. `specs`: (name, builder, number of labels, builder args)."""
    domains = [prepare_domain(name, builder, n_labels, *args)
               for name, builder, n_labels, args in specs]
    held_out = held_out_index(domains)
    for domain in domains:
        write_domain(out, domain, held_out, [d["name"] for d in domains])
