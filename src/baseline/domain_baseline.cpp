#include "moecollab/baseline/domain_baseline.h"

#include <cstdio>
#include <functional>

#include "moecollab/baseline/bag_of_words.h"

namespace moecollab {

const std::vector<double> kNaiveBayesAlphas = {0.01, 0.03, 0.1, 0.3, 1.0};
const std::vector<double> kLogisticL2s = {1e-7, 1e-6, 1e-5, 1e-4, 1e-3};

namespace {

struct LabelledRows {
  std::vector<SparseCounts> rows;
  std::vector<std::int64_t> labels;
};

LabelledRows featurize(const TermIndex& index, const std::vector<Example>& examples) {
  LabelledRows s;
  for (const auto& e : examples) {
    s.rows.push_back(index.counts(e.text));
    s.labels.push_back(e.label);
  }
  return s;
}

template <typename Model>
ClassificationMetrics score(const Model& model, const LabelledRows& split, std::size_t classes) {
  std::vector<std::int64_t> predicted;
  for (const auto& row : split.rows) predicted.push_back(model.predict(row));
  return classification_metrics(predicted, split.labels, classes);
}

std::string number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", value);
  return text;
}

// Fits `make(h)` for every h of `grid`, keeps the best by val accuracy (the first on ties).
template <typename Model>
BaselineResult best_on_val(const std::string& domain, const std::string& model, const std::string& name,
                           const std::vector<double>& grid, const std::function<Model(double)>& make,
                           const LabelledRows& val, const LabelledRows& test, std::size_t classes) {
  BaselineResult best{domain, model, "", {}, {}};
  bool first = true;
  for (double h : grid) {
    const auto fitted = make(h);
    const auto on_val = score(fitted, val, classes);
    if (first || on_val.accuracy > best.val.accuracy) {
      best.chosen = name + " " + number(h);
      best.val = on_val;
      best.test = score(fitted, test, classes);
      first = false;
    }
  }
  return best;
}

}  // namespace

std::vector<BaselineResult> bag_of_words_baselines(const Domain& domain, bool lower_case) {
  std::vector<std::string> texts;
  for (const auto& e : domain.train) texts.push_back(e.text);
  const TermIndex index(texts, lower_case);
  const auto train = featurize(index, domain.train), val = featurize(index, domain.val),
             test = featurize(index, domain.test);
  const auto classes = domain.labels.size();
  std::vector<BaselineResult> out;
  out.push_back(best_on_val<NaiveBayes>(
      domain.name, "naive Bayes", "alpha", kNaiveBayesAlphas,
      [&](double alpha) { return NaiveBayes(train.rows, train.labels, classes, index.size(), alpha); }, val, test,
      classes));
  out.push_back(best_on_val<LogisticRegression>(
      domain.name, "logistic regression", "l2", kLogisticL2s,
      [&](double l2) {
        LogisticRegressionOptions o;
        o.l2 = l2;
        return LogisticRegression(train.rows, train.labels, classes, index.size(), o);
      },
      val, test, classes));
  return out;
}

}  // namespace moecollab
