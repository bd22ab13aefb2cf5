// Classification metrics per domain: accuracy and macro-F1 from predicted and
// true label ids. Macro-F1 averages the F1 of every class of the domain; a
// class with neither true nor predicted examples is skipped (it has no F1).
#pragma once

#include <cstdint>
#include <vector>

namespace moecollab {

struct ClassificationMetrics {
  double accuracy = 0.0;
  double macro_f1 = 0.0;
  std::size_t count = 0;
};

// REQUIRES: predicted.size() == truth.size(); ids in [0, num_classes).
ClassificationMetrics classification_metrics(const std::vector<std::int64_t>& predicted,
                                             const std::vector<std::int64_t>& truth, std::size_t num_classes);

}  // namespace moecollab
