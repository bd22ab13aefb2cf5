#!/usr/bin/python3
"""The layering test (CTest `layering`): every `#include "moecollab/LAYER/..."` in include/ and src/
must point to the including file's own layer or to one below it, in the order docs/architecture.md
states on its line `Layer order: a < b, c < ...` (layers separated by `,` are side by side: neither
may include the other). Prints every include against the order, with file and line; exit 1 if any.
Usage: check_layers.py REPO"""
import os
import re
import sys


def layer_order(doc):
    for line in open(doc, encoding="utf-8"):
        m = re.match(r"^Layer order: `(.+)`\s*$", line.strip())
        if m:
            rank = {}
            for level, group in enumerate(m.group(1).split("<")):
                for name in group.split(","):
                    rank[name.strip()] = level
            return rank
    sys.exit(f"{doc}: no line 'Layer order: `a < b, c < ...`'")


def layer_of(repo, path):
    rel = os.path.relpath(path, repo).split(os.sep)
    if rel[0] == "include":
        return rel[2] if len(rel) > 3 else None  # include/moecollab/LAYER/x.h
    return rel[1] if len(rel) > 2 else None      # src/LAYER/x.cpp


def main():
    repo = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else ".")
    rank = layer_order(os.path.join(repo, "docs", "architecture.md"))
    include = re.compile(r'^\s*#\s*include\s+"moecollab/([a-z_]+)/')
    problems, files = [], 0
    for top in ("include", "src"):
        for root, _, names in os.walk(os.path.join(repo, top)):
            for name in sorted(names):
                if not name.endswith((".h", ".cpp")):
                    continue
                path = os.path.join(root, name)
                files += 1
                own = layer_of(repo, path)
                rel = os.path.relpath(path, repo)
                if own not in rank:
                    problems.append(f"{rel}: folder '{own}' is no layer of docs/architecture.md")
                    continue
                for number, line in enumerate(open(path, encoding="utf-8"), 1):
                    m = include.match(line)
                    if not m or m.group(1) == own:
                        continue
                    target = m.group(1)
                    if target not in rank:
                        problems.append(f"{rel}:{number}: includes '{target}', no layer of docs/architecture.md")
                    elif rank[target] >= rank[own]:
                        side = "beside" if rank[target] == rank[own] else "above"
                        problems.append(f"{rel}:{number}: {own} includes {target}, which is {side} it: "
                                        f"{line.strip()}")
    for p in problems:
        print(p)
    print(f"layering: {files} files, {len(problems)} includes against the layer order")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
