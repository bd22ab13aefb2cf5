#include "moecollab/train/fusion.h"

#include "moecollab/util/error.h"

namespace moecollab {

torch::Tensor flatten_gradients(const std::vector<torch::Tensor>& parameters) {
  std::vector<torch::Tensor> parts;
  parts.reserve(parameters.size());
  for (const auto& p : parameters) {
    parts.push_back(p.grad().defined() ? p.grad().reshape(-1) : torch::zeros({p.numel()}, p.options()));
  }
  return torch::cat(parts);
}

torch::Tensor flatten_parameters(const torch::nn::Module& module) {
  std::vector<torch::Tensor> parts;
  for (const auto& p : module.parameters()) parts.push_back(p.detach().reshape(-1));
  return torch::cat(parts);
}

}  // namespace moecollab
