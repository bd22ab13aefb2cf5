// Tensors by path-like names, the unit every stored or exchanged state is made
// of: "parameters/<name>", "adam/exp_avg/<name>", "adam/exp_avg_sq/<name>",
// "adam/step/<name>" (a 0-dim int64) in trainer states and checkpoints, Hugging
// Face parameter names in safetensors files.
#pragma once

#include <torch/torch.h>

#include <map>
#include <string>

namespace moecollab {

using NamedTensors = std::map<std::string, torch::Tensor>;

}  // namespace moecollab
