// What a training round reports, and the one-line progress summary printed
// per round. Plain data: the same report feeds the terminal and (later) logs.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "moecollab/train/metrics.h"

namespace moecollab {

// One validation sample's routing, for the run log's /routing datasets.
struct RoutingSample {
  std::int64_t label = 0;      // true label id (in its domain's label space)
  std::int64_t predicted = 0;  // the mixture's prediction
  std::vector<double> gate;    // gate weights over the experts
};

struct DomainReport {
  std::string domain;
  ClassificationMetrics moe;           // the mixture, on the domain's first c_d columns
  ClassificationMetrics expert;        // the domain's own expert alone
  std::vector<double> utilization;     // mean gate weight this domain's samples give each expert
  std::vector<double> top1;            // how many of its samples have each expert as their top-1 gate choice
  std::vector<RoutingSample> routing;  // its first --log-routing validation samples
};

// The terms of eq. 3 (and the field's alternatives) for one step (or their means over a phase).
struct StepLosses {
  double task = 0;     // mixture cross-entropy
  double entropy = 0;  // mean routing entropy H(g)
  double balance = 0;  // KL(ḡ ‖ uniform), or E Σ f_i P_i with --balance switch, 0 with none
  double z = 0;        // router z-loss mean_b logsumexp(gate logits_b)² (counted only with --z-loss > 0)
  double domain = 0;   // gate cross-entropy against each row's domain (counted only with --domain-routing-loss > 0)
  double total = 0;    // task + λ1 entropy + (λ2 or α) balance + β z + λ3 domain
};

struct RoundReport {
  int round = 0;
  int rounds = 0;
  double local_loss = 0;  // mean expert cross-entropy over the local phase
  StepLosses gate;        // means over the gate phase's steps
  // Whether the phases ran (--local-steps / --gate-steps > 0): a phase that did
  // not run prints '-' and is logged as NaN, never as a perfect-looking 0.
  bool local_phase_ran = true;
  bool gate_phase_ran = true;
  std::vector<DomainReport> domains;                 // on the validation splits
  std::vector<double> utilization;                   // global: mean gate weight per expert over all domains
  double local_seconds = 0;                          // local phase
  double gate_seconds = 0;                           // gate phase
  double eval_seconds = 0;                           // evaluation
  double seconds = 0;                                // wall time of the round
  double comm_seconds = 0;                           // of which in collectives (federated runs; rank 0's)
  double gate_comm_seconds = 0;                      // of comm_seconds, in the gate phase
  std::uint64_t bytes_sent = 0;                      // by all ranks in the round's collectives
  std::string backend;                               // "mpi" or "nccl" in federated runs, empty in one process
  std::map<std::string, std::uint64_t> bytes_by_op;  // bytes_sent split by collective
  std::string balance_label = "kl";                  // the balance term's kind: kl, switch or none
  bool z_loss = false;                               // whether the z-loss counts (printed only then)
  bool domain_loss = false;                          // whether the domain-routing term counts (printed only then)
  // Capacity (--capacity-factor): (row, choice) pairs of the gate phase's steps, all ranks, and how
  // many a full expert dropped. assigned = 0: no capacity, nothing dropped.
  std::int64_t assigned = 0;
  std::int64_t dropped = 0;
  // DP-SGD (--dp-noise / --dp-epsilon): the ε spent so far at δ (the largest over ranks; +inf
  // with z = 0); NaN without DP. Under DP the losses are rank 0's own batch's.
  double dp_epsilon = std::numeric_limits<double>::quiet_NaN();
  double dp_delta = std::numeric_limits<double>::quiet_NaN();
  double dp_clipped = std::numeric_limits<double>::quiet_NaN();  // rank 0's share of texts clipped this round
  // dropped / assigned, or NaN without a capacity.
  double drop_rate() const;
};

// A domain's report from its predictions, labels and per-expert sums of gate weights.
DomainReport make_domain_report(const std::string& domain, const std::vector<std::int64_t>& moe_predictions,
                                const std::vector<std::int64_t>& expert_predictions,
                                const std::vector<std::int64_t>& truth, std::int64_t classes,
                                const std::vector<double>& gate_weight_sums, const std::vector<double>& top1_counts);

// Adds one step's losses, divided by `steps`, to the round's means.
void accumulate(StepLosses& mean, const StepLosses& step, int steps);

// Mean gate weight per expert over all domains' evaluated samples.
std::vector<double> global_utilization(const std::vector<DomainReport>& domains);

// Paper eq. 6 per expert: S(e) = -Σ_d p(d|e) log p(d|e), with p(d|e) the
// share of expert e's gate mass that comes from domain d's samples. Low = specialised.
std::vector<double> specialization(const std::vector<DomainReport>& domains);

// KL(u ‖ uniform) of a utilization vector u (sums to 1).
double kl_to_uniform(const std::vector<double>& utilization);

// "round 3/10 | local 0.41 | task 0.52 H 0.31 KL 0.004 | moe acc quotes 0.71 ... | util ... | 2.1 s"
// (federated runs: "| 2.1 s (compute 1.8, comm 0.3) | mpi sent 1.20 MB").
std::string format_round(const RoundReport& report);

// Where a pre-training rank's round went, in seconds (wall clock of this rank):
// batch assembly and masking, the forward pass with the loss, the backward pass,
// the gradient all-reduce (FedSGD) or weight averaging (FedAvg), the optimizer.
struct PretrainPhases {
  double data = 0, forward = 0, backward = 0, allreduce = 0, optimizer = 0;
};

// One round of federated masked-LM pre-training (train/pretrainer.h), as printed
// and logged (io/pretrain_log.h).
struct PretrainReport {
  int round = 0;
  double loss = 0;                  // mean masked-LM cross-entropy over the round's steps, all ranks
  double accuracy = 0;              // share of masked tokens predicted exactly, all ranks
  std::uint64_t masked_tokens = 0;  // predicted in the round, all ranks
  double learning_rate = 0;         // at the round's last step
  double seconds = 0;
  std::uint64_t bytes_sent = 0;  // this rank's
  PretrainPhases phases;         // this rank's
  // Every rank's matrix-product operations in the round's forward and backward
  // passes, by formula (mlm_step_flops); ÷ seconds is the job's achieved rate.
  double matmul_flops = 0;
};

}  // namespace moecollab
