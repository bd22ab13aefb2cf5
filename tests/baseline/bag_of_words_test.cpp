#include "moecollab/baseline/bag_of_words.h"

#include <gtest/gtest.h>

#include <cmath>

#include "moecollab/baseline/domain_baseline.h"
#include "moecollab/util/error.h"
#include "testing/fixture_domains.h"

namespace moecollab {
namespace {

TEST(BagOfWords, TermsAreLowerCasedUnigramsAndBigrams) {
  EXPECT_EQ(bag_of_words_terms("New York, new!"),
            (std::vector<std::string>{"new", "york", ",", "new", "!", "new york", "york ,", ", new", "new !"}));
  EXPECT_EQ(bag_of_words_terms("A b", false, false), (std::vector<std::string>{"A", "b"}));
}

TEST(BagOfWords, TermIndexCountsKnownTermsOnly) {
  const TermIndex index({"red apple", "green apple"});
  const auto row = index.counts("apple apple pear");
  ASSERT_EQ(row.size(), 1u);  // "apple" twice; "pear" and the unseen bigrams are dropped
  EXPECT_EQ(row[0].second, 2.0f);
}

// Two classes, two terms, alpha 1, counted by hand.
TEST(BagOfWords, NaiveBayesMatchesHandComputedPosterior) {
  // class 0: term 0 twice; class 1: term 1 once, term 0 once.
  const std::vector<SparseCounts> rows = {{{0, 2.0f}}, {{0, 1.0f}, {1, 1.0f}}};
  const NaiveBayes nb(rows, {0, 1}, 2, 2, 1.0);
  // P(t|0) = (3/4, 1/4), P(t|1) = (2/4, 2/4), priors 1/2 each.
  // Row {term 1 once}: class 0: log 1/4, class 1: log 1/2 -> class 1; row {term 0 three times}:
  // 3 log 3/4 = -0.863 > 3 log 1/2 = -2.08 -> class 0.
  EXPECT_EQ(nb.predict({{1, 1.0f}}), 1);
  EXPECT_EQ(nb.predict({{0, 3.0f}}), 0);
  EXPECT_THROW(NaiveBayes(rows, {0, 2}, 2, 2, 1.0), Error);
}

TEST(BagOfWords, LogisticRegressionFitsSeparableData) {
  const std::vector<SparseCounts> rows = {{{0, 1.0f}}, {{0, 2.0f}, {2, 1.0f}}, {{1, 1.0f}}, {{1, 3.0f}, {2, 1.0f}}};
  const std::vector<std::int64_t> labels = {0, 0, 1, 1};
  LogisticRegressionOptions o;
  o.l2 = 0;
  const LogisticRegression lr(rows, labels, 2, 3, o);
  for (std::size_t i = 0; i < rows.size(); ++i) EXPECT_EQ(lr.predict(rows[i]), labels[i]);
  EXPECT_LT(lr.training_loss(), 0.05);  // from ln 2 = 0.69 at zero weights
  o.l2 = 1.0;                           // a strong penalty keeps the loss far from 0
  EXPECT_GT(LogisticRegression(rows, labels, 2, 3, o).training_loss(), 0.3);
}

TEST(BagOfWords, DomainBaselinesLearnATopicDomain) {
  const auto domain = testing::topic_domain("animals", 3, 120, 1);
  const auto results = bag_of_words_baselines(domain);
  ASSERT_EQ(results.size(), 2u);
  for (const auto& r : results) {
    EXPECT_EQ(r.domain, "animals");
    EXPECT_GT(r.val.accuracy, 0.6) << r.model;  // chance is 1/3
    EXPECT_EQ(r.val.count, domain.val.size());
    EXPECT_EQ(r.test.count, domain.test.size());
  }
  EXPECT_EQ(results[0].model, "naive Bayes");
  EXPECT_EQ(results[1].model, "logistic regression");
}

}  // namespace
}  // namespace moecollab
