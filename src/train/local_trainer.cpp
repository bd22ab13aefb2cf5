#include "moecollab/train/local_trainer.h"

#include "moecollab/train/fusion.h"
#include "moecollab/util/error.h"

namespace moecollab {

LocalTrainer::LocalTrainer(TrainOptions options, std::vector<Domain> domains,
                           std::shared_ptr<const Tokenizer> tokenizer)
    : options_(std::move(options)), tokenizer_(std::move(tokenizer)) {
  if (domains.empty()) throw Error("train: at least one domain is needed");
  options_.encoder.vocab_size = static_cast<std::int64_t>(tokenizer_->vocabulary().size());
  encoder_ = make_encoder(options_);
  check_train_options(options_);
  if (options_.dp.enabled()) {
    throw Error(
        "--dp-noise/--dp-epsilon protect what leaves a rank in `train` (--exchange experts); one process "
        "(train-local) sends nothing");
  }
  router_ = Router(options_.routing);
  encoder_->eval();
  encoder_optimizer_ = prepare_encoder_training(encoder_, options_);
  const std::int64_t hidden = options_.encoder.hidden;
  for (std::size_t i = 0; i < domains.size(); ++i) {
    shards_.emplace_back(domains[i], *tokenizer_, options_.max_length, sampler_seed(options_, i),
                         LengthBucketing{options_.batch_size, options_.length_buckets});
    fill_feature_cache(options_, shards_.back(), encoder_);
    experts_.push_back(make_expert(options_, hidden, shards_.back().classes, i));
    expert_optimizers_.push_back(make_optimizer(*experts_.back(), options_.expert_lr));
  }
  gate_ = make_gate(options_, hidden, static_cast<std::int64_t>(domains.size()));
  gate_optimizer_ = make_optimizer(*gate_, options_.gate_lr);
}

double LocalTrainer::local_phase() {
  // Every expert takes its step s before any takes step s + 1: a trained encoder
  // steps once per s on the mean of the domains' gradients, as the federated
  // ranks' FedSGD does (a frozen encoder makes the experts independent).
  double sum = 0;
  const auto encoder_params = encoder_->trainable_parameters();
  for (int step = 0; step < options_.local_steps; ++step) {
    if (encoder_optimizer_) encoder_optimizer_->zero_grad();
    for (std::size_t d = 0; d < shards_.size(); ++d) {
      expert_optimizers_[d]->zero_grad();
      sum += local_step_backward(experts_[d], shards_[d], encoder_, options_);
    }
    for (auto& opt : expert_optimizers_) opt->step();
    if (encoder_optimizer_) {
      scale_gradients(encoder_params, 1.0 / static_cast<double>(shards_.size()));
      encoder_optimizer_->step();
    }
  }
  return options_.local_steps > 0 ? sum / static_cast<double>(options_.local_steps * shards_.size()) : 0.0;
}

EncoderViews LocalTrainer::views_of(DomainShard& shard, Split split, const std::vector<std::size_t>& rows, bool train) {
  if (!options_.expert_lora.enabled()) {
    return {shard.features(encoder_, split, rows, train && encoder_optimizer_ != nullptr).features, {}};
  }
  return encode_views(encoder_, experts_, gather_batch(shard.split(split), rows, shard.pad_id),
                      train && options_.joint);
}

CollaborativeStep LocalTrainer::collaborative_step() {
  std::vector<torch::Tensor> features, labels, classes, noise, domains;
  std::vector<std::int64_t> batch_rows;  // per domain
  std::vector<std::vector<torch::Tensor>> expert_features(experts_.size());
  const auto experts = static_cast<std::int64_t>(experts_.size());
  for (std::size_t d = 0; d < shards_.size(); ++d) {
    auto& shard = shards_[d];
    const auto rows = shard.sampler.next(options_.batch_size);
    auto drawn = gate_noise(options_, round_, gate_step_, d, static_cast<std::int64_t>(rows.size()), experts);
    if (drawn.defined()) noise.push_back(drawn);
    auto views = views_of(shard, Split::kTrain, rows, true);
    features.push_back(views.shared);
    for (std::size_t e = 0; e < views.experts.size(); ++e) expert_features[e].push_back(views.experts[e]);
    std::vector<std::int64_t> ids;
    for (auto r : rows) ids.push_back(shard.train.labels.at(r));
    labels.push_back(torch::tensor(ids, torch::kInt64));
    batch_rows.push_back(labels.back().size(0));
    classes.push_back(torch::full_like(labels.back(), shard.classes));
    domains.push_back(torch::full_like(labels.back(), static_cast<std::int64_t>(d)));
  }
  EncoderViews views{torch::cat(features), {}};
  for (auto& parts : expert_features) {
    if (!parts.empty()) views.experts.push_back(torch::cat(parts));
  }
  // A trained encoder learns through the experts too, so their forward keeps its graph.
  ++gate_step_;
  RouteInputs route{true, noise.empty() ? torch::Tensor() : torch::cat(noise), {}};
  const auto out =
      mixture_forward(experts_, gate_, views, options_.joint || encoder_optimizer_ != nullptr, router_, route);
  auto terms = gate_loss(out.mixed, torch::cat(labels), torch::cat(classes), out.gate_logits, options_.loss,
                         batch_mean_gate, torch::cat(domains));
  if (options_.loss.balance_per_domain) {
    terms.balance = per_domain_balance(out.gate_logits, batch_rows, options_.loss.balance_kind);
    terms.total = total_loss(terms, options_.loss);
  }
  gate_optimizer_->zero_grad();
  for (auto& opt : expert_optimizers_) opt->zero_grad();
  if (encoder_optimizer_) encoder_optimizer_->zero_grad();
  terms.total.backward();
  if (record_steps_) {
    auto& r = last_step_;
    r.clear();
    r["inputs/features"] = views.shared.detach().clone();
    r["inputs/labels"] = torch::cat(labels);
    r["inputs/classes"] = torch::cat(classes);
    r["inputs/domains"] = torch::cat(domains);
    r["inputs/rows"] = torch::tensor(batch_rows, torch::kInt64);
    for (std::size_t e = 0; e < experts_.size(); ++e) {
      for (const auto& item : experts_[e]->named_parameters()) {
        r["inputs/expert" + std::to_string(e) + "/" + item.key()] = item.value().detach().clone();
      }
    }
    for (const auto& item : gate_->named_parameters()) {
      const auto& p = item.value();
      r["inputs/gate/" + item.key()] = p.detach().clone();
      r["outputs/gate_grad/" + item.key()] = p.grad().defined() ? p.grad().clone() : torch::zeros_like(p);
    }
    const auto& w = options_.loss;
    r["inputs/weights"] = torch::tensor({w.entropy, w.balance_weight(), w.z_loss, w.domain}, torch::kFloat64);
    r["outputs/expert_logits"] = out.expert_logits.detach().clone();
    r["outputs/gate_logits"] = out.gate_logits.detach().clone();
    r["outputs/mixed"] = out.mixed.detach().clone();
    r["outputs/losses"] = torch::stack({terms.task, terms.entropy, terms.balance, terms.z, terms.domain, terms.total})
                              .detach()
                              .to(torch::kFloat64);
  }
  CollaborativeStep step;
  step.mixed = out.mixed.detach();
  step.losses = {terms.task.item<double>(), terms.entropy.item<double>(), terms.balance.item<double>(),
                 terms.z.item<double>(),    terms.domain.item<double>(),  terms.total.item<double>()};
  step.assigned = out.routing.assigned;
  step.dropped = out.routing.dropped;
  step.gate_grad = flatten_gradients(gate_->parameters());
  gate_optimizer_->step();
  if (options_.joint) {
    for (auto& opt : expert_optimizers_) opt->step();
  }
  if (encoder_optimizer_) encoder_optimizer_->step();
  return step;
}

std::vector<DomainReport> LocalTrainer::evaluate(Split split) {
  torch::NoGradGuard no_grad;
  std::vector<DomainReport> reports;
  for (std::size_t d = 0; d < shards_.size(); ++d) {
    const auto& shard = shards_[d];
    const auto& data = shard.split(split);
    std::vector<std::int64_t> moe_pred, expert_pred;
    std::vector<double> util_sum(experts_.size(), 0.0), top1(experts_.size(), 0.0);
    std::vector<RoutingSample> routing;
    for (const auto& rows : DomainShard::chunks(data.labels.size(), options_.eval_batch)) {
      const auto out = mixture_forward(experts_, gate_, views_of(shards_[d], split, rows, false), false, router_);
      const auto moe = predictions(out.mixed, shard.classes);
      record_routing(routing, out.gate_logits, moe, data.labels, rows.front(), options_.log_routing);
      const auto own = predictions(out.expert_logits.select(1, static_cast<std::int64_t>(d)), shard.classes);
      moe_pred.insert(moe_pred.end(), moe.begin(), moe.end());
      expert_pred.insert(expert_pred.end(), own.begin(), own.end());
      add_into(util_sum, gate_weight_sum(out.gate_logits));
      add_into(top1, gate_top1_counts(out.gate_logits));
    }
    reports.push_back(
        make_domain_report(shard.name, moe_pred, expert_pred, data.labels, shard.classes, util_sum, top1));
    reports.back().routing = std::move(routing);
  }
  return reports;
}

ModelConfig LocalTrainer::model_config() const {
  std::vector<std::string> names;
  std::vector<std::int64_t> counts;
  for (const auto& s : shards_) names.push_back(s.name), counts.push_back(s.classes);
  return moecollab::model_config(options_, encoder_->config(), tokenizer_->lower_case(), names, counts);
}

TrainerState LocalTrainer::export_state() {
  TrainerState state;
  state.round = round_;
  state.gate = export_module(*gate_, *gate_optimizer_);
  state.encoder = export_encoder(encoder_, encoder_optimizer_.get());
  for (std::size_t i = 0; i < shards_.size(); ++i) {
    state.experts.push_back({shards_[i].name, shards_[i].labels, export_module(*experts_[i], *expert_optimizers_[i]),
                             shards_[i].sampler.epoch(), shards_[i].sampler.cursor()});
  }
  return state;
}

void LocalTrainer::import_state(const TrainerState& state) {
  if (state.experts.size() != shards_.size()) throw Error("import_state: expert count differs");
  round_ = static_cast<int>(state.round);
  import_module(*gate_, *gate_optimizer_, state.gate, "gate");
  import_encoder(encoder_, encoder_optimizer_.get(), state.encoder);
  for (std::size_t i = 0; i < shards_.size(); ++i) {
    const auto& e = state.experts[i];
    import_module(*experts_[i], *expert_optimizers_[i], e.tensors,
                  "expert " + std::to_string(i) + " (" + e.domain + ")");
    shards_[i].sampler.seek(e.sampler_epoch, e.sampler_cursor);
  }
}

RoundReport LocalTrainer::run_round() {
  gate_step_ = 0;
  return run_round_phases(*this, options_, ++round_);
}

}  // namespace moecollab
