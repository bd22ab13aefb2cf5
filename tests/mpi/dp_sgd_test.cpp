// DP-SGD in the federated trainer (--exchange experts): without noise or clipping it is the
// plain run; clipping bounds each text's part of the all-reduced gate gradient; with noise,
// local or split over the ranks under secure aggregation, every replica stays bit-identical
// and ε grows as the RDP accountant says; the options it cannot protect are refused.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <optional>

#include "moecollab/comm/secure_aggregation.h"
#include "moecollab/model/fingerprint.h"
#include "moecollab/privacy/rdp_accountant.h"
#include "moecollab/train/federated_trainer.h"
#include "moecollab/train/fusion.h"
#include "moecollab/util/error.h"
#include "mpi/world.h"
#include "testing/fixture_domains.h"

namespace moecollab {
namespace {

using testing::world;

Domain own_domain(int rank) {
  const std::size_t classes[] = {3, 2, 6, 4, 5};
  const std::size_t train = 40 + 20 * static_cast<std::size_t>(rank);  // unequal shards: unequal sampling rates
  return testing::topic_domain("d" + std::to_string(rank), classes[rank % 5], train, 300 + rank);
}

std::shared_ptr<const Tokenizer> tokenizer_of_all(int ranks) {
  std::vector<Domain> all;
  for (int r = 0; r < ranks; ++r) all.push_back(own_domain(r));
  return testing::fixture_tokenizer(all);
}

TrainOptions dp_options() {
  auto o = testing::small_options();
  o.exchange = ExchangeMode::kExperts;
  o.loss.balance_kind = BalanceLoss::kNone;
  o.loss.entropy = 0.05;
  o.local_steps = 3;
  o.gate_steps = 3;
  o.rounds = 2;
  return o;
}

std::string what_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

TEST(DpSgd, WithoutNoiseOrClippingItIsThePlainRun) {
  auto& comm = world();
  const auto tokenizer = tokenizer_of_all(comm.size());
  auto options = dp_options();
  options.joint = true;  // every replica's gradient is released too
  auto with_dp = options;
  with_dp.dp.noise_multiplier = 0;
  with_dp.dp.clip = 1e12;
  const auto own = own_domain(comm.rank());
  FederatedTrainer plain(options, own, tokenizer, comm), dp(with_dp, own, tokenizer, comm);
  const auto close = [](const torch::Tensor& a, const torch::Tensor& b, const std::string& what) {
    const double diff = (a - b).abs().max().item<double>(), scale = b.abs().max().item<double>();
    EXPECT_GT(scale, 0) << what;
    EXPECT_LE(diff, 1e-9 * scale) << what << " differs by " << diff;
  };
  EXPECT_NEAR(dp.local_phase(), plain.local_phase(), 1e-9);
  close(flatten_gradients(dp.expert()->parameters()), flatten_gradients(plain.expert()->parameters()),
        "the local phase's expert gradient");
  for (int step = 0; step < 2; ++step) {
    const auto a = plain.collaborative_step(), b = dp.collaborative_step();
    close(b.gate_grad, a.gate_grad, "gate gradient, step " + std::to_string(step));
    close(flatten_gradients(dp.expert()->parameters()), flatten_gradients(plain.expert()->parameters()),
          "expert gradient, step " + std::to_string(step));
  }
  EXPECT_TRUE(std::isinf(dp.dp_epsilon(1)));  // z = 0 protects nothing, and says so
  EXPECT_EQ(dp.run_round().dp_clipped, 0.0);
}

TEST(DpSgd, ClippingBoundsEachTextsPartOfTheReleasedSum) {
  auto& comm = world();
  const auto tokenizer = tokenizer_of_all(comm.size());
  auto options = dp_options();
  options.dp.noise_multiplier = 0;
  options.dp.clip = 1e-4;  // far below every text's gradient norm
  FederatedTrainer trainer(options, own_domain(comm.rank()), tokenizer, comm);
  trainer.local_phase();
  // Σ over ranks of (Σ_i clipped_i) / total rows: a mean of vectors of norm <= C.
  const auto step = trainer.collaborative_step();
  const double norm = step.gate_grad.norm().item<double>();
  EXPECT_LE(norm, 1e-4 * (1 + 1e-9));
  EXPECT_GT(norm, 1e-6);
  EXPECT_EQ(trainer.run_round().dp_clipped, 1.0);  // every text's gradient was clipped (and says so)
}

TEST(DpSgd, TheNoiseInTheSumHasTheStatedSizeLocalOrDistributed) {
  auto& comm = world();
  const auto tokenizer = tokenizer_of_all(comm.size());
  const auto own = own_domain(comm.rank());
  const double w = comm.size(), z = 2.0, clip = 1e-3;
  for (const bool distributed : {false, true}) {
    auto options = dp_options();
    options.dp.noise_multiplier = 0;
    options.dp.clip = clip;
    auto noisy = options;
    noisy.dp.noise_multiplier = z;
    noisy.dp.distributed = distributed;
    std::optional<SecureAggregationCommunicator> secure;
    if (distributed) secure.emplace(comm);
    Communicator& c = secure ? static_cast<Communicator&>(*secure) : comm;
    FederatedTrainer quiet(options, own, tokenizer, c), loud(noisy, own, tokenizer, c);
    // The same parameters and batch: the difference of the released sums is the noise alone.
    const auto a = quiet.collaborative_step(), b = loud.collaborative_step();
    auto rows =
        torch::tensor({static_cast<double>(std::min<std::size_t>(16, loud.shard().split(Split::kTrain).labels.size()))},
                      torch::kFloat64);
    comm.allreduce_sum(rows);
    // Per coordinate: W shares of z C (local) or of z C / sqrt(W - 1) (distributed), over the rows.
    const double shares = distributed ? w / (w - 1) : w;
    const double expected = std::sqrt(shares) * z * clip / rows.item<double>();
    const double measured = (b.gate_grad - a.gate_grad).std().item<double>();
    EXPECT_NEAR(measured, expected, 0.3 * expected) << (distributed ? "distributed" : "local") << " noise";
  }
}

TEST(DpSgd, NoisyReplicasStayIdenticalAndEpsilonIsTheAccountants) {
  auto& comm = world();
  const auto tokenizer = tokenizer_of_all(comm.size());
  const auto own = own_domain(comm.rank());
  for (const bool secure_aggregation : {false, true}) {
    auto options = dp_options();
    options.joint = true;
    options.dp.noise_multiplier = 1.1;
    options.dp.clip = 0.5;
    options.dp.distributed = secure_aggregation;
    std::optional<SecureAggregationCommunicator> secure;
    if (secure_aggregation) secure.emplace(comm);
    Communicator& c = secure ? static_cast<Communicator&>(*secure) : comm;
    FederatedTrainer trainer(options, own, tokenizer, c);
    // q: the largest batch / training texts over ranks (rank 0's, the smallest shard).
    const double q = std::min(1.0, 16.0 / static_cast<double>(trainer.shard().split(Split::kTrain).labels.size()));
    auto largest = torch::tensor({q}, torch::kFloat64);
    comm.allreduce_max(largest);
    EXPECT_DOUBLE_EQ(trainer.dp_sampling_rate(), largest.item<double>());
    double previous = 0;
    for (int round = 1; round <= 2; ++round) {
      const auto report = trainer.run_round();  // throws unless every replica is bit-identical
      privacy::RdpAccountant accountant;
      accountant.add_steps(trainer.dp_sampling_rate(), 1.1, round * 6);
      EXPECT_DOUBLE_EQ(report.dp_epsilon, accountant.epsilon(1e-5).epsilon) << "round " << round;
      EXPECT_GT(report.dp_epsilon, previous);
      EXPECT_EQ(report.dp_delta, 1e-5);
      previous = report.dp_epsilon;
    }
    const auto fps =
        comm.allgather_strings(std::to_string(trainer.gate_fingerprint()) + " " + trainer.replica_fingerprints());
    for (const auto& fp : fps) EXPECT_EQ(fp, fps[0]) << (secure_aggregation ? "with" : "without") << " secagg";
  }
}

TEST(DpSgd, EpsilonTargetChoosesTheNoiseForTheRunsLength) {
  auto& comm = world();
  const auto tokenizer = tokenizer_of_all(comm.size());
  auto options = dp_options();
  options.dp.target_epsilon = 3.0;
  FederatedTrainer trainer(options, own_domain(comm.rank()), tokenizer, comm);
  EXPECT_GT(trainer.dp_noise_multiplier(), 0.3);
  const double spent = trainer.dp_epsilon(options.rounds);
  EXPECT_LE(spent, 3.0);
  EXPECT_GE(spent, 2.99);
  EXPECT_LT(trainer.dp_epsilon(1), spent);
}

TEST(DpSgd, WhatItCannotProtectIsRefusedOnEveryRank) {
  auto& comm = world();
  const auto tokenizer = tokenizer_of_all(comm.size());
  const auto own = own_domain(comm.rank());
  auto features = dp_options();
  features.exchange = ExchangeMode::kFeatures;
  features.dp.noise_multiplier = 1;
  EXPECT_NE(what_of([&] { FederatedTrainer(features, own, tokenizer, comm); }).find("need --exchange experts"),
            std::string::npos);
  auto balance = dp_options();
  balance.loss.balance_kind = BalanceLoss::kKl;
  balance.dp.noise_multiplier = 1;
  EXPECT_NE(what_of([&] { FederatedTrainer(balance, own, tokenizer, comm); }).find("need --balance none"),
            std::string::npos);
  auto automatic = dp_options();
  automatic.exchange = ExchangeMode::kAuto;
  automatic.dp.noise_multiplier = 1;
  FederatedTrainer chosen(automatic, own, tokenizer, comm);
  EXPECT_EQ(chosen.exchange(), ExchangeMode::kExperts);
}

}  // namespace
}  // namespace moecollab
