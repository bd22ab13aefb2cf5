#include "moecollab/train/local_trainer.h"

#include <gtest/gtest.h>

#include "moecollab/train/fusion.h"
#include "moecollab/util/error.h"
#include "testing/fixture_domains.h"

namespace moecollab {
namespace {

using testing::fixture_tokenizer;
using testing::small_options;

std::vector<Domain> fixture_domains() {
  return {testing::topic_domain("animals", 3, 240, 1), testing::topic_domain("weather", 2, 240, 2)};
}

}  // namespace

TEST(LocalTrainer, LearnsWellAboveChanceAndIsDeterministic) {
  const auto domains = fixture_domains();
  const auto tokenizer = fixture_tokenizer(domains);
  auto options = small_options();
  options.gate_steps = 40;  // enough gate steps for routing to follow the domains
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

// The encoder is frozen, so features computed once per run (the default) give
// the training that encoding every batch gives, up to float rounding.
TEST(LocalTrainer, FeatureCacheTrainsAsEncodingEveryBatch) {
  const auto domains = fixture_domains();
  const auto tokenizer = fixture_tokenizer(domains);
  auto options = small_options();
  options.rounds = 2;
  options.eval_batch = 7;  // cache chunks differ from the training batches
  LocalTrainer cached(options, domains, tokenizer);
  options.feature_cache = false;
  LocalTrainer encoded(options, domains, tokenizer);
  for (int r = 0; r < options.rounds; ++r) {
    const auto a = cached.run_round(), b = encoded.run_round();
    EXPECT_NEAR(a.local_loss, b.local_loss, 1e-4) << "round " << a.round;
    EXPECT_NEAR(a.gate.total, b.gate.total, 1e-4) << "round " << a.round;
    for (std::size_t d = 0; d < a.domains.size(); ++d) {
      EXPECT_NEAR(a.domains[d].moe.accuracy, b.domains[d].moe.accuracy, 0.01) << format_round(a) << "\n"
                                                                              << format_round(b);
      for (std::size_t e = 0; e < a.domains[d].utilization.size(); ++e) {
        EXPECT_NEAR(a.domains[d].utilization[e], b.domains[d].utilization[e], 1e-4);
      }
    }
  }
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

namespace moecollab {

// --expert-lora: each expert trains its own LoRA of the encoder's top layer (the
// shared encoder stays as it was); the LoRA lives in the expert's state, so a
// trainer that imports the state evaluates the same.
TEST(LocalTrainer, PerExpertLoraTrainsEachExpertsOwnEncoderView) {
  const auto domains = fixture_domains();
  const auto tokenizer = fixture_tokenizer(domains);
  auto options = small_options();
  options.encoder.layers = 2;
  options.rounds = 2;
  options.local_steps = 20;
  options.gate_steps = 10;
  options.joint = true;
  options.expert_lora = {4, 1};
  LocalTrainer trainer(options, domains, tokenizer);
  const auto encoder_before = flatten_parameters(*trainer.encoder());
  ASSERT_FALSE(trainer.shards()[0].cached());
  auto lora_b = [&](std::size_t e) { return trainer.experts()[e]->named_parameters()["lora.0.query.B"].clone(); };
  EXPECT_EQ(lora_b(0).abs().max().item<double>(), 0.0);  // B starts at zero
  trainer.local_phase();
  const auto after_local = lora_b(1);
  EXPECT_GT(after_local.abs().max().item<double>(), 0.0) << "the local phase trains the expert's LoRA";
  EXPECT_FALSE(torch::equal(lora_b(0), lora_b(1)));
  trainer.collaborative_step();
  EXPECT_FALSE(torch::equal(lora_b(1), after_local)) << "--joint gate steps train it through the mixture";
  RoundReport report;
  for (int r = 0; r < options.rounds; ++r) report = trainer.run_round();
  EXPECT_TRUE(torch::equal(flatten_parameters(*trainer.encoder()), encoder_before)) << "the shared encoder is frozen";
  EXPECT_GT(report.domains[0].expert.accuracy, 0.6) << format_round(report);  // chance 1/3

  LocalTrainer resumed(options, domains, tokenizer);
  resumed.import_state(trainer.export_state());
  const auto a = trainer.evaluate(Split::kVal), b = resumed.evaluate(Split::kVal);
  for (std::size_t d = 0; d < a.size(); ++d) {
    EXPECT_EQ(a[d].moe.accuracy, b[d].moe.accuracy);
    EXPECT_EQ(a[d].expert.accuracy, b[d].expert.accuracy);
  }
  // LoRA adapts a frozen encoder: it does not combine with fine-tuning it.
  options.encoder_training = parse_encoder_training("all");
  EXPECT_THROW(LocalTrainer(options, domains, tokenizer), Error);
}

}  // namespace moecollab
