// Pairwise masking, W ranks simulated in one process: the masks cancel exactly, the decoded sum is
// the plain sum within the fixed-point bound, and one rank's masked buffer carries no trace of its
// input (uniform bytes, uncorrelated across key sets and across aggregations).
#include "moecollab/privacy/secure_sum.h"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <random>
#include <vector>

#include "moecollab/util/error.h"

namespace moecollab::privacy {
namespace {

// W ranks' key pairs and masks, as the communicator sets them up after exchanging public keys.
struct Federation {
  std::vector<std::unique_ptr<KeyPair>> pairs;
  std::vector<std::unique_ptr<PairwiseMasks>> masks;

  explicit Federation(int ranks) {
    std::vector<PublicKey> public_keys;
    for (int r = 0; r < ranks; ++r) {
      pairs.push_back(std::make_unique<KeyPair>());
      public_keys.push_back(pairs.back()->public_key());
    }
    for (int r = 0; r < ranks; ++r) masks.push_back(std::make_unique<PairwiseMasks>(r, *pairs[r], public_keys));
  }

  // Rank r's masked buffer of `values` for aggregation `call`.
  std::vector<std::uint64_t> masked(int r, const std::vector<double>& values, std::uint64_t call,
                                    const FixedPoint& format) const {
    auto words = encode(values.data(), values.size(), format);
    masks[r]->apply(call, words);
    return words;
  }
};

std::vector<double> random_values(std::size_t n, double scale, unsigned seed) {
  std::mt19937_64 gen(seed);
  std::normal_distribution<double> normal(0, scale);
  std::vector<double> v(n);
  for (auto& x : v) x = normal(gen);
  return v;
}

// Pearson correlation of two buffers' words, each read as a number in [0, 1).
double correlation(const std::vector<std::uint64_t>& a, const std::vector<std::uint64_t>& b) {
  const double n = static_cast<double>(a.size());
  double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
  for (std::size_t k = 0; k < a.size(); ++k) {
    const double x = std::ldexp(static_cast<double>(a[k] >> 11), -53),
                 y = std::ldexp(static_cast<double>(b[k] >> 11), -53);
    sa += x, sb += y, saa += x * x, sbb += y * y, sab += x * y;
  }
  return (sab / n - sa / n * sb / n) / std::sqrt((saa / n - sa / n * sa / n) * (sbb / n - sb / n * sb / n));
}

TEST(SecureSum, MasksCancelAndTheSumIsThePlainSumWithinTheBound) {
  const FixedPoint format;
  for (int ranks = 2; ranks <= 5; ++ranks) {
    format.check(ranks);
    const Federation federation(ranks);
    const std::size_t n = 1000;
    std::vector<std::vector<double>> inputs;
    std::vector<double> plain(n, 0.0);
    for (int r = 0; r < ranks; ++r) {
      inputs.push_back(random_values(n, 0.1 * (r + 1), 100 + r));
      inputs[r][7] = 3e6 * (r % 2 ? 1 : -1);  // beyond the clipping range: clipped
      for (std::size_t k = 0; k < n; ++k) plain[k] += std::clamp(inputs[r][k], -format.clip, format.clip);
    }
    for (std::uint64_t call : {1ULL, 2ULL, 977ULL}) {
      std::vector<std::uint64_t> sum(n, 0), encodings(n, 0);
      for (int r = 0; r < ranks; ++r) {
        const auto masked = federation.masked(r, inputs[r], call, format);
        const auto encoded = encode(inputs[r].data(), n, format);
        for (std::size_t k = 0; k < n; ++k) sum[k] += masked[k], encodings[k] += encoded[k];
      }
      EXPECT_EQ(sum, encodings) << ranks << " ranks, call " << call;  // the masks cancel exactly
      std::vector<double> decoded(n);
      decode(sum, decoded.data(), format);
      for (std::size_t k = 0; k < n; ++k) {
        ASSERT_LE(std::fabs(decoded[k] - plain[k]), format.sum_error_bound(ranks)) << ranks << " ranks, value " << k;
      }
    }
  }
}

TEST(SecureSum, FloatRoundTrip) {
  const FixedPoint format{16, 100.0};
  const std::vector<float> values{0.f, 1.5f, -2.25f, 99.f, -1000.f};
  auto words = encode(values.data(), values.size(), format);
  std::vector<float> back(values.size());
  decode(words, back.data(), format);
  for (std::size_t k = 0; k < 4; ++k) EXPECT_NEAR(back[k], values[k], 0.5 / format.scale());
  EXPECT_EQ(back[4], -100.f);  // clipped
}

// One rank's masked buffer: its bytes are uniform (chi-squared over 256 byte values), and the same
// input under two key sets, or in two aggregations, gives uncorrelated buffers.
TEST(SecureSum, AMaskedBufferCarriesNoTraceOfItsInput) {
  const FixedPoint format;
  const auto input = std::vector<double>(8192, 0.25);  // as structured an input as there is
  const Federation first(3), second(3);
  const auto a = first.masked(1, input, 5, format);
  const auto b = second.masked(1, input, 5, format);
  const auto c = first.masked(1, input, 6, format);
  std::vector<double> histogram(256, 0.0);
  for (auto w : a)
    for (int byte = 0; byte < 8; ++byte) histogram[(w >> (8 * byte)) & 0xff] += 1;
  const double expected = a.size() * 8 / 256.0;
  double chi2 = 0;
  for (double count : histogram) chi2 += (count - expected) * (count - expected) / expected;
  EXPECT_LT(chi2, 377.0);  // 255 degrees of freedom: p ≈ 1e-6 (an unmasked buffer gives ~10^6)
  const double sd = 1 / std::sqrt(static_cast<double>(input.size()));
  EXPECT_LT(std::fabs(correlation(a, b)), 4 * sd);
  EXPECT_LT(std::fabs(correlation(a, c)), 4 * sd);
  // and against the input's own encoding
  const auto encoded = encode(input.data(), input.size(), format);
  std::size_t equal = 0;
  for (std::size_t k = 0; k < a.size(); ++k) equal += a[k] == encoded[k];
  EXPECT_EQ(equal, 0u);
}

TEST(SecureSum, BadSettingsAndKeysAreRefused) {
  EXPECT_THROW((FixedPoint{40, 1 << 20}.check(16)), Error);  // 16 · 2^20 · 2^40 > 2^63
  EXPECT_NO_THROW((FixedPoint{24, 1 << 20}.check(1 << 18)));
  EXPECT_THROW((FixedPoint{24, 1 << 20}.check(1 << 19)), Error);
  const double nan = std::nan("");
  EXPECT_THROW(encode(&nan, 1, FixedPoint{}), Error);
  KeyPair own, other;
  std::vector<PublicKey> keys{own.public_key(), other.public_key()};
  EXPECT_THROW(PairwiseMasks(1, own, keys), Error);  // own key not at its rank
  keys[1] = PublicKey{};                             // all zeros: a low-order point
  EXPECT_THROW(PairwiseMasks(0, own, keys), Error);
  EXPECT_THROW(public_key_from_bytes("short", "rank 3"), Error);
  EXPECT_EQ(public_key_from_bytes(public_key_bytes(own.public_key()), "rank 0"), own.public_key());
}

}  // namespace
}  // namespace moecollab::privacy
