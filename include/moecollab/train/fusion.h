// Tensor fusion (as Horovod does): the gradients of many parameters packed
// into one contiguous buffer, so that one all-reduce carries all of them (the
// trainers then read their slices back), and a module's values flattened for
// replica checks. Tensor work only: the all-reduce is the communicator's.
#pragma once

#include <torch/torch.h>

#include <vector>

namespace moecollab {

// The parameters' gradients, flattened and concatenated in order (zeros for a
// parameter without a gradient).
torch::Tensor flatten_gradients(const std::vector<torch::Tensor>& parameters);

// The module's parameter values, flattened and concatenated in order (a copy).
torch::Tensor flatten_parameters(const torch::nn::Module& module);

}  // namespace moecollab
