#include "moecollab/model/mlm_head.h"

#include <algorithm>

namespace moecollab {

MlmTransformImpl::MlmTransformImpl(std::int64_t hidden, double eps) {
  dense = register_module("dense", torch::nn::Linear(hidden, hidden));
  LayerNorm = register_module("LayerNorm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({hidden}).eps(eps)));
}

torch::Tensor MlmTransformImpl::forward(const torch::Tensor& x) { return LayerNorm(torch::gelu(dense(x))); }

MlmHeadImpl::MlmHeadImpl(const EncoderConfig& config, bool tied) {
  transform = register_module("transform", MlmTransform(config.hidden, config.layer_norm_eps));
  if (!tied) {
    decoder = register_module(
        "decoder", torch::nn::Linear(torch::nn::LinearOptions(config.hidden, config.vocab_size).bias(false)));
    torch::NoGradGuard no_grad;
    decoder->weight.normal_(0.0, config.init_std);
  }
  bias = register_parameter("bias", torch::zeros({config.vocab_size}));
}

torch::Tensor MlmHeadImpl::forward(const torch::Tensor& hidden, const torch::Tensor& word_embeddings) {
  return torch::matmul(transform(hidden), (tied() ? word_embeddings : decoder->weight).t()) + bias;
}

MaskedBatch mask_tokens(const torch::Tensor& ids, const torch::Tensor& mask, std::int64_t mask_id,
                        std::int64_t vocab_size, const std::vector<std::int64_t>& special_ids, double rate,
                        std::mt19937_64& rng) {
  MaskedBatch out{ids.clone(), torch::full_like(ids, -100)};
  auto in = ids.accessor<std::int64_t, 2>();
  auto m = mask.accessor<std::int64_t, 2>();
  auto x = out.ids.accessor<std::int64_t, 2>();
  auto y = out.labels.accessor<std::int64_t, 2>();
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::uniform_int_distribution<std::int64_t> token(0, vocab_size - 1);
  std::int64_t chosen = 0, first_i = -1, first_j = -1;
  for (std::int64_t i = 0; i < ids.size(0); ++i) {
    for (std::int64_t j = 0; j < ids.size(1); ++j) {
      const bool special = std::find(special_ids.begin(), special_ids.end(), in[i][j]) != special_ids.end();
      if (m[i][j] == 0 || special) continue;
      if (first_i < 0) first_i = i, first_j = j;
      const double draw = u(rng);
      if (draw >= rate) continue;
      ++chosen;
      y[i][j] = in[i][j];
      const double how = u(rng);
      if (how < 0.8)
        x[i][j] = mask_id;
      else if (how < 0.9)
        x[i][j] = token(rng);
    }
  }
  if (chosen == 0 && first_i >= 0) {  // every batch teaches something
    y[first_i][first_j] = in[first_i][first_j];
    x[first_i][first_j] = mask_id;
  }
  return out;
}

}  // namespace moecollab
