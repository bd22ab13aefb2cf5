#!/usr/bin/python3
"""experiments/moecollab_log.py spells the same file formats (name and version) and run-directory
file names as include/moecollab/io/run_dir.h and src/io/run_dir.cpp, the C++ owners.

usage: python_formats.py REPO
"""
import os
import re
import sys

repo = sys.argv[1]
sys.path.insert(0, os.path.join(repo, "experiments"))
import moecollab_log  # noqa: E402

header = open(os.path.join(repo, "include/moecollab/io/run_dir.h")).read()
source = open(os.path.join(repo, "src/io/run_dir.cpp")).read()
cpp = {name: int(version) for name, version in re.findall(r'constexpr FileFormat k\w+\{"([^"]+)", (\d+),', header)}
python = dict(v for v in vars(moecollab_log).values() if isinstance(v, tuple) and len(v) == 2
              and isinstance(v[0], str) and v[0].startswith("moecollab-"))
bad = []
for name, version in python.items():
    if cpp.get(name) != version:
        bad.append(f"moecollab_log: {name} version {version}; run_dir.h: {cpp.get(name, 'no such format')}")
if not python:
    bad.append("moecollab_log names no format")
run = "/r"
# (the C++ literal, what it names in RUN_DIR = /r, the Python module's path)
names = [("log.h5", "/r/log.h5", moecollab_log.log_path(run)),
         ("final.json", "/r/final.json", moecollab_log.final_json_path(run)),
         ("checkpoints", "/r/checkpoints", os.path.dirname(moecollab_log.checkpoint_path(run, 7))),
         ("round-%06lld.h5", "/r/checkpoints/" + "round-%06d.h5" % 7, moecollab_log.checkpoint_path(run, 7))]
for literal, expected, path in names:
    if f'"{literal}"' not in header + source:
        bad.append(f"{literal!r} is no longer a name in run_dir.h / run_dir.cpp")
    elif path != expected:
        bad.append(f"moecollab_log spells {path}, run_dir.cpp {expected}")
print(f"{len(python)} formats and {len(names)} file names agree" if not bad else "\n".join(bad))
sys.exit(1 if bad else 0)
