#include "moecollab/train/metrics.h"

#include <gtest/gtest.h>

namespace moecollab {

TEST(Metrics, AccuracyAndMacroF1ByHand) {
  // truth 0 0 1 1 2, predicted 0 1 1 1 0:
  // class 0: tp1 fp1 fn1 -> F1 0.5; class 1: tp2 fp1 fn0 -> 0.8; class 2: tp0 fn1 -> 0.
  const auto m = classification_metrics({0, 1, 1, 1, 0}, {0, 0, 1, 1, 2}, 4);
  EXPECT_DOUBLE_EQ(m.accuracy, 3.0 / 5.0);
  EXPECT_NEAR(m.macro_f1, (0.5 + 0.8 + 0.0) / 3.0, 1e-12);  // class 3 absent: skipped
  EXPECT_EQ(m.count, 5u);
}

TEST(Metrics, PerfectAndEmpty) {
  const auto m = classification_metrics({2, 0, 1}, {2, 0, 1}, 3);
  EXPECT_DOUBLE_EQ(m.accuracy, 1.0);
  EXPECT_DOUBLE_EQ(m.macro_f1, 1.0);
  EXPECT_EQ(classification_metrics({}, {}, 3).count, 0u);
}

}  // namespace moecollab
