#!/usr/bin/env bash
# experiments/reproduce --smoke (tiny schedule, random encoder, 2 seeds): RESULTS.md
# must have every section, table row and figure, and no non-finite number.
# Usage: reproduce_smoke.sh REPO OUT_DIR
set -euo pipefail
repo=$1 out=$2
rm -rf "$out"
"$repo/experiments/reproduce" --smoke --no-setup --out "$out"
results=$out/RESULTS.md
fail() { echo "FAILED: $results: $*"; exit 1; }
for section in "## Table 1" "## Levers" "## Figure 2" "## Utilization" "## Compute" "## Ablations" "## Routing" "## Notes"; do
  grep -q "^$section" "$results" || fail "no section '$section'"
done
for domain in quotes language software lexicon; do
  grep -Eq "^\| $domain \| [0-9.]+ ± [0-9.]+ \|" "$results" || fail "Table 1 has no mean ± std row for $domain"
done
[ "$(grep -c '^| top-k\|^| λ\|^| balance per rank\|^| `--joint`\|^| default' "$results")" -ge 6 ] || fail "ablation rows missing"
[ "$(grep -c '^| top-[12]\|^| dense' "$results")" -ge 9 ] || fail "routing rows missing"
grep -q "^| frozen encoder" "$results" && grep -q "^| \*\*the demo's configuration\*\*" "$results" || fail "lever rows missing"
grep -q "^- Goals: the mixture ≥ the better bag-of-words model on every domain (test macro-F1): \(met\|missed\)" "$results" ||
  fail "no goals note"
if grep -Eiq '\bnan\b|\binf\b' "$results"; then fail "non-finite number"; fi
for png in utilization_over_rounds performance_over_rounds; do
  [ "$(head -c 4 "$out/figures/$png.png" | od -An -tx1 | tr -d ' \n')" = 89504e47 ] || fail "figure $png.png missing"
done
echo "ok: $results complete"
