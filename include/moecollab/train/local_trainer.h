// Single-process training of the whole mixture: E experts (one per domain)
// and the gate, on E domains, in one process. It is the reference that the
// federated runtime must equal, so a round has the same two phases:
//   1. local phase: each expert trains its adapter + head on its own domain
//      (cross-entropy on its own labels) for `local_steps` steps;
//   2. gate phase: `gate_steps` steps, each on one batch per domain,
//      concatenated: features -> every expert's logits -> padded mixture ->
//      eq. 3 with ḡ over all domains' samples -> gate step (and, with
//      `joint`, the experts' steps too).
// Then every domain's validation split is evaluated (mixture and expert alone).
#pragma once

#include <torch/torch.h>

#include <memory>
#include <vector>

#include "moecollab/data/dataset.h"
#include "moecollab/data/sampler.h"
#include "moecollab/data/tokenizer.h"
#include "moecollab/model/encoder.h"
#include "moecollab/model/expert.h"
#include "moecollab/model/gate.h"
#include "moecollab/model/gate_loss.h"
#include "moecollab/train/batch.h"
#include "moecollab/train/report.h"

namespace moecollab {

struct TrainOptions {
  EncoderConfig encoder;          // vocab_size is filled from the tokenizer
  std::int64_t adapter = 64;      // k
  std::size_t max_length = 64;    // tokens per text, [CLS] and [SEP] included
  int rounds = 5;
  int local_steps = 50;
  int gate_steps = 50;
  std::size_t batch_size = 32;    // per domain
  double expert_lr = 1e-2;
  double gate_lr = 1e-2;
  GateLossWeights loss;
  std::uint64_t seed = 42;        // experts' and gate's initialisation, data order
  bool joint = false;             // gate phase also trains the experts through the mixture
  std::size_t eval_batch = 256;
};

// The mixture on a batch of features: every expert's padded logits, the gate's logits, and y.
struct MixtureOutput {
  torch::Tensor expert_logits;  // b×E×c_max
  torch::Tensor gate_logits;    // b×E
  torch::Tensor mixed;          // b×c_max
};

MixtureOutput mixture_forward(std::vector<Expert>& experts, Gate& gate, const torch::Tensor& features,
                              bool expert_grads);

// Builds expert i and the gate exactly as the trainer does (seeded by `seed` and i),
// so other runtimes can construct identical replicas.
Expert make_expert(const TrainOptions& options, std::int64_t hidden, std::int64_t classes, std::size_t index);
Gate make_gate(const TrainOptions& options, std::int64_t hidden, std::int64_t experts);

class LocalTrainer {
 public:
  // REQUIRES: at least one domain, each with non-empty train and val splits.
  LocalTrainer(TrainOptions options, std::vector<Domain> domains, std::shared_ptr<const Tokenizer> tokenizer);

  RoundReport run_round();
  // Mixture and expert-alone metrics and utilization on each domain's split.
  std::vector<DomainReport> evaluate(Split split);

  int rounds_done() const { return round_; }
  const std::vector<Domain>& domains() const { return domains_; }
  std::vector<Expert>& experts() { return experts_; }
  Gate& gate() { return gate_; }
  Encoder& encoder() { return encoder_; }

 private:
  struct DomainState {
    TokenizedSplit train, val, test;
    BatchSampler sampler;
  };

  torch::Tensor encode(const TokenBatch& batch);
  double local_phase();
  void gate_phase(RoundReport& report);
  const TokenizedSplit& split_of(std::size_t domain, Split split) const;

  TrainOptions options_;
  std::vector<Domain> domains_;
  std::shared_ptr<const Tokenizer> tokenizer_;
  Encoder encoder_{nullptr};
  std::vector<Expert> experts_;
  Gate gate_{nullptr};
  std::vector<std::unique_ptr<torch::optim::Adam>> expert_optimizers_;
  std::unique_ptr<torch::optim::Adam> gate_optimizer_;
  std::vector<DomainState> state_;
  int round_ = 0;
};

}  // namespace moecollab
