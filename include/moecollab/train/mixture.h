// The pieces of a training round that the single-process and the federated
// trainers share, so both build the same replicas and take the same steps:
// seeded construction of experts and gate, the encoder's trained part, an
// expert's local step, the mixture forward, and what one collaborative (gate)
// step reports.
#pragma once

#include <torch/torch.h>

#include <chrono>
#include <memory>
#include <vector>

#include "moecollab/model/encoder.h"
#include "moecollab/model/expert.h"
#include "moecollab/model/gate.h"
#include "moecollab/model/router.h"
#include "moecollab/train/domain_shard.h"
#include "moecollab/train/report.h"
#include "moecollab/train/train_options.h"
#include "moecollab/train/trainer_state.h"

namespace moecollab {

// The shared encoder of a run: loaded from options.encoder_dir (whose
// config.json then replaces options.encoder), or else the random default
// built from options.encoder. Pooling "auto" becomes "mean" for the random
// encoder and for a loaded one without a pooler (masked-LM only, as `pretrain`
// writes), "cls" for one with a pooler (BERT-base); "cls" or "mean" as given.
// REQUIRES: options.encoder.vocab_size is the tokenizer's; a directory whose
// vocab_size differs is an Error.
Encoder make_encoder(TrainOptions& options);

// The model a run of `options` trains, as checkpoints and expert packages store
// it: `built` is its encoder's configuration once make_encoder resolved it,
// `lower_case` the tokenizer's; the domains and their label counts in expert order.
ModelConfig model_config(const TrainOptions& options, const EncoderConfig& built, bool lower_case,
                         std::vector<std::string> domains, std::vector<std::int64_t> label_counts);
// Options that rebuild the model `config` describes with make_encoder,
// make_expert, make_gate and its Router (everything else at its default);
// `encoder_dir`: the Hugging Face directory of its encoder, empty for the random one.
TrainOptions train_options_for(const ModelConfig& config, const std::string& encoder_dir);

// Throws Error naming the option when the options cannot make a run.
void check_train_options(const TrainOptions& options);

// Expert i and the gate, initialised from (options.seed, i) only.
Expert make_expert(const TrainOptions& options, std::int64_t hidden, std::int64_t classes, std::size_t index);
Gate make_gate(const TrainOptions& options, std::int64_t hidden, std::int64_t experts);
std::unique_ptr<torch::optim::Adam> make_optimizer(torch::nn::Module& module, double lr);

// Fills `shard`'s feature cache as `options` say (options.fill_feature_cache, or
// encoded in this run), where options.feature_cache is on; else nothing.
void fill_feature_cache(const TrainOptions& options, DomainShard& shard, Encoder& encoder);
// Seed of domain i's training sampler.
std::uint64_t sampler_seed(const TrainOptions& options, std::size_t index);

// Makes the part of the encoder that options.encoder_training names trainable
// ("all" is resolved to every layer here) and returns its Adam optimizer
// (options.encoder_lr), or nullptr while the encoder stays frozen. A trained
// encoder turns the feature cache off (its features change every step).
// REQUIRES: check_train_options(options) passed.
std::unique_ptr<torch::optim::Adam> prepare_encoder_training(Encoder& encoder, TrainOptions& options);

// The encoder's part of a TrainerState: parameters and Adam state while it
// trains (`optimizer` not null), nothing while it is frozen.
NamedTensors export_encoder(Encoder& encoder, torch::optim::Adam* optimizer);
// Restores it; Error when the state was saved with the encoder trained and this
// run keeps it frozen, or the other way round.
void import_encoder(Encoder& encoder, torch::optim::Adam* optimizer, const NamedTensors& state);

// Multiplies every parameter's gradient by `factor` (the encoder's FedSGD mean).
void scale_gradients(const std::vector<torch::Tensor>& parameters, double factor);

// One local-phase step's forward and backward for one expert on its own shard:
// cross-entropy on a batch of its own labels. Leaves the expert's gradient (and
// the encoder's, when it trains) for the caller to reduce and step; returns the loss.
double local_step_backward(Expert& expert, DomainShard& shard, Encoder& encoder, const TrainOptions& options);

// The same step's forward alone: each text's cross-entropy (a b-vector, with its graph), for
// DP-SGD's per-example clipping (privacy/dp_sgd.h).
torch::Tensor local_step_losses(Expert& expert, DomainShard& shard, Encoder& encoder, const TrainOptions& options);

// The mixture on a batch of features: every expert's padded logits, the gate's logits, and y.
struct MixtureOutput {
  torch::Tensor expert_logits;  // b×E×c_max
  torch::Tensor gate_logits;    // b×E (with a noisy gate in training, the noisy ones)
  torch::Tensor mixed;          // b×c_max
  Routing routing;              // how the router sent the rows
};

// What a mixture forward routes by, beyond the router itself.
struct RouteInputs {
  bool training = false;  // the training capacity factor, and `noise`
  torch::Tensor noise;    // b×E standard normals of a noisy gate (gate_noise), or undefined
  GatherLogits gather;    // every rank's logits of the step (a federated capacity), or empty
};

// ε of a noisy gate for domain `domain`'s `rows` rows in gate step `step` of round
// `round`: standard normals (float64) drawn from (options.seed, round, step, domain)
// alone, so both trainers draw the same. Undefined unless options.routing.noisy.
torch::Tensor gate_noise(const TrainOptions& options, int round, int step, std::size_t domain, std::int64_t rows,
                         std::int64_t experts);

// Every expert scores every row (the single-process reference); the mixture
// weighs them with router.route's weights, so with top-k only each row's k experts count.
MixtureOutput mixture_forward(std::vector<Expert>& experts, Gate& gate, const torch::Tensor& features,
                              bool expert_grads, const Router& router = Router(), const RouteInputs& inputs = {});

// What the gate and each expert read of a batch of texts. Without per-expert
// LoRA they all read the shared features; with it (--expert-lora) the encoder
// runs its bottom layers once and its top layers once for the gate (shared)
// and once per expert, with that expert's LoRA: E + 1 top-layer passes per text.
struct EncoderViews {
  torch::Tensor shared;                // b×d, the gate's (and every expert's without LoRA)
  std::vector<torch::Tensor> experts;  // per expert b×d; empty: all read `shared`
};
// `expert_grads`: the experts' views keep their LoRA's autograd graph. The
// shared encoder is frozen here (LoRA and --encoder-train do not combine).
EncoderViews encode_views(Encoder& encoder, std::vector<Expert>& experts, const TokenBatch& batch, bool expert_grads);
// Expert i's view of a batch only (its local phase).
torch::Tensor expert_view(Encoder& encoder, Expert& expert, const TokenBatch& batch);
MixtureOutput mixture_forward(std::vector<Expert>& experts, Gate& gate, const EncoderViews& views, bool expert_grads,
                              const Router& router = Router(), const RouteInputs& inputs = {});

// What one collaborative step computed. Losses are those of the whole step
// (all domains' batches); `mixed` holds the rows this process owns.
struct CollaborativeStep {
  torch::Tensor mixed;  // rows × c_max
  StepLosses losses;
  torch::Tensor gate_grad;    // the gate's gradient, flattened (parameters in order)
  std::int64_t assigned = 0;  // (row, choice) pairs of the whole step under a capacity
  std::int64_t dropped = 0;   // of them, dropped by a full expert
};

// The phases of a round, the same for every trainer: local phase, gate steps,
// evaluation of the validation splits. `Trainer` has local_phase(),
// collaborative_step() and evaluate(Split).
template <typename Trainer>
RoundReport run_round_phases(Trainer& trainer, const TrainOptions& options, int round) {
  using Clock = std::chrono::steady_clock;
  auto since = [](Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); };
  const auto start = Clock::now();
  RoundReport report;
  report.round = round;
  report.rounds = options.rounds;
  report.local_loss = trainer.local_phase();
  report.local_phase_ran = options.local_steps > 0;
  report.gate_phase_ran = options.gate_steps > 0;
  report.local_seconds = since(start);
  const auto gate_start = Clock::now();
  report.balance_label = describe(options.loss.balance_kind);
  report.z_loss = options.loss.z_loss > 0;
  report.domain_loss = options.loss.domain > 0;
  for (int step = 0; step < options.gate_steps; ++step) {
    const auto taken = trainer.collaborative_step();
    accumulate(report.gate, taken.losses, options.gate_steps);
    report.assigned += taken.assigned;
    report.dropped += taken.dropped;
  }
  report.gate_seconds = since(gate_start);
  const auto eval_start = Clock::now();
  report.domains = trainer.evaluate(Split::kVal);
  report.utilization = global_utilization(report.domains);
  report.eval_seconds = since(eval_start);
  report.seconds = since(start);
  return report;
}

// The argmax over the first `classes` columns of each row.
std::vector<std::int64_t> predictions(const torch::Tensor& logits, std::int64_t classes);

// Per expert, the sum over the rows of `gate_logits` of the gate weight g.
std::vector<double> gate_weight_sum(const torch::Tensor& gate_logits);
// Per expert, how many rows route to it first (argmax of the gate).
std::vector<double> gate_top1_counts(const torch::Tensor& gate_logits);

// Appends routing records for a batch whose first row is row `first` of its
// split (labels indexed by split row), for the split rows below `limit` only.
void record_routing(std::vector<RoutingSample>& out, const torch::Tensor& gate_logits,
                    const std::vector<std::int64_t>& predicted, const std::vector<std::int64_t>& labels,
                    std::size_t first, std::size_t limit);

// Adds `values` into `sums` elementwise.
void add_into(std::vector<double>& sums, const std::vector<double>& values);

}  // namespace moecollab
