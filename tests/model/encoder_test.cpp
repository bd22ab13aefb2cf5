#include "moecollab/model/encoder.h"

#include <gtest/gtest.h>

#include <cmath>

#include "moecollab/util/error.h"
#include "testing/finite_difference.h"

namespace moecollab {
namespace {

EncoderConfig tiny_config() {
  EncoderConfig c;
  c.vocab_size = 30;
  c.hidden = 8;
  c.layers = 2;
  c.heads = 2;
  c.intermediate = 16;
  c.max_positions = 12;
  c.seed = 11;
  c.pooling = "cls";
  return c;
}

// BERT written out from the parameter dictionary, independently of the modules.
torch::Tensor reference_states(Encoder& enc, const torch::Tensor& ids, const EncoderConfig& c) {
  auto p = enc->named_parameters();
  auto ln = [&](const torch::Tensor& x, const std::string& prefix) {
    const auto mean = x.mean(-1, true);
    const auto var = (x - mean).pow(2).mean(-1, true);
    return (x - mean) / torch::sqrt(var + c.layer_norm_eps) * p[prefix + ".weight"] + p[prefix + ".bias"];
  };
  auto linear = [&](const torch::Tensor& x, const std::string& prefix) {
    return torch::matmul(x, p[prefix + ".weight"].t()) + p[prefix + ".bias"];
  };
  const auto len = ids.size(0);
  auto x = p["embeddings.word_embeddings.weight"].index_select(0, ids) +
           p["embeddings.position_embeddings.weight"].narrow(0, 0, len) +
           p["embeddings.token_type_embeddings.weight"][0];
  x = ln(x, "embeddings.LayerNorm");
  const auto dh = c.hidden / c.heads;
  for (std::int64_t l = 0; l < c.layers; ++l) {
    const std::string pre = "encoder.layer." + std::to_string(l) + ".";
    std::vector<torch::Tensor> heads;
    const auto q = linear(x, pre + "attention.self.query"), k = linear(x, pre + "attention.self.key"),
               v = linear(x, pre + "attention.self.value");
    for (std::int64_t h = 0; h < c.heads; ++h) {
      const auto qh = q.narrow(1, h * dh, dh), kh = k.narrow(1, h * dh, dh), vh = v.narrow(1, h * dh, dh);
      heads.push_back(torch::matmul(torch::softmax(torch::matmul(qh, kh.t()) / std::sqrt(double(dh)), 1), vh));
    }
    const auto attn =
        ln(linear(torch::cat(heads, 1), pre + "attention.output.dense") + x, pre + "attention.output.LayerNorm");
    const auto inter = linear(attn, pre + "intermediate.dense");
    const auto gelu = 0.5 * inter * (1 + torch::erf(inter / std::sqrt(2.0)));
    x = ln(linear(gelu, pre + "output.dense") + attn, pre + "output.LayerNorm");
  }
  return x;  // L×d final hidden states
}

}  // namespace

TEST(Encoder, ParameterNamesMirrorHuggingFaceBert) {
  auto c = tiny_config();
  c.layers = 1;
  Encoder enc(c);
  std::vector<std::string> names;
  for (const auto& p : enc->named_parameters()) names.push_back(p.key());
  const std::vector<std::string> expected = {"embeddings.word_embeddings.weight",
                                             "embeddings.position_embeddings.weight",
                                             "embeddings.token_type_embeddings.weight",
                                             "embeddings.LayerNorm.weight",
                                             "embeddings.LayerNorm.bias",
                                             "encoder.layer.0.attention.self.query.weight",
                                             "encoder.layer.0.attention.self.query.bias",
                                             "encoder.layer.0.attention.self.key.weight",
                                             "encoder.layer.0.attention.self.key.bias",
                                             "encoder.layer.0.attention.self.value.weight",
                                             "encoder.layer.0.attention.self.value.bias",
                                             "encoder.layer.0.attention.output.dense.weight",
                                             "encoder.layer.0.attention.output.dense.bias",
                                             "encoder.layer.0.attention.output.LayerNorm.weight",
                                             "encoder.layer.0.attention.output.LayerNorm.bias",
                                             "encoder.layer.0.intermediate.dense.weight",
                                             "encoder.layer.0.intermediate.dense.bias",
                                             "encoder.layer.0.output.dense.weight",
                                             "encoder.layer.0.output.dense.bias",
                                             "encoder.layer.0.output.LayerNorm.weight",
                                             "encoder.layer.0.output.LayerNorm.bias"};
  EXPECT_EQ(names, expected);
  for (const auto& p : enc->parameters()) EXPECT_FALSE(p.requires_grad());  // frozen by default
}

TEST(Encoder, MatchesReferenceFormulaAndIgnoresPadding) {
  auto c = tiny_config();
  Encoder enc(c);
  enc->to(torch::kFloat64);
  enc->eval();
  {
    // Larger weights than BERT's init so attention is far from uniform.
    torch::NoGradGuard no_grad;
    for (auto& p : enc->parameters()) p.normal_(0.0, 0.5);
  }
  const auto ids = torch::tensor({2, 7, 9, 4, 3}, torch::kInt64);
  // The same sentence alone and padded with [PAD]=0 to 8 tokens, batched.
  auto batch = torch::zeros({2, 8}, torch::kInt64);
  batch[0].narrow(0, 0, 5).copy_(ids);
  batch[1].narrow(0, 0, 5).copy_(ids);
  auto mask = torch::zeros({2, 8}, torch::kInt64);
  mask[0].narrow(0, 0, 5).fill_(1);
  mask[1].narrow(0, 0, 5).fill_(1);
  const auto cls = enc->forward(batch, mask);
  ASSERT_EQ(cls.sizes(), (std::vector<std::int64_t>{2, 8}));
  const auto alone = enc->forward(ids.unsqueeze(0), torch::ones({1, 5}, torch::kInt64))[0];
  EXPECT_TRUE(torch::allclose(cls[0], alone, 1e-12, 1e-12));
  const auto states = reference_states(enc, ids, c);
  EXPECT_TRUE(torch::allclose(alone, states[0], 1e-10, 1e-10));

  // Mean pooling: the mean over the real tokens only, padded or not.
  c.pooling = "mean";
  Encoder mean_enc(c);
  mean_enc->to(torch::kFloat64);
  {
    torch::NoGradGuard no_grad;
    const auto src = enc->parameters();
    auto dst = mean_enc->parameters();
    for (std::size_t i = 0; i < src.size(); ++i) dst[i].copy_(src[i]);
  }
  const auto pooled = mean_enc->forward(batch, mask);
  EXPECT_TRUE(torch::allclose(pooled[0], states.mean(0), 1e-10, 1e-10));
  EXPECT_TRUE(torch::allclose(pooled[1], pooled[0], 1e-12, 1e-12));
}

TEST(Encoder, InitialisationDependsOnlyOnSeed) {
  auto c = tiny_config();
  Encoder a(c), b(c);
  torch::manual_seed(999);  // the global generator must not matter
  Encoder b2(c);
  c.seed = 12;
  Encoder other(c);
  const auto pa = a->parameters(), pb = b2->parameters(), po = other->parameters();
  for (std::size_t i = 0; i < pa.size(); ++i) EXPECT_TRUE(torch::equal(pa[i], pb[i]));
  EXPECT_FALSE(torch::equal(pa[0], po[0]));
}

TEST(Encoder, RejectsBadConfigAndOverlongInput) {
  auto c = tiny_config();
  c.heads = 3;  // 8 is not divisible by 3
  EXPECT_THROW(Encoder{c}, Error);
  c = tiny_config();
  c.pooling = "max";
  EXPECT_THROW(Encoder{c}, Error);
  Encoder enc(tiny_config());
  EXPECT_THROW(enc->forward(torch::zeros({1, 13}, torch::kInt64), torch::ones({1, 13}, torch::kInt64)), Error);
}

// ---- per-expert LoRA (model/lora.h) ------------------------------------------

TEST(Lora, SplitForwardEqualsTheWholeEncoderAndZeroInitialisedLoraChangesNothing) {
  auto c = tiny_config();
  c.pooling = "mean";
  Encoder enc(c);
  const auto ids = torch::tensor({{2, 7, 9, 4, 3, 0}, {2, 5, 3, 0, 0, 0}}, torch::kInt64);
  const auto mask = (ids != 0).to(torch::kInt64);
  const auto whole = enc->forward(ids, mask);
  for (std::int64_t top : {0, 1, 2}) {
    const auto below = enc->states_below(ids, mask, top);
    EXPECT_TRUE(torch::allclose(enc->forward_top(below, mask, top, {}), whole, 1e-6, 1e-6)) << "top " << top;
  }
  torch::manual_seed(3);
  std::vector<LoraLayer> lora = {LoraLayer(c.hidden, c.intermediate, 2)};
  // B = 0: the adapted layer is the shared one until the expert trains.
  EXPECT_TRUE(torch::allclose(enc->forward_top(enc->states_below(ids, mask, 1), mask, 1, lora), whole, 1e-6, 1e-6));
  EXPECT_THROW(enc->forward_top(enc->states_below(ids, mask, 2), mask, 2, lora), Error);  // 1 LoRA layer for 2
}

// With non-zero B, every adapted projection is W x + B A x: the reference BERT
// above run on weights W + B A gives the same states.
TEST(Lora, AdaptedLayerEqualsTheLayerWithMergedWeights) {
  auto c = tiny_config();
  Encoder enc(c), merged(c);
  torch::manual_seed(4);
  std::vector<LoraLayer> lora = {LoraLayer(c.hidden, c.intermediate, 3)};
  torch::NoGradGuard no_grad;
  for (auto& p : lora[0]->named_parameters()) {
    if (p.key().size() >= 1 && p.key().back() == 'B') p.value().normal_(0.0, 0.3);
  }
  const std::string top = "encoder.layer.1.";
  const std::pair<const char*, LoraLinear> projections[] = {
      {"attention.self.query", lora[0]->query},      {"attention.self.key", lora[0]->key},
      {"attention.self.value", lora[0]->value},      {"attention.output.dense", lora[0]->attention_output},
      {"intermediate.dense", lora[0]->intermediate}, {"output.dense", lora[0]->output}};
  auto params = merged->named_parameters();
  for (const auto& [name, l] : projections) params[top + name + ".weight"] += torch::matmul(l->B, l->A);
  const auto ids = torch::tensor({{2, 7, 9, 4, 3}}, torch::kInt64);
  const auto mask = torch::ones_like(ids);
  const auto adapted = enc->forward_top(enc->states_below(ids, mask, 1), mask, 1, lora);
  const auto want = reference_states(merged, ids[0], c)[0];  // CLS pooling
  EXPECT_TRUE(torch::allclose(adapted[0], want, 1e-5, 1e-5)) << (adapted[0] - want).abs().max().item<double>();
}

TEST(Lora, GradientsMatchFiniteDifferences) {
  auto c = tiny_config();
  c.pooling = "mean";
  const testing::Float64Default float64;
  Encoder enc(c);
  torch::manual_seed(5);
  std::vector<LoraLayer> lora = {LoraLayer(c.hidden, c.intermediate, 2)};
  {
    torch::NoGradGuard no_grad;
    for (auto& p : lora[0]->parameters()) p.normal_(0.0, 0.5);
  }
  const auto ids = torch::tensor({{2, 7, 9, 4, 3, 0}, {2, 5, 3, 0, 0, 0}}, torch::kInt64);
  const auto mask = (ids != 0).to(torch::kInt64);
  const auto below = enc->states_below(ids, mask, 1).detach();
  const auto target = torch::randn({2, c.hidden});
  const auto loss = [&] { return (enc->forward_top(below, mask, 1, lora) * target).sum(); };
  testing::expect_gradients_match(
      loss, {lora[0]->query->B, lora[0]->value->A, lora[0]->intermediate->A, lora[0]->output->B}, 1e-6);
}

}  // namespace moecollab
