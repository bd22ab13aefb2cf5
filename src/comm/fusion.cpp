#include "moecollab/comm/fusion.h"

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

void assign_gradients(const std::vector<torch::Tensor>& parameters, const torch::Tensor& flat) {
  std::int64_t offset = 0;
  for (const auto& p : parameters) {
    if (offset + p.numel() > flat.numel()) throw Error("assign_gradients: buffer smaller than the parameters");
    auto slice = flat.narrow(0, offset, p.numel()).view(p.sizes());
    if (p.grad().defined()) p.mutable_grad().copy_(slice);
    else p.mutable_grad() = slice.clone();
    offset += p.numel();
  }
  if (offset != flat.numel()) throw Error("assign_gradients: buffer larger than the parameters");
}

}  // namespace moecollab
