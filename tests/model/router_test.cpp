// The routing policies of model/router.h: dense is the softmax exactly; top-k keeps
// each row's k largest weights, renormalised, with the gate's gradient through them.
#include "moecollab/model/router.h"

#include <gtest/gtest.h>

#include "moecollab/model/integrate.h"
#include "moecollab/util/error.h"

namespace moecollab {

TEST(Routing, DenseIsTheSoftmaxExactlyAndTopKRenormalisesOverTheK) {
  const auto z = torch::tensor({{0.1, 2.0, -1.0, 0.5}, {3.0, 0.0, 0.2, 0.1}}, torch::kFloat64);
  for (std::int64_t k : {0, 4, 7}) {
    EXPECT_TRUE(torch::equal(Router({k}).weights(z), torch::softmax(z, 1))) << k;
    EXPECT_FALSE(Router({k}).sparse(4)) << k;
    EXPECT_TRUE(Router({k}).routed(z).all().item<bool>()) << k;
  }
  const Router top2({2});
  EXPECT_TRUE(top2.sparse(4));
  EXPECT_EQ(top2.name(), "top-2");
  EXPECT_EQ(Router().name(), "dense");
  EXPECT_THROW(Router({-1}), Error);
  const auto w = top2.weights(z);
  const auto g = torch::softmax(z, 1);
  // Row 0 keeps experts 1 and 3, row 1 keeps 0 and 2.
  EXPECT_TRUE(torch::equal(top2.routed(z), torch::tensor({{false, true, false, true}, {true, false, true, false}})));
  EXPECT_NEAR(w[0][1].item<double>(), (g[0][1] / (g[0][1] + g[0][3])).item<double>(), 1e-15);
  EXPECT_EQ(w[0][0].item<double>(), 0.0);
  EXPECT_TRUE(torch::allclose(w.sum(1), torch::ones({2}, torch::kFloat64)));
}

TEST(Routing, TopKGradientMatchesFiniteDifferences) {
  auto z = torch::tensor({{0.1, 2.0, -1.0, 0.5}, {3.0, 0.0, 0.2, 0.1}}, torch::kFloat64).requires_grad_(true);
  const auto o = torch::randn({2, 4, 3}, torch::kFloat64);
  auto f = [&](const torch::Tensor& logits) { return mix_expert_logits(o, Router({2}).weights(logits)).pow(2).sum(); };
  f(z).backward();
  const double h = 1e-6;
  for (std::int64_t i = 0; i < 2; ++i) {
    for (std::int64_t j = 0; j < 4; ++j) {
      auto plus = z.detach().clone(), minus = z.detach().clone();
      plus[i][j] += h;
      minus[i][j] -= h;
      const double numeric = (f(plus).item<double>() - f(minus).item<double>()) / (2 * h);
      EXPECT_NEAR(z.grad()[i][j].item<double>(), numeric, 1e-6) << i << "," << j;
    }
  }
}

// Switch-style top-k (--topk-weights unnormalised): the kept softmax weights as they are. At k = 1
// the renormalised weight is always 1 (no task gradient for the gate); the unnormalised one is
// g_i, whose gradient is g_i(δ_ij − g_j)⟨∂L/∂y, O_i⟩, checked here by formula and by finite differences.
TEST(Routing, UnnormalisedTopKKeepsTheSoftmaxWeightsAndATaskGradientAtK1) {
  const auto z0 = torch::tensor({{0.1, 2.0, -1.0, 0.5}, {3.0, 0.0, 0.2, 0.1}}, torch::kFloat64);
  const auto o = torch::randn({2, 4, 3}, torch::kFloat64);
  const auto g = torch::softmax(z0, 1);
  RoutingConfig c;
  c.top_k = 2;
  c.unnormalised = true;
  const Router switch2(c);
  EXPECT_EQ(switch2.name(), "top-2 (unnormalised)");
  const auto w = switch2.weights(z0);
  EXPECT_EQ(w[0][1].item<double>(), g[0][1].item<double>());
  EXPECT_EQ(w[0][0].item<double>(), 0.0);
  EXPECT_LT(w[0].sum().item<double>(), 1.0);
  c.top_k = 1;
  for (bool unnormalised : {false, true}) {
    c.unnormalised = unnormalised;
    const Router router(c);
    auto z = z0.clone().requires_grad_(true);
    auto f = [&](const torch::Tensor& logits) { return mix_expert_logits(o, router.weights(logits)).pow(2).sum(); };
    f(z).backward();
    if (!unnormalised) {  // the renormalised top-1 weight is 1 whatever the logits: no gradient at all
      EXPECT_EQ(z.grad().abs().max().item<double>(), 0.0);
      continue;
    }
    const double h = 1e-6;
    for (std::int64_t r = 0; r < 2; ++r) {
      const auto i = g[r].argmax().item<std::int64_t>();
      const auto y = (g[r][i] * o[r][i]).detach();
      const auto dy = 2 * y;  // ∂L/∂y for L = Σ y²
      for (std::int64_t j = 0; j < 4; ++j) {
        auto plus = z0.clone(), minus = z0.clone();
        plus[r][j] += h;
        minus[r][j] -= h;
        const double numeric = (f(plus).item<double>() - f(minus).item<double>()) / (2 * h);
        const double formula = (g[r][i] * ((i == j ? 1.0 : 0.0) - g[r][j]) * (dy * o[r][i]).sum()).item<double>();
        EXPECT_NEAR(z.grad()[r][j].item<double>(), numeric, 1e-6) << r << "," << j;
        EXPECT_NEAR(z.grad()[r][j].item<double>(), formula, 1e-12) << r << "," << j;
      }
    }
  }
}

}  // namespace moecollab
