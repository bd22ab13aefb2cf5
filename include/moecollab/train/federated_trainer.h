// The federated runtime: one rank per domain. Rank r owns expert r, the
// private shard of domain r and a replica of the gate; the encoder is shared
// (identical on every rank, which start-up verifies by fingerprint, and every
// round while it trains). A round:
//   1. local phase: expert r trains alone on shard r (no communication; with
//      --encoder-train the encoder's gradients are averaged over ranks every
//      step, FedSGD, so its replicas take identical steps);
//   2. gate phase: per step, each rank's batch features are exchanged, every
//      expert scores every batch, logits return to the batch's owner, which
//      mixes them with its gate replica; eq. 3 with ḡ over ALL ranks' rows;
//      gate gradients are all-reduced in one fused call and every replica
//      takes the same step (with --joint the logit gradients go back to each
//      expert's owner too; with a trained encoder, the features' gradients then
//      return to each row's owner, whose encoder backpropagates them, and the
//      encoder's gradients join the gate's in the same fused all-reduce);
//   3. evaluation of every rank's validation split through the same exchange,
//      metrics gathered to rank 0.
// With --exchange experts, steps 2 and 3 send no per-text tensor: every
// expert (parameters; with --joint also its Adam state) is all-gathered once
// when it changed, so every rank holds an identical replica of every expert,
// and each rank mixes all E experts on its own rows. Only the E numbers of ḡ
// and the fused gradients (gate, trained encoder, with --joint every expert:
// summed, so every replica takes the same step) cross ranks.
// All public methods are collective: every rank calls them in the same order.
// It equals LocalTrainer on the same data and seeds (tests/mpi prove it).
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "moecollab/comm/communicator.h"
#include "moecollab/data/dataset.h"
#include "moecollab/data/tokenizer.h"
#include "moecollab/train/mixture.h"
#include "moecollab/train/report.h"
#include "moecollab/train/train_options.h"
#include "moecollab/train/trainer_state.h"

namespace moecollab {

class FederatedTrainer {
 public:
  // `own` is domain comm.rank() of the run. Throws Error on every rank when the
  // ranks disagree on the encoder or vocabulary (message names the ranks).
  FederatedTrainer(TrainOptions options, const Domain& own, std::shared_ptr<const Tokenizer> tokenizer,
                   Communicator& comm);

  // The full report on rank 0; other ranks hold their own domain's part.
  RoundReport run_round();
  double local_phase();  // this rank's expert; returns its mean loss
  CollaborativeStep collaborative_step();
  // Rank 0 receives every domain's report (in rank order); others their own.
  std::vector<DomainReport> evaluate(Split split);

  // Collective: every rank receives the whole state (all experts).
  TrainerState export_state();
  // Takes this rank's expert, the gate and this rank's sampler from the whole state.
  void import_state(const TrainerState& state);
  int rounds_done() const { return round_; }
  // Label names of every domain, in rank order.
  const std::vector<std::vector<std::string>>& domain_labels() const { return domain_labels_; }

  // This rank's expert (to change it, as integrate does: the replicas are re-gathered before they are next used).
  Expert& expert() {
    experts_stale_ = true;
    return expert_;
  }
  // The exchange this run uses (kAuto resolved) and, for kAuto, why.
  ExchangeMode exchange() const { return exchange_; }
  const std::string& exchange_reason() const { return exchange_reason_; }
  // --exchange experts: the fingerprints of this rank's E expert replicas ("hex hex ... "); "" otherwise.
  std::string replica_fingerprints() const;
  Gate& gate() { return gate_; }
  const std::vector<std::string>& domain_names() const { return domain_names_; }
  const DomainShard& shard() const { return *shard_; }  // this rank's
  const std::vector<std::int64_t>& class_counts() const { return class_counts_; }
  // Hash of the gate's parameters (bitwise): equal on all ranks while replicas agree.
  std::uint64_t gate_fingerprint() const;
  std::uint64_t encoder_fingerprint() const;
  Encoder& encoder() { return encoder_; }  // this rank's replica of the shared encoder
  // What this run's model is, as checkpoints store it (the same on every rank).
  ModelConfig model_config() const;
  // DP-SGD (--dp-noise / --dp-epsilon): the noise multiplier z in use (chosen for the run's length
  // under --dp-epsilon), the sampling rate q (the largest over ranks: batch / training texts), and
  // the (ε at options.dp.delta) spent after `rounds` rounds of local and gate steps: the largest
  // over ranks, as every rank's texts are protected by its own q. ε is +inf with z = 0.
  double dp_noise_multiplier() const { return dp_noise_multiplier_; }
  double dp_sampling_rate() const { return dp_sampling_rate_; }
  double dp_epsilon(int rounds) const;

 private:
  // Expert logits for all ranks' rows, mixed on this rank: the forward of a step.
  struct Forward {
    torch::Tensor features;      // b×d, this rank's rows (a leaf collecting their gradient when the encoder trains)
    torch::Tensor expert_input;  // the rows this rank's expert scored, input_counts[r] from rank r
    std::vector<std::int64_t> input_counts;
    torch::Tensor own_logits;          // B×c_max from this rank's expert (graph kept if joint)
    torch::Tensor stacked;             // b×E×c_max, every expert's logits for this rank's rows
    torch::Tensor gate_logits;         // b×E
    torch::Tensor mixed;               // b×c_max
    Routing routing;                   // the router's choice for this rank's rows
    std::vector<std::int64_t> counts;  // every rank's rows in this step
    // Sparse routing (top-k): routed[q] = indices of this rank's rows sent to expert q.
    // Dense: every row went to every expert, and routed is empty.
    bool sparse = false;
    std::vector<torch::Tensor> routed;
  };
  Forward forward(const torch::Tensor& features, bool train);
  // Sparse routing: each row's features go only to its routed experts (all-to-all-v both ways).
  Forward forward_sparse(const torch::Tensor& features, bool train);
  // --exchange experts: every expert replica on this rank's own rows (no exchange); with
  // --expert-lora each reads its own view.
  Forward forward_local(const EncoderViews& views, bool train);
  // How a training (or evaluation) forward of `rows` rows routes: a noisy gate's draws
  // and, under a training capacity, the all-gather of every rank's gate logits.
  RouteInputs route_inputs(std::int64_t rows, bool train);
  // This rank's rows of a split as the gate and the experts read them (evaluation).
  EncoderViews views_of(Split split, const std::vector<std::size_t>& rows);
  // --exchange experts: re-gathers every expert where any rank's changed since (collective).
  void sync_experts();
  bool experts_exchanged() const { return exchange_ == ExchangeMode::kExperts; }
  bool encoder_trains() const { return encoder_optimizer_ != nullptr; }
  // With a trained encoder: the expert's input keeps its gradient; the expert's forward its graph.
  void score_rows(Forward& f, torch::Tensor input, bool train);
  void check_replicas();
  bool dp() const { return options_.dp.enabled(); }
  // DP-SGD: writes the clipped, noised sum of the per-example gradients of `losses` into the
  // parameters' .grad(), times `scale`; noise N(0, (z C)² / shares) per coordinate.
  void private_gradients(const torch::Tensor& losses, const std::vector<torch::Tensor>& parameters, double scale,
                         double noise_shares);

  TrainOptions options_;
  std::shared_ptr<const Tokenizer> tokenizer_;
  Communicator& comm_;
  Encoder encoder_{nullptr};
  std::unique_ptr<DomainShard> shard_;
  Expert expert_{nullptr};
  Gate gate_{nullptr};
  Router router_;
  std::unique_ptr<torch::optim::Adam> expert_optimizer_, gate_optimizer_;
  std::unique_ptr<torch::optim::Adam> encoder_optimizer_;  // null while the encoder is frozen
  // The trained word embeddings, whose gradient all-reduces send only the rows some rank's
  // tokens touched (allreduce_gradients' row_sparse); empty under DP or secure aggregation.
  std::vector<torch::Tensor> row_sparse_;
  std::vector<std::string> domain_names_;
  std::vector<std::vector<std::string>> domain_labels_;
  std::vector<std::int64_t> class_counts_;
  std::int64_t c_max_ = 0;
  ExchangeMode exchange_ = ExchangeMode::kFeatures;
  std::string exchange_reason_;
  // --exchange experts: expert q's replica (replicas_[rank] is expert_) and, with --joint, its
  // optimizer (null at this rank's own: expert_optimizer_ is its).
  std::vector<Expert> replicas_;
  std::vector<std::unique_ptr<torch::optim::Adam>> replica_optimizers_;
  bool experts_stale_ = true;
  int round_ = 0;
  int gate_step_ = 0;                  // in this round (a noisy gate's draws depend on it)
  double gate_comm_seconds_ = 0;       // this round's, so far
  std::int64_t gate_steps_taken_ = 0;  // over the run (this process), for messages
  double dp_noise_multiplier_ = 0;
  double dp_sampling_rate_ = 0;
  std::int64_t dp_texts_ = 0, dp_clipped_ = 0;  // this round's, on this rank
  at::Generator dp_generator_;                  // seeded from the OS's CSPRNG: this rank's noise is its own secret
};

}  // namespace moecollab
