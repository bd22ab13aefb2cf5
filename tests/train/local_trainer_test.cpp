#include "moecollab/train/local_trainer.h"

#include <gtest/gtest.h>

#include <random>

#include "moecollab/data/vocab_builder.h"

namespace moecollab {
namespace {

// A small labelled domain: each class has its own topic words, mixed with
// words every class shares, so a text is classified by what it talks about.
Domain topic_domain(const std::string& name, const std::vector<std::vector<std::string>>& topics, unsigned seed) {
  const std::vector<std::string> shared = {"the", "a", "of", "and", "today", "we", "saw", "very", "some", "with"};
  std::mt19937 rng(seed);
  Domain d;
  d.name = name;
  for (std::size_t c = 0; c < topics.size(); ++c) d.labels.names.push_back(name + std::to_string(c));
  auto make = [&](std::size_t n, std::vector<Example>& out) {
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t c = rng() % topics.size();
      std::string text;
      for (int w = 0; w < 8; ++w) {
        const bool topical = rng() % 3 == 0;
        const auto& pool = topical ? topics[c] : shared;
        text += pool[rng() % pool.size()] + " ";
      }
      text += topics[c][rng() % topics[c].size()];
      out.push_back({text, static_cast<std::int64_t>(c)});
    }
  };
  make(240, d.train);
  make(90, d.val);
  make(30, d.test);
  return d;
}

std::vector<Domain> fixture_domains() {
  return {topic_domain("animals", {{"cat", "dog", "horse", "cow"}, {"eagle", "sparrow", "owl", "crow"},
                                   {"salmon", "trout", "shark", "cod"}}, 1),
          topic_domain("weather", {{"sunny", "warm", "bright", "dry"}, {"rain", "storm", "wet", "cloud"}}, 2)};
}

TrainOptions small_options() {
  TrainOptions o;
  o.encoder.hidden = 32;
  o.encoder.layers = 1;
  o.encoder.heads = 2;
  o.encoder.intermediate = 64;
  o.encoder.max_positions = 32;
  o.adapter = 8;
  o.max_length = 16;
  o.rounds = 4;
  o.local_steps = 40;
  o.gate_steps = 20;
  o.batch_size = 16;
  o.expert_lr = 1e-2;
  o.gate_lr = 1e-2;
  o.seed = 5;
  return o;
}

std::shared_ptr<const Tokenizer> fixture_tokenizer(const std::vector<Domain>& domains) {
  std::vector<std::string> texts;
  for (const auto& d : domains) {
    for (const auto& ex : d.train) texts.push_back(ex.text);
  }
  return std::make_shared<WordPieceTokenizer>(build_vocabulary(texts, {500, 1, true}));
}

}  // namespace

TEST(LocalTrainer, LearnsWellAboveChanceAndIsDeterministic) {
  const auto domains = fixture_domains();
  const auto tokenizer = fixture_tokenizer(domains);
  const auto options = small_options();
  LocalTrainer a(options, domains, tokenizer), b(options, domains, tokenizer);
  RoundReport ra, rb;
  for (int r = 0; r < options.rounds; ++r) {
    ra = a.run_round();
    rb = b.run_round();
    EXPECT_EQ(ra.local_loss, rb.local_loss) << "round " << ra.round;  // bit-identical with a fixed seed
    EXPECT_EQ(ra.gate.total, rb.gate.total) << "round " << ra.round;
  }
  ASSERT_EQ(ra.domains.size(), 2u);
  // Chance is 1/3 and 1/2.
  EXPECT_GT(ra.domains[0].moe.accuracy, 0.8) << format_round(ra);
  EXPECT_GT(ra.domains[1].moe.accuracy, 0.85) << format_round(ra);
  EXPECT_GT(ra.domains[0].expert.accuracy, 0.8) << format_round(ra);
  EXPECT_GT(ra.domains[0].moe.macro_f1, 0.75) << format_round(ra);
  double util = 0;
  for (double u : ra.utilization) util += u;
  EXPECT_NEAR(util, 1.0, 1e-6);  // float32 gate weights
  // The gate learns to route each domain to its own expert more than to the other.
  EXPECT_GT(ra.domains[0].utilization[0], 0.5) << format_round(ra);
  EXPECT_GT(ra.domains[1].utilization[1], 0.5) << format_round(ra);
}

TEST(LocalTrainer, MixtureForwardIsTheSumOfWeightedPaddedExperts) {
  const auto options = small_options();
  std::vector<Expert> experts = {make_expert(options, 32, 3, 0), make_expert(options, 32, 2, 1)};
  Gate gate = make_gate(options, 32, 2);
  const auto h = torch::randn({5, 32});
  const auto out = mixture_forward(experts, gate, h, false);
  const auto g = torch::softmax(gate->forward(h), 1);
  auto expected = g.select(1, 0).unsqueeze(1) * experts[0]->forward(h);
  expected.narrow(1, 0, 2) += g.select(1, 1).unsqueeze(1) * experts[1]->forward(h);
  EXPECT_TRUE(torch::allclose(out.mixed, expected, 1e-5, 1e-6));
  EXPECT_FALSE(out.expert_logits.requires_grad());  // experts are not trained by the gate phase unless joint
  EXPECT_TRUE(out.gate_logits.requires_grad());
  // Same seed and index, same expert: other runtimes can build identical replicas.
  EXPECT_TRUE(torch::equal(make_expert(options, 32, 3, 0)->classifier->weight, experts[0]->classifier->weight));
}

}  // namespace moecollab
