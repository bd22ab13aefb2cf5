// The RDP accountant against published reference values: those of TensorFlow Privacy's
// accountant tests, tensorflow/privacy,
// tensorflow_privacy/privacy/analysis/rdp_accountant_test.py (commit 09270afed61a4e9ef6295217b53731f7515f0350),
// each test below naming the one it reproduces, at that test's tolerance.
#include "moecollab/privacy/rdp_accountant.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "moecollab/util/error.h"

namespace moecollab::privacy {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// test_compute_rdp_no_data, test_compute_rdp_no_sampling.
TEST(RdpAccountant, NoDataAndNoSampling) {
  EXPECT_EQ(sampled_gaussian_rdp(0, 10, 1, {20})[0], 0);
  EXPECT_DOUBLE_EQ(sampled_gaussian_rdp(1, 10, 1, {20})[0], 0.1);  // α / (2 z²)
}

// test_compute_rdp_scalar: q = 0.1, z = 2, 10 steps, order 5 -> 0.07737 (5 places).
TEST(RdpAccountant, ScalarReference) { EXPECT_NEAR(sampled_gaussian_rdp(0.1, 2, 10, {5})[0], 0.07737, 5e-6); }

// test_compute_rdp_sequence: q = 0.01, z = 2.5, 50 steps, fractional, integer and infinite orders.
TEST(RdpAccountant, SequenceReference) {
  const auto rdp = sampled_gaussian_rdp(0.01, 2.5, 50, {1.5, 2.5, 5, 50, 100, kInf});
  const std::vector<double> expected{0.00065, 0.001085, 0.00218075, 0.023846, 167.416307};
  for (std::size_t k = 0; k < expected.size(); ++k) EXPECT_NEAR(rdp[k], expected[k], 1e-5) << "order index " << k;
  EXPECT_EQ(rdp[5], kInf);
}

// test_get_privacy_spent_check_target_delta, part 1: constant RDP 1.1 on orders 2..32 at δ = 1e-5
// picks order 32 and ε = 1.32783806176.
TEST(RdpAccountant, EpsilonOfConstantRdp) {
  std::vector<double> orders;
  for (int a = 2; a <= 32; ++a) orders.push_back(a);
  const auto spent = epsilon_for(orders, std::vector<double>(orders.size(), 1.1), 1e-5);
  EXPECT_EQ(spent.order, 32);
  EXPECT_NEAR(spent.epsilon, 1.32783806176, 1e-7);
}

// test_get_privacy_spent_check_target_delta, part 2: the Gaussian mechanism (q = 1) with
// z = 4.530877117 is exactly (1, 1e-6)-DP on a fine grid of orders 1.000 .. 99.999.
TEST(RdpAccountant, GaussianMechanismIsExactlyOneAtOneInAMillion) {
  std::vector<double> orders;
  for (int i = 1001; i < 100000; ++i) orders.push_back(0.001 * i);
  const auto spent = epsilon_for(orders, sampled_gaussian_rdp(1, 4.530877117, 1, orders), 1e-6);
  EXPECT_NEAR(spent.epsilon, 1.0, 1e-7);
}

// test_check_composition: 40000 steps at q = 1e-4, z = 0.4, then 100 at q = 0.1, z = 2, at
// δ = 1e-5: at most 8.509656 (the value of the older conversion, which this one improves on).
TEST(RdpAccountant, CompositionReference) {
  const std::vector<double> orders{1.25, 1.5, 1.75, 2.,  2.5, 3.,  4.,  5.,  6.,  7.,  8.,
                                   10.,  12., 14.,  16., 20., 24., 28., 32., 64., 256.};
  RdpAccountant accountant(orders);
  accountant.add_steps(1e-4, 0.4, 40000);
  accountant.add_steps(0.1, 2, 100);
  EXPECT_EQ(accountant.steps(), 40100);
  const auto spent = accountant.epsilon(1e-5);
  EXPECT_LE(spent.epsilon, 8.509656);
  EXPECT_GT(spent.epsilon, 7.0);  // and not vacuously: the old conversion is ~1 above the new at these orders
}

// The fractional series against the integer formula where both apply (an order a hair off an
// integer), and RDP growing with the order and with q, falling with z.
TEST(RdpAccountant, FractionalSeriesMeetsIntegerFormula) {
  for (double q : {0.001, 0.01, 0.1, 0.5}) {
    for (double z : {0.7, 1.0, 2.0}) {
      const double at_int = sampled_gaussian_rdp(q, z, 8);
      const double near = sampled_gaussian_rdp(q, z, 8 + 1e-9);
      EXPECT_NEAR(near, at_int, 1e-6 * at_int + 1e-12) << "q " << q << " z " << z;
      EXPECT_LT(sampled_gaussian_rdp(q, z, 4.5), sampled_gaussian_rdp(q, z, 9.5));
      EXPECT_LT(sampled_gaussian_rdp(q, z * 1.5, 8), at_int);
    }
  }
}

// --dp-epsilon: the noise multiplier found spends at most the target, and 1% less noise spends more.
TEST(RdpAccountant, NoiseMultiplierForEpsilon) {
  const double q = 32.0 / 1400, delta = 1e-5;
  const std::int64_t steps = 600;
  for (double target : {0.5, 1.0, 3.0, 8.0}) {
    const double z = noise_multiplier_for(target, delta, q, steps);
    const auto orders = default_orders();
    EXPECT_LE(epsilon_for(orders, sampled_gaussian_rdp(q, z, steps, orders), delta).epsilon, target);
    EXPECT_GT(epsilon_for(orders, sampled_gaussian_rdp(q, 0.99 * z, steps, orders), delta).epsilon, target);
  }
}

TEST(RdpAccountant, BadArgumentsAreRefused) {
  EXPECT_THROW(sampled_gaussian_rdp(1.5, 1, 2), Error);
  EXPECT_THROW(sampled_gaussian_rdp(0.1, 0, 2), Error);
  EXPECT_THROW(sampled_gaussian_rdp(0.1, 1, 1), Error);
  EXPECT_THROW(epsilon_for({2, 3}, {0.1}, 1e-5), Error);
  EXPECT_THROW(epsilon_for({2}, {0.1}, 0), Error);
  EXPECT_THROW(noise_multiplier_for(-1, 1e-5, 0.1, 10), Error);
  EXPECT_THROW(noise_multiplier_for(1, 1e-5, 0.1, 0), Error);
}

}  // namespace
}  // namespace moecollab::privacy
