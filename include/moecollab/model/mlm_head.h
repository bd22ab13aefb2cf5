// BERT's masked-language-model head, for pre-training the shared encoder:
// transform (dense + GELU + LayerNorm), then scores over the vocabulary plus a
// bias, with the encoder's word-embedding matrix (tied, as BERT does) or with
// a decoder matrix of its own (untied, our default: see PretrainOptions).
// Parameter names follow Hugging Face's BertForMaskedLM under "cls.predictions.".
// Also: BERT's masking of 15% of the tokens (80% [MASK], 10% random, 10% kept).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <random>

#include "moecollab/model/encoder.h"

namespace moecollab {

struct MlmTransformImpl : torch::nn::Module {
  MlmTransformImpl(std::int64_t hidden, double eps);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Linear dense{nullptr};
  torch::nn::LayerNorm LayerNorm{nullptr};
};
TORCH_MODULE(MlmTransform);

class MlmHeadImpl : public torch::nn::Module {
 public:
  // Untied: a vocab×d decoder, normal(0, config.init_std) as BERT initialises.
  MlmHeadImpl(const EncoderConfig& config, bool tied);
  // hidden: n×d states of the masked positions; word_embeddings: vocab×d
  // (used when tied). Returns n×vocab scores.
  torch::Tensor forward(const torch::Tensor& hidden, const torch::Tensor& word_embeddings);
  bool tied() const { return decoder.is_empty(); }

  MlmTransform transform{nullptr};
  torch::nn::Linear decoder{nullptr};  // untied only; no bias of its own (BERT's bias is `bias`)
  torch::Tensor bias;
};
TORCH_MODULE(MlmHead);

struct MaskedBatch {
  torch::Tensor ids;     // b×L inputs with masking applied
  torch::Tensor labels;  // b×L original ids at masked positions, -100 elsewhere
};

// BERT's masking: each real token other than [CLS]/[SEP]/[PAD] is chosen with
// probability `rate`; a chosen token becomes [MASK] (80%), a random token
// (10%) or stays (10%). At least one token per batch is chosen.
MaskedBatch mask_tokens(const torch::Tensor& ids, const torch::Tensor& mask, std::int64_t mask_id,
                        std::int64_t vocab_size, const std::vector<std::int64_t>& special_ids, double rate,
                        std::mt19937_64& rng);

}  // namespace moecollab
