// DP-SGD's per-example clipping and noise (privacy/dp_sgd.h) against a plain loop that
// runs each example alone, and the per-example objective against the batch objective.
#include "moecollab/privacy/dp_sgd.h"

#include <gtest/gtest.h>

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>

#include "moecollab/model/gate_loss.h"
#include "moecollab/util/error.h"

namespace moecollab::privacy {
namespace {

// A two-layer model's per-example squared errors (a batch of 6, each row its own loss).
struct Model {
  torch::Tensor w1 = torch::randn({5, 4}, torch::kFloat64).requires_grad_(true);
  torch::Tensor w2 = torch::randn({1, 5}, torch::kFloat64).requires_grad_(true);
  torch::Tensor unused = torch::zeros({3}, torch::kFloat64).requires_grad_(true);  // no loss reaches it
  std::vector<torch::Tensor> parameters() const { return {w1, w2, unused}; }
  torch::Tensor losses(const torch::Tensor& x, const torch::Tensor& y) const {
    return (torch::tanh(x.matmul(w1.t())).matmul(w2.t()).squeeze(1) - y).pow(2);
  }
};

// Σ_i clip_C(∇ loss_i), each example's gradient from a forward and backward of its own.
std::vector<torch::Tensor> one_by_one(const Model& m, const torch::Tensor& x, const torch::Tensor& y, double clip,
                                      std::vector<double>* norms = nullptr) {
  std::vector<torch::Tensor> sum;
  for (const auto& p : m.parameters()) sum.push_back(torch::zeros_like(p).detach());
  for (std::int64_t i = 0; i < x.size(0); ++i) {
    for (const auto& p : m.parameters()) {
      if (p.grad().defined()) p.grad().zero_();
    }
    m.losses(x.narrow(0, i, 1), y.narrow(0, i, 1)).sum().backward();
    double squared = 0;
    for (const auto& p : m.parameters()) squared += p.grad().defined() ? p.grad().pow(2).sum().item<double>() : 0.0;
    const double norm = std::sqrt(squared);
    if (norms) norms->push_back(norm);
    for (std::size_t k = 0; k < sum.size(); ++k) {
      const auto& g = m.parameters()[k].grad();
      if (g.defined()) sum[k] += g * std::min(1.0, clip / norm);
    }
  }
  return sum;
}

TEST(DpSgd, ClippedSumEqualsEachExampleRunAlone) {
  torch::manual_seed(3);
  Model m;
  const auto x = torch::randn({6, 4}, torch::kFloat64), y = 3 * torch::randn({6}, torch::kFloat64);
  std::vector<double> norms;
  one_by_one(m, x, y, 1e9, &norms);
  std::sort(norms.begin(), norms.end());
  const double clip = norms[3];  // half the examples are clipped
  const auto expected = one_by_one(m, x, y, clip);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(1);
  const auto stats = clipped_noisy_gradients(m.losses(x, y), m.parameters(), clip, 0.0, 0.5, gen);
  EXPECT_EQ(stats.examples, 6);
  EXPECT_EQ(stats.clipped, 2);  // the two norms above the 4th smallest
  for (std::size_t k = 0; k < expected.size(); ++k) {
    EXPECT_TRUE(torch::allclose(m.parameters()[k].grad(), 0.5 * expected[k], 1e-12, 1e-12)) << "parameter " << k;
  }
  EXPECT_EQ(m.unused.grad().abs().sum().item<double>(), 0.0);
}

TEST(DpSgd, WithoutClippingItIsTheGradientOfTheSum) {
  torch::manual_seed(4);
  Model m;
  const auto x = torch::randn({6, 4}, torch::kFloat64), y = torch::randn({6}, torch::kFloat64);
  m.losses(x, y).sum().backward();
  std::vector<torch::Tensor> plain;
  for (const auto& p : m.parameters()) plain.push_back(p.grad().defined() ? p.grad().clone() : torch::zeros_like(p));
  auto gen = at::make_generator<at::CPUGeneratorImpl>(1);
  const auto stats = clipped_noisy_gradients(m.losses(x, y), m.parameters(), 1e9, 0.0, 1.0, gen);
  EXPECT_EQ(stats.clipped, 0);
  for (std::size_t k = 0; k < plain.size(); ++k) {
    EXPECT_TRUE(torch::allclose(m.parameters()[k].grad(), plain[k], 1e-12, 1e-12)) << "parameter " << k;
  }
}

TEST(DpSgd, NoiseHasTheStatedStandardDeviationAndComesFromTheGenerator) {
  // One example whose loss does not reach a 200000-entry parameter: its gradient is noise alone.
  const auto big = torch::zeros({200000}, torch::kFloat64).requires_grad_(true);
  const auto small = torch::ones({2}, torch::kFloat64).requires_grad_(true);
  const auto losses = small.pow(2).sum().unsqueeze(0);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(7);
  clipped_noisy_gradients(losses, {small, big}, 1.0, 0.3, 2.0, gen);
  const auto noise = big.grad();
  EXPECT_NEAR(noise.mean().item<double>(), 0.0, 0.01);
  EXPECT_NEAR(noise.std().item<double>(), 0.6, 0.6 * 0.01);  // scale 2 × std 0.3; 1% is > 4 standard errors
  // The clipped gradient 2·(1, 1) has norm 2√2 > 1: it is scaled to norm 1, then noised.
  EXPECT_NEAR((small.grad() / 2.0 - torch::full({2}, 1 / std::sqrt(2.0), torch::kFloat64)).abs().max().item<double>(),
              0.0, 5 * 0.3);
  auto same = at::make_generator<at::CPUGeneratorImpl>(7);
  const auto again = big.detach().clone().requires_grad_(true);
  clipped_noisy_gradients(small.pow(2).sum().unsqueeze(0), {small, again}, 1.0, 0.3, 2.0, same);
  EXPECT_TRUE(torch::equal(again.grad(), noise));
  // Two secret generators (seeded by the OS's CSPRNG) draw different noise.
  auto a = secret_generator(), b = secret_generator();
  EXPECT_FALSE(torch::equal(torch::randn({8}, a, torch::kFloat64), torch::randn({8}, b, torch::kFloat64)));
}

TEST(DpSgd, PerExampleObjectiveAveragesToTheBatchObjectiveWithoutBalance) {
  torch::manual_seed(5);
  const auto mixed = torch::randn({7, 5}, torch::kFloat64), gate = torch::randn({7, 3}, torch::kFloat64);
  const auto labels = torch::tensor({0, 1, 2, 1, 0, 3, 4}, torch::kInt64);
  const auto classes = torch::tensor({3, 3, 3, 5, 5, 5, 5}, torch::kInt64);
  const auto domains = torch::tensor({0, 0, 0, 1, 1, 2, 2}, torch::kInt64);
  GateLossWeights w;
  w.balance_kind = BalanceLoss::kNone;
  w.entropy = 0.3;
  w.z_loss = 0.01;
  w.domain = 0.2;
  const auto rows = per_example_gate_loss(mixed, labels, classes, gate, w, domains);
  ASSERT_EQ(rows.size(0), 7);
  const auto batch = gate_loss(mixed, labels, classes, gate, w, batch_mean_gate, domains);
  EXPECT_NEAR(rows.mean().item<double>(), batch.total.item<double>(), 1e-12);
  // Row 2's loss depends on row 2's logits alone.
  const auto m = mixed.clone().requires_grad_(true), g = gate.clone().requires_grad_(true);
  per_example_gate_loss(m, labels, classes, g, w, domains)[2].backward();
  EXPECT_EQ(m.grad().narrow(0, 0, 2).abs().sum().item<double>(), 0.0);
  EXPECT_EQ(g.grad().narrow(0, 3, 4).abs().sum().item<double>(), 0.0);
  EXPECT_GT(g.grad()[2].abs().sum().item<double>(), 0.0);
}

// The message of the Error `check_dp_config` throws ("" when it throws none).
std::string error_of(const DpConfig& c) {
  try {
    check_dp_config(c);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(DpSgd, ConfigErrorsNameTheOption) {
  DpConfig c;
  EXPECT_EQ(error_of(c), "");  // off
  c.noise_multiplier = 1.0;
  c.clip = 0;
  EXPECT_NE(error_of(c).find("--dp-clip"), std::string::npos);
  c.clip = 1;
  c.delta = 1;
  EXPECT_NE(error_of(c).find("--dp-delta"), std::string::npos);
  c.delta = 1e-5;
  c.target_epsilon = -1;
  EXPECT_NE(error_of(c).find("--dp-epsilon"), std::string::npos);
}

}  // namespace
}  // namespace moecollab::privacy
