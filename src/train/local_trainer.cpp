#include "moecollab/train/local_trainer.h"

#include <chrono>

#include "moecollab/model/integrate.h"
#include "moecollab/util/error.h"

namespace moecollab {

MixtureOutput mixture_forward(std::vector<Expert>& experts, Gate& gate, const torch::Tensor& features,
                              bool expert_grads) {
  std::vector<torch::Tensor> logits;
  logits.reserve(experts.size());
  {
    torch::AutoGradMode grad_mode(expert_grads && torch::GradMode::is_enabled());
    for (auto& expert : experts) logits.push_back(expert->forward(features));
  }
  MixtureOutput out;
  out.expert_logits = stack_expert_logits(logits);
  out.gate_logits = gate->forward(features);
  out.mixed = mix_expert_logits(out.expert_logits, torch::softmax(out.gate_logits, 1));
  return out;
}

Expert make_expert(const TrainOptions& options, std::int64_t hidden, std::int64_t classes, std::size_t index) {
  torch::manual_seed(options.seed * 1000003ULL + index + 1);
  return Expert(ExpertConfig{hidden, options.adapter, classes});
}

Gate make_gate(const TrainOptions& options, std::int64_t hidden, std::int64_t experts) {
  torch::manual_seed(options.seed * 1000003ULL);
  return Gate(hidden, experts);
}

LocalTrainer::LocalTrainer(TrainOptions options, std::vector<Domain> domains,
                           std::shared_ptr<const Tokenizer> tokenizer)
    : options_(std::move(options)), domains_(std::move(domains)), tokenizer_(std::move(tokenizer)) {
  if (domains_.empty()) throw Error("train: at least one domain is needed");
  if (options_.max_length < 2) throw Error("train: max_length must be at least 2");
  options_.encoder.vocab_size = static_cast<std::int64_t>(tokenizer_->vocabulary().size());
  if (static_cast<std::int64_t>(options_.max_length) > options_.encoder.max_positions) {
    throw Error("train: max_length " + std::to_string(options_.max_length) + " exceeds the encoder's max_positions " +
                std::to_string(options_.encoder.max_positions));
  }
  encoder_ = Encoder(options_.encoder);
  encoder_->eval();
  const std::int64_t hidden = options_.encoder.hidden;
  for (std::size_t i = 0; i < domains_.size(); ++i) {
    const auto& d = domains_[i];
    if (d.train.empty() || d.val.empty()) throw Error("train: domain '" + d.name + "' has an empty train or val split");
    experts_.push_back(make_expert(options_, hidden, static_cast<std::int64_t>(d.labels.size()), i));
    expert_optimizers_.push_back(std::make_unique<torch::optim::Adam>(
        experts_.back()->parameters(), torch::optim::AdamOptions(options_.expert_lr)));
    state_.push_back({tokenize_split(*tokenizer_, d.train, options_.max_length),
                      tokenize_split(*tokenizer_, d.val, options_.max_length),
                      tokenize_split(*tokenizer_, d.test, options_.max_length),
                      BatchSampler(d.train.size(), options_.seed + 7919ULL * (i + 1))});
  }
  gate_ = make_gate(options_, hidden, static_cast<std::int64_t>(domains_.size()));
  gate_optimizer_ =
      std::make_unique<torch::optim::Adam>(gate_->parameters(), torch::optim::AdamOptions(options_.gate_lr));
}

torch::Tensor LocalTrainer::encode(const TokenBatch& batch) {
  torch::NoGradGuard no_grad;  // the encoder is frozen
  return encoder_->forward(batch.ids, batch.mask);
}

const TokenizedSplit& LocalTrainer::split_of(std::size_t domain, Split split) const {
  const auto& s = state_[domain];
  return split == Split::kTrain ? s.train : split == Split::kVal ? s.val : s.test;
}

double LocalTrainer::local_phase() {
  double loss_sum = 0;
  int count = 0;
  for (std::size_t d = 0; d < domains_.size(); ++d) {
    for (int step = 0; step < options_.local_steps; ++step) {
      const auto batch = gather_batch(state_[d].train, state_[d].sampler.next(options_.batch_size),
                                      tokenizer_->vocabulary().pad_id());
      const auto loss = torch::cross_entropy_loss(experts_[d]->forward(encode(batch)), batch.labels);
      expert_optimizers_[d]->zero_grad();
      loss.backward();
      expert_optimizers_[d]->step();
      loss_sum += loss.item<double>();
      ++count;
    }
  }
  return count ? loss_sum / count : 0.0;
}

void LocalTrainer::gate_phase(RoundReport& report) {
  for (int step = 0; step < options_.gate_steps; ++step) {
    std::vector<torch::Tensor> features, labels, classes;
    for (std::size_t d = 0; d < domains_.size(); ++d) {
      const auto batch = gather_batch(state_[d].train, state_[d].sampler.next(options_.batch_size),
                                      tokenizer_->vocabulary().pad_id());
      features.push_back(encode(batch));
      labels.push_back(batch.labels);
      classes.push_back(torch::full_like(batch.labels, static_cast<std::int64_t>(domains_[d].labels.size())));
    }
    const auto out = mixture_forward(experts_, gate_, torch::cat(features), options_.joint);
    const auto terms = gate_loss(out.mixed, torch::cat(labels), torch::cat(classes), out.gate_logits, options_.loss);
    gate_optimizer_->zero_grad();
    for (auto& opt : expert_optimizers_) opt->zero_grad();
    terms.total.backward();
    gate_optimizer_->step();
    if (options_.joint) {
      for (auto& opt : expert_optimizers_) opt->step();
    }
    report.task_loss += terms.task.item<double>() / options_.gate_steps;
    report.entropy += terms.entropy.item<double>() / options_.gate_steps;
    report.balance += terms.balance.item<double>() / options_.gate_steps;
    report.total_loss += terms.total.item<double>() / options_.gate_steps;
  }
}

std::vector<DomainReport> LocalTrainer::evaluate(Split split) {
  torch::NoGradGuard no_grad;
  std::vector<DomainReport> reports;
  const auto experts = static_cast<std::int64_t>(experts_.size());
  for (std::size_t d = 0; d < domains_.size(); ++d) {
    const auto& data = split_of(d, split);
    const auto classes = static_cast<std::int64_t>(domains_[d].labels.size());
    std::vector<std::int64_t> moe_pred, expert_pred;
    auto util_sum = torch::zeros({experts}, torch::kFloat64);
    for (std::size_t start = 0; start < data.labels.size(); start += options_.eval_batch) {
      std::vector<std::size_t> rows;
      for (std::size_t r = start; r < std::min(data.labels.size(), start + options_.eval_batch); ++r) rows.push_back(r);
      const auto batch = gather_batch(data, rows, tokenizer_->vocabulary().pad_id());
      const auto out = mixture_forward(experts_, gate_, encode(batch), false);
      const auto moe = domain_columns(out.mixed, classes).argmax(1);
      const auto own = out.expert_logits.select(1, static_cast<std::int64_t>(d)).narrow(1, 0, classes).argmax(1);
      moe_pred.insert(moe_pred.end(), moe.data_ptr<std::int64_t>(), moe.data_ptr<std::int64_t>() + moe.numel());
      expert_pred.insert(expert_pred.end(), own.data_ptr<std::int64_t>(), own.data_ptr<std::int64_t>() + own.numel());
      util_sum += torch::softmax(out.gate_logits, 1).to(torch::kFloat64).sum(0);
    }
    DomainReport r;
    r.domain = domains_[d].name;
    r.moe = classification_metrics(moe_pred, data.labels, static_cast<std::size_t>(classes));
    r.expert = classification_metrics(expert_pred, data.labels, static_cast<std::size_t>(classes));
    util_sum /= static_cast<double>(std::max<std::size_t>(1, data.labels.size()));
    r.utilization.assign(util_sum.data_ptr<double>(), util_sum.data_ptr<double>() + experts);
    reports.push_back(std::move(r));
  }
  return reports;
}

RoundReport LocalTrainer::run_round() {
  const auto start = std::chrono::steady_clock::now();
  RoundReport report;
  report.round = ++round_;
  report.rounds = options_.rounds;
  encoder_->eval();
  report.local_loss = local_phase();
  gate_phase(report);
  report.domains = evaluate(Split::kVal);
  report.utilization.assign(experts_.size(), 0.0);
  std::size_t total = 0;
  for (std::size_t d = 0; d < report.domains.size(); ++d) {
    const std::size_t n = state_[d].val.labels.size();
    total += n;
    for (std::size_t e = 0; e < experts_.size(); ++e) report.utilization[e] += report.domains[d].utilization[e] * n;
  }
  for (auto& u : report.utilization) u /= static_cast<double>(std::max<std::size_t>(1, total));
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace moecollab
