#include "moecollab/data/sampler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>
#include <vector>

#include "moecollab/util/error.h"

namespace moecollab {

TEST(Sampler, EachEpochVisitsEveryIndexOnce) {
  BatchSampler s(10, 5);
  std::multiset<std::size_t> seen;
  for (int i = 0; i < 5; ++i) {
    for (auto r : s.next(4)) seen.insert(r);  // 20 draws = 2 epochs
  }
  for (std::size_t r = 0; r < 10; ++r) EXPECT_EQ(seen.count(r), 2u);
  EXPECT_EQ(s.epoch(), 1u);
}

TEST(Sampler, DeterministicAndResumable) {
  BatchSampler a(17, 9), b(17, 9);
  for (int i = 0; i < 7; ++i) EXPECT_EQ(a.next(5), b.next(5));
  BatchSampler c(17, 9);
  c.seek(a.epoch(), a.cursor());
  EXPECT_EQ(a.next(6), c.next(6));
  BatchSampler other(17, 10);
  BatchSampler fresh(17, 9);
  EXPECT_NE(fresh.next(17), other.next(17));
}

namespace {

// Uniform random lengths 1..64, as a skewed text corpus would be at worst.
std::vector<std::size_t> random_lengths(std::size_t n) {
  std::mt19937_64 rng(3);
  std::vector<std::size_t> lengths(n);
  for (auto& l : lengths) l = 1 + rng() % 64;
  return lengths;
}

struct Drawn {
  double padding_ratio = 0;  // Σ batch × its longest / Σ lengths: 1 means no padding
  int mixed = 0;             // batches whose lengths span more than 8
  std::vector<std::size_t> longest;
};

Drawn draw(BatchSampler& s, const std::vector<std::size_t>& lengths, std::size_t batch, int batches) {
  Drawn d;
  double padded = 0, real = 0;
  for (int i = 0; i < batches; ++i) {
    std::size_t lo = 1000, hi = 0;
    const auto rows = s.next(batch);
    for (auto r : rows) {
      lo = std::min(lo, lengths[r]);
      hi = std::max(hi, lengths[r]);
      real += static_cast<double>(lengths[r]);
    }
    padded += static_cast<double>(hi * rows.size());
    d.mixed += hi - lo > 8 ? 1 : 0;
    d.longest.push_back(hi);
  }
  d.padding_ratio = padded / real;
  return d;
}

}  // namespace

TEST(Sampler, LengthBucketsVisitEveryIndexOncePerEpoch) {
  const std::size_t n = 103, batch = 8;  // 103 is no multiple of 8: batches straddle epochs
  BatchSampler s(n, 4, random_lengths(n), LengthBucketing{batch, 4});
  std::multiset<std::size_t> seen;
  for (std::size_t i = 0; i < 5 * n / batch; ++i) {
    for (auto r : s.next(batch)) seen.insert(r);
  }
  for (auto r : s.next(5 * n % batch)) seen.insert(r);  // exactly 5 epochs
  for (std::size_t r = 0; r < n; ++r) EXPECT_EQ(seen.count(r), 5u) << r;
  EXPECT_EQ(s.epoch(), 4u);
  EXPECT_EQ(s.cursor(), n);
}

TEST(Sampler, LengthBucketsCutPaddingInEveryEpoch) {
  const std::size_t n = 1003, batch = 16;
  const auto lengths = random_lengths(n);
  BatchSampler plain(n, 8), bucketed(n, 8, lengths, LengthBucketing{batch, 16});
  const int batches = static_cast<int>(6 * n / batch);  // 6 epochs: alignment must hold after the first
  const auto p = draw(plain, lengths, batch, batches);
  const auto b = draw(bucketed, lengths, batch, batches);
  EXPECT_GT(p.padding_ratio, 1.6);
  EXPECT_LT(b.padding_ratio, 1.1);
  // Only the batch that straddles two epochs (one per epoch) mixes lengths.
  EXPECT_LE(b.mixed, 6);
  // The batches of a window come in random order, not shortest first.
  EXPECT_FALSE(std::is_sorted(b.longest.begin(), b.longest.begin() + 16));
}

TEST(Sampler, LengthBucketsAreDeterministicAndResumable) {
  const std::size_t n = 77;
  const auto lengths = random_lengths(n);
  BatchSampler a(n, 9, lengths, LengthBucketing{5, 3}), b(n, 9, lengths, LengthBucketing{5, 3});
  for (int i = 0; i < 40; ++i) EXPECT_EQ(a.next(5), b.next(5));  // into the third epoch
  BatchSampler c(n, 9, lengths, LengthBucketing{5, 3});
  c.seek(a.epoch(), a.cursor());
  for (int i = 0; i < 20; ++i) EXPECT_EQ(a.next(5), c.next(5));
}

TEST(Sampler, LengthBucketsNeedALengthPerRow) {
  EXPECT_THROW(BatchSampler(10, 1, std::vector<std::size_t>(9, 1), LengthBucketing{2, 2}), Error);
}

}  // namespace moecollab
