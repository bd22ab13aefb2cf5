// An expert (paper eq. 1): a bottleneck adapter and a classifier head on top
// of the shared encoder's features h:  a = ReLU(W_down h),  h' = h + W_up a,
// y = W_out h'. It holds the adapter and the head, and optionally its own LoRA
// of the shared encoder's top layers (model/lora.h); the encoder is shared.
// Parameter names follow the paper's code: down_project, up_project, classifier.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "moecollab/model/lora.h"

namespace moecollab {

struct ExpertConfig {
  std::int64_t hidden = 128;  // d, the encoder's hidden size
  std::int64_t adapter = 64;  // k, the adapter bottleneck
  std::int64_t classes = 2;   // c_i, the expert's own label count
  // Its own low-rank adaptation of the encoder's top layers (off by default);
  // `intermediate` is the encoder's feed-forward size, which LoRA needs.
  LoraConfig lora;
  std::int64_t intermediate = 0;
};

// Parameters of an expert without LoRA: adapter down (k·d + k) and up (d·k + d), head c·d + c.
std::int64_t expert_parameter_count(std::int64_t hidden, std::int64_t adapter, std::int64_t classes);

class ExpertImpl : public torch::nn::Module {
 public:
  explicit ExpertImpl(const ExpertConfig& config);
  // h: b×d features. Returns b×c_i logits.
  torch::Tensor forward(const torch::Tensor& h);
  // h' = h + W_up ReLU(W_down h), b×d.
  torch::Tensor adapt(const torch::Tensor& h);
  const ExpertConfig& config() const { return config_; }
  // Its LoRA layers, bottom to top of the adapted layers (empty without LoRA);
  // parameters `lora.<i>.<projection>.{A,B}`.
  const std::vector<LoraLayer>& lora() const { return lora_; }

  torch::nn::Linear down_project{nullptr}, up_project{nullptr}, classifier{nullptr};

 private:
  ExpertConfig config_;
  std::vector<LoraLayer> lora_;
};
TORCH_MODULE(Expert);

}  // namespace moecollab
