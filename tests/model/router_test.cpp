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

}  // namespace moecollab
