#!/usr/bin/env bash
# Bad Hugging Face directories give one clear error each: a pickle-only
# directory is refused (never unpickled), a missing tensor and a wrong shape
# are listed by name, a size that is no integer is named.
# Usage: bad_directories.sh MOECOLLAB BERT_DIR WORK_DIR
set -uo pipefail
bin=$1 bert=$2 work=$3
fail=$(dirname "$0")/../cli/expect_failure.sh
rm -rf "$work" && mkdir -p "$work"
status=0
cp -r "$bert" "$work/pickle" && mv "$work/pickle/model.safetensors" "$work/pickle/pytorch_model.bin"
"$fail" "has pytorch_model.bin but no model.safetensors; a pickle can execute code" \
  "$bin" encode --encoder "hf:$work/pickle" --text x || status=1
cp -r "$bert" "$work/deeper" && sed -i 's/"num_hidden_layers": 2/"num_hidden_layers": 3/' "$work/deeper/config.json"
"$fail" "missing: encoder.layer.2.attention.self.query.weight" \
  "$bin" encode --encoder "hf:$work/deeper" --text x || status=1
cp -r "$bert" "$work/wider" && sed -i 's/"intermediate_size": 37/"intermediate_size": 40/' "$work/wider/config.json"
"$fail" "wrong shape: encoder.layer.0.intermediate.dense.weight [37, 32] (expected [40, 32])" \
  "$bin" encode --encoder "hf:$work/wider" --text x || status=1
cp -r "$bert" "$work/gelu" && sed -i 's/"hidden_act": "gelu"/"hidden_act": "swish"/' "$work/gelu/config.json"
"$fail" "hidden_act 'swish' is not supported" "$bin" encode --encoder "hf:$work/gelu" --text x || status=1
cp -r "$bert" "$work/float" && sed -i 's/"hidden_size": [0-9]*/"hidden_size": 1e300/' "$work/float/config.json"
"$fail" "field 'hidden_size' must be an integer, not 1e+300" "$bin" encode --encoder "hf:$work/float" --text x || status=1
exit $status
