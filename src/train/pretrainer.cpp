#include "moecollab/train/pretrainer.h"

#include <algorithm>
#include <chrono>

#include "moecollab/comm/agreement.h"
#include "moecollab/train/exchange.h"
#include "moecollab/train/fusion.h"
#include "moecollab/util/error.h"

namespace moecollab {

double encoder_forward_flops(const EncoderConfig& c, std::int64_t texts, std::int64_t length) {
  const double b = static_cast<double>(texts), n = static_cast<double>(length), d = static_cast<double>(c.hidden);
  const double t = b * n, f = static_cast<double>(c.intermediate);
  return static_cast<double>(c.layers) * (8 * t * d * d + 4 * t * d * f + 4 * b * n * n * d);
}

double mlm_step_flops(const EncoderConfig& c, std::int64_t texts, std::int64_t length, std::int64_t masked) {
  const double m = static_cast<double>(masked), d = static_cast<double>(c.hidden);
  const double forward = encoder_forward_flops(c, texts, length) + 2 * m * d * d + 2 * m * d * c.vocab_size;
  return 3 * forward;
}

FederatedPretrainer::FederatedPretrainer(PretrainOptions options, const Domain& own,
                                         std::shared_ptr<const Tokenizer> tokenizer, Communicator& comm)
    : options_(std::move(options)), tokenizer_(std::move(tokenizer)), comm_(comm) {
  options_.encoder.vocab_size = static_cast<std::int64_t>(tokenizer_->vocabulary().size());
  run_on_every_rank(comm_, [&] {
    if (options_.optimizer != "adam" && options_.optimizer != "sgd") {
      throw Error("pretrain: --mlm-optimizer must be adam or sgd, not '" + options_.optimizer + "'");
    }
    if (options_.fedavg_every < 0) throw Error("pretrain: --fedavg-every must be 0 (FedSGD) or positive");
    if (options_.schedule != "linear" && options_.schedule != "constant") {
      throw Error("pretrain: --mlm-schedule must be linear or constant, not '" + options_.schedule + "'");
    }
    if (!(options_.warmup >= 0 && options_.warmup < 1)) throw Error("pretrain: --mlm-warmup must be in [0, 1)");
    if (options_.encoder.pooling == "auto") options_.encoder.pooling = "mean";  // unused by masked-LM training
    encoder_ = Encoder(options_.encoder);    // same seed on every rank: identical start
    std::vector<Example> texts = own.train;  // labels unused
    if (options_.use_unlabelled) {
      for (const auto& text : own.unlabelled) texts.push_back({text, 0});
    }
    corpus_ = tokenize_split(*tokenizer_, texts, options_.max_length);
    sampler_ = std::make_unique<BatchSampler>(
        texts.size(), options_.seed + 7919ULL * (static_cast<std::uint64_t>(comm_.rank()) + 1), token_lengths(corpus_),
        LengthBucketing{options_.batch_size, options_.length_buckets});
  });
  torch::manual_seed(options_.encoder.seed + 1);
  head_ = MlmHead(options_.encoder, options_.tie_decoder);
  encoder_->set_frozen(false);
  encoder_->train();
  if (options_.optimizer == "adam") {
    optimizer_ = std::make_unique<torch::optim::Adam>(parameters(), torch::optim::AdamOptions(options_.lr));
  } else {
    optimizer_ = std::make_unique<torch::optim::SGD>(parameters(), torch::optim::SGDOptions(options_.lr));
  }
  auto sizes = torch::tensor({static_cast<double>(corpus_.encodings.size())}, torch::kFloat64);
  auto total = sizes.clone();
  comm_.allreduce_sum(total);
  share_ = sizes.item<double>() / total.item<double>();
  corpus_texts_ = static_cast<std::uint64_t>(total.item<double>());
  rng_.seed(options_.seed * 1000003ULL + static_cast<std::uint64_t>(comm_.rank()));
}

std::vector<torch::Tensor> FederatedPretrainer::parameters() const {
  auto params = encoder_->parameters();
  for (const auto& p : head_->parameters()) params.push_back(p);
  return params;
}

torch::Tensor FederatedPretrainer::flat_parameters() const {
  std::vector<torch::Tensor> parts;
  for (const auto& p : parameters()) parts.push_back(p.detach().reshape(-1));
  return torch::cat(parts);
}

double FederatedPretrainer::learning_rate(int step) const {
  if (options_.schedule == "constant") return options_.lr;
  const double total = std::max(1, options_.rounds * options_.steps);
  const double warm = options_.warmup * total;
  const double at = step + 1.0;
  if (at <= warm) return options_.lr * at / warm;
  return options_.lr * std::max(0.0, (total - at + 1.0) / (total - warm + 1.0));
}

PretrainReport FederatedPretrainer::run_round() {
  const auto start = std::chrono::steady_clock::now();
  const auto bytes_before = comm_.stats().bytes_sent();
  const auto& vocab = tokenizer_->vocabulary();
  const std::vector<std::int64_t> specials = {vocab.cls_id(), vocab.sep_id(), vocab.pad_id()};
  const std::int64_t mask_id = vocab.find(Vocabulary::kMask);
  if (mask_id < 0) throw Error("pretrain: the vocabulary has no [MASK] token");
  const auto params = parameters();
  double loss_sum = 0, correct = 0, masked = 0, lr = options_.lr;
  PretrainPhases phases;
  double flops = 0;  // this rank's matrix products
  auto clock = std::chrono::steady_clock::now();
  auto lap = [&clock](double& into) {  // adds the time since the last lap to `into`
    const auto now = std::chrono::steady_clock::now();
    into += std::chrono::duration<double>(now - clock).count();
    clock = now;
  };
  for (int s = 0; s < options_.steps; ++s, ++step_) {
    const auto batch = gather_batch(corpus_, sampler_->next(options_.batch_size), vocab.pad_id());
    const auto masked_batch =
        mask_tokens(batch.ids, batch.mask, mask_id, options_.encoder.vocab_size, specials, options_.mask_rate, rng_);
    const auto positions = masked_batch.labels.ne(-100);
    const auto targets = masked_batch.labels.index({positions});
    lap(phases.data);
    const auto hidden = encoder_->hidden_states(masked_batch.ids, batch.mask).index({positions});
    const auto scores = head_->forward(hidden, encoder_->word_embeddings());
    const auto loss = torch::cross_entropy_loss(scores, targets);
    loss_sum += loss.item<double>();
    correct += scores.argmax(1).eq(targets).sum().item<double>();
    masked += static_cast<double>(targets.numel());
    flops += mlm_step_flops(options_.encoder, batch.ids.size(0), batch.ids.size(1), targets.numel());
    lap(phases.forward);
    optimizer_->zero_grad();
    (options_.fedavg_every == 0 ? loss * share_ : loss).backward();  // FedSGD: Σ_r share_r · ∇loss_r
    lap(phases.backward);
    if (options_.fedavg_every == 0) {
      std::vector<double> none;
      allreduce_gradients(comm_, params, none);
      lap(phases.allreduce);
    }
    lr = learning_rate(step_);
    for (auto& group : optimizer_->param_groups()) group.options().set_lr(lr);
    optimizer_->step();
    lap(phases.optimizer);
    if (options_.fedavg_every > 0 && (step_ + 1) % options_.fedavg_every == 0) {
      torch::NoGradGuard no_grad;
      auto flat = flat_parameters() * share_;
      comm_.allreduce_sum(flat);
      std::int64_t offset = 0;
      for (auto& p : params) {
        p.copy_(flat.narrow(0, offset, p.numel()).view(p.sizes()));
        offset += p.numel();
      }
      lap(phases.allreduce);
    }
  }
  auto totals =
      torch::tensor({loss_sum / std::max(1, options_.steps) * share_, correct, masked, flops}, torch::kFloat64);
  comm_.allreduce_sum(totals);
  PretrainReport report;
  report.round = ++round_;
  report.loss = totals[0].item<double>();
  report.accuracy = totals[2].item<double>() > 0 ? totals[1].item<double>() / totals[2].item<double>() : 0.0;
  report.masked_tokens = static_cast<std::uint64_t>(totals[2].item<double>());
  report.learning_rate = lr;
  report.bytes_sent = comm_.stats().bytes_sent() - bytes_before;
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  report.phases = phases;
  report.matmul_flops = totals[3].item<double>();
  return report;
}

}  // namespace moecollab
