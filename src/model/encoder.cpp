#include "moecollab/model/encoder.h"

#include <cmath>

#include "moecollab/util/error.h"

namespace moecollab {

namespace nn = torch::nn;

void EncoderConfig::validate() const {
  auto require = [](bool ok, const std::string& what) {
    if (!ok) throw Error("encoder config: " + what);
  };
  require(vocab_size > 0, "vocab_size must be positive");
  require(hidden > 0 && layers >= 0 && heads > 0 && intermediate > 0,
          "hidden, heads and intermediate must be positive");
  require(hidden % heads == 0,
          "hidden (" + std::to_string(hidden) + ") must be divisible by heads (" + std::to_string(heads) + ")");
  require(max_positions >= 2, "max_positions must be at least 2");
  require(type_vocab >= 1, "type_vocab must be at least 1");
  require(pooling == "cls" || pooling == "mean", "pooling must be 'cls' or 'mean', not '" + pooling + "'");
}

BertSelfAttentionImpl::BertSelfAttentionImpl(const EncoderConfig& c) : heads(c.heads) {
  query = register_module("query", nn::Linear(c.hidden, c.hidden));
  key = register_module("key", nn::Linear(c.hidden, c.hidden));
  value = register_module("value", nn::Linear(c.hidden, c.hidden));
}

torch::Tensor BertSelfAttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& additive_mask,
                                             LoraLayerImpl* lora) {
  const auto b = x.size(0), len = x.size(1), d = x.size(2), dh = d / heads;
  auto split = [&](const torch::Tensor& t) { return t.view({b, len, heads, dh}).transpose(1, 2); };
  const auto q = split(with_lora(query, lora ? lora->query.get() : nullptr, x));
  const auto k = split(with_lora(key, lora ? lora->key.get() : nullptr, x));
  const auto v = split(with_lora(value, lora ? lora->value.get() : nullptr, x));
  auto scores = torch::matmul(q, k.transpose(-1, -2)) / std::sqrt(static_cast<double>(dh)) + additive_mask;
  const auto context = torch::matmul(torch::softmax(scores, -1), v);
  return context.transpose(1, 2).reshape({b, len, d});
}

BertResidualOutputImpl::BertResidualOutputImpl(std::int64_t in, std::int64_t out, double eps) {
  dense = register_module("dense", nn::Linear(in, out));
  LayerNorm = register_module("LayerNorm", nn::LayerNorm(nn::LayerNormOptions({out}).eps(eps)));
}

torch::Tensor BertResidualOutputImpl::forward(const torch::Tensor& x, const torch::Tensor& residual,
                                              LoraLinearImpl* lora) {
  return LayerNorm(with_lora(dense, lora, x) + residual);
}

BertAttentionImpl::BertAttentionImpl(const EncoderConfig& c) {
  self = register_module("self", BertSelfAttention(c));
  output = register_module("output", BertResidualOutput(c.hidden, c.hidden, c.layer_norm_eps));
}

torch::Tensor BertAttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& additive_mask,
                                         LoraLayerImpl* lora) {
  return output->forward(self->forward(x, additive_mask, lora), x, lora ? lora->attention_output.get() : nullptr);
}

BertIntermediateImpl::BertIntermediateImpl(const EncoderConfig& c) {
  dense = register_module("dense", nn::Linear(c.hidden, c.intermediate));
}

torch::Tensor BertIntermediateImpl::forward(const torch::Tensor& x, LoraLinearImpl* lora) {
  return torch::gelu(with_lora(dense, lora, x));
}

BertLayerImpl::BertLayerImpl(const EncoderConfig& c) {
  attention = register_module("attention", BertAttention(c));
  intermediate = register_module("intermediate", BertIntermediate(c));
  output = register_module("output", BertResidualOutput(c.intermediate, c.hidden, c.layer_norm_eps));
}

torch::Tensor BertLayerImpl::forward(const torch::Tensor& x, const torch::Tensor& additive_mask, LoraLayerImpl* lora) {
  const auto attended = attention->forward(x, additive_mask, lora);
  return output->forward(intermediate->forward(attended, lora ? lora->intermediate.get() : nullptr), attended,
                         lora ? lora->output.get() : nullptr);
}

BertEmbeddingsImpl::BertEmbeddingsImpl(const EncoderConfig& c) {
  word_embeddings = register_module("word_embeddings", nn::Embedding(c.vocab_size, c.hidden));
  position_embeddings = register_module("position_embeddings", nn::Embedding(c.max_positions, c.hidden));
  token_type_embeddings = register_module("token_type_embeddings", nn::Embedding(c.type_vocab, c.hidden));
  LayerNorm = register_module("LayerNorm", nn::LayerNorm(nn::LayerNormOptions({c.hidden}).eps(c.layer_norm_eps)));
}

torch::Tensor BertEmbeddingsImpl::forward(const torch::Tensor& ids) {
  const auto positions = torch::arange(ids.size(1), ids.options()).unsqueeze(0);
  // Single-segment inputs: every token has segment (token type) 0.
  const auto segments = torch::zeros_like(ids);
  return LayerNorm(word_embeddings(ids) + position_embeddings(positions) + token_type_embeddings(segments));
}

BertLayerStackImpl::BertLayerStackImpl(const EncoderConfig& c) {
  layer = register_module("layer", nn::ModuleList());
  for (std::int64_t i = 0; i < c.layers; ++i) layer->push_back(BertLayer(c));
}

EncoderImpl::EncoderImpl(const EncoderConfig& config) : config_(config) {
  config_.validate();
  embeddings = register_module("embeddings", BertEmbeddings(config_));
  encoder = register_module("encoder", BertLayerStack(config_));
  // Initialise from the encoder's own seed so every rank and run builds the same weights.
  torch::manual_seed(config_.seed);
  torch::NoGradGuard no_grad;
  for (auto& p : named_parameters()) {
    const std::string& name = p.key();
    auto& t = p.value();
    const bool is_norm = name.find("LayerNorm") != std::string::npos;
    if (name.size() >= 4 && name.compare(name.size() - 4, 4, "bias") == 0)
      t.zero_();
    else if (is_norm)
      t.fill_(1.0);
    else
      t.normal_(0.0, config_.init_std);
  }
  set_frozen(true);
}

torch::Tensor EncoderImpl::forward(const torch::Tensor& ids, const torch::Tensor& mask) {
  return pool(hidden_states(ids, mask), mask);
}

torch::Tensor EncoderImpl::pool(const torch::Tensor& x, const torch::Tensor& mask) const {
  if (config_.pooling == "cls") return x.select(1, 0);
  const auto weights = mask.to(x.dtype()).unsqueeze(2);
  return (x * weights).sum(1) / weights.sum(1).clamp_min(1.0);
}

torch::Tensor EncoderImpl::hidden_states(const torch::Tensor& ids, const torch::Tensor& mask) {
  return states_below(ids, mask, 0);
}

torch::Tensor EncoderImpl::states_below(const torch::Tensor& ids, const torch::Tensor& mask, std::int64_t top) {
  if (ids.size(1) > config_.max_positions) {
    throw Error("encoder: sequence length " + std::to_string(ids.size(1)) + " exceeds max_positions " +
                std::to_string(config_.max_positions));
  }
  if (top < 0 || top > config_.layers) {
    throw Error("encoder: cannot split off the top " + std::to_string(top) + " of " + std::to_string(config_.layers) +
                " layers");
  }
  return run_layers(embeddings(ids), mask, 0, config_.layers - top, {});
}

torch::Tensor EncoderImpl::forward_top(const torch::Tensor& below, const torch::Tensor& mask, std::int64_t top,
                                       const std::vector<LoraLayer>& lora) {
  if (!lora.empty() && static_cast<std::int64_t>(lora.size()) != top) {
    throw Error("encoder: " + std::to_string(lora.size()) + " LoRA layers for the top " + std::to_string(top) +
                " layers");
  }
  return pool(run_layers(below, mask, config_.layers - top, config_.layers, lora), mask);
}

torch::Tensor EncoderImpl::run_layers(torch::Tensor x, const torch::Tensor& mask, std::int64_t from, std::int64_t to,
                                      const std::vector<LoraLayer>& lora) {
  // Padding gets the most negative finite value so softmax gives it zero weight.
  const auto additive =
      (1.0 - mask.to(x.dtype())).mul(std::numeric_limits<float>::lowest()).view({mask.size(0), 1, 1, mask.size(1)});
  for (std::int64_t i = from; i < to; ++i) {
    auto* adapted = lora.empty() ? nullptr : lora[static_cast<std::size_t>(i - from)].ptr().get();
    x = encoder->layer->ptr(static_cast<std::size_t>(i))->as<BertLayer>()->forward(x, additive, adapted);
  }
  return x;
}

void EncoderImpl::set_frozen(bool frozen) {
  for (auto& p : parameters()) p.set_requires_grad(!frozen);
}

void EncoderImpl::set_trainable(std::int64_t top_layers, bool embeddings_train) {
  if (top_layers < 0 || top_layers > config_.layers) {
    throw Error("encoder: cannot train the top " + std::to_string(top_layers) + " of its " +
                std::to_string(config_.layers) + " layers");
  }
  set_frozen(true);
  for (auto& p : embeddings->parameters()) p.set_requires_grad(embeddings_train);
  for (std::int64_t i = config_.layers - top_layers; i < config_.layers; ++i) {
    for (auto& p : encoder->layer->ptr(static_cast<std::size_t>(i))->parameters()) p.set_requires_grad(true);
  }
}

std::vector<torch::Tensor> EncoderImpl::trainable_parameters() const {
  std::vector<torch::Tensor> out;
  for (const auto& p : parameters()) {
    if (p.requires_grad()) out.push_back(p);
  }
  return out;
}

// ---- model/lora.h: per-expert low-rank adaptation of the layers above (one translation
// unit with the encoder it adapts, as libtorch headers compile slowly) ----

LoraLinearImpl::LoraLinearImpl(std::int64_t in, std::int64_t out, std::int64_t rank) {
  // A as nn.Linear initialises its weight (uniform ±1/sqrt(in)), B zero: B A = 0 at the start.
  const double bound = 1.0 / std::sqrt(static_cast<double>(in));
  A = register_parameter("A", torch::empty({rank, in}).uniform_(-bound, bound));
  B = register_parameter("B", torch::zeros({out, rank}));
}

torch::Tensor LoraLinearImpl::forward(const torch::Tensor& x) { return torch::matmul(torch::matmul(x, A.t()), B.t()); }

LoraLayerImpl::LoraLayerImpl(std::int64_t hidden, std::int64_t intermediate_size, std::int64_t rank) {
  query = register_module("query", LoraLinear(hidden, hidden, rank));
  key = register_module("key", LoraLinear(hidden, hidden, rank));
  value = register_module("value", LoraLinear(hidden, hidden, rank));
  attention_output = register_module("attention_output", LoraLinear(hidden, hidden, rank));
  intermediate = register_module("intermediate", LoraLinear(hidden, intermediate_size, rank));
  output = register_module("output", LoraLinear(intermediate_size, hidden, rank));
}

torch::Tensor with_lora(torch::nn::Linear& linear, LoraLinearImpl* lora, const torch::Tensor& x) {
  auto y = linear(x);
  return lora ? y + lora->forward(x) : y;
}

}  // namespace moecollab
