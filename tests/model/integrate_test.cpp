#include "moecollab/model/integrate.h"

#include <gtest/gtest.h>

#include "moecollab/util/error.h"
#include "testing/finite_difference.h"

namespace moecollab {

TEST(Integrate, PadsAndMixesByHand) {
  const auto o1 = torch::tensor({1.0, 2.0}, torch::kFloat64).view({1, 2});
  const auto o2 = torch::tensor({3.0, 4.0, 5.0}, torch::kFloat64).view({1, 3});
  const auto g = torch::tensor({0.25, 0.75}, torch::kFloat64).view({1, 2});
  const auto y = integrate({o1, o2}, g);
  EXPECT_TRUE(torch::allclose(y, torch::tensor({2.5, 3.5, 3.75}, torch::kFloat64).view({1, 3})));
  EXPECT_TRUE(torch::equal(domain_columns(y, 2), y.narrow(1, 0, 2)));
}

TEST(Integrate, HeterogeneousClassCountsIncludingCMax) {
  torch::manual_seed(3);
  const std::vector<std::int64_t> classes = {1, 2, 4, 6};
  const std::int64_t b = 5;
  std::vector<torch::Tensor> logits;
  for (auto c : classes) logits.push_back(torch::randn({b, c}, torch::kFloat64));
  const auto stacked = stack_expert_logits(logits);
  ASSERT_EQ(stacked.sizes(), (std::vector<std::int64_t>{b, 4, 6}));
  for (std::size_t i = 0; i < classes.size(); ++i) {
    const auto c = classes[i];
    const auto row = stacked.select(1, static_cast<std::int64_t>(i));
    EXPECT_TRUE(torch::equal(row.narrow(1, 0, c), logits[i]));
    if (c < 6) EXPECT_EQ(row.narrow(1, c, 6 - c).abs().sum().item<double>(), 0.0);  // zero padding (eq. 4)
  }
  EXPECT_TRUE(torch::equal(pad_logits(logits[3], 6), logits[3]));  // the c_max expert is untouched
  const auto g = torch::softmax(torch::randn({b, 4}, torch::kFloat64), 1);
  auto expected = torch::zeros({b, 6}, torch::kFloat64);
  for (std::size_t i = 0; i < classes.size(); ++i) {
    expected += g.select(1, static_cast<std::int64_t>(i)).unsqueeze(1) * pad_logits(logits[i], 6);
  }
  EXPECT_TRUE(torch::allclose(mix_expert_logits(stacked, g), expected, 1e-14, 1e-14));
  EXPECT_THROW(pad_logits(logits[3], 4), Error);
  EXPECT_THROW(mix_expert_logits(stacked, g.narrow(1, 0, 3)), Error);
}

TEST(Integrate, GradientMatchesFiniteDifferences) {
  torch::manual_seed(4);
  std::vector<torch::Tensor> logits = {torch::randn({3, 2}, torch::kFloat64).requires_grad_(),
                                       torch::randn({3, 5}, torch::kFloat64).requires_grad_()};
  const auto gate_logits = torch::randn({3, 2}, torch::kFloat64).requires_grad_();
  const auto weights = torch::randn({3, 5}, torch::kFloat64);
  testing::expect_gradients_match([&] { return (integrate(logits, torch::softmax(gate_logits, 1)) * weights).sum(); },
                                  {logits[0], logits[1], gate_logits});
}

}  // namespace moecollab
