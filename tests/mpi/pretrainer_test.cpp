// Federated masked-LM pre-training: FedSGD keeps replicas bit-identical;
// FedAvg with K = 1 and plain SGD computes what FedSGD does; the loss falls;
// the result round-trips through the Hugging Face layout (mean pooling: no
// pooler); the learning rate follows BERT's warm-up and linear decay.
#include <gtest/gtest.h>

#include <filesystem>

#include "moecollab/model/fingerprint.h"
#include "moecollab/model/hf_bert.h"
#include "moecollab/train/pretrainer.h"
#include "moecollab/util/hash.h"
#include "mpi/world.h"
#include "testing/fixture_domains.h"

namespace moecollab {
namespace {

using testing::world;

struct Setup {
  std::vector<Domain> domains;
  std::shared_ptr<const Tokenizer> tokenizer;
  PretrainOptions options;
};

Setup setup() {
  Setup s;
  for (int i = 0; i < world().size(); ++i) {
    s.domains.push_back(
        testing::topic_domain("p" + std::to_string(i), 3, 40 + 10 * static_cast<std::size_t>(i), 50 + i));
  }
  s.tokenizer = testing::fixture_tokenizer(s.domains);
  s.options.encoder = testing::small_options().encoder;
  s.options.max_length = 16;
  s.options.rounds = 1;
  s.options.steps = 4;
  s.options.batch_size = 8;
  return s;
}

const Domain& own(const Setup& s) { return s.domains[static_cast<std::size_t>(world().rank())]; }

}  // namespace

TEST(Pretrainer, FedSgdReplicasStayBitIdentical) {
  auto s = setup();
  FederatedPretrainer p(s.options, own(s), s.tokenizer, world());
  p.run_round();
  const auto fps = world().allgather_strings(hex64(parameter_fingerprint(*p.encoder())));
  for (const auto& fp : fps) EXPECT_EQ(fp, fps[0]);
}

TEST(Pretrainer, FedAvgEveryStepWithSgdEqualsFedSgd) {
  auto s = setup();
  s.options.optimizer = "sgd";
  s.options.lr = 0.05;
  FederatedPretrainer fedsgd(s.options, own(s), s.tokenizer, world());
  s.options.fedavg_every = 1;
  FederatedPretrainer fedavg(s.options, own(s), s.tokenizer, world());
  fedsgd.run_round();
  fedavg.run_round();
  const auto a = fedsgd.flat_parameters(), b = fedavg.flat_parameters();
  EXPECT_LE((a - b).abs().max().item<double>(), 1e-5);
  EXPECT_GT(
      (a - FederatedPretrainer(s.options, own(s), s.tokenizer, world()).flat_parameters()).abs().max().item<double>(),
      1e-4);  // and they did move
}

TEST(Pretrainer, LossFallsAndTheResultLoadsAsHuggingFaceBert) {
  const testing::Float32Scope float32;  // bytes on the wire / the float32 safetensors round trip
  auto s = setup();
  s.options.rounds = 4;
  s.options.steps = 10;
  s.options.lr = 3e-3;
  FederatedPretrainer p(s.options, own(s), s.tokenizer, world());
  const double first = p.run_round().loss;
  double last = first;
  for (int r = 1; r < s.options.rounds; ++r) last = p.run_round().loss;
  EXPECT_LT(last, first - 0.3) << "first " << first << ", last " << last;
  const auto dir =
      (std::filesystem::temp_directory_path() / ("moecollab_pretrained_" + std::to_string(world().size()))).string();
  if (world().rank() == 0) {
    save_hf_bert(dir, p.encoder(), p.head().get(), s.tokenizer->vocabulary(), true);
    std::vector<std::string> ignored;
    const auto directory = read_hf_bert_directory(dir);
    EXPECT_FALSE(directory.has_pooler);
    EXPECT_EQ(directory.config.pooling, "mean");  // masked-LM only: no trained [CLS] summary
    auto loaded = load_hf_bert(directory, &ignored);
    EXPECT_EQ(parameter_fingerprint(*loaded), parameter_fingerprint(*p.encoder()));
    EXPECT_EQ(ignored.size(), p.head()->parameters().size());  // the MLM head, ignored by the encoder
  }
  world().barrier();
}

TEST(Pretrainer, LearningRateWarmsUpThenDecaysLinearly) {
  auto s = setup();
  s.options.rounds = 2;
  s.options.steps = 5;
  s.options.warmup = 0.2;  // 2 of 10 steps
  s.options.lr = 1e-3;
  FederatedPretrainer p(s.options, own(s), s.tokenizer, world());
  // Step t (1-based) of T = 10: t / 2 · lr while warming, then (T − t + 1) / (T − 2 + 1) · lr.
  EXPECT_NEAR(p.run_round().learning_rate, 1e-3 * 6.0 / 9.0, 1e-12);
  EXPECT_NEAR(p.run_round().learning_rate, 1e-3 * 1.0 / 9.0, 1e-12);
  s.options.schedule = "constant";
  EXPECT_DOUBLE_EQ(FederatedPretrainer(s.options, own(s), s.tokenizer, world()).run_round().learning_rate, 1e-3);
}

}  // namespace moecollab
