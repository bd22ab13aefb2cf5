// The classic baseline a user tries first: a bag of words per domain —
// lower-cased word unigrams and bigrams from BERT's basic tokenizer (the same
// word split the WordPiece tokenizer starts from) — under multinomial naive
// Bayes or multinomial logistic regression. Plain C++, no libtorch: it is what
// the mixture must beat, so it shares nothing with the mixture's code but the
// tokenizer's word split and the metrics.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace moecollab {

// Unigrams and, with `bigrams`, adjacent pairs ("new york") of a text's words.
std::vector<std::string> bag_of_words_terms(std::string_view text, bool lower_case = true, bool bigrams = true);

// A text as (term id, count) pairs, sorted by id; terms unseen in training are dropped.
using SparseCounts = std::vector<std::pair<std::uint32_t, float>>;

// Term ids of every term of the training texts.
class TermIndex {
 public:
  TermIndex(const std::vector<std::string>& training_texts, bool lower_case = true, bool bigrams = true);
  SparseCounts counts(std::string_view text) const;
  std::size_t size() const { return ids_.size(); }

 private:
  std::unordered_map<std::string, std::uint32_t> ids_;
  bool lower_case_, bigrams_;
};

// Multinomial naive Bayes with additive (Laplace/Lidstone) smoothing `alpha`.
class NaiveBayes {
 public:
  // REQUIRES: labels in [0, classes); rows.size() == labels.size().
  NaiveBayes(const std::vector<SparseCounts>& rows, const std::vector<std::int64_t>& labels, std::size_t classes,
             std::size_t terms, double alpha);
  std::int64_t predict(const SparseCounts& row) const;

 private:
  std::size_t classes_, terms_;
  std::vector<double> log_prior_;       // [c]
  std::vector<double> log_likelihood_;  // [c × terms]
};

struct LogisticRegressionOptions {
  double l2 = 1e-4;      // weight of 0.5·‖W‖² per training example (the bias is not penalised)
  int iterations = 300;  // full-batch Adam steps: deterministic, no sampling
  double learning_rate = 0.1;
};

// Multinomial logistic regression on L2-normalised term counts, trained by
// full-batch Adam on the mean cross-entropy + l2 penalty. Deterministic.
class LogisticRegression {
 public:
  LogisticRegression(const std::vector<SparseCounts>& rows, const std::vector<std::int64_t>& labels,
                     std::size_t classes, std::size_t terms, const LogisticRegressionOptions& options);
  std::int64_t predict(const SparseCounts& row) const;
  double training_loss() const { return loss_; }  // the objective after the last step

 private:
  std::vector<double> scores(const SparseCounts& row) const;
  std::size_t classes_, terms_;
  std::vector<double> weights_;  // [c × terms]
  std::vector<double> bias_;     // [c]
  double loss_ = 0;
};

}  // namespace moecollab
