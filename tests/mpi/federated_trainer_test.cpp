// The federated runtime equals the single-process trainer on the same data
// and seeds: every rank also runs LocalTrainer over ALL domains and compares
// its own part (its rows of the mixture, the losses, the gate gradient, its
// expert) step by step. Domains have unequal shard sizes (so unequal batch
// sizes) and heterogeneous class counts.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <optional>
#include <tuple>

#include "moecollab/comm/agreement.h"
#include "moecollab/comm/secure_aggregation.h"
#include "moecollab/model/fingerprint.h"
#include "moecollab/train/exchange.h"
#include "moecollab/train/federated_trainer.h"
#include "moecollab/train/fusion.h"
#include "moecollab/train/local_trainer.h"
#include "mpi/world.h"
#include "testing/finite_difference.h"
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

// The MPI test binary runs in float64 (tests/mpi/mpi_test_main.cpp), so the federated and the
// single-process computations, which differ only in summation order, agree to 1e-9 relative.
constexpr double kTol = 1e-9;

// Relative tolerances: a tensor may differ from the reference by `tol` of its largest
// magnitude, a loss by `tol` of its value (never an absolute floor, which at a small balance
// term or gradient would hide an error of its whole size).
void expect_close(const torch::Tensor& a, const torch::Tensor& b, double tol, const std::string& what) {
  ASSERT_EQ(a.sizes(), b.sizes()) << what;
  const double diff = (a - b).abs().max().item<double>();
  const double scale = b.abs().max().item<double>();
  EXPECT_LE(diff, tol * scale) << what << " differs by " << diff << " (largest magnitude " << scale << ")";
}

void expect_relative(double got, double want, double tol, const std::string& what) {
  EXPECT_LE(std::abs(got - want), tol * std::abs(want)) << what << ": " << got << " vs " << want;
}

void expect_same_step(const CollaborativeStep& fed, const CollaborativeStep& ref, std::int64_t row_offset, double tol,
                      const std::string& what) {
  expect_close(fed.mixed, ref.mixed.narrow(0, row_offset, fed.mixed.size(0)), tol, what + ": mixed logits");
  expect_relative(fed.losses.task, ref.losses.task, tol, what + ": task loss");
  expect_relative(fed.losses.entropy, ref.losses.entropy, tol, what + ": entropy");
  expect_relative(fed.losses.balance, ref.losses.balance, tol, what + ": balance");
  expect_relative(fed.losses.total, ref.losses.total, tol, what + ": total loss");
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

// The mean gate over all ranks' rows, by hand: rank 0 holds rows (0.7, 0.3) and (0.4, 0.6),
// rank 1 the row (0.1, 0.9), any other rank none: the mean is (0.4, 0.6) on every rank, its
// KL to uniform 0.4 ln 0.8 + 0.6 ln 1.2, and the gradient of that KL reaches each rank's own
// rows only, (ln(2 mean_i) + 1) / 3 per row.
TEST(GlobalMeanGate, TwoRanksByHand) {
  auto& comm = world();
  const auto options = torch::TensorOptions().dtype(torch::kFloat64);
  torch::Tensor probs = comm.rank() == 0   ? torch::tensor({{0.7, 0.3}, {0.4, 0.6}}, options)
                        : comm.rank() == 1 ? torch::tensor({{0.1, 0.9}}, options)
                                           : torch::zeros({0, 2}, options);
  probs.requires_grad_(true);
  const auto mean = global_mean_gate(comm, probs, 3);
  EXPECT_NEAR(mean[0].item<double>(), 0.4, 1e-15);
  EXPECT_NEAR(mean[1].item<double>(), 0.6, 1e-15);
  const auto kl = kl_to_uniform(mean);
  EXPECT_NEAR(kl.item<double>(), 0.4 * std::log(0.8) + 0.6 * std::log(1.2), 1e-15);
  kl.backward();
  const double g0 = (std::log(0.8) + 1) / 3, g1 = (std::log(1.2) + 1) / 3;
  for (std::int64_t r = 0; r < probs.size(0); ++r) {
    EXPECT_NEAR(probs.grad()[r][0].item<double>(), g0, 1e-15) << "rank " << comm.rank() << " row " << r;
    EXPECT_NEAR(probs.grad()[r][1].item<double>(), g1, 1e-15) << "rank " << comm.rank() << " row " << r;
  }
}

TEST_P(FederatedEquivalence, StepsEqualSingleProcess) {
  auto& comm = world();
  const bool joint = std::get<0>(GetParam());
  const auto domains = all_domains(comm.size());
  const auto tokenizer = testing::fixture_tokenizer(domains);
  auto options = testing::small_options();
  options.local_steps = 5;
  options.joint = joint;
  options.routing.top_k = std::get<1>(GetParam());
  options.loss = {0.05, 0.3, std::get<2>(GetParam())};
  LocalTrainer local(options, domains, tokenizer);
  FederatedTrainer fed(options, domains[static_cast<std::size_t>(comm.rank())], tokenizer, comm);
  const auto r = static_cast<std::size_t>(comm.rank());

  EXPECT_EQ(fed.gate_fingerprint(), parameter_fingerprint(*local.gate()));  // same initial replica
  if (options.routing.top_k > 0) {
    spread_gate(local.gate());
    spread_gate(fed.gate());
  }
  local.local_phase();
  fed.local_phase();
  expect_close(flatten_parameters(*fed.expert()), flatten_parameters(*local.experts()[r]), 1e-6,
               "expert after local phase");

  const auto offset = row_offset(domains, options, comm.rank());
  for (int step = 0; step < 3; ++step) {
    const auto ref = local.collaborative_step();
    const auto got = fed.collaborative_step();
    expect_same_step(got, ref, offset, kTol, "step " + std::to_string(step));
    if (joint) {
      // Expert gradients came back across ranks (reverse all-to-all).
      expect_close(flatten_gradients(fed.expert()->parameters()), flatten_gradients(local.experts()[r]->parameters()),
                   kTol, "expert gradient");
    }
  }
  expect_close(flatten_parameters(*fed.gate()), flatten_parameters(*local.gate()), kTol, "gate after 3 steps");
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
  options.routing.top_k = GetParam();
  LocalTrainer local(options, domains, tokenizer);
  FederatedTrainer fed(options, domains[static_cast<std::size_t>(comm.rank())], tokenizer, comm);
  if (options.routing.top_k > 0) {
    spread_gate(local.gate());
    spread_gate(fed.gate());
  }
  for (int round = 0; round < options.rounds; ++round) {
    const auto ref = local.run_round();
    const auto got = fed.run_round();  // throws if the replicas' fingerprints differ
    if (comm.rank() != 0) continue;
    ASSERT_EQ(got.domains.size(), ref.domains.size());
    expect_relative(got.local_loss, ref.local_loss, kTol, "local loss");
    expect_relative(got.gate.total, ref.gate.total, kTol, "gate total");
    for (std::size_t d = 0; d < ref.domains.size(); ++d) {
      EXPECT_EQ(got.domains[d].domain, ref.domains[d].domain);
      EXPECT_NEAR(got.domains[d].moe.accuracy, ref.domains[d].moe.accuracy, 1e-12) << d;
      EXPECT_NEAR(got.domains[d].expert.macro_f1, ref.domains[d].expert.macro_f1, 1e-12) << d;
      for (std::size_t e = 0; e < ref.utilization.size(); ++e) {
        EXPECT_NEAR(got.domains[d].utilization[e], ref.domains[d].utilization[e], kTol);
      }
    }
    EXPECT_GT(got.bytes_sent, 0u);
  }
  // Bit-identical gate replicas: every rank's fingerprint equals rank 0's.
  const auto fps = comm.allgather_strings(std::to_string(fed.gate_fingerprint()));
  for (const auto& fp : fps) EXPECT_EQ(fp, fps[0]);
}

INSTANTIATE_TEST_SUITE_P(DenseAndTop1, FederatedRounds, ::testing::Values(0, 1));

// --encoder-train: the encoder's gradients cross ranks twice (the features'
// gradients return to their owners, then the encoder's are summed), and the
// result must equal one process training one encoder on every domain.
// (encoder-train, joint, top_k).
class FederatedFineTuning : public ::testing::TestWithParam<std::tuple<const char*, bool, int>> {};

std::vector<torch::Tensor> encoder_grads(Encoder& encoder) {
  std::vector<torch::Tensor> out;
  for (const auto& p : encoder->trainable_parameters()) out.push_back(p);
  return out;
}

// Every rank's encoder replica is bit-identical to rank 0's.
void expect_identical_encoders(Communicator& comm, FederatedTrainer& fed, const std::string& what) {
  const auto fps = comm.allgather_strings(std::to_string(fed.encoder_fingerprint()));
  for (const auto& fp : fps) EXPECT_EQ(fp, fps[0]) << what;
}

TEST_P(FederatedFineTuning, StepsEqualSingleProcessAndEncoderReplicasStayIdentical) {
  auto& comm = world();
  const auto [spec, joint, top_k] = GetParam();
  const auto domains = all_domains(comm.size());
  const auto tokenizer = testing::fixture_tokenizer(domains);
  auto options = testing::small_options();
  options.encoder.layers = 2;
  options.local_steps = 4;
  options.joint = joint;
  options.routing.top_k = top_k;
  options.loss = {0.05, 0.3, false};
  options.encoder_training = parse_encoder_training(spec);
  options.encoder_lr = 1e-3;
  LocalTrainer local(options, domains, tokenizer);
  FederatedTrainer fed(options, domains[static_cast<std::size_t>(comm.rank())], tokenizer, comm);
  const auto r = static_cast<std::size_t>(comm.rank());
  ASSERT_FALSE(local.shards()[0].cached()) << "a trained encoder must not read cached features";
  ASSERT_EQ(encoder_grads(fed.encoder()).size(), encoder_grads(local.encoder()).size());
  ASSERT_FALSE(encoder_grads(fed.encoder()).empty());
  if (top_k > 0) {
    spread_gate(local.gate());
    spread_gate(fed.gate());
  }
  // Local phase: FedSGD over the experts' own losses (the mean of their encoder gradients).
  local.local_phase();
  fed.local_phase();
  expect_close(flatten_parameters(*fed.expert()), flatten_parameters(*local.experts()[r]), kTol,
               "expert after local phase");
  expect_close(flatten_parameters(*fed.encoder()), flatten_parameters(*local.encoder()), kTol,
               "encoder after local phase");
  expect_identical_encoders(comm, fed, "after the local phase");

  const auto offset = row_offset(domains, options, comm.rank());
  for (int step = 0; step < 3; ++step) {
    const auto what = "step " + std::to_string(step);
    const auto ref = local.collaborative_step();
    const auto got = fed.collaborative_step();
    expect_same_step(got, ref, offset, kTol, what);
    // The encoder's gradient: gate path on the row's own rank plus every expert's
    // path back across ranks, summed over ranks.
    const auto fed_grad = flatten_gradients(encoder_grads(fed.encoder()));
    const auto ref_grad = flatten_gradients(encoder_grads(local.encoder()));
    EXPECT_GT(ref_grad.abs().max().item<double>(), 0.0) << what << ": the encoder got no gradient";
    expect_close(fed_grad, ref_grad, kTol, what + ": encoder gradient");
    if (joint) {
      expect_close(flatten_gradients(fed.expert()->parameters()), flatten_gradients(local.experts()[r]->parameters()),
                   kTol, what + ": expert gradient");
    }
    expect_identical_encoders(comm, fed, what);
  }
  expect_close(flatten_parameters(*fed.encoder()), flatten_parameters(*local.encoder()), kTol, "encoder after 3 steps");
  expect_close(flatten_parameters(*fed.gate()), flatten_parameters(*local.gate()), kTol, "gate after 3 steps");
}

INSTANTIATE_TEST_SUITE_P(EncoderTrain, FederatedFineTuning,
                         ::testing::Values(std::make_tuple("all", false, 0), std::make_tuple("top:1", true, 0),
                                           std::make_tuple("all", false, 1), std::make_tuple("top:2", true, 2)));

// --exchange experts: every expert is all-gathered once it changed and each rank mixes all
// of them on its own rows; only gradients cross ranks. The same computation as the features
// exchange and the single process: (joint, top_k, encoder-train).
class ExpertsExchange : public ::testing::TestWithParam<std::tuple<bool, int, const char*>> {};

TEST_P(ExpertsExchange, StepsEqualSingleProcessAndTheFeaturesExchange) {
  auto& comm = world();
  const auto [joint, top_k, spec] = GetParam();
  const auto domains = all_domains(comm.size());
  const auto tokenizer = testing::fixture_tokenizer(domains);
  auto options = testing::small_options();
  options.local_steps = 5;
  options.joint = joint;
  options.routing.top_k = top_k;
  options.loss = {0.05, 0.3, false};
  // "lora": per-expert LoRA (--expert-lora 2), which only the experts exchange can run.
  const bool lora = std::string(spec) == "lora";
  options.encoder_training = parse_encoder_training(lora ? "none" : spec);
  options.encoder_lr = 1e-3;
  if (lora) options.expert_lora = {2, 1};
  LocalTrainer local(options, domains, tokenizer);
  std::optional<FederatedTrainer> features;
  if (!lora) features.emplace(options, domains[static_cast<std::size_t>(comm.rank())], tokenizer, comm);
  auto experts_options = options;
  experts_options.exchange = ExchangeMode::kExperts;
  FederatedTrainer fed(experts_options, domains[static_cast<std::size_t>(comm.rank())], tokenizer, comm);
  ASSERT_EQ(fed.exchange(), ExchangeMode::kExperts);
  const auto r = static_cast<std::size_t>(comm.rank());
  if (top_k > 0) {
    spread_gate(local.gate());
    if (features) spread_gate(features->gate());
    spread_gate(fed.gate());
  }
  local.local_phase();
  if (features) features->local_phase();
  fed.local_phase();
  const auto offset = row_offset(domains, options, comm.rank());
  for (int step = 0; step < 3; ++step) {
    const auto what = "step " + std::to_string(step);
    const auto ref = local.collaborative_step();
    const auto via_features = features ? features->collaborative_step() : CollaborativeStep{};
    const auto got = fed.collaborative_step();
    expect_same_step(got, ref, offset, kTol, what + " against one process");
    if (features) expect_same_step(got, via_features, 0, kTol, what + " against the features exchange");
    if (joint) {  // this rank's expert took the gradient summed over every rank's rows
      expect_close(flatten_gradients(fed.expert()->parameters()), flatten_gradients(local.experts()[r]->parameters()),
                   kTol, what + ": expert gradient");
    }
    if (options.encoder_training.any()) {
      const auto ref_grad = flatten_gradients(encoder_grads(local.encoder()));
      EXPECT_GT(ref_grad.abs().max().item<double>(), 0.0) << what;
      expect_close(flatten_gradients(encoder_grads(fed.encoder())), ref_grad, kTol, what + ": encoder gradient");
      expect_identical_encoders(comm, fed, what);
    }
    // Every rank's E expert replicas are bit-identical (with --joint they all stepped).
    const auto replicas = comm.allgather_strings(fed.replica_fingerprints());
    EXPECT_EQ(std::count(replicas[0].begin(), replicas[0].end(), ' '), comm.size()) << replicas[0];
    for (const auto& fp : replicas) EXPECT_EQ(fp, replicas[0]) << what;
  }
  expect_close(flatten_parameters(*fed.gate()), flatten_parameters(*local.gate()), kTol, "gate after 3 steps");
  expect_close(flatten_parameters(*fed.expert()), flatten_parameters(*local.experts()[r]), kTol,
               "expert after 3 steps");
  // Whole rounds: the same metrics as the features exchange, and run_round's own check that every
  // rank's gate, encoder and E expert replicas are bit-identical (it throws otherwise).
  const auto a = fed.run_round();
  const auto b = features ? features->run_round() : local.run_round();
  if (comm.rank() == 0) {
    for (std::size_t d = 0; d < b.domains.size(); ++d) {
      EXPECT_NEAR(a.domains[d].moe.accuracy, b.domains[d].moe.accuracy, 1e-12) << d;
      EXPECT_NEAR(a.domains[d].expert.accuracy, b.domains[d].expert.accuracy, 1e-12) << d;
      for (std::size_t e = 0; e < b.utilization.size(); ++e) {
        EXPECT_NEAR(a.domains[d].utilization[e], b.domains[d].utilization[e], kTol);
      }
    }
  }
  const auto fps = comm.allgather_strings(std::to_string(fed.gate_fingerprint()));
  for (const auto& fp : fps) EXPECT_EQ(fp, fps[0]);
}

INSTANTIATE_TEST_SUITE_P(JointTopKEncoder, ExpertsExchange,
                         ::testing::Values(std::make_tuple(false, 0, "none"), std::make_tuple(true, 0, "none"),
                                           std::make_tuple(false, 1, "none"), std::make_tuple(true, 2, "none"),
                                           std::make_tuple(false, 0, "all"), std::make_tuple(true, 1, "top:1"),
                                           std::make_tuple(true, 0, "lora"), std::make_tuple(false, 2, "lora")));

// Switch-style top-1 (--topk-weights unnormalised) in both exchanges equals one process step
// by step, and, unlike the renormalised top-1, its task loss gives the gate a gradient.
TEST(SwitchTopK, BothExchangesEqualSingleProcessAndTheGateLearnsFromTheTask) {
  auto& comm = world();
  const auto domains = all_domains(comm.size());
  const auto tokenizer = testing::fixture_tokenizer(domains);
  auto options = testing::small_options();
  options.local_steps = 5;
  options.routing.top_k = 1;
  options.routing.unnormalised = true;
  options.loss = {0.0, 0.0, false};  // the task term alone
  LocalTrainer local(options, domains, tokenizer);
  auto experts_options = options;
  experts_options.exchange = ExchangeMode::kExperts;
  FederatedTrainer features(options, domains[static_cast<std::size_t>(comm.rank())], tokenizer, comm);
  FederatedTrainer experts(experts_options, domains[static_cast<std::size_t>(comm.rank())], tokenizer, comm);
  for (auto* gate : {&local.gate(), &features.gate(), &experts.gate()}) spread_gate(*gate);
  local.local_phase();
  features.local_phase();
  experts.local_phase();
  const auto offset = row_offset(domains, options, comm.rank());
  for (int step = 0; step < 3; ++step) {
    const auto ref = local.collaborative_step();
    EXPECT_GT(ref.gate_grad.abs().max().item<double>(), 0.0) << "step " << step << ": no task gradient at top-1";
    expect_same_step(features.collaborative_step(), ref, offset, kTol, "features, step " + std::to_string(step));
    expect_same_step(experts.collaborative_step(), ref, offset, kTol, "experts, step " + std::to_string(step));
  }
}

// The gate's routing options (model/router.h, model/gate_loss.h), each in both exchanges, equal one
// process step by step: mixed logits, every loss term, the gate gradient, the step's capacity drops
// (counted over every rank's rows), and then a whole round's metrics and drop rate.
struct RoutingCase {
  const char* name;
  std::function<void(TrainOptions&)> set;
};

void PrintTo(const RoutingCase& c, std::ostream* out) { *out << c.name; }

class RoutingOptions : public ::testing::TestWithParam<RoutingCase> {};

TEST_P(RoutingOptions, BothExchangesEqualSingleProcess) {
  auto& comm = world();
  const auto domains = all_domains(comm.size());
  const auto tokenizer = testing::fixture_tokenizer(domains);
  auto options = testing::small_options();
  options.local_steps = 5;
  options.loss = {0.05, 0.3, false};
  GetParam().set(options);
  LocalTrainer local(options, domains, tokenizer);
  auto experts_options = options;
  experts_options.exchange = ExchangeMode::kExperts;
  const auto& own = domains[static_cast<std::size_t>(comm.rank())];
  FederatedTrainer features(options, own, tokenizer, comm);
  FederatedTrainer experts(experts_options, own, tokenizer, comm);
  for (auto* gate : {&local.gate(), &features.gate(), &experts.gate()}) spread_gate(*gate);
  local.local_phase();
  features.local_phase();
  experts.local_phase();
  const auto offset = row_offset(domains, options, comm.rank());
  std::int64_t dropped = 0;
  for (int step = 0; step < 3; ++step) {
    const auto what = std::string(GetParam().name) + ", step " + std::to_string(step);
    const auto ref = local.collaborative_step();
    EXPECT_GT(ref.gate_grad.abs().max().item<double>(), 0.0) << what;
    for (auto* fed : {&features, &experts}) {
      const auto got = fed->collaborative_step();
      expect_same_step(got, ref, offset, kTol, what + (fed == &features ? " (features)" : " (experts)"));
      expect_relative(got.losses.z, ref.losses.z, kTol, what + ": z-loss");
      expect_relative(got.losses.domain, ref.losses.domain, kTol, what + ": domain loss");
      EXPECT_EQ(got.assigned, ref.assigned) << what;
      EXPECT_EQ(got.dropped, ref.dropped) << what;
    }
    dropped += ref.dropped;
  }
  // (k ≥ E is dense: no capacity applies.)
  if (options.routing.capacity_factor > 0 && options.routing.capacity_factor < 1 &&
      options.routing.top_k < comm.size()) {
    EXPECT_GT(dropped, 0) << "a capacity below 1 must drop (or move) rows";
  }
  for (auto* fed : {&features, &experts}) {
    expect_close(flatten_parameters(*fed->gate()), flatten_parameters(*local.gate()), kTol, "gate after 3 steps");
  }
  const auto ref = local.run_round();
  for (auto* fed : {&features, &experts}) {
    const auto got = fed->run_round();  // throws if any replica differs across ranks
    EXPECT_EQ(got.assigned, ref.assigned);
    EXPECT_EQ(got.dropped, ref.dropped);
    if (comm.rank() != 0) continue;
    for (std::size_t d = 0; d < ref.domains.size(); ++d) {
      EXPECT_NEAR(got.domains[d].moe.accuracy, ref.domains[d].moe.accuracy, 1e-12) << GetParam().name << " " << d;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Gates, RoutingOptions,
    ::testing::Values(RoutingCase{"switch_balance_top1",
                                  [](TrainOptions& o) {
                                    o.routing.top_k = 1;
                                    o.loss.balance_kind = BalanceLoss::kSwitch;
                                    o.loss.switch_alpha = 0.5;
                                  }},
                      RoutingCase{"renormalised_top2_capacity_drop_z",
                                  [](TrainOptions& o) {
                                    o.routing = {2, false, 0.5, 0.5, false, false};
                                    o.loss.z_loss = 0.01;
                                  }},
                      RoutingCase{"top1_capacity_next",
                                  [](TrainOptions& o) { o.routing = {1, true, 0.5, 1.0, true, false}; }},
                      RoutingCase{"top2_noisy_switch",
                                  [](TrainOptions& o) {
                                    o.routing = {2, true, 0, 0, false, true};
                                    o.loss.balance_kind = BalanceLoss::kSwitch;
                                  }},
                      RoutingCase{"top1_capacity_switch_per_domain",
                                  [](TrainOptions& o) {
                                    o.routing = {1, true, 0.75, 0, false, false};
                                    o.loss.balance_kind = BalanceLoss::kSwitch;
                                    o.loss.balance_per_domain = true;
                                  }},
                      RoutingCase{"top1_domain_routing_noisy",
                                  [](TrainOptions& o) {
                                    o.routing = {1, true, 0, 0, false, true};
                                    o.loss.domain = 0.5;
                                  }},
                      RoutingCase{"dense_noisy_z_no_balance",
                                  [](TrainOptions& o) {
                                    o.routing.noisy = true;
                                    o.loss.balance_kind = BalanceLoss::kNone;
                                    o.loss.z_loss = 0.01;
                                  }}),
    [](const ::testing::TestParamInfo<RoutingCase>& info) { return std::string(info.param.name); });

// The bytes of a round's gate phase and evaluation, counted by the communicator, against the formula
// of exchange.h (docs/federated.md), for both exchanges; auto picks the smaller.
TEST(ExpertsExchange, BytesMatchTheFormulaAndAutoPicksTheSmaller) {
  const testing::Float32Scope float32;  // bytes on the wire / the float32 safetensors round trip
  auto& comm = world();
  const auto domains = all_domains(comm.size());
  const auto tokenizer = testing::fixture_tokenizer(domains);
  for (bool joint : {false, true}) {
    std::uint64_t measured[2] = {0, 0};
    for (auto mode : {ExchangeMode::kFeatures, ExchangeMode::kExperts}) {
      auto options = testing::small_options();
      options.joint = joint;
      options.gate_steps = 6;
      options.exchange = mode;
      FederatedTrainer fed(options, domains[static_cast<std::size_t>(comm.rank())], tokenizer, comm);
      fed.local_phase();
      const auto before = comm.stats().bytes_sent();
      for (int step = 0; step < options.gate_steps; ++step) fed.collaborative_step();
      fed.evaluate(Split::kVal);
      auto sent = torch::tensor({static_cast<std::int64_t>(comm.stats().bytes_sent() - before)}, torch::kInt64);
      comm.allreduce_sum(sent);
      ExchangeSizes z;
      z.batch = static_cast<std::int64_t>(options.batch_size);
      z.hidden = options.encoder.hidden;
      z.adapter = options.adapter;
      z.class_counts = fed.class_counts();
      z.gate_steps = options.gate_steps;
      for (const auto& d : domains) z.val_rows += static_cast<std::int64_t>(d.val.size());
      z.joint = joint;
      // Domain 1's batch is smaller than b: the formula (b on every rank) is an upper bound there.
      // Plus evaluate's metric gather (one row of 5 + 2E doubles per rank), the same in both modes.
      const auto W = static_cast<std::int64_t>(comm.size());
      const auto formula = static_cast<double>(bytes_per_round(mode, z) + W * (5 + 2 * W) * 8 * (W - 1));
      const auto got = static_cast<double>(sent.item<std::int64_t>());
      const auto what = describe(mode) + (joint ? " --joint" : "");
      EXPECT_LE(got, formula * 1.05) << what;
      EXPECT_GE(got, formula * (mode == ExchangeMode::kFeatures ? 0.6 : 0.95)) << what;
      measured[mode == ExchangeMode::kExperts ? 1 : 0] = sent.item<std::int64_t>();
      if (comm.rank() == 0) std::cout << what << ": " << got << " bytes, formula " << formula << std::endl;
      if (mode == ExchangeMode::kExperts) {
        auto auto_options = options;
        auto_options.exchange = ExchangeMode::kAuto;
        FederatedTrainer chosen(auto_options, domains[static_cast<std::size_t>(comm.rank())], tokenizer, comm);
        EXPECT_EQ(chosen.exchange(), choose_exchange(z));
        EXPECT_NE(chosen.exchange_reason().find(describe(chosen.exchange()) + ": "), std::string::npos)
            << chosen.exchange_reason();
      }
    }
  }
}

TEST(FederatedFineTuning, WholeRoundsEqualSingleProcessAndResumeFromState) {
  auto& comm = world();
  const auto domains = all_domains(comm.size());
  const auto tokenizer = testing::fixture_tokenizer(domains);
  auto options = testing::small_options();
  options.rounds = 2;
  options.local_steps = 6;
  options.gate_steps = 4;
  options.encoder_training = parse_encoder_training("all");
  LocalTrainer local(options, domains, tokenizer);
  FederatedTrainer fed(options, domains[static_cast<std::size_t>(comm.rank())], tokenizer, comm);
  const auto ref = local.run_round();
  const auto got = fed.run_round();  // throws if the encoder replicas' fingerprints differ
  if (comm.rank() == 0) {
    for (std::size_t d = 0; d < ref.domains.size(); ++d) {
      EXPECT_NEAR(got.domains[d].moe.accuracy, ref.domains[d].moe.accuracy, 1e-12) << d;
    }
  }
  // The state carries the trained encoder and its Adam moments: a fresh trainer
  // that imports it takes the same next round, bit for bit.
  const auto state = fed.export_state();
  ASSERT_FALSE(state.encoder.empty());
  EXPECT_EQ(state.encoder.count("adam/exp_avg/embeddings.word_embeddings.weight"), 1u);
  FederatedTrainer resumed(options, domains[static_cast<std::size_t>(comm.rank())], tokenizer, comm);
  resumed.import_state(state);
  EXPECT_EQ(resumed.encoder_fingerprint(), fed.encoder_fingerprint());
  fed.run_round();
  resumed.run_round();
  EXPECT_EQ(resumed.encoder_fingerprint(), fed.encoder_fingerprint());
  EXPECT_EQ(resumed.gate_fingerprint(), fed.gate_fingerprint());
  EXPECT_EQ(parameter_fingerprint(*resumed.expert()), parameter_fingerprint(*fed.expert()));
  // A frozen run refuses a trained encoder's state (and the other way round).
  auto frozen_options = options;
  frozen_options.encoder_training = {};
  FederatedTrainer frozen(frozen_options, domains[static_cast<std::size_t>(comm.rank())], tokenizer, comm);
  EXPECT_THROW(frozen.import_state(state), Error);
}

// Float64 finite differences of the whole federated objective (eq. 3 over all
// ranks' rows) with respect to encoder weights, through the feature exchange,
// the experts on other ranks and the gradients' way back. The analytic value is
// the encoder gradient every rank holds after the fused all-reduce.
TEST(FederatedFineTuning, EncoderGradientMatchesFiniteDifferences) {
  auto& comm = world();
  const testing::Float64Default float64;
  const auto domains = all_domains(comm.size());
  const auto tokenizer = testing::fixture_tokenizer(domains);
  auto options = testing::small_options();
  options.encoder.hidden = 16;
  options.encoder.intermediate = 32;
  options.encoder.layers = 2;
  options.adapter = 4;
  options.batch_size = 4;
  options.loss = {0.1, 0.5, false};
  options.encoder_training = parse_encoder_training("all");
  FederatedTrainer fed(options, domains[static_cast<std::size_t>(comm.rank())], tokenizer, comm);
  {
    // Spread the random encoder so the features, and so the gate, are far from uniform.
    torch::NoGradGuard no_grad;
    for (auto& p : fed.encoder()->parameters()) p.mul_(8.0);
  }
  const auto start = fed.export_state();
  fed.collaborative_step();
  auto params = fed.encoder()->named_parameters();
  // One weight in the embeddings ([CLS]'s, in every text), the bottom and the top layer.
  const std::vector<std::pair<std::string, std::int64_t>> probes = {
      {"embeddings.word_embeddings.weight", tokenizer->vocabulary().cls_id() * options.encoder.hidden + 3},
      {"encoder.layer.0.attention.self.query.weight", 17},
      {"encoder.layer.1.output.dense.weight", 5},
      {"encoder.layer.1.intermediate.dense.bias", 2}};
  std::vector<double> analytic;
  for (const auto& [name, index] : probes) analytic.push_back(params[name].grad().view(-1)[index].item<double>());
  const double eps = 1e-6;
  const auto loss_with = [&](const std::string& name, std::int64_t index, double delta) {
    fed.import_state(start);  // same weights, Adam state and sampler position: the same batch
    {
      torch::NoGradGuard no_grad;
      auto p = fed.encoder()->named_parameters()[name];
      p.view(-1)[index] += delta;
    }
    return fed.collaborative_step().losses.total;
  };
  for (std::size_t i = 0; i < probes.size(); ++i) {
    const auto& [name, index] = probes[i];
    const double numeric = (loss_with(name, index, eps) - loss_with(name, index, -eps)) / (2 * eps);
    EXPECT_NEAR(analytic[i], numeric, 1e-6 + 1e-5 * std::abs(numeric)) << name << "[" << index << "]";
    EXPECT_GT(std::abs(numeric), 1e-9) << name << ": the probe does not move the loss";
  }
}

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

// --secure-aggregation (experts exchange, --joint; the encoder frozen, so that the local phase sums
// nothing and the first gate step starts from the same parameters in both runs): every summed gradient
// equals the plain all-reduce's within the fixed-point bound W * 2^-25 per value, step by step
// from the same parameters; over whole rounds the two runs differ only by what those
// quantisation errors do to Adam's steps, and the replicas stay bit-identical on every rank.
TEST(SecureAggregation, TrainingEqualsThePlainRunWithinTheQuantisationBound) {
  auto& comm = world();
  const auto domains = all_domains(comm.size());
  const auto tokenizer = testing::fixture_tokenizer(domains);
  auto options = testing::small_options();
  options.local_steps = 5;
  options.gate_steps = 5;
  options.joint = true;
  options.exchange = ExchangeMode::kExperts;
  options.loss = {0.05, 0.3, true};
  SecureAggregationCommunicator secure(comm);
  const double bound = secure.format().sum_error_bound(comm.size());
  const auto& own = domains[static_cast<std::size_t>(comm.rank())];
  FederatedTrainer plain(options, own, tokenizer, comm), masked(options, own, tokenizer, secure);
  plain.local_phase();
  masked.local_phase();
  // The first gate step starts from identical parameters, and with the balance term per domain
  // (no all-reduced mean gate in the losses) the gradient sums are the only masked sums: each
  // value within the bound W * 2^-25 of the plain sum, 1e-4 of the gradients' size or less.
  // (With the global balance term the mean gate is a masked sum too, and its quantisation
  // reaches the gradients through the losses: measured up to 11 bounds on 2 ranks.)
  const auto a = plain.collaborative_step(), b = masked.collaborative_step();
  const auto within = [&](const torch::Tensor& x, const torch::Tensor& y, const char* what) {
    EXPECT_LE((x - y).abs().max().item<double>(), bound) << what;
    EXPECT_GT(y.abs().max().item<double>(), 1e4 * bound) << what << ": a gradient too small to tell";
  };
  within(b.gate_grad, a.gate_grad, "gate gradient");
  within(flatten_gradients(masked.expert()->parameters()), flatten_gradients(plain.expert()->parameters()),
         "expert gradient");
  EXPECT_NEAR(b.losses.total, a.losses.total, bound);  // summed over ranks with the gradients
  // Two whole rounds (run_round throws unless every replica is bit-identical on every rank).
  for (int round = 0; round < 2; ++round) {
    const auto x = plain.run_round(), y = masked.run_round();
    EXPECT_EQ(y.backend, comm.backend() + "+secagg");
    if (comm.rank() != 0) continue;
    EXPECT_NEAR(y.gate.total, x.gate.total, 1e-4 * std::abs(x.gate.total)) << "round " << round;
    for (std::size_t d = 0; d < x.domains.size(); ++d) {
      EXPECT_NEAR(y.domains[d].moe.accuracy, x.domains[d].moe.accuracy, 0.02) << "round " << round << ", domain " << d;
    }
    EXPECT_GT(y.bytes_sent, x.bytes_sent);  // the masked words are 2 int64 lanes per value
  }
  const auto fps = comm.allgather_strings(std::to_string(masked.gate_fingerprint()));
  for (const auto& fp : fps) EXPECT_EQ(fp, fps[0]);
}

}  // namespace
}  // namespace moecollab
