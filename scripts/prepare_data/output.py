"""From a domain's candidates to its files: clean, deduplicate, cap, split
(by a hash of the text), write atomically, describe (SOURCE.md) and re-check."""

import hashlib
import json
import os
import tempfile
from collections import Counter, defaultdict

from .common import (CAP_PER_LABEL, MAX_CHARS, MIN_CHARS, MIN_TRAIN_PER_LABEL, SPLITS, UNLABELLED_CAP,
                     PrepareError, normalise, package_licence, sha256_hex)


def split_digest(domain, text):
    return hashlib.sha256(f"split:{domain}:{text}".encode("utf-8")).digest()


def split_of(domain, text):
    bucket = int.from_bytes(split_digest(domain, text)[:8], "big") % 100
    return "train" if bucket < 80 else "val" if bucket < 90 else "test"


def select_examples(domain, candidates, extra=()):
    """Clean, filter, deduplicate, cap per label and split the candidates.
    Also returns the unlabelled texts: every other candidate and `extra` text,
    cleaned, deduplicated and never equal to a labelled one (of any split)."""
    labels_of = defaultdict(set)
    for text, label in candidates:
        text = normalise(text)
        if len(text) >= MIN_CHARS:
            labels_of[text].add(label)
    by_label = defaultdict(list)
    ambiguous = 0
    for text, labels in labels_of.items():
        if len(labels) == 1:
            by_label[next(iter(labels))].append(text)
        else:
            ambiguous += 1
    available = {label: len(texts) for label, texts in by_label.items()}
    splits = {s: [] for s in SPLITS}
    for label, texts in by_label.items():
        for text in sorted(texts, key=sha256_hex)[:CAP_PER_LABEL]:
            splits[split_of(domain, text)].append({"text": text, "label": label})
    for s in SPLITS:
        splits[s].sort(key=lambda ex: split_digest(domain, ex["text"]))
    labelled = {ex["text"] for s in SPLITS for ex in splits[s]}
    pool = {normalise(t) for t in [text for text, _ in candidates] + list(extra)}
    unlabelled = sorted((t for t in pool if len(t) >= MIN_CHARS and t not in labelled),
                        key=sha256_hex)[:UNLABELLED_CAP]
    return splits, unlabelled, {"available": available, "ambiguous": ambiguous,
                                "unlabelled": len(unlabelled)}


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
    lines += ["", info["description"], "", "## Processing", "",
              f"Whitespace normalised to single spaces; texts shorter than {MIN_CHARS} "
              f"characters dropped; texts longer than {MAX_CHARS} characters cut at a word "
              "boundary; duplicate texts kept once, and dropped when they carry two labels "
              f"({stats['ambiguous']} dropped here). Each label is capped at {CAP_PER_LABEL} "
              "examples: candidates sorted by sha256(text), first ones kept. Split: the first "
              f"8 bytes of sha256(\"split:{domain}:\" + text) as a big-endian integer modulo "
              "100: < 80 train, < 90 val, else test. Files are sorted by that hash.", "",
              "Candidates per label after filtering and deduplication (before the cap): "
              + ", ".join(f"{l} {stats['available'].get(l, 0)}" for l in labels) + ".", "",
              f"`unlabelled.txt` (one text per line, read only by `moecollab pretrain`): "
              f"{stats['unlabelled']} texts — {info['unlabelled_source']} — cleaned the same "
              "way, deduplicated, never equal to a labelled text of any split, sorted by "
              f"sha256(text) and capped at {UNLABELLED_CAP}.", ""]
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


def build_domain(out, name, builder, n_labels, *args):
    candidates, info = builder(*args)
    splits, unlabelled, stats = select_examples(name, candidates, info.get("unlabelled_extra", ()))
    labels = sorted({ex["label"] for s in SPLITS for ex in splits[s]})
    if len(labels) != n_labels:
        raise PrepareError(f"{name}: got {len(labels)} labels, expected {n_labels}")
    domain_dir = out / name
    for s in SPLITS:
        write_atomic(domain_dir / f"{s}.jsonl", jsonl(splits[s]))
    write_atomic(domain_dir / "labels.txt", "".join(l + "\n" for l in labels))
    write_atomic(domain_dir / "unlabelled.txt", "".join(t + "\n" for t in unlabelled))
    write_atomic(domain_dir / "SOURCE.md", source_md(name, labels, splits, info, stats))
    counts = check_domain(domain_dir, n_labels)
    print(f"prepare-data: {name:<9} labels={n_labels:<3} train={counts['train']:<5} "
          f"val={counts['val']:<4} test={counts['test']:<4} unlabelled={len(unlabelled)}")
