#!/usr/bin/env bash
# `predict` on a domain's validation split must reproduce the run's own
# evaluation of the last round (the MoE accuracy and macro-F1 in the run log,
# read by `report --csv`, and `report --summary` must agree with it too);
# `--within-labels` answers only among the labels with that prefix.
# Usage: predict_matches_eval.sh MOECOLLAB RUN_DIR DOMAIN_DIR DOMAIN
set -euo pipefail
bin=$1 run=$2 data=$3 domain=$4
ckpt=$(ls "$run"/checkpoints/round-*.h5 | sort | tail -n 1)
got=$("$bin" predict --checkpoint "$ckpt" --input "$data/val.jsonl" --domain "$domain" -o "$run/predictions.jsonl" \
      --scores "$run/scores.json" 2>&1 | sed -n 's/^predict: accuracy \([0-9.]*\) on.*/\1/p')
"$bin" report --csv "$run/log.h5" > "$run/report.csv"
"$bin" report --summary "$run/log.h5" > "$run/summary.json"
first=$(head -c 1 "$data/labels.txt")
"$bin" predict --checkpoint "$ckpt" --input "$data/val.jsonl" --domain "$domain" --within-labels "$first" \
  -o "$run/predictions-within.jsonl" --scores "$run/scores-within.json" 2>/dev/null
if "$bin" predict --checkpoint "$ckpt" --text "a text" --domain "$domain" --within-labels "#none#" 2> "$run/within.err"; then
  echo "--within-labels with a prefix no label has was accepted"; exit 1
fi
grep -q "no label of the answering expert starts with it" "$run/within.err"
echo "predict accuracy $got ($ckpt)"
/usr/bin/python3 - "$got" "$run" "$domain" "$data" "$first" <<'PY'
import csv, json, sys
got, run, domain, data, first = float(sys.argv[1]), *sys.argv[2:]
row = list(csv.DictReader(open(f"{run}/report.csv")))[-1]
want_acc, want_f1 = float(row[f"moe_acc_{domain}"]), float(row[f"moe_f1_{domain}"])
scores, summary = json.load(open(f"{run}/scores.json")), json.load(open(f"{run}/summary.json"))
print(f"run log: accuracy {want_acc}, macro-F1 {want_f1}; predict --scores: {scores}")
checks = [("stderr accuracy", got, want_acc), ("--scores accuracy", scores["accuracy"], want_acc),
          ("--scores macro-F1", scores["macro_f1"], want_f1),
          ("report --summary accuracy", summary["moe_accuracy"][summary["domains"].index(domain)], want_acc)]
bad = [f"{what}: {a} against the run log's {b}" for what, a, b in checks if abs(a - b) > 1e-5]
# --within-labels: every answer starts with the prefix; accuracy = the share of such true labels
answers = [json.loads(line) for line in open(f"{run}/predictions-within.jsonl")]
allowed = [l for l in open(f"{data}/labels.txt").read().split() if l.startswith(first)]
if any(a["label"] not in allowed for a in answers):
    bad.append(f"--within-labels {first}: an answer outside {allowed}")
within = json.load(open(f"{run}/scores-within.json"))
if len(allowed) == 1:
    share = sum(a["true_label"] in allowed for a in answers) / len(answers)
    if abs(within["accuracy"] - share) > 1e-9:
        bad.append(f"--within-labels {first}: accuracy {within['accuracy']}, expected {share}")
sys.exit("predict disagrees with the run's evaluation:\n  " + "\n  ".join(bad) if bad else 0)
PY
