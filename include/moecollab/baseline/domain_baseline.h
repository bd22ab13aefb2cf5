// The bag-of-words baselines of one domain, as Table 1 reports them: naive
// Bayes and logistic regression fitted on the train split, each with its
// hyper-parameter chosen by validation accuracy (never by test), scored on
// val and test.
#pragma once

#include <string>
#include <vector>

#include "moecollab/data/dataset.h"
#include "moecollab/train/metrics.h"

namespace moecollab {

struct BaselineResult {
  std::string domain;
  std::string model;   // "naive Bayes" or "logistic regression"
  std::string chosen;  // the hyper-parameter picked on val, e.g. "alpha 0.3"
  ClassificationMetrics val, test;
};

// The grids searched on val.
extern const std::vector<double> kNaiveBayesAlphas;
extern const std::vector<double> kLogisticL2s;

// Both models on `domain` (lower-cased unigrams + bigrams when `lower_case`).
std::vector<BaselineResult> bag_of_words_baselines(const Domain& domain, bool lower_case = true);

}  // namespace moecollab
