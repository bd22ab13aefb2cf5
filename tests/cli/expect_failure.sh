#!/usr/bin/env bash
# Runs a command that must fail: passes when it exits non-zero (not by a
# signal) and its stderr holds the expected text.
# Usage: expect_failure.sh 'expected text' command [args...]
set -u
expected=$1
shift
stderr=$("$@" 2>&1 >/dev/null)
rc=$?
if [ "$rc" -eq 0 ]; then echo "expected failure, got exit 0: $*"; exit 1; fi
if [ "$rc" -gt 128 ]; then echo "killed by signal $((rc - 128)): $*"; echo "$stderr"; exit 1; fi
case "$stderr" in
  *"$expected"*) echo "ok (exit $rc): $stderr"; exit 0;;
  *) echo "stderr lacks '$expected':"; echo "$stderr"; exit 1;;
esac
