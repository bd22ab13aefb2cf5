#include "moecollab/model/gate.h"

#include "moecollab/util/error.h"

namespace moecollab {

GateImpl::GateImpl(std::int64_t hidden, std::int64_t experts, bool noisy) : experts_(experts) {
  if (hidden <= 0 || experts <= 0) throw Error("gate: hidden size and expert count must be positive");
  gate = register_module("gate", torch::nn::Linear(hidden, experts));
  if (noisy) {
    noise = register_module("noise", torch::nn::Linear(torch::nn::LinearOptions(hidden, experts).bias(false)));
    torch::NoGradGuard no_grad;
    noise->weight.zero_();
  }
}

torch::Tensor GateImpl::forward(const torch::Tensor& h, const torch::Tensor& noise_draw) {
  auto logits = gate(h);
  if (!noise_draw.defined()) return logits;
  if (noise.is_empty()) throw Error("gate: noise given to a gate without W_noise (--noisy-gate)");
  return logits + noise_draw.to(logits.scalar_type()) * torch::softplus(noise(h));
}

}  // namespace moecollab
