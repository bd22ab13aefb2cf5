#include "moecollab/train/mixture.h"

#include <ATen/CPUGeneratorImpl.h>

#include "moecollab/model/hf_bert.h"
#include "moecollab/model/integrate.h"
#include "moecollab/util/error.h"

namespace moecollab {

Encoder make_encoder(TrainOptions& options) {
  // "auto" pooling: the mean for the random encoder (its CLS state is nearly
  // constant); for a loaded BERT, CLS where it has a pooler (as BERT-base was
  // trained, with next-sentence prediction), else the mean (masked-LM only).
  const bool automatic = options.encoder.pooling == "auto";
  if (options.encoder_dir.empty()) {
    if (automatic) options.encoder.pooling = "mean";
    return Encoder(options.encoder);
  }
  const auto directory = read_hf_bert_directory(options.encoder_dir);
  if (directory.config.vocab_size != options.encoder.vocab_size) {
    throw Error(options.encoder_dir + ": config.json vocab_size " + std::to_string(directory.config.vocab_size) +
                " differs from the vocabulary's " + std::to_string(options.encoder.vocab_size) + " tokens");
  }
  const auto pooling = automatic ? directory.config.pooling : options.encoder.pooling;
  options.encoder = directory.config;
  options.encoder.pooling = pooling;
  auto loaded = directory;
  loaded.config.pooling = pooling;
  return load_hf_bert(loaded);
}

ModelConfig model_config(const TrainOptions& options, const EncoderConfig& built, bool lower_case,
                         std::vector<std::string> domains, std::vector<std::int64_t> label_counts) {
  ModelConfig m;
  m.encoder = built;
  m.encoder_training = options.encoder_training;
  m.lower_case = lower_case;
  m.max_length = static_cast<std::int64_t>(options.max_length);
  m.adapter = options.adapter;
  m.expert_lora = options.expert_lora;
  m.routing = options.routing;
  m.domains = std::move(domains);
  m.label_counts = std::move(label_counts);
  return m;
}

TrainOptions train_options_for(const ModelConfig& config, const std::string& encoder_dir) {
  TrainOptions o;
  o.encoder = config.encoder;
  o.encoder_dir = encoder_dir;
  o.encoder_training = config.encoder_training;
  o.max_length = static_cast<std::size_t>(config.max_length);
  o.adapter = config.adapter;
  o.expert_lora = config.expert_lora;
  o.routing = config.routing;
  return o;
}

void check_train_options(const TrainOptions& o) {
  auto require = [](bool ok, const std::string& what) {
    if (!ok) throw Error("train options: " + what);
  };
  require(o.max_length >= 2, "max-length must be at least 2 ([CLS] and [SEP])");
  require(static_cast<std::int64_t>(o.max_length) <= o.encoder.max_positions,
          "max-length " + std::to_string(o.max_length) + " exceeds the encoder's max_positions " +
              std::to_string(o.encoder.max_positions));
  require(o.rounds >= 1, "--rounds must be at least 1, got " + std::to_string(o.rounds) +
                             " (a run of no rounds would report an untrained model as final)");
  require(o.local_steps >= 0 && o.gate_steps >= 0, "--local-steps and --gate-steps must not be negative");
  // Sizes are unsigned: a negative value on the command line wraps around to a huge one.
  constexpr std::size_t kMaxBatch = 1 << 20;
  require(o.batch_size >= 1 && o.batch_size <= kMaxBatch, "--batch-size must be between 1 and " +
                                                              std::to_string(kMaxBatch) + ", got " +
                                                              std::to_string(static_cast<long long>(o.batch_size)));
  require(o.eval_batch >= 1 && o.eval_batch <= kMaxBatch, "--eval-batch must be between 1 and " +
                                                              std::to_string(kMaxBatch) + ", got " +
                                                              std::to_string(static_cast<long long>(o.eval_batch)));
  require(o.adapter >= 1, "--adapter must be at least 1");
  require(o.adapter <= o.encoder.hidden, "--adapter " + std::to_string(o.adapter) +
                                             " exceeds the encoder's hidden size " + std::to_string(o.encoder.hidden) +
                                             " (the adapter is a bottleneck)");
  require(o.routing.top_k >= 0, "top-k must be 0 (dense) or a number of experts");
  require(o.expert_lr > 0 && o.gate_lr > 0 && o.encoder_lr > 0, "learning rates must be positive");
  require(o.expert_lora.rank >= 0, "--expert-lora must be 0 (off) or a rank >= 1");
  require(!o.expert_lora.enabled() || (o.expert_lora.layers >= 1 && o.expert_lora.layers <= o.encoder.layers),
          "--expert-lora-layers must be between 1 and the encoder's " + std::to_string(o.encoder.layers) + " layers");
  require(!o.expert_lora.enabled() || !o.encoder_training.any(),
          "--expert-lora adapts a frozen shared encoder per expert; it does not combine with --encoder-train " +
              describe(o.encoder_training));
  require(o.encoder_training.top_layers <= o.encoder.layers, "--encoder-train " + describe(o.encoder_training) +
                                                                 " names more layers than the encoder's " +
                                                                 std::to_string(o.encoder.layers));
  require(o.loss.entropy >= 0 && o.loss.balance >= 0, "lambda1 and lambda2 must not be negative");
  privacy::check_dp_config(o.dp);
  require(!o.dp.enabled() || o.loss.balance_weight() == 0,
          "--dp-noise/--dp-epsilon need --balance none: the balance term is a function of the step's mean gate, "
          "which couples every text of the step, so no single text's gradient could be clipped alone");
  require(!o.dp.enabled() || o.routing.capacity_factor == 0,
          "--dp-noise/--dp-epsilon do not combine with --capacity-factor: a capacity couples the step's rows "
          "(which row gets a slot depends on the others) and sends every row's gate logits to every rank");
  require(o.loss.switch_alpha >= 0 && o.loss.z_loss >= 0 && o.loss.domain >= 0,
          "--switch-alpha, --z-loss and --domain-routing-loss must not be negative");
  require(o.routing.capacity_factor >= 0 && o.routing.eval_capacity_factor >= 0,
          "--capacity-factor and --eval-capacity-factor must be 0 (no limit) or positive");
  require((o.routing.capacity_factor == 0 && o.routing.eval_capacity_factor == 0) || o.routing.top_k > 0,
          "--capacity-factor and --eval-capacity-factor need --top-k K (dense routing sends every row to every "
          "expert)");
  o.encoder.validate();
}

Expert make_expert(const TrainOptions& options, std::int64_t hidden, std::int64_t classes, std::size_t index) {
  torch::manual_seed(options.seed * 1000003ULL + index + 1);
  return Expert(ExpertConfig{hidden, options.adapter, classes, options.expert_lora, options.encoder.intermediate});
}

Gate make_gate(const TrainOptions& options, std::int64_t hidden, std::int64_t experts) {
  torch::manual_seed(options.seed * 1000003ULL);
  return Gate(hidden, experts, options.routing.noisy);
}

std::unique_ptr<torch::optim::Adam> make_optimizer(torch::nn::Module& module, double lr) {
  return std::make_unique<torch::optim::Adam>(module.parameters(), torch::optim::AdamOptions(lr));
}

std::uint64_t sampler_seed(const TrainOptions& options, std::size_t index) {
  return options.seed + 7919ULL * (index + 1);
}

void fill_feature_cache(const TrainOptions& options, DomainShard& shard, Encoder& encoder) {
  if (!options.feature_cache) return;
  if (options.fill_feature_cache) {
    options.fill_feature_cache(shard, encoder, options.cache_progress);
  } else {
    shard.cache_features(encoder, kFeatureCacheChunk, options.cache_progress);
  }
}

std::unique_ptr<torch::optim::Adam> prepare_encoder_training(Encoder& encoder, TrainOptions& options) {
  auto& training = options.encoder_training;
  if (training.all) training.top_layers = encoder->config().layers;
  encoder->set_trainable(training.top_layers, training.all);
  // Per-expert LoRA reads every text through each expert's adapted layers: nothing to cache.
  if (options.expert_lora.enabled()) options.feature_cache = false;
  if (!training.any()) return nullptr;
  options.feature_cache = false;
  return std::make_unique<torch::optim::Adam>(encoder->trainable_parameters(),
                                              torch::optim::AdamOptions(options.encoder_lr));
}

NamedTensors export_encoder(Encoder& encoder, torch::optim::Adam* optimizer) {
  return optimizer ? export_module(*encoder, *optimizer) : NamedTensors{};
}

void import_encoder(Encoder& encoder, torch::optim::Adam* optimizer, const NamedTensors& state) {
  if (optimizer && state.empty()) {
    throw Error("the checkpoint was saved with a frozen encoder (--encoder-train none); this run trains it");
  }
  if (!optimizer && !state.empty()) {
    throw Error(
        "the checkpoint was saved with a trained encoder (--encoder-train); this run keeps it frozen "
        "(resume with the run's --encoder-train)");
  }
  if (optimizer) import_module(*encoder, *optimizer, state, "encoder");
}

void scale_gradients(const std::vector<torch::Tensor>& parameters, double factor) {
  for (const auto& p : parameters) {
    if (p.grad().defined()) p.grad().mul_(factor);
  }
}

double local_step_backward(Expert& expert, DomainShard& shard, Encoder& encoder, const TrainOptions& options) {
  const auto loss = local_step_losses(expert, shard, encoder, options).mean();
  loss.backward();
  return loss.item<double>();
}

torch::Tensor local_step_losses(Expert& expert, DomainShard& shard, Encoder& encoder, const TrainOptions& options) {
  FeatureBatch batch;
  if (expert->lora().empty()) {
    batch = shard.next_train_features(encoder, options.batch_size, options.encoder_training.any());
  } else {
    const auto tokens = shard.next_train_batch(options.batch_size);
    batch = {expert_view(encoder, expert, tokens), tokens.labels};
  }
  return torch::cross_entropy_loss(expert->forward(batch.features), batch.labels, {}, at::Reduction::None);
}

torch::Tensor gate_noise(const TrainOptions& options, int round, int step, std::size_t domain, std::int64_t rows,
                         std::int64_t experts) {
  if (!options.routing.noisy) return {};
  std::uint64_t seed = options.seed * 1000003ULL + 0x9e3779b97f4a7c15ULL;
  for (std::uint64_t part :
       {static_cast<std::uint64_t>(round), static_cast<std::uint64_t>(step), static_cast<std::uint64_t>(domain)}) {
    seed = (seed ^ part) * 0x100000001b3ULL;
  }
  auto generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  return torch::randn({rows, experts}, generator, torch::kFloat64);
}

namespace {

// The gate's logits of the rows, the routing, and y from the stacked expert logits.
MixtureOutput mix(torch::Tensor expert_logits, Gate& gate, const torch::Tensor& gate_input, const Router& router,
                  const RouteInputs& inputs) {
  MixtureOutput out;
  out.expert_logits = std::move(expert_logits);
  out.gate_logits = gate->forward(gate_input, inputs.training ? inputs.noise : torch::Tensor());
  out.routing = router.route(out.gate_logits, inputs.training, inputs.gather);
  out.mixed = mix_expert_logits(out.expert_logits, out.routing.weights);
  return out;
}

}  // namespace

MixtureOutput mixture_forward(std::vector<Expert>& experts, Gate& gate, const torch::Tensor& features,
                              bool expert_grads, const Router& router, const RouteInputs& inputs) {
  std::vector<torch::Tensor> logits;
  logits.reserve(experts.size());
  {
    torch::AutoGradMode grad_mode(expert_grads && torch::GradMode::is_enabled());
    for (auto& expert : experts) logits.push_back(expert->forward(features));
  }
  return mix(stack_expert_logits(logits), gate, features, router, inputs);
}

torch::Tensor expert_view(Encoder& encoder, Expert& expert, const TokenBatch& batch) {
  const auto top = static_cast<std::int64_t>(expert->lora().size());
  torch::Tensor below;
  {
    torch::NoGradGuard frozen;  // the shared layers below the adapted ones
    below = encoder->states_below(batch.ids, batch.mask, top);
  }
  return encoder->forward_top(below, batch.mask, top, expert->lora());
}

EncoderViews encode_views(Encoder& encoder, std::vector<Expert>& experts, const TokenBatch& batch, bool expert_grads) {
  const auto top = experts.empty() ? 0 : static_cast<std::int64_t>(experts.front()->lora().size());
  EncoderViews views;
  torch::Tensor below;
  {
    torch::NoGradGuard frozen;
    if (top == 0) {
      views.shared = encoder->forward(batch.ids, batch.mask);
      return views;
    }
    below = encoder->states_below(batch.ids, batch.mask, top);
    views.shared = encoder->forward_top(below, batch.mask, top, {});
  }
  torch::AutoGradMode grad_mode(expert_grads && torch::GradMode::is_enabled());
  for (auto& expert : experts) views.experts.push_back(encoder->forward_top(below, batch.mask, top, expert->lora()));
  return views;
}

MixtureOutput mixture_forward(std::vector<Expert>& experts, Gate& gate, const EncoderViews& views, bool expert_grads,
                              const Router& router, const RouteInputs& inputs) {
  if (views.experts.empty()) return mixture_forward(experts, gate, views.shared, expert_grads, router, inputs);
  std::vector<torch::Tensor> logits;
  {
    torch::AutoGradMode grad_mode(expert_grads && torch::GradMode::is_enabled());
    for (std::size_t i = 0; i < experts.size(); ++i) logits.push_back(experts[i]->forward(views.experts[i]));
  }
  return mix(stack_expert_logits(logits), gate, views.shared, router, inputs);
}

std::vector<std::int64_t> predictions(const torch::Tensor& logits, std::int64_t classes) {
  const auto arg = logits.narrow(1, 0, classes).argmax(1).contiguous();
  return {arg.data_ptr<std::int64_t>(), arg.data_ptr<std::int64_t>() + arg.numel()};
}

std::vector<double> gate_top1_counts(const torch::Tensor& gate_logits) {
  const auto counts = torch::bincount(gate_logits.detach().argmax(1), {}, gate_logits.size(1)).to(torch::kFloat64);
  return {counts.data_ptr<double>(), counts.data_ptr<double>() + counts.numel()};
}

void record_routing(std::vector<RoutingSample>& out, const torch::Tensor& gate_logits,
                    const std::vector<std::int64_t>& predicted, const std::vector<std::int64_t>& labels,
                    std::size_t first, std::size_t limit) {
  if (first >= limit) return;
  const auto gate = torch::softmax(gate_logits.detach(), 1).to(torch::kFloat64).contiguous();
  for (std::size_t i = 0; i < predicted.size() && first + i < limit; ++i) {
    const double* g = gate.data_ptr<double>() + i * static_cast<std::size_t>(gate.size(1));
    out.push_back({labels[first + i], predicted[i], std::vector<double>(g, g + gate.size(1))});
  }
}

void add_into(std::vector<double>& sums, const std::vector<double>& values) {
  for (std::size_t i = 0; i < values.size(); ++i) sums[i] += values[i];
}

std::vector<double> gate_weight_sum(const torch::Tensor& gate_logits) {
  const auto sums = torch::softmax(gate_logits.detach(), 1).to(torch::kFloat64).sum(0).contiguous();
  return {sums.data_ptr<double>(), sums.data_ptr<double>() + sums.numel()};
}

}  // namespace moecollab
