#!/usr/bin/env bash
# A 16-site federation on this machine, both exchanges (experiments/scale --sizes 16):
# each run completes, both give the same validation accuracy (the same computation),
# each mode's measured bytes per round are within 10% of its formula, and the experts
# exchange sends fewer bytes than the features exchange at these sizes.
set -euo pipefail
repo=$1 work=$2 vocab=$3
out=$(/usr/bin/python3 "$repo/experiments/scale" --sizes 16 --work "$work" --vocab "$vocab")
echo "$out"
/usr/bin/python3 - "$out" <<'PY'
import json, sys
rows = {r["mode"]: r for r in (json.loads(l) for l in sys.argv[1].splitlines() if l.startswith("{"))}
bad = []
if set(rows) != {"features", "experts"}:
    bad.append(f"expected a run of each exchange, got {sorted(rows)}")
else:
    f, e = rows["features"], rows["experts"]
    if abs(f["val_accuracy"] - e["val_accuracy"]) > 1e-9:
        bad.append(f"validation accuracy differs: features {f['val_accuracy']}, experts {e['val_accuracy']}")
    for r in (f, e):
        if not 0.9 * r["formula_bytes"] <= r["bytes"] <= 1.1 * r["formula_bytes"]:
            bad.append(f"{r['mode']}: {r['bytes']} bytes measured, formula {r['formula_bytes']}")
        if r["ranks_reporting_rss"] != 16:
            bad.append(f"{r['mode']}: {r['ranks_reporting_rss']} ranks reported their memory, not 16")
    if e["bytes"] >= f["bytes"]:
        bad.append(f"experts sent {e['bytes']} bytes, not fewer than features' {f['bytes']}")
if bad:
    sys.exit("FAILED: " + "; ".join(bad))
print("scale 16: both exchanges agree")
PY
