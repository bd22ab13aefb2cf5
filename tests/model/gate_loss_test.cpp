#include "moecollab/model/gate_loss.h"

#include <gtest/gtest.h>

#include <cmath>

#include "moecollab/model/expert.h"
#include "moecollab/model/gate.h"
#include "moecollab/model/integrate.h"
#include "moecollab/util/error.h"
#include "testing/finite_difference.h"

namespace moecollab {

TEST(GateLoss, TermsByHand) {
  // Uniform routing over 4 experts: H = log 4 per sample, ḡ uniform so KL = 0.
  const auto uniform_logits = torch::zeros({3, 4}, torch::kFloat64);
  EXPECT_NEAR(mean_routing_entropy(uniform_logits).item<double>(), std::log(4.0), 1e-12);
  EXPECT_NEAR(kl_to_uniform(torch::full({4}, 0.25, torch::kFloat64)).item<double>(), 0.0, 1e-12);
  // All mass on one expert: KL = log E; a zero entry must not give NaN.
  EXPECT_NEAR(kl_to_uniform(torch::tensor({1.0, 0.0, 0.0, 0.0}, torch::kFloat64)).item<double>(), std::log(4.0), 1e-12);
  // ḡ = [0.5, 0.5, 0, 0]: KL = log 2.
  EXPECT_NEAR(kl_to_uniform(torch::tensor({0.5, 0.5, 0.0, 0.0}, torch::kFloat64)).item<double>(), std::log(2.0), 1e-12);
  // Very confident gate logits stay finite (log-softmax, not log of softmax).
  const auto sharp = torch::tensor({1000.0, -1000.0}, torch::kFloat64).view({1, 2});
  EXPECT_NEAR(mean_routing_entropy(sharp).item<double>(), 0.0, 1e-12);
}

TEST(GateLoss, DomainCrossEntropyIgnoresPaddedColumns) {
  // Sample 0 has 2 classes: columns 2.. must not count, however large.
  const auto logits = torch::tensor({0.0, std::log(3.0), 50.0, 0.0, 0.0, 0.0}, torch::kFloat64).view({2, 3});
  const auto labels = torch::tensor({1, 2}, torch::kInt64);
  const auto classes = torch::tensor({2, 3}, torch::kInt64);
  const double expected = (-std::log(3.0 / 4.0) + std::log(3.0)) / 2.0;
  EXPECT_NEAR(domain_cross_entropy(logits, labels, classes).item<double>(), expected, 1e-12);
}

TEST(GateLoss, TotalCombinesTermsWithLambdas) {
  torch::manual_seed(1);
  const auto mixed = torch::randn({4, 3}, torch::kFloat64);
  const auto gate_logits = torch::randn({4, 2}, torch::kFloat64);
  const auto labels = torch::tensor({0, 1, 2, 0}, torch::kInt64);
  const auto classes = torch::tensor({3, 2, 3, 1}, torch::kInt64);
  const auto t = gate_loss(mixed, labels, classes, gate_logits, {0.3, 0.7});
  EXPECT_NEAR(t.total.item<double>(), (t.task + 0.3 * t.entropy + 0.7 * t.balance).item<double>(), 1e-12);
  EXPECT_NEAR(t.balance.item<double>(), kl_to_uniform(torch::softmax(gate_logits, 1).mean(0)).item<double>(), 1e-12);
  // ḡ is pluggable: a supplier returning uniform makes the balance term vanish.
  const auto u = gate_loss(mixed, labels, classes, gate_logits, {0.3, 0.7},
                           [](const torch::Tensor& g) { return torch::full({g.size(1)}, 0.5, g.options()); });
  EXPECT_NEAR(u.balance.item<double>(), 0.0, 1e-12);
}

TEST(GateLoss, PerDomainBalanceByHandAndGradient) {
  // Two domains: rows 0-1 route all to expert 0, rows 2-4 evenly; per-domain mean of KLs.
  const double big = 30.0;
  const auto logits = torch::tensor({{big, 0.0}, {big, 0.0}, {0.0, 0.0}, {0.0, 0.0}, {0.0, 0.0}}, torch::kFloat64);
  const double kl0 = std::log(2.0);  // KL((1, 0) ‖ (1/2, 1/2))
  EXPECT_NEAR(per_domain_balance(logits, {2, 3}).item<double>(), (kl0 + 0.0) / 2, 1e-9);
  // One domain = the global term.
  EXPECT_NEAR(per_domain_balance(logits, {5}).item<double>(),
              kl_to_uniform(batch_mean_gate(torch::softmax(logits, 1))).item<double>(), 1e-12);
  torch::manual_seed(3);
  auto x = torch::randn({7, 3}, torch::kFloat64).requires_grad_(true);
  testing::expect_gradients_match([&] { return per_domain_balance(x, {3, 1, 3}); }, {x}, 1e-7);
}

// The whole objective through experts (c = 1, 2, 4, 6), integration and gate,
// differentiated w.r.t. gate and expert parameters, against finite differences.
class GateLossGradient : public ::testing::TestWithParam<std::pair<double, double>> {};

TEST_P(GateLossGradient, MatchesFiniteDifferences) {
  torch::manual_seed(7);
  const std::vector<std::int64_t> class_counts = {1, 2, 4, 6};
  const std::int64_t d = 5, b = 8;
  std::vector<Expert> experts;
  for (auto c : class_counts) {
    experts.emplace_back(ExpertConfig{d, 3, c});
    experts.back()->to(torch::kFloat64);
  }
  Gate gate(d, 4);
  gate->to(torch::kFloat64);
  const auto h = torch::randn({b, d}, torch::kFloat64);
  const auto classes = torch::tensor({1, 2, 4, 6, 6, 4, 2, 1}, torch::kInt64);
  const auto labels = torch::tensor({0, 1, 3, 5, 0, 2, 0, 0}, torch::kInt64);
  const GateLossWeights weights{GetParam().first, GetParam().second};
  auto f = [&] {
    std::vector<torch::Tensor> logits;
    for (auto& e : experts) logits.push_back(e->forward(h));
    const auto gate_logits = gate->forward(h);
    const auto mixed = integrate(logits, torch::softmax(gate_logits, 1));
    return gate_loss(mixed, labels, classes, gate_logits, weights).total;
  };
  std::vector<torch::Tensor> params = gate->parameters();
  for (auto& p : experts[1]->parameters()) params.push_back(p);              // a padded expert
  for (auto& p : experts[3]->classifier->parameters()) params.push_back(p);  // the c_max expert's head
  testing::expect_gradients_match(f, params, 1e-7);
}

INSTANTIATE_TEST_SUITE_P(Lambdas, GateLossGradient,
                         ::testing::Values(std::make_pair(0.0, 0.0), std::make_pair(1.0, 0.0), std::make_pair(0.0, 1.0),
                                           std::make_pair(0.05, 0.1)));

// Switch's auxiliary loss E·Σ_i f_i P_i and ST-MoE's z-loss, by hand on a clearly
// non-uniform gate. Rows' top-1: 0, 0, 1 (f = 2/3, 1/3, 0); P = mean softmax.
TEST(GateLoss, SwitchBalanceAndZLossByHand) {
  const auto z = torch::tensor({{2.0, 0.0, -1.0}, {1.0, 0.5, 0.0}, {0.0, 3.0, 1.0}}, torch::kFloat64);
  const auto p = torch::softmax(z, 1).mean(0);
  const double expected = 3.0 * (2.0 / 3.0 * p[0].item<double>() + 1.0 / 3.0 * p[1].item<double>());
  EXPECT_NEAR(balance_term(BalanceLoss::kSwitch, z).item<double>(), expected, 1e-12);
  EXPECT_NEAR(balance_term(BalanceLoss::kKl, z).item<double>(), kl_to_uniform(p).item<double>(), 1e-12);
  EXPECT_EQ(balance_term(BalanceLoss::kNone, z).item<double>(), 0.0);
  // Uniform routing and a balanced top-1 (one row each): E·Σ (1/E)(1/E) = 1, the minimum.
  const auto balanced = torch::tensor({{1.0, 0.0, 0.0}, {0.0, 1.0, 0.0}, {0.0, 0.0, 1.0}}, torch::kFloat64);
  EXPECT_NEAR(balance_term(BalanceLoss::kSwitch, balanced).item<double>(), 1.0, 1e-12);
  double zsum = 0;
  for (int r = 0; r < 3; ++r) {
    double lse = 0;
    for (int e = 0; e < 3; ++e) lse += std::exp(z[r][e].item<double>());
    zsum += std::pow(std::log(lse), 2);
  }
  EXPECT_NEAR(router_z_loss(z).item<double>(), zsum / 3, 1e-12);
  // The total weighs them with α and β; λ2 is not the switch term's weight.
  const auto mixed = torch::randn({3, 2}, torch::kFloat64);
  const auto labels = torch::tensor({0, 1, 1}, torch::kInt64);
  const auto classes = torch::full({3}, 2, torch::kInt64);
  GateLossWeights w{0.2, 0.7};
  w.balance_kind = BalanceLoss::kSwitch;
  w.switch_alpha = 0.05;
  w.z_loss = 0.003;
  const auto t = gate_loss(mixed, labels, classes, z, w);
  EXPECT_NEAR(t.total.item<double>(), (t.task + 0.2 * t.entropy).item<double>() + 0.05 * expected + 0.003 * zsum / 3,
              1e-12);
  EXPECT_EQ(w.balance_weight(), 0.05);
  w.balance_kind = BalanceLoss::kNone;
  EXPECT_EQ(w.balance_weight(), 0.0);
  EXPECT_EQ(parse_balance_loss("switch"), BalanceLoss::kSwitch);
  EXPECT_THROW(parse_balance_loss("aux"), Error);
  // Per domain: the mean of each domain's own switch term.
  EXPECT_NEAR(
      per_domain_balance(z, {2, 1}, BalanceLoss::kSwitch).item<double>(),
      (balance_term(BalanceLoss::kSwitch, z.narrow(0, 0, 2)) + balance_term(BalanceLoss::kSwitch, z.narrow(0, 2, 1)))
              .item<double>() /
          2,
      1e-12);
}

// The domain-routing term: the gate's cross-entropy against each row's own domain, by hand,
// weighted by λ3 in the total, zero without domains; its gradient by finite differences.
TEST(GateLoss, DomainRoutingTermByHandAndGradient) {
  const auto z = torch::tensor({{2.0, 0.0, -1.0}, {1.0, 0.5, 0.0}, {0.0, 3.0, 1.0}}, torch::kFloat64);
  const auto domains = torch::tensor({0, 2, 1}, torch::kInt64);
  double expected = 0;
  for (int r = 0; r < 3; ++r) {
    double sum = 0;
    for (int e = 0; e < 3; ++e) sum += std::exp(z[r][e].item<double>());
    expected += std::log(sum) - z[r][domains[r].item<std::int64_t>()].item<double>();
  }
  expected /= 3;
  const auto mixed = torch::randn({3, 2}, torch::kFloat64);
  const auto labels = torch::tensor({0, 1, 1}, torch::kInt64);
  const auto classes = torch::full({3}, 2, torch::kInt64);
  GateLossWeights w{0.2, 0.7};
  w.domain = 0.4;
  const auto t = gate_loss(mixed, labels, classes, z, w, batch_mean_gate, domains);
  EXPECT_NEAR(t.domain.item<double>(), expected, 1e-12);
  EXPECT_NEAR(t.total.item<double>(), (t.task + 0.2 * t.entropy + 0.7 * t.balance).item<double>() + 0.4 * expected,
              1e-12);
  EXPECT_EQ(gate_loss(mixed, labels, classes, z, w).domain.item<double>(), 0.0);
  auto x = z.clone().requires_grad_(true);
  testing::expect_gradients_match(
      [&] { return gate_loss(mixed, labels, classes, x, w, batch_mean_gate, domains).total; }, {x}, 1e-7);
}

// Their gradients (f held constant: the indicator of the argmax has none) against finite differences.
TEST(GateLoss, SwitchBalanceAndZLossGradientsMatchFiniteDifferences) {
  torch::manual_seed(11);
  auto x = torch::randn({6, 4}, torch::kFloat64).mul(2).requires_grad_(true);
  testing::expect_gradients_match([&] { return balance_term(BalanceLoss::kSwitch, x); }, {x}, 1e-7);
  testing::expect_gradients_match([&] { return router_z_loss(x); }, {x}, 1e-7);
  testing::expect_gradients_match([&] { return per_domain_balance(x, {4, 2}, BalanceLoss::kSwitch); }, {x}, 1e-7);
}

}  // namespace moecollab
