#include "moecollab/data/sampler.h"

#include <gtest/gtest.h>

#include <set>

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

}  // namespace moecollab
