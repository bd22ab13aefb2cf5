// The gating network (paper eq. 2): g = softmax(W_g h) over E experts.
// `forward` returns the logits W_g h; losses take log-softmax of them, which
// is the numerically stable way to get log g. A noisy gate (Shazeer et al. 2017,
// --noisy-gate) also owns W_noise: in training its logits are
// W_g h + ε ⊙ softplus(W_noise h), ε ~ N(0, 1) drawn by the caller.
#pragma once

#include <torch/torch.h>

#include <cstdint>

namespace moecollab {

class GateImpl : public torch::nn::Module {
 public:
  GateImpl(std::int64_t hidden, std::int64_t experts, bool noisy = false);
  // h: b×d. Returns b×E gate logits; the routing weights g are their softmax.
  // `noise` (b×E standard normals, training only): the noisy logits; undefined: clean.
  // REQUIRES: a defined `noise` only for a noisy gate.
  torch::Tensor forward(const torch::Tensor& h, const torch::Tensor& noise = {});
  std::int64_t experts() const { return experts_; }
  bool noisy() const { return !noise.is_empty(); }

  torch::nn::Linear gate{nullptr};
  torch::nn::Linear noise{nullptr};  // W_noise, zero-initialised (noise std softplus(0) = 0.69 at first)

 private:
  std::int64_t experts_;
};
TORCH_MODULE(Gate);

}  // namespace moecollab
