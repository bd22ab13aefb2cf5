#include "moecollab/train/metrics.h"

#include "moecollab/util/error.h"

namespace moecollab {

ClassificationMetrics classification_metrics(const std::vector<std::int64_t>& predicted,
                                             const std::vector<std::int64_t>& truth, std::size_t num_classes) {
  if (predicted.size() != truth.size()) throw Error("metrics: predictions and labels differ in length");
  ClassificationMetrics m;
  m.count = truth.size();
  if (truth.empty()) return m;
  std::vector<std::size_t> tp(num_classes, 0), fp(num_classes, 0), fn(num_classes, 0);
  std::size_t correct = 0;
  for (std::size_t i = 0; i < truth.size(); ++i) {
    const auto t = static_cast<std::size_t>(truth[i]);
    const auto p = static_cast<std::size_t>(predicted[i]);
    if (t >= num_classes || p >= num_classes) throw Error("metrics: label id out of range");
    if (t == p) {
      ++correct;
      ++tp[t];
    } else {
      ++fp[p];
      ++fn[t];
    }
  }
  m.accuracy = static_cast<double>(correct) / static_cast<double>(truth.size());
  double f1_sum = 0.0;
  std::size_t classes = 0;
  for (std::size_t c = 0; c < num_classes; ++c) {
    const std::size_t denom = 2 * tp[c] + fp[c] + fn[c];
    if (denom == 0) continue;  // class absent from truth and predictions
    f1_sum += 2.0 * static_cast<double>(tp[c]) / static_cast<double>(denom);
    ++classes;
  }
  m.macro_f1 = classes ? f1_sum / static_cast<double>(classes) : 0.0;
  return m;
}

}  // namespace moecollab
