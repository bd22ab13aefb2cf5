// The routing policies of model/router.h: dense is the softmax exactly; top-k keeps
// each row's k largest weights (renormalised or not), with the gate's gradient through
// them; a capacity assigns slots in row order, first choices first; a noisy gate.
#include "moecollab/model/router.h"

#include <gtest/gtest.h>

#include "moecollab/model/gate.h"
#include "moecollab/model/integrate.h"
#include "moecollab/util/error.h"
#include "testing/finite_difference.h"

namespace moecollab {

TEST(Routing, DenseIsTheSoftmaxExactlyAndTopKRenormalisesOverTheK) {
  const auto z = torch::tensor({{0.1, 2.0, -1.0, 0.5}, {3.0, 0.0, 0.2, 0.1}}, torch::kFloat64);
  for (std::int64_t k : {0, 4, 7}) {
    EXPECT_TRUE(torch::equal(Router({k}).weights(z), torch::softmax(z, 1))) << k;
    EXPECT_FALSE(Router({k}).sparse(4)) << k;
    EXPECT_TRUE(Router({k}).routed(z).all().item<bool>()) << k;
  }
  const Router top2({2, /*unnormalised=*/false});
  EXPECT_TRUE(top2.sparse(4));
  EXPECT_EQ(top2.name(), "top-2 (renormalised)");
  EXPECT_EQ(Router({2}).name(), "top-2");
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
  for (bool unnormalised : {false, true}) {
    z.mutable_grad() = torch::Tensor();
    auto f = [&](const torch::Tensor& logits) {
      return mix_expert_logits(o, Router({2, unnormalised}).weights(logits)).pow(2).sum();
    };
    f(z).backward();
    const double h = 1e-6;
    for (std::int64_t i = 0; i < 2; ++i) {
      for (std::int64_t j = 0; j < 4; ++j) {
        auto plus = z.detach().clone(), minus = z.detach().clone();
        plus[i][j] += h;
        minus[i][j] -= h;
        const double numeric = (f(plus).item<double>() - f(minus).item<double>()) / (2 * h);
        EXPECT_NEAR(z.grad()[i][j].item<double>(), numeric, 1e-6) << i << "," << j << " " << unnormalised;
      }
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
  EXPECT_EQ(switch2.name(), "top-2");
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
    if (!unnormalised) {  // the renormalised top-1 weight is 1 whatever the logits: no gradient (to rounding)
      EXPECT_LE(z.grad().abs().max().item<double>(), 1e-12);
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

// Capacity: ⌈cf·k·N/E⌉ slots per expert; rows claim them in order, every row's first
// choice before any row's second (GShard); 'drop' loses the overflow, 'next' moves it to the
// row's best expert with room. Hand-computed on 5 rows and 3 experts.
TEST(Routing, CapacityAssignsInRowOrderFirstChoicesFirst) {
  EXPECT_EQ(expert_capacity(1.0, 1, 5, 3), 2);   // ⌈5/3⌉
  EXPECT_EQ(expert_capacity(1.25, 2, 8, 4), 5);  // ⌈1.25·2·8/4⌉
  EXPECT_EQ(expert_capacity(2.0, 1, 128, 4), 64);
  // Row preferences (descending): r0 0>1>2, r1 0>2>1, r2 0>1>2, r3 1>0>2, r4 2>1>0.
  const auto z = torch::tensor({{3.0, 2.0, 1.0}, {3.0, 1.0, 2.0}, {3.0, 2.0, 1.0}, {2.0, 3.0, 1.0}, {1.0, 2.0, 3.0}},
                               torch::kFloat64);
  std::int64_t dropped = -1;
  // Top-1, capacity 2, drop: r0, r1 fill expert 0; r2 is dropped; r3 -> 1; r4 -> 2.
  auto a = assign_with_capacity(z, 1, 2, false, &dropped);
  EXPECT_TRUE(torch::equal(a, torch::tensor({{true, false, false},
                                             {true, false, false},
                                             {false, false, false},
                                             {false, true, false},
                                             {false, false, true}})));
  EXPECT_EQ(dropped, 1);
  // 'next': r2 goes to its second choice, expert 1 (room: 2 slots, r3 arrives after it).
  a = assign_with_capacity(z, 1, 2, true, &dropped);
  EXPECT_TRUE(torch::equal(a, torch::tensor({{true, false, false},
                                             {true, false, false},
                                             {false, true, false},
                                             {false, true, false},
                                             {false, false, true}})));
  EXPECT_EQ(dropped, 0);
  // Top-2, capacity 2, drop. First choices: 0←r0,r1 (r2 dropped), 1←r3, 2←r4. Second choices
  // in row order: r0→1 (1 now full), r1→2 (2 full), r2→1 dropped, r3→0 dropped, r4→1 dropped.
  a = assign_with_capacity(z, 2, 2, false, &dropped);
  EXPECT_TRUE(torch::equal(a, torch::tensor({{true, true, false},
                                             {true, false, true},
                                             {false, false, false},
                                             {false, true, false},
                                             {false, false, true}})));
  EXPECT_EQ(dropped, 4);
  // No capacity pressure: plain top-k.
  a = assign_with_capacity(z, 2, 5, false, &dropped);
  EXPECT_TRUE(torch::equal(a, Router({2}).routed(z)));
  EXPECT_EQ(dropped, 0);
}

TEST(Routing, CapacityInTheRouterCountsTheStepAndADroppedRowMixesToZero) {
  const auto z = torch::tensor({{3.0, 2.0, 1.0}, {3.0, 1.0, 2.0}, {3.0, 2.0, 1.0}, {2.0, 3.0, 1.0}, {1.0, 2.0, 3.0}},
                               torch::kFloat64);
  for (bool unnormalised : {false, true}) {
    RoutingConfig c;
    c.top_k = 1;
    c.unnormalised = unnormalised;
    c.capacity_factor = 1.0;  // ⌈1·1·5/3⌉ = 2 in training
    const Router router(c);
    EXPECT_TRUE(router.needs_step_logits());
    const auto train = router.route(z, /*training=*/true);
    EXPECT_EQ(train.assigned, 5);
    EXPECT_EQ(train.dropped, 1);
    EXPECT_EQ(train.weights[2].abs().sum().item<double>(), 0.0) << "row 2 lost its only expert";
    EXPECT_TRUE(torch::isfinite(train.weights).all().item<bool>());
    // Evaluation without an evaluation capacity: plain top-1.
    const auto eval = router.route(z, /*training=*/false);
    EXPECT_EQ(eval.assigned, 0);
    EXPECT_TRUE(torch::equal(eval.routed, Router({1}).routed(z)));
    // A gathered step: this batch is rows 3-4 of the 5 (the others' first choices came first).
    const auto mine = z.narrow(0, 3, 2);
    const auto part = router.route(mine, true, [&](const torch::Tensor& own) {
      EXPECT_TRUE(torch::equal(own, mine));
      return StepLogits{z, 3};
    });
    EXPECT_TRUE(torch::equal(part.routed, train.routed.narrow(0, 3, 2)));
    EXPECT_EQ(part.dropped, 1);  // the step's, not this batch's
  }
  RoutingConfig dense;
  dense.capacity_factor = 1.0;
  EXPECT_THROW(Router{dense}, Error);
  RoutingConfig bad;
  bad.top_k = 1;
  bad.eval_capacity_factor = -1;
  EXPECT_THROW(Router{bad}, Error);
}

// The renormalised weights of a row that keeps some experts still sum to 1 under a capacity,
// and their gradient (through the kept softmax weights) matches finite differences.
TEST(Routing, CapacityWeightsGradientMatchesFiniteDifferences) {
  const auto z0 = torch::tensor({{3.0, 2.0, 1.0}, {3.0, 1.0, 2.5}, {3.0, 2.0, 1.0}, {2.0, 3.0, 1.0}}, torch::kFloat64);
  const auto o = torch::randn({4, 3, 2}, torch::kFloat64);
  for (bool unnormalised : {false, true}) {
    RoutingConfig c;
    c.top_k = 2;
    c.unnormalised = unnormalised;
    c.capacity_factor = 0.75;  // ⌈0.75·2·4/3⌉ = 2 slots
    const Router router(c);
    auto z = z0.clone().requires_grad_(true);
    auto f = [&](const torch::Tensor& logits) {
      return mix_expert_logits(o, router.route(logits, true).weights).pow(2).sum();
    };
    f(z).backward();
    const double h = 1e-6;
    for (std::int64_t i = 0; i < 4; ++i) {
      for (std::int64_t j = 0; j < 3; ++j) {
        auto plus = z0.clone(), minus = z0.clone();
        plus[i][j] += h;
        minus[i][j] -= h;
        const double numeric = (f(plus).item<double>() - f(minus).item<double>()) / (2 * h);
        EXPECT_NEAR(z.grad()[i][j].item<double>(), numeric, 1e-6) << i << "," << j << " " << unnormalised;
      }
    }
  }
}

// The noisy gate: logits + ε ⊙ softplus(W_noise h); W_noise starts at zero (noise std ln 2);
// no draw (evaluation) gives the clean logits; its gradient reaches W_noise.
TEST(Routing, NoisyGateAddsScaledNoiseAndTrainsItsScale) {
  torch::manual_seed(5);
  Gate gate(4, 3, /*noisy=*/true);
  gate->to(torch::kFloat64);
  EXPECT_TRUE(gate->noisy());
  EXPECT_EQ(gate->parameters().size(), 3u);  // W_g, b_g, W_noise
  const auto h = torch::randn({2, 4}, torch::kFloat64);
  const auto eps = torch::randn({2, 3}, torch::kFloat64);
  const auto clean = gate->forward(h);
  EXPECT_TRUE(torch::allclose(gate->forward(h, eps), clean + eps * std::log(2.0), 1e-12, 1e-12));
  Gate plain(4, 3);
  EXPECT_THROW(plain->forward(h.to(torch::kFloat32), eps), Error);
  {
    torch::NoGradGuard no_grad;
    gate->noise->weight.normal_();
  }
  auto loss = [&] { return gate->forward(h, eps).pow(2).sum(); };
  testing::expect_gradients_match(loss, {gate->noise->weight, gate->gate->weight}, 1e-6);
}

}  // namespace moecollab
