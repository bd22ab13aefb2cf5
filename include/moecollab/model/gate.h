// The gating network (paper eq. 2): g = softmax(W_g h) over E experts.
// `forward` returns the logits W_g h; losses take log-softmax of them, which
// is the numerically stable way to get log g.
#pragma once

#include <torch/torch.h>

#include <cstdint>

namespace moecollab {

class GateImpl : public torch::nn::Module {
 public:
  GateImpl(std::int64_t hidden, std::int64_t experts);
  // h: b×d. Returns b×E gate logits; the routing weights g are their softmax.
  torch::Tensor forward(const torch::Tensor& h);
  std::int64_t experts() const { return experts_; }

  torch::nn::Linear gate{nullptr};

 private:
  std::int64_t experts_;
};
TORCH_MODULE(Gate);

}  // namespace moecollab
