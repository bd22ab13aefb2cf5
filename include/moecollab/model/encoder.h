// The shared text encoder: a BERT-style transformer (token + position +
// segment embeddings, LayerNorm, N post-LN layers of multi-head self-attention
// and a GELU feed-forward block) that returns the hidden state of the first
// token ([CLS]) or, as an option, the mean over the text's tokens. Parameter names mirror Hugging Face BERT's
// (`embeddings.word_embeddings.weight`, `encoder.layer.0.attention.self.query.weight`,
// ...) so real checkpoints can be loaded by name. Frozen by default: experts
// and the gate train on its features; a run may fine-tune its top layers or all
// of it (--encoder-train), one shared replica per rank, never one per expert.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "moecollab/model/lora.h"

namespace moecollab {

struct EncoderConfig {
  std::int64_t vocab_size = 0;  // taken from the vocabulary
  std::int64_t hidden = 128;
  std::int64_t layers = 2;
  std::int64_t heads = 4;
  std::int64_t intermediate = 512;
  std::int64_t max_positions = 128;
  std::int64_t type_vocab = 2;
  double layer_norm_eps = 1e-12;
  double init_std = 0.02;         // BERT's initializer_range
  std::uint64_t seed = 20250318;  // weights of the randomly initialised default encoder
  // Which feature h the encoder returns: "cls", the first token's final hidden
  // state (BERT, the paper); or "mean", the mean of all non-padding tokens' states.
  // The default encoder is random and frozen: its CLS state carries almost
  // nothing of the text (BERT's 0.02 init makes attention near-uniform and the
  // CLS token's own embedding dominates; trained on it, experts stay at chance),
  // while the mean keeps a bag-of-tokens signal. Loaded BERTs with a pooler use "cls".
  std::string pooling = "mean";

  // Throws Error naming the field when the sizes are inconsistent.
  void validate() const;
};

struct BertSelfAttentionImpl : torch::nn::Module {
  BertSelfAttentionImpl(const EncoderConfig& c);
  // x: b×L×d, additive_mask: b×1×1×L (0 for tokens, -inf-like for padding).
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& additive_mask, LoraLayerImpl* lora = nullptr);
  torch::nn::Linear query{nullptr}, key{nullptr}, value{nullptr};
  std::int64_t heads;
};
TORCH_MODULE(BertSelfAttention);

// dense + residual + LayerNorm: BERT's "output" blocks after attention and FFN.
struct BertResidualOutputImpl : torch::nn::Module {
  BertResidualOutputImpl(std::int64_t in, std::int64_t out, double eps);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& residual, LoraLinearImpl* lora = nullptr);
  torch::nn::Linear dense{nullptr};
  torch::nn::LayerNorm LayerNorm{nullptr};
};
TORCH_MODULE(BertResidualOutput);

struct BertAttentionImpl : torch::nn::Module {
  BertAttentionImpl(const EncoderConfig& c);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& additive_mask, LoraLayerImpl* lora = nullptr);
  BertSelfAttention self{nullptr};
  BertResidualOutput output{nullptr};
};
TORCH_MODULE(BertAttention);

struct BertIntermediateImpl : torch::nn::Module {
  BertIntermediateImpl(const EncoderConfig& c);
  torch::Tensor forward(const torch::Tensor& x, LoraLinearImpl* lora = nullptr);
  torch::nn::Linear dense{nullptr};
};
TORCH_MODULE(BertIntermediate);

struct BertLayerImpl : torch::nn::Module {
  BertLayerImpl(const EncoderConfig& c);
  // `lora`: an expert's low-rank update of this layer's projections (null: the shared layer).
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& additive_mask, LoraLayerImpl* lora = nullptr);
  BertAttention attention{nullptr};
  BertIntermediate intermediate{nullptr};
  BertResidualOutput output{nullptr};
};
TORCH_MODULE(BertLayer);

struct BertEmbeddingsImpl : torch::nn::Module {
  BertEmbeddingsImpl(const EncoderConfig& c);
  torch::Tensor forward(const torch::Tensor& ids);
  torch::nn::Embedding word_embeddings{nullptr}, position_embeddings{nullptr}, token_type_embeddings{nullptr};
  torch::nn::LayerNorm LayerNorm{nullptr};
};
TORCH_MODULE(BertEmbeddings);

// Holds `layer` so parameter names read `encoder.layer.N....` as in BERT.
struct BertLayerStackImpl : torch::nn::Module {
  BertLayerStackImpl(const EncoderConfig& c);
  torch::nn::ModuleList layer{nullptr};
};
TORCH_MODULE(BertLayerStack);

class EncoderImpl : public torch::nn::Module {
 public:
  // Builds the encoder and initialises it as BERT does (normal(0, init_std)
  // weights, zero biases, unit LayerNorm), from `config.seed` only.
  explicit EncoderImpl(const EncoderConfig& config);

  // ids, mask: b×L int64 (mask 1 for tokens, 0 for padding). Returns b×d
  // features: CLS states, or masked means with pooling "mean".
  torch::Tensor forward(const torch::Tensor& ids, const torch::Tensor& mask);
  // b×L×d final hidden states of every token (what masked-LM pre-training reads).
  torch::Tensor hidden_states(const torch::Tensor& ids, const torch::Tensor& mask);
  // Per-expert adaptation (model/lora.h) runs the encoder in two parts: the
  // b×L×d states below the top `top` layers, once per text, then the top layers
  // on them, once per expert with that expert's LoRA (`lora`, one per top layer;
  // empty: the shared layers), pooled as forward() pools.
  torch::Tensor states_below(const torch::Tensor& ids, const torch::Tensor& mask, std::int64_t top);
  torch::Tensor forward_top(const torch::Tensor& below, const torch::Tensor& mask, std::int64_t top,
                            const std::vector<LoraLayer>& lora);
  // The token embedding matrix (vocab×d), which the masked-LM head shares.
  torch::Tensor word_embeddings() const { return embeddings->word_embeddings->weight; }

  void set_frozen(bool frozen);
  // Freezes everything, then lets the top `top_layers` transformer layers (and,
  // with `embeddings`, the embeddings) train. REQUIRES: top_layers <= layers.
  void set_trainable(std::int64_t top_layers, bool embeddings);
  // The parameters that train (requires_grad), in parameters() order.
  std::vector<torch::Tensor> trainable_parameters() const;
  const EncoderConfig& config() const { return config_; }

 private:
  torch::Tensor pool(const torch::Tensor& states, const torch::Tensor& mask) const;
  torch::Tensor run_layers(torch::Tensor x, const torch::Tensor& mask, std::int64_t from, std::int64_t to,
                           const std::vector<LoraLayer>& lora);

  EncoderConfig config_;
  BertEmbeddings embeddings{nullptr};
  BertLayerStack encoder{nullptr};
};
TORCH_MODULE(Encoder);

}  // namespace moecollab
