// Secure aggregation on real MPI ranks (run on 2..5 ranks): the masked sum equals the plain
// all-reduce within the fixed-point bound, bit-identical on every rank; what one rank sends
// looks like noise (uniform bytes, uncorrelated with the same input under other keys); a NaN
// on one rank still reaches every rank; other collectives pass through.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "moecollab/comm/secure_aggregation.h"
#include "mpi/world.h"

namespace moecollab {

using testing::world;

namespace {

// Different values on every rank, in the range of gradients and of loss sums.
torch::Tensor rank_values(int rank, torch::Dtype dtype) {
  torch::manual_seed(100 + rank);
  auto values = torch::randn({257}, torch::kDouble) * std::pow(10.0, rank % 3 - 1);
  values[0] = 1000.0 * (rank + 1);  // a count-like value
  values[1] = -3e-7;                // below one step of the fixed point
  return values.to(dtype);
}

// True when every rank holds the same bytes as rank 0.
bool same_on_every_rank(const torch::Tensor& t) {
  auto mine = t.to(torch::kDouble).contiguous();
  auto zero = mine.clone();
  world().broadcast(zero, 0);
  auto differs = torch::tensor({torch::equal(mine, zero) ? 0.0 : 1.0}, torch::kDouble);
  world().allreduce_max(differs);
  return differs.item<double>() == 0.0;
}

}  // namespace

TEST(SecureAggregation, SumEqualsThePlainAllReduceWithinTheBound) {
  auto& base = world();
  SecureAggregationCommunicator secure(base);
  const double bound = secure.format().sum_error_bound(base.size());
  EXPECT_DOUBLE_EQ(bound, base.size() * std::ldexp(1.0, -25));
  for (const auto dtype : {torch::kDouble, torch::kFloat}) {
    auto plain = rank_values(base.rank(), dtype);
    auto masked = plain.clone();
    base.allreduce_sum(plain);
    secure.allreduce_sum(masked);
    const double float_rounding = dtype == torch::kFloat ? 1e-7 * plain.abs().max().item<double>() : 0.0;
    EXPECT_LE((masked.to(torch::kDouble) - plain.to(torch::kDouble)).abs().max().item<double>(),
              bound + float_rounding);
    EXPECT_EQ(masked.dtype(), plain.dtype());
    EXPECT_TRUE(same_on_every_rank(masked));
  }
  // Integer tensors are summed as they are.
  auto counts = torch::full({3}, base.rank() + 1, torch::kLong);
  secure.allreduce_sum(counts);
  EXPECT_EQ(counts[2].item<std::int64_t>(), base.size() * (base.size() + 1) / 2);
}

TEST(SecureAggregation, ValuesAreClippedToTheStatedRange) {
  auto& base = world();
  SecureAggregationCommunicator secure(base);
  auto t = torch::full({2}, 4e6, torch::kDouble);  // beyond clip 2^20 on every rank
  t[1] = -4e6;
  secure.allreduce_sum(t);
  EXPECT_DOUBLE_EQ(t[0].item<double>(), base.size() * std::ldexp(1.0, 20));
  EXPECT_DOUBLE_EQ(t[1].item<double>(), -base.size() * std::ldexp(1.0, 20));
}

TEST(SecureAggregation, AMaskedBufferLooksLikeNoise) {
  auto& base = world();
  // The same input under two independent key sets (two exchanges): the words sent are uncorrelated,
  // and their bytes are close to uniform, although the input is all zeros but one value.
  auto input = torch::zeros({4096}, torch::kDouble);
  input[7] = 0.5;
  SecureAggregationCommunicator first(base), second(base);
  const auto a = first.masked_words(input), b = second.masked_words(input);
  ASSERT_EQ(a.size(), b.size());
  double sa = 0, sb = 0, sab = 0, saa = 0, sbb = 0;
  std::vector<double> histogram(256, 0.0);
  for (std::size_t k = 0; k < a.size(); ++k) {
    // Top 32 bits as numbers in [0, 1): their correlation between the two key sets.
    const double x = static_cast<double>(a[k] >> 32) / 4294967296.0, y = static_cast<double>(b[k] >> 32) / 4294967296.0;
    sa += x, sb += y, sab += x * y, saa += x * x, sbb += y * y;
    for (int byte = 0; byte < 8; ++byte) histogram[(a[k] >> (8 * byte)) & 0xff] += 1;
  }
  const double n = static_cast<double>(a.size());
  const double correlation = (sab - sa * sb / n) / std::sqrt((saa - sa * sa / n) * (sbb - sb * sb / n));
  // Chi-square of the byte histogram against uniform, 255 degrees of freedom: its 99.99% quantile is ~ 346.
  const double expected = 8.0 * n / 256.0;
  double chi2 = 0;
  for (double count : histogram) chi2 += (count - expected) * (count - expected) / expected;
  if (base.size() > 1) {
    EXPECT_LT(std::abs(correlation), 0.07);  // 4 sigma at n = 4097
    EXPECT_LT(chi2, 346.0);
  } else {
    EXPECT_EQ(a, b);  // one rank has no one to mask against
  }
}

TEST(SecureAggregation, ANonFiniteValueOnOneRankReachesEveryRank) {
  auto& base = world();
  SecureAggregationCommunicator secure(base);
  auto t = torch::ones({5}, torch::kDouble);
  if (base.rank() == base.size() - 1) t[3] = std::numeric_limits<double>::infinity();
  secure.allreduce_sum(t);
  EXPECT_TRUE(torch::isnan(t).all().item<bool>());
  // The next call is clean again.
  auto u = torch::ones({5}, torch::kDouble);
  secure.allreduce_sum(u);
  EXPECT_TRUE(torch::all(u == static_cast<double>(base.size())).item<bool>());
}

TEST(SecureAggregation, OtherCollectivesPassThroughAndBytesAreCounted) {
  auto& base = world();
  SecureAggregationCommunicator secure(base);
  EXPECT_EQ(secure.backend(), base.backend() + "+secagg");
  auto m = torch::full({2}, static_cast<double>(base.rank()), torch::kDouble);
  secure.allreduce_max(m);
  EXPECT_EQ(m[0].item<double>(), base.size() - 1.0);
  const auto rows = secure.allgather_rows(torch::full({1, 3}, static_cast<double>(base.rank()), torch::kDouble));
  EXPECT_EQ(rows.size(0), base.size());
  // A float32 sum of n values sends 2 (n + 1) int64 lanes: 4x the plain bytes and one word more.
  const auto before = secure.stats().ops.count("allreduce") ? secure.stats().ops.at("allreduce").bytes_sent : 0;
  auto t = torch::ones({1000}, torch::kFloat);
  secure.allreduce_sum(t);
  EXPECT_EQ(secure.stats().ops.at("allreduce").bytes_sent - before, 2u * 1001u * 8u);
  EXPECT_EQ(secure.stats().bytes_sent(), base.stats().bytes_sent());
}

}  // namespace moecollab
