// Load balance, utilization rate and normalized specialization on hand-computed cases.
#include "moecollab/train/utilization.h"

#include <gtest/gtest.h>

#include <cmath>

namespace moecollab {
namespace {

TEST(Utilization, GlobalLoadWeighsDomainsBySamples) {
  // Domain 0 (30 samples) routes all to expert 0, domain 1 (10 samples) splits evenly.
  const auto load = global_load({{1.0, 0.0}, {0.5, 0.5}}, {30, 10});
  ASSERT_EQ(load.size(), 2u);
  EXPECT_DOUBLE_EQ(load[0], (30 * 1.0 + 10 * 0.5) / 40);
  EXPECT_DOUBLE_EQ(load[1], (10 * 0.5) / 40);
}

TEST(Utilization, BalanceIsNormalizedEntropy) {
  EXPECT_DOUBLE_EQ(load_balance({0.25, 0.25, 0.25, 0.25}), 1.0);
  EXPECT_DOUBLE_EQ(load_balance({1.0, 0.0, 0.0}), 0.0);
  const double h = -(0.75 * std::log(0.75) + 0.25 * std::log(0.25));
  EXPECT_NEAR(load_balance({0.75, 0.25}), h / std::log(2.0), 1e-15);
  EXPECT_DOUBLE_EQ(load_balance({1.0}), 1.0);
}

TEST(Utilization, RateCountsExpertsWithHalfTheirFairShare) {
  // E = 4: half the fair share is 0.125.
  EXPECT_DOUBLE_EQ(utilization_rate({0.25, 0.25, 0.25, 0.25}), 1.0);
  EXPECT_DOUBLE_EQ(utilization_rate({0.5, 0.375, 0.125, 0.0}), 0.75);
  EXPECT_DOUBLE_EQ(utilization_rate({0.9, 0.05, 0.05, 0.0}), 0.25);
}

TEST(Utilization, SpecializationIsMeanOverLogD) {
  EXPECT_DOUBLE_EQ(normalized_specialization({0.0, 0.0, 0.0}, 3), 0.0);
  EXPECT_NEAR(normalized_specialization({std::log(3.0), std::log(3.0), 0.0}, 3), 2.0 / 3.0, 1e-15);
  EXPECT_DOUBLE_EQ(normalized_specialization({0.3}, 1), 0.0);
}

}  // namespace
}  // namespace moecollab
