#!/usr/bin/env bash
# Runs a command that must succeed: passes when it exits 0 and its output
# (stdout and stderr) holds every expected text, each matched as a grep -E pattern.
# Usage: expect_output.sh PATTERN... -- command [args...]
set -u
patterns=()
while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do patterns+=("$1"); shift; done
shift
output=$("$@" 2>&1)
rc=$?
echo "$output"
if [ "$rc" -ne 0 ]; then echo "FAILED: exit $rc: $*"; exit 1; fi
for p in "${patterns[@]}"; do
  if ! grep -Eq -- "$p" <<<"$output"; then echo "FAILED: output lacks /$p/"; exit 1; fi
done
