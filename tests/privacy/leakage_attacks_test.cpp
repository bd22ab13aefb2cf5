// The curious rank's attacks (privacy/leakage_attacks.h) on inputs whose answer is known: a
// linear layer's real gradient (autograd) reveals batch-1 and small-batch inputs exactly.
#include "moecollab/privacy/leakage_attacks.h"

#include <gtest/gtest.h>

#include <set>

namespace moecollab::privacy {
namespace {

// The weight gradient of a 4-way linear layer's cross-entropy on candidates[rows].
torch::Tensor linear_gradient(const torch::Tensor& candidates, const std::vector<std::int64_t>& rows) {
  torch::manual_seed(11);
  torch::nn::Linear layer(candidates.size(1), 4);
  layer->to(torch::kFloat64);
  const auto x = candidates.index_select(0, torch::tensor(rows, torch::kInt64));
  const auto labels = torch::randint(0, 4, {static_cast<std::int64_t>(rows.size())}, torch::kInt64);
  torch::cross_entropy_loss(layer(x), labels).backward();
  return layer->weight.grad();
}

std::set<std::int64_t> top(const SpanRanking& r, std::int64_t k) {
  std::set<std::int64_t> out;
  for (std::int64_t i = 0; i < k; ++i) out.insert(r.order[i].item<std::int64_t>());
  return out;
}

TEST(LeakageAttacks, NearestNeighbourIdentifiesRescaledRows) {
  torch::manual_seed(1);
  const auto candidates = torch::randn({200, 16}, torch::kFloat64);
  const auto rows = torch::tensor({5, 77, 150, 3}, torch::kInt64);
  const auto observed = 3.0 * candidates.index_select(0, rows) + 1e-3 * torch::randn({4, 16}, torch::kFloat64);
  EXPECT_TRUE(torch::equal(nearest_candidates(observed, candidates), rows));
}

TEST(LeakageAttacks, AGradientOfOneTextOrOfAtMostRowsTextsSpansExactlyThem) {
  torch::manual_seed(2);
  const auto candidates = torch::randn({300, 32}, torch::kFloat64);
  const auto one = rank_by_gradient_span(linear_gradient(candidates, {42}), candidates, 1);
  EXPECT_EQ(one.order[0].item<std::int64_t>(), 42);
  EXPECT_LT(one.distance[42].item<double>(), 1e-10);
  const auto three = rank_by_gradient_span(linear_gradient(candidates, {7, 99, 250}), candidates, 3);
  EXPECT_EQ(top(three, 3), (std::set<std::int64_t>{7, 99, 250}));
  // 40 texts through a 4-row gradient: a 4-dimensional span cannot hold them.
  std::vector<std::int64_t> many;
  for (std::int64_t i = 0; i < 40; ++i) many.push_back(i * 7);
  const auto forty = rank_by_gradient_span(linear_gradient(candidates, many), candidates, 4);
  EXPECT_GT(forty.distance[7].item<double>(), 0.1);
}

}  // namespace
}  // namespace moecollab::privacy
