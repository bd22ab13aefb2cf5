#include "moecollab/baseline/bag_of_words.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "moecollab/data/tokenizer.h"
#include "moecollab/util/error.h"

namespace moecollab {

std::vector<std::string> bag_of_words_terms(std::string_view text, bool lower_case, bool bigrams) {
  auto words = basic_tokenize(text, lower_case);
  std::vector<std::string> terms = words;
  if (bigrams) {
    for (std::size_t i = 0; i + 1 < words.size(); ++i) terms.push_back(words[i] + " " + words[i + 1]);
  }
  return terms;
}

TermIndex::TermIndex(const std::vector<std::string>& training_texts, bool lower_case, bool bigrams)
    : lower_case_(lower_case), bigrams_(bigrams) {
  for (const auto& text : training_texts) {
    for (auto& term : bag_of_words_terms(text, lower_case_, bigrams_)) {
      ids_.emplace(std::move(term), static_cast<std::uint32_t>(ids_.size()));
    }
  }
}

SparseCounts TermIndex::counts(std::string_view text) const {
  std::map<std::uint32_t, float> counted;
  for (const auto& term : bag_of_words_terms(text, lower_case_, bigrams_)) {
    const auto it = ids_.find(term);
    if (it != ids_.end()) counted[it->second] += 1.0f;
  }
  return {counted.begin(), counted.end()};
}

namespace {

void require_rows(const std::vector<SparseCounts>& rows, const std::vector<std::int64_t>& labels, std::size_t classes) {
  if (rows.empty() || rows.size() != labels.size()) throw Error("bag of words: need one label per training row");
  for (auto label : labels) {
    if (label < 0 || static_cast<std::size_t>(label) >= classes) throw Error("bag of words: label out of range");
  }
}

std::int64_t argmax(const std::vector<double>& v) {
  return static_cast<std::int64_t>(std::max_element(v.begin(), v.end()) - v.begin());
}

}  // namespace

NaiveBayes::NaiveBayes(const std::vector<SparseCounts>& rows, const std::vector<std::int64_t>& labels,
                       std::size_t classes, std::size_t terms, double alpha)
    : classes_(classes), terms_(terms), log_prior_(classes, 0.0), log_likelihood_(classes * terms, alpha) {
  require_rows(rows, labels, classes);
  if (!(alpha > 0)) throw Error("naive Bayes: the smoothing alpha must be positive");
  std::vector<double> docs(classes, 0.0), total(classes, alpha * static_cast<double>(terms));
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto c = static_cast<std::size_t>(labels[i]);
    docs[c] += 1;
    for (const auto& [term, count] : rows[i]) {
      log_likelihood_[c * terms + term] += count;
      total[c] += count;
    }
  }
  for (std::size_t c = 0; c < classes; ++c) {
    // A class without training rows keeps the smoothed prior of one row, so it stays predictable.
    log_prior_[c] = std::log(std::max(docs[c], 1.0) / static_cast<double>(rows.size()));
    for (std::size_t t = 0; t < terms; ++t)
      log_likelihood_[c * terms + t] = std::log(log_likelihood_[c * terms + t] / total[c]);
  }
}

std::int64_t NaiveBayes::predict(const SparseCounts& row) const {
  std::vector<double> score = log_prior_;
  for (std::size_t c = 0; c < classes_; ++c) {
    for (const auto& [term, count] : row) score[c] += count * log_likelihood_[c * terms_ + term];
  }
  return argmax(score);
}

namespace {

// Term counts scaled to unit L2 norm (tf-l2): long texts do not dominate.
SparseCounts normalised(const SparseCounts& row) {
  double norm = 0;
  for (const auto& [term, count] : row) norm += static_cast<double>(count) * count;
  norm = std::sqrt(norm);
  SparseCounts out = row;
  if (norm > 0) {
    for (auto& entry : out) entry.second = static_cast<float>(entry.second / norm);
  }
  return out;
}

}  // namespace

LogisticRegression::LogisticRegression(const std::vector<SparseCounts>& rows, const std::vector<std::int64_t>& labels,
                                       std::size_t classes, std::size_t terms, const LogisticRegressionOptions& o)
    : classes_(classes), terms_(terms), weights_(classes * terms, 0.0), bias_(classes, 0.0) {
  require_rows(rows, labels, classes);
  if (o.l2 < 0 || o.iterations < 1 || !(o.learning_rate > 0)) throw Error("logistic regression: bad options");
  std::vector<SparseCounts> x;
  for (const auto& r : rows) x.push_back(normalised(r));
  const double n = static_cast<double>(rows.size());
  // Adam on every weight (dense: c × terms is small for a bag of words of one domain).
  constexpr double kBeta1 = 0.9, kBeta2 = 0.999, kEps = 1e-8;
  std::vector<double> grad(weights_.size()), m(weights_.size(), 0.0), v(weights_.size(), 0.0);
  std::vector<double> grad_b(classes), m_b(classes, 0.0), v_b(classes, 0.0);
  for (int step = 1; step <= o.iterations; ++step) {
    for (std::size_t k = 0; k < weights_.size(); ++k) grad[k] = o.l2 * weights_[k];
    std::fill(grad_b.begin(), grad_b.end(), 0.0);
    double loss = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      auto p = scores(x[i]);
      const double top = *std::max_element(p.begin(), p.end());
      double sum = 0;
      for (auto& s : p) sum += (s = std::exp(s - top));
      const auto y = static_cast<std::size_t>(labels[i]);
      loss -= std::log(p[y] / sum) / n;
      for (std::size_t c = 0; c < classes; ++c) {
        const double delta = (p[c] / sum - (c == y ? 1.0 : 0.0)) / n;
        grad_b[c] += delta;
        for (const auto& [term, value] : x[i]) grad[c * terms + term] += delta * value;
      }
    }
    double penalty = 0;
    for (double w : weights_) penalty += w * w;
    loss_ = loss + 0.5 * o.l2 * penalty;
    const double c1 = 1 - std::pow(kBeta1, step), c2 = 1 - std::pow(kBeta2, step);
    auto adam = [&](double& w, double g, double& mk, double& vk) {
      mk = kBeta1 * mk + (1 - kBeta1) * g;
      vk = kBeta2 * vk + (1 - kBeta2) * g * g;
      w -= o.learning_rate * (mk / c1) / (std::sqrt(vk / c2) + kEps);
    };
    for (std::size_t k = 0; k < weights_.size(); ++k) adam(weights_[k], grad[k], m[k], v[k]);
    for (std::size_t c = 0; c < classes; ++c) adam(bias_[c], grad_b[c], m_b[c], v_b[c]);
  }
}

std::vector<double> LogisticRegression::scores(const SparseCounts& row) const {
  std::vector<double> s = bias_;
  for (std::size_t c = 0; c < classes_; ++c) {
    for (const auto& [term, value] : row) s[c] += weights_[c * terms_ + term] * value;
  }
  return s;
}

std::int64_t LogisticRegression::predict(const SparseCounts& row) const { return argmax(scores(normalised(row))); }

}  // namespace moecollab
