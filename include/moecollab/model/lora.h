// Per-expert adaptation of the shared encoder (paper eq. 1 with Encoder_i):
// low-rank adapters (LoRA, Hu et al. 2021) on the attention and feed-forward
// projections of the encoder's top layer(s). An adapted projection computes
// W x + B A x with A (r×in, random) and B (out×r, zero at initialisation), so
// every expert starts from the shared encoder and learns only r·(in + out)
// numbers per projection; W stays shared and frozen. An expert owns its LoRA
// (model/expert.h), so it trains, saves and loads with the expert.
#pragma once

#include <torch/torch.h>

#include <cstdint>

namespace moecollab {

struct LoraConfig {
  std::int64_t rank = 0;    // r; 0: no LoRA, the expert reads the shared features
  std::int64_t layers = 1;  // how many of the encoder's top layers are adapted
  bool enabled() const { return rank > 0; }
};

// The low-rank update B A x of one projection (in -> out).
struct LoraLinearImpl : torch::nn::Module {
  LoraLinearImpl(std::int64_t in, std::int64_t out, std::int64_t rank);
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor A, B;
};
TORCH_MODULE(LoraLinear);

// One adapted transformer layer: the six projections of a BERT layer, named as they are.
struct LoraLayerImpl : torch::nn::Module {
  LoraLayerImpl(std::int64_t hidden, std::int64_t intermediate, std::int64_t rank);
  LoraLinear query{nullptr}, key{nullptr}, value{nullptr};
  LoraLinear attention_output{nullptr}, intermediate{nullptr}, output{nullptr};
};
TORCH_MODULE(LoraLayer);

// `x` through `linear`, plus `lora`'s update when there is one.
torch::Tensor with_lora(torch::nn::Linear& linear, LoraLinearImpl* lora, const torch::Tensor& x);

}  // namespace moecollab
