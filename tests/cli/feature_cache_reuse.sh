#!/usr/bin/env bash
# The on-disk feature cache end to end (--feature-cache-dir), 4 real ranks on the
# bundled data with the frozen encoder: the first run encodes and keeps one file
# per domain; the second reads them (its feature-cache time a fraction of the
# first's) and trains to exactly the same result; train-local finds the same
# files; a damaged file is named in a warning on its rank, encoded again and
# replaced, with the result unchanged.
set -euo pipefail
bin=$1 mpiexec=$2 vocab=$3 work=$4
rm -rf "$work"
mkdir -p "$work"
cache="$work/cache"
domains=(--domain data/quotes --domain data/language --domain data/software --domain data/lexicon)
common=(--vocab "$vocab" --rounds 1 --local-steps 5 --gate-steps 5 --checkpoint-every 0 --log-routing 0
  --feature-cache-dir "$cache" "${domains[@]}")
fail() { echo "FAILED: $*" >&2; exit 1; }

train() {  # NAME: a 4-rank run into $work/NAME; stdout to NAME.out, stderr to NAME.err
  "$mpiexec" --oversubscribe -np 4 "$bin" train "${common[@]}" --run-dir "$work/$1" >"$work/$1.out" 2>"$work/$1.err" ||
    { cat "$work/$1.out" "$work/$1.err"; fail "run $1 exited non-zero"; }
  cat "$work/$1.out"
}

train first
grep -q "encoded and kept in $cache" "$work/first.out" || fail "the first run did not report keeping its features"
files=$(find "$cache" -name '*.h5' | wc -l)
[ "$files" -eq 4 ] || fail "expected 4 cache files (one per rank's domain), found $files"
[ -z "$(find "$cache" -name '*.tmp*')" ] || fail "temporary files left in $cache"

train second
grep -q "read from $cache" "$work/second.out" || fail "the second run did not read the cache"

"$bin" train-local "${common[@]}" --run-dir "$work/local" >"$work/local.out" || fail "train-local exited non-zero"
grep -q "4 of 4 read from $cache" "$work/local.out" || { cat "$work/local.out"; fail "train-local did not read all 4"; }

victim=$(find "$cache" -name '*.h5' | sort | head -1)
printf 'damaged' >"$victim"
train third
grep -q "warning: rank [0-3]: feature cache $victim not used (.*): encoding again" "$work/third.err" ||
  { cat "$work/third.err"; fail "no warning naming the damaged file"; }
/usr/bin/python3 -c "import h5py, sys; h5py.File(sys.argv[1], 'r')" "$victim" || fail "the damaged file was not replaced"

/usr/bin/python3 - "$work" <<'PY'
import json, os, sys
work = sys.argv[1]
final = {n: json.load(open(os.path.join(work, n, "final.json"))) for n in ("first", "second", "third")}
bad = []
for n in ("second", "third"):
    for a, b in zip(final["first"]["domains"], final[n]["domains"]):
        if a != b:
            bad.append(f"{n} run's {b['domain']} differs from the first: {b} against {a}")
first_s, second_s = final["first"]["feature_cache_seconds"], final["second"]["feature_cache_seconds"]
if not second_s < first_s / 5:
    bad.append(f"reading the cache took {second_s:.3f} s against {first_s:.3f} s encoding (not under a fifth)")
if bad:
    sys.exit("FAILED: " + "; ".join(bad))
print(f"feature cache: encoded in {first_s:.2f} s, read in {second_s:.3f} s; the same result from both")
PY
