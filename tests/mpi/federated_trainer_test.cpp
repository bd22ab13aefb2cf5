// The federated runtime equals the single-process trainer on the same data
// and seeds: every rank also runs LocalTrainer over ALL domains and compares
// its own part (its rows of the mixture, the losses, the gate gradient, its
// expert) step by step. Domains have unequal shard sizes (so unequal batch
// sizes) and heterogeneous class counts.
#include <gtest/gtest.h>

#include <tuple>

#include "moecollab/comm/agreement.h"
#include "moecollab/comm/fusion.h"
#include "moecollab/model/fingerprint.h"
#include "moecollab/train/federated_trainer.h"
#include "moecollab/train/local_trainer.h"
#include "mpi/world.h"
#include "testing/fixture_domains.h"

namespace moecollab {
namespace {

using testing::world;

std::vector<Domain> all_domains(int count) {
  const std::size_t classes[] = {3, 2, 6, 4, 5};
  std::vector<Domain> out;
  for (int i = 0; i < count; ++i) {
    // Domain 1 has only 11 training texts: its batches are smaller than the others'.
    const std::size_t train = i == 1 ? 11 : 60 + 25 * static_cast<std::size_t>(i);
    out.push_back(testing::topic_domain("d" + std::to_string(i), classes[i % 5], train, 100 + i));
  }
  return out;
}

void expect_close(const torch::Tensor& a, const torch::Tensor& b, double tol, const std::string& what) {
  ASSERT_EQ(a.sizes(), b.sizes()) << what;
  const double diff = (a - b).abs().max().item<double>();
  const double scale = std::max(1.0, b.abs().max().item<double>());
  EXPECT_LE(diff, tol * scale) << what << " differs by " << diff;
}

void expect_same_step(const CollaborativeStep& fed, const CollaborativeStep& ref, std::int64_t row_offset,
                      double tol, const std::string& what) {
  expect_close(fed.mixed, ref.mixed.narrow(0, row_offset, fed.mixed.size(0)), tol, what + ": mixed logits");
  EXPECT_NEAR(fed.losses.task, ref.losses.task, tol) << what;
  EXPECT_NEAR(fed.losses.entropy, ref.losses.entropy, tol) << what;
  EXPECT_NEAR(fed.losses.balance, ref.losses.balance, tol) << what;
  EXPECT_NEAR(fed.losses.total, ref.losses.total, tol) << what;
  expect_close(fed.gate_grad, ref.gate_grad, tol, what + ": gate gradient");
}

// Top-k selection is a comparison: gate logits that differ in the last bit
// between the batched single-process product and the per-rank one can pick a
// different expert where two are nearly tied, as they all are at initialisation
// (near-uniform gate). Spreading the initial gate weights (the same in both
// trainers) makes a tie closer than rounding improbable.
void spread_gate(Gate& gate) {
  torch::NoGradGuard no_grad;
  for (auto& p : gate->parameters()) p.mul_(50.0);
}

// This rank's first row in the single-process batch (batches are concatenated in domain order).
std::int64_t row_offset(const std::vector<Domain>& domains, const TrainOptions& o, int rank) {
  std::int64_t offset = 0;
  for (int i = 0; i < rank; ++i) offset += static_cast<std::int64_t>(std::min(o.batch_size, domains[i].train.size()));
  return offset;
}

// (joint, top_k): top_k 0 is dense routing; with top-k only the routed rows
// cross ranks, and the result must equal the single-process reference, which
// scores every row with every expert and keeps each row's k in the mixture.
// A third parameter: the balance term per domain (--balance-scope domain).
class FederatedEquivalence : public ::testing::TestWithParam<std::tuple<bool, int, bool>> {};

TEST_P(FederatedEquivalence, StepsEqualSingleProcess) {
  auto& comm = world();
  const bool joint = std::get<0>(GetParam());
  const auto domains = all_domains(comm.size());
  const auto tokenizer = testing::fixture_tokenizer(domains);
  auto options = testing::small_options();
  options.local_steps = 5;
  options.joint = joint;
  options.top_k = std::get<1>(GetParam());
  options.loss = {0.05, 0.3, std::get<2>(GetParam())};
  LocalTrainer local(options, domains, tokenizer);
  FederatedTrainer fed(options, domains[static_cast<std::size_t>(comm.rank())], tokenizer, comm);
  const auto r = static_cast<std::size_t>(comm.rank());

  EXPECT_EQ(fed.gate_fingerprint(), parameter_fingerprint(*local.gate()));  // same initial replica
  if (options.top_k > 0) {
    spread_gate(local.gate());
    spread_gate(fed.gate());
  }
  local.local_phase();
  fed.local_phase();
  expect_close(flatten_parameters(*fed.expert()), flatten_parameters(*local.experts()[r]), 1e-6, "expert after local phase");

  const auto offset = row_offset(domains, options, comm.rank());
  for (int step = 0; step < 3; ++step) {
    const auto ref = local.collaborative_step();
    const auto got = fed.collaborative_step();
    expect_same_step(got, ref, offset, 1e-5, "step " + std::to_string(step));
    if (joint) {
      // Expert gradients came back across ranks (reverse all-to-all).
      expect_close(flatten_gradients(fed.expert()->parameters()),
                   flatten_gradients(local.experts()[r]->parameters()), 1e-5, "expert gradient");
    }
  }
  expect_close(flatten_parameters(*fed.gate()), flatten_parameters(*local.gate()), 1e-5, "gate after 3 steps");
}

INSTANTIATE_TEST_SUITE_P(JointAndTopK, FederatedEquivalence,
                         ::testing::Values(std::make_tuple(false, 0, false), std::make_tuple(true, 0, false),
                                           std::make_tuple(false, 1, false), std::make_tuple(true, 1, false),
                                           std::make_tuple(false, 2, false), std::make_tuple(true, 2, false),
                                           std::make_tuple(false, 0, true), std::make_tuple(true, 1, true)));

// Whole rounds (local phase, gate steps, evaluation) with dense (0) and top-1 routing.
class FederatedRounds : public ::testing::TestWithParam<int> {};

TEST_P(FederatedRounds, MetricsEqualSingleProcessAndReplicasStayIdentical) {
  auto& comm = world();
  const auto domains = all_domains(comm.size());
  const auto tokenizer = testing::fixture_tokenizer(domains);
  auto options = testing::small_options();
  options.rounds = 2;
  options.top_k = GetParam();
  LocalTrainer local(options, domains, tokenizer);
  FederatedTrainer fed(options, domains[static_cast<std::size_t>(comm.rank())], tokenizer, comm);
  if (options.top_k > 0) {
    spread_gate(local.gate());
    spread_gate(fed.gate());
  }
  for (int round = 0; round < options.rounds; ++round) {
    const auto ref = local.run_round();
    const auto got = fed.run_round();  // throws if the replicas' fingerprints differ
    if (comm.rank() != 0) continue;
    ASSERT_EQ(got.domains.size(), ref.domains.size());
    EXPECT_NEAR(got.local_loss, ref.local_loss, 1e-5);
    EXPECT_NEAR(got.gate.total, ref.gate.total, 1e-5);
    for (std::size_t d = 0; d < ref.domains.size(); ++d) {
      EXPECT_EQ(got.domains[d].domain, ref.domains[d].domain);
      EXPECT_NEAR(got.domains[d].moe.accuracy, ref.domains[d].moe.accuracy, 1e-12) << d;
      EXPECT_NEAR(got.domains[d].expert.macro_f1, ref.domains[d].expert.macro_f1, 1e-12) << d;
      for (std::size_t e = 0; e < ref.utilization.size(); ++e) {
        EXPECT_NEAR(got.domains[d].utilization[e], ref.domains[d].utilization[e], 1e-5);
      }
    }
    EXPECT_GT(got.bytes_sent, 0u);
  }
  // Bit-identical gate replicas: every rank's fingerprint equals rank 0's.
  const auto fps = comm.allgather_strings(std::to_string(fed.gate_fingerprint()));
  for (const auto& fp : fps) EXPECT_EQ(fp, fps[0]);
}

INSTANTIATE_TEST_SUITE_P(DenseAndTop1, FederatedRounds, ::testing::Values(0, 1));

TEST(Federated, MismatchedEncoderFailsOnEveryRankNamingTheRank) {
  auto& comm = world();
  if (comm.size() < 2) GTEST_SKIP() << "needs two ranks";
  const auto domains = all_domains(comm.size());
  const auto tokenizer = testing::fixture_tokenizer(domains);
  auto options = testing::small_options();
  if (comm.rank() == comm.size() - 1) options.encoder.seed += 1;  // the last rank's encoder differs
  try {
    FederatedTrainer fed(options, domains[static_cast<std::size_t>(comm.rank())], tokenizer, comm);
    ADD_FAILURE() << "expected an error";
  } catch (const AgreedError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("encoder fingerprint differs"), std::string::npos) << msg;
    EXPECT_NE(msg.find("rank " + std::to_string(comm.size() - 1)), std::string::npos) << msg;
  }
}

TEST(Federated, EmptyShardOnOneRankFailsOnEveryRank) {
  auto& comm = world();
  auto domains = all_domains(comm.size());
  const auto tokenizer = testing::fixture_tokenizer(domains);
  if (comm.rank() == 0) domains[0].val.clear();
  try {
    FederatedTrainer fed(testing::small_options(), domains[static_cast<std::size_t>(comm.rank())], tokenizer, comm);
    ADD_FAILURE() << "expected an error";
  } catch (const AgreedError& e) {
    EXPECT_NE(std::string(e.what()).find("rank 0: domain 'd0' has an empty train or val split"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace moecollab
