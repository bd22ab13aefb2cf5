// Tensor fusion (as Horovod does): the gradients of many parameters packed
// into one contiguous buffer so that one all-reduce carries all of them, and
// unpacked back into the parameters' .grad afterwards.
#pragma once

#include <torch/torch.h>

#include <vector>

namespace moecollab {

// The parameters' gradients, flattened and concatenated in order (zeros for a
// parameter without a gradient).
torch::Tensor flatten_gradients(const std::vector<torch::Tensor>& parameters);

// The module's parameter values, flattened and concatenated in order (a copy).
torch::Tensor flatten_parameters(const torch::nn::Module& module);

// Writes consecutive slices of `flat` into each parameter's .grad.
// REQUIRES: flat.numel() == total numel of the parameters.
void assign_gradients(const std::vector<torch::Tensor>& parameters, const torch::Tensor& flat);

}  // namespace moecollab
