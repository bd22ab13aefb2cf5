// Single-process training of the whole mixture: E experts (one per domain)
// and the gate, on E domains, in one process. It is the reference that the
// federated runtime must equal, so a round has the same two phases:
//   1. local phase: each expert trains its adapter + head on its own domain
//      (cross-entropy on its own labels) for `local_steps` steps, in lockstep
//      (with --encoder-train the encoder steps on the mean of their gradients);
//   2. gate phase: `gate_steps` steps, each on one batch per domain,
//      concatenated: features -> every expert's logits -> padded mixture ->
//      eq. 3 with ḡ over all domains' samples -> gate step (and, with
//      `joint`, the experts' steps too; with a trained encoder, its step).
// Then every domain's validation split is evaluated (mixture and expert alone).
#pragma once

#include <torch/torch.h>

#include <memory>
#include <vector>

#include "moecollab/data/dataset.h"
#include "moecollab/data/tokenizer.h"
#include "moecollab/train/mixture.h"
#include "moecollab/train/report.h"
#include "moecollab/train/train_options.h"
#include "moecollab/train/trainer_state.h"

namespace moecollab {

class LocalTrainer {
 public:
  // REQUIRES: at least one domain, each with non-empty train and val splits.
  LocalTrainer(TrainOptions options, std::vector<Domain> domains, std::shared_ptr<const Tokenizer> tokenizer);

  RoundReport run_round();
  // Local phase of every expert; returns the mean loss.
  double local_phase();
  // One gate-phase step on one batch per domain (rows in domain order); the
  // optimisers step after the returned gradient was taken.
  CollaborativeStep collaborative_step();
  // Mixture and expert-alone metrics and utilization on each domain's split.
  std::vector<DomainReport> evaluate(Split split);

  // Everything needed to continue exactly from here (see trainer_state.h).
  TrainerState export_state();
  // REQUIRES: a state of the same domains (check_compatible); continues at its round.
  void import_state(const TrainerState& state);

  int rounds_done() const { return round_; }
  const std::vector<DomainShard>& shards() const { return shards_; }
  std::vector<Expert>& experts() { return experts_; }
  Gate& gate() { return gate_; }
  Encoder& encoder() { return encoder_; }
  // What this run's model is, as checkpoints store it.
  ModelConfig model_config() const;

  // With `on`, every collaborative step keeps what it computed (last_step): the
  // inputs — features, labels, class counts, domains, rows per domain, every
  // expert's and the gate's parameters before the step, the loss weights — and
  // the outputs — expert and gate logits, mixed logits, each loss term, the
  // total and the gate's gradient. `moecollab train-local --dump-step` writes it
  // for the independent reference (tests/train/step_reference.py).
  void record_steps(bool on) { record_steps_ = on; }
  const NamedTensors& last_step() const { return last_step_; }

 private:
  // Rows of a split as the gate and the experts read them: cached or encoded
  // shared features, or with --expert-lora every expert's own view (`train`: with graphs).
  EncoderViews views_of(DomainShard& shard, Split split, const std::vector<std::size_t>& rows, bool train);

  TrainOptions options_;
  std::shared_ptr<const Tokenizer> tokenizer_;
  Encoder encoder_{nullptr};
  std::vector<DomainShard> shards_;
  std::vector<Expert> experts_;
  Gate gate_{nullptr};
  Router router_;
  std::vector<std::unique_ptr<torch::optim::Adam>> expert_optimizers_;
  std::unique_ptr<torch::optim::Adam> gate_optimizer_;
  std::unique_ptr<torch::optim::Adam> encoder_optimizer_;  // null while the encoder is frozen
  int round_ = 0;
  int gate_step_ = 0;  // in this round (a noisy gate's draws depend on it)
  bool record_steps_ = false;
  NamedTensors last_step_;
};

}  // namespace moecollab
