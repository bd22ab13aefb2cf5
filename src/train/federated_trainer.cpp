#include "moecollab/train/federated_trainer.h"

#include <chrono>
#include <cmath>
#include <limits>

#include "moecollab/comm/agreement.h"
#include "moecollab/model/fingerprint.h"
#include "moecollab/model/integrate.h"
#include "moecollab/privacy/rdp_accountant.h"
#include "moecollab/train/exchange.h"
#include "moecollab/train/fusion.h"
#include "moecollab/train/round_gather.h"
#include "moecollab/util/error.h"
#include "moecollab/util/hash.h"
#include "moecollab/util/strings.h"

namespace moecollab {
namespace {

// Whether every defined gradient of `parameters` is finite.
bool gradients_finite(const std::vector<torch::Tensor>& parameters) {
  for (const auto& p : parameters) {
    if (p.grad().defined() && !torch::isfinite(p.grad()).all().item<bool>()) return false;
  }
  return true;
}

void zero_gradients(const std::vector<torch::Tensor>& parameters) {
  for (const auto& p : parameters) {
    if (p.grad().defined()) p.grad().zero_();
  }
}

// Ranks whose value differs from rank 0's, as "rank 2 (abc), rank 3 (def)".
std::string ranks_differing(const std::vector<std::string>& values) {
  std::string out;
  for (std::size_t r = 1; r < values.size(); ++r) {
    if (values[r] == values[0]) continue;
    if (!out.empty()) out += ", ";
    out += "rank " + std::to_string(r) + " (" + values[r] + ")";
  }
  return out;
}

}  // namespace

FederatedTrainer::FederatedTrainer(TrainOptions options, const Domain& own, std::shared_ptr<const Tokenizer> tokenizer,
                                   Communicator& comm)
    : options_(std::move(options)), tokenizer_(std::move(tokenizer)), comm_(comm) {
  options_.encoder.vocab_size = static_cast<std::int64_t>(tokenizer_->vocabulary().size());
  run_on_every_rank(comm_, [&] {
    encoder_ = make_encoder(options_);
    check_train_options(options_);
    router_ = Router(options_.routing);
    if (options_.expert_lora.enabled() && options_.exchange == ExchangeMode::kFeatures) {
      // Expert q would need every row's b×L×d states below its adapted layers, not
      // the b×d features: max-length times the bytes of the exchange.
      throw Error(
          "--expert-lora (per-expert encoder adaptation) is not available in the features exchange: "
          "every expert would need each text's sequence hidden states (--max-length " +
          std::to_string(options_.max_length) +
          " times the bytes of the b×d features) and would run its adapted layers on every rank's texts. "
          "Use --exchange experts (every rank runs every expert's adapted layers on its own texts), or "
          "train in one process (moecollab train-local)");
    }
    if (options_.dp.enabled() && options_.exchange == ExchangeMode::kFeatures) {
      throw Error(
          "--dp-noise/--dp-epsilon need --exchange experts: with --exchange features every text's features and "
          "logits reach the other ranks as they are, which no noise on the gradients protects "
          "(docs/threat-model.md)");
    }
  });
  encoder_->eval();
  encoder_optimizer_ = prepare_encoder_training(encoder_, options_);
  if (encoder_trains() && !dp() && !comm_.hides_contributions()) {
    const auto words = encoder_->word_embeddings();
    for (const auto& p : encoder_->trainable_parameters()) {
      if (p.is_same(words)) row_sparse_.push_back(words);
    }
  }
  const auto rank = static_cast<std::size_t>(comm_.rank());

  // The shared encoder and vocabulary must be identical on every rank.
  const auto encoder_fps = comm_.allgather_strings(hex64(encoder_fingerprint()));
  const auto vocab_fps = comm_.allgather_strings(hex64(tokenizer_->vocabulary().fingerprint()));
  std::string mismatch;
  if (auto bad = ranks_differing(encoder_fps); !bad.empty()) {
    mismatch += "encoder fingerprint differs from rank 0 (" + encoder_fps[0] + ") on " + bad + ". ";
  }
  if (auto bad = ranks_differing(vocab_fps); !bad.empty()) {
    mismatch += "vocabulary fingerprint differs from rank 0 (" + vocab_fps[0] + ") on " + bad + ". ";
  }
  if (!mismatch.empty()) {
    throw AgreedError(mismatch + "Every rank must use the same encoder options and the same vocab.txt.");
  }

  run_on_every_rank(comm_, [&] {
    shard_ = std::make_unique<DomainShard>(own, *tokenizer_, options_.max_length, sampler_seed(options_, rank),
                                           LengthBucketing{options_.batch_size, options_.length_buckets});
    fill_feature_cache(options_, *shard_, encoder_);
  });
  domain_names_ = comm_.allgather_strings(own.name);
  for (const auto& joined : comm_.allgather_strings(join_lines(own.labels.names))) {
    domain_labels_.push_back(split_lines(joined));
  }
  auto classes = torch::tensor({shard_->classes}, torch::kInt64);
  const auto all_classes = comm_.allgather_rows(classes);
  class_counts_.assign(all_classes.data_ptr<std::int64_t>(),
                       all_classes.data_ptr<std::int64_t>() + all_classes.numel());
  c_max_ = *std::max_element(class_counts_.begin(), class_counts_.end());

  const std::int64_t hidden = options_.encoder.hidden;
  expert_ = make_expert(options_, hidden, shard_->classes, rank);
  expert_optimizer_ = make_optimizer(*expert_, options_.expert_lr);
  gate_ = make_gate(options_, hidden, comm_.size());
  gate_optimizer_ = make_optimizer(*gate_, options_.gate_lr);

  exchange_ = options_.exchange;
  if (exchange_ == ExchangeMode::kAuto && dp()) {
    exchange_ = ExchangeMode::kExperts;
    exchange_reason_ = "experts: DP-SGD protects gradients, and only the experts exchange sends nothing else";
  } else if (exchange_ == ExchangeMode::kAuto && options_.expert_lora.enabled()) {
    exchange_ = ExchangeMode::kExperts;
    exchange_reason_ = "experts: --expert-lora runs every expert's adapted layers on the rows' own rank";
  } else if (exchange_ == ExchangeMode::kAuto) {
    ExchangeSizes z;
    z.batch = static_cast<std::int64_t>(options_.batch_size);
    z.hidden = hidden;
    z.adapter = options_.adapter;
    z.class_counts = class_counts_;
    z.gate_steps = options_.gate_steps;
    const auto val = comm_.allgather_rows(
        torch::tensor({static_cast<std::int64_t>(shard_->split(Split::kVal).labels.size())}, torch::kInt64));
    z.val_rows = val.sum().item<std::int64_t>();
    for (const auto& p : encoder_->trainable_parameters()) z.encoder_params += p.numel();  // none while frozen
    z.joint = options_.joint;
    exchange_ = choose_exchange(z, &exchange_reason_);
  }
  if (dp()) {
    // q: the largest over ranks (the smallest shard's texts are sampled most often).
    const auto train_rows = static_cast<double>(shard_->split(Split::kTrain).labels.size());
    auto q = torch::tensor({std::min(1.0, static_cast<double>(options_.batch_size) / train_rows)}, torch::kFloat64);
    comm_.allreduce_max(q);
    dp_sampling_rate_ = q.item<double>();
    dp_noise_multiplier_ = options_.dp.noise_multiplier;
    if (options_.dp.target_epsilon > 0) {
      run_on_every_rank(comm_, [&] {
        const std::int64_t steps =
            static_cast<std::int64_t>(options_.rounds) * (options_.local_steps + options_.gate_steps);
        dp_noise_multiplier_ =
            privacy::noise_multiplier_for(options_.dp.target_epsilon, options_.dp.delta, dp_sampling_rate_, steps);
      });
    }
    dp_generator_ = privacy::secret_generator();
  }
  if (experts_exchanged()) {
    for (std::int64_t q = 0; q < comm_.size(); ++q) {
      const bool own = q == comm_.rank();
      replicas_.push_back(
          own ? expert_
              : make_expert(options_, hidden, class_counts_[static_cast<std::size_t>(q)], static_cast<std::size_t>(q)));
      replica_optimizers_.push_back(!own && options_.joint ? make_optimizer(*replicas_.back(), options_.expert_lr)
                                                           : nullptr);
    }
  }
}

void FederatedTrainer::sync_experts() {
  auto stale = torch::tensor({static_cast<std::int64_t>(experts_stale_ ? 1 : 0)}, torch::kInt64);
  comm_.allreduce_max(stale);
  if (stale.item<std::int64_t>() == 0) return;
  // One all-gather-v of every expert: its parameters, and with --joint its Adam state, which
  // every replica then steps alike.
  auto state = export_module(*expert_, *expert_optimizer_);
  if (!options_.joint) {
    for (auto it = state.begin(); it != state.end();)
      it = it->first.rfind("parameters/", 0) == 0 ? std::next(it) : state.erase(it);
  }
  const auto all = comm_.allgather_strings(pack_tensors(state));
  for (std::size_t q = 0; q < all.size(); ++q) {
    if (static_cast<int>(q) == comm_.rank()) continue;
    const auto tensors = unpack_tensors(all[q]);
    const auto what = "expert " + std::to_string(q) + " (" + domain_names_[q] + ") from rank " + std::to_string(q);
    if (options_.joint) {
      import_module(*replicas_[q], *replica_optimizers_[q], tensors, what);
    } else {
      load_parameters(*replicas_[q], tensors, what);
    }
  }
  experts_stale_ = false;
}

std::uint64_t FederatedTrainer::gate_fingerprint() const { return parameter_fingerprint(*gate_); }

std::uint64_t FederatedTrainer::encoder_fingerprint() const { return parameter_fingerprint(*encoder_); }

double FederatedTrainer::local_phase() {
  double sum = 0;
  const auto encoder_params = encoder_->trainable_parameters();
  std::vector<double> none;
  for (int step = 0; step < options_.local_steps; ++step) {
    expert_optimizer_->zero_grad();
    if (encoder_trains()) encoder_optimizer_->zero_grad();
    if (dp()) {  // the expert's parameters leave the rank each round, the encoder's gradients each step
      const auto losses = local_step_losses(expert_, *shard_, encoder_, options_);
      auto released = expert_->parameters();
      released.insert(released.end(), encoder_params.begin(), encoder_params.end());
      private_gradients(losses, released, 1.0 / static_cast<double>(losses.size(0)), 1.0);
      sum += losses.mean().item<double>();
    } else {
      sum += local_step_backward(expert_, *shard_, encoder_, options_);
    }
    experts_stale_ = true;
    expert_optimizer_->step();
    if (encoder_trains()) {
      allreduce_gradients(comm_, encoder_params, none, row_sparse_);
      scale_gradients(encoder_params, 1.0 / static_cast<double>(comm_.size()));
      encoder_optimizer_->step();
    }
  }
  return options_.local_steps > 0 ? sum / options_.local_steps : 0.0;
}

void FederatedTrainer::score_rows(Forward& f, torch::Tensor input, bool train) {
  if (train && encoder_trains()) input.requires_grad_(true);
  f.expert_input = input;
  torch::AutoGradMode grad_mode(train && (options_.joint || encoder_trains()));
  f.own_logits = pad_logits(expert_->forward(input), c_max_);
}

RouteInputs FederatedTrainer::route_inputs(std::int64_t rows, bool train) {
  RouteInputs in;
  in.training = train;
  if (!train) return in;
  in.noise = gate_noise(options_, round_, gate_step_, static_cast<std::size_t>(comm_.rank()), rows, comm_.size());
  in.gather = [this](const torch::Tensor& own) { return gather_step_logits(comm_, own); };
  return in;
}

FederatedTrainer::Forward FederatedTrainer::forward_sparse(const torch::Tensor& features, bool train) {
  Forward f;
  f.sparse = true;
  f.features = train && encoder_trains() ? features.detach().requires_grad_(true) : features;
  const auto route = route_inputs(features.size(0), train);
  f.gate_logits = gate_->forward(f.features, route.noise);
  f.routing = router_.route(f.gate_logits, train, route.gather);
  const auto& routed = f.routing.routed;
  std::vector<torch::Tensor> send;
  for (std::int64_t q = 0; q < comm_.size(); ++q) {
    f.routed.push_back(routed.select(1, q).nonzero().reshape(-1));
    send.push_back(features.detach().index_select(0, f.routed.back()));
  }
  // Expert r scores the rows every rank routed to it, in source-rank order ...
  const auto arrived = comm_.alltoall_rows(send);
  for (const auto& part : arrived) f.input_counts.push_back(part.size(0));
  score_rows(f, torch::cat(arrived), train);
  // ... and each source gets its rows' logits back, placed at their experts' columns.
  const auto back = gather_expert_logits(comm_, f.own_logits, f.input_counts);
  // Every rank's batch size (the loss weights each rank's rows by its share).
  const auto rows = comm_.allgather_rows(torch::tensor({features.size(0)}, torch::kInt64));
  f.counts.assign(rows.data_ptr<std::int64_t>(), rows.data_ptr<std::int64_t>() + rows.numel());
  f.stacked = torch::zeros({features.size(0), comm_.size(), c_max_}, f.own_logits.options().requires_grad(false));
  for (std::int64_t q = 0; q < comm_.size(); ++q) {
    f.stacked.select(1, q).index_copy_(0, f.routed[static_cast<std::size_t>(q)], back[static_cast<std::size_t>(q)]);
  }
  if (train && (options_.joint || encoder_trains())) f.stacked.requires_grad_(true);
  f.mixed = mix_expert_logits(f.stacked, f.routing.weights);
  return f;
}

FederatedTrainer::Forward FederatedTrainer::forward_local(const EncoderViews& views, bool train) {
  // The single process's mixture (train/mixture.h) over this rank's replicas of every expert.
  const auto out = mixture_forward(replicas_, gate_, views, train && (options_.joint || encoder_trains()), router_,
                                   route_inputs(views.shared.size(0), train));
  Forward f;
  f.features = views.shared;  // with a trained encoder, its graph: the loss backpropagates into it here
  f.gate_logits = out.gate_logits;
  f.stacked = out.expert_logits;
  f.mixed = out.mixed;
  f.routing = out.routing;
  if (train) {  // every rank's batch size (the loss weights each rank's rows by its share)
    const auto rows = comm_.allgather_rows(torch::tensor({views.shared.size(0)}, torch::kInt64));
    f.counts.assign(rows.data_ptr<std::int64_t>(), rows.data_ptr<std::int64_t>() + rows.numel());
  }
  return f;
}

EncoderViews FederatedTrainer::views_of(Split split, const std::vector<std::size_t>& rows) {
  if (!options_.expert_lora.enabled()) return {shard_->features(encoder_, split, rows).features, {}};
  return encode_views(encoder_, replicas_, gather_batch(shard_->split(split), rows, shard_->pad_id), false);
}

FederatedTrainer::Forward FederatedTrainer::forward(const torch::Tensor& features, bool train) {
  if (experts_exchanged()) return forward_local({features, {}}, train);
  if (router_.sparse(comm_.size())) return forward_sparse(features, train);
  Forward f;
  f.features = train && encoder_trains() ? features.detach().requires_grad_(true) : features;
  score_rows(f, exchange_features(comm_, features, f.counts), train);
  f.input_counts = f.counts;
  auto received = gather_expert_logits(comm_, f.own_logits, f.counts);
  f.stacked = torch::stack(received, 1);
  if (train && (options_.joint || encoder_trains())) f.stacked.requires_grad_(true);
  const auto route = route_inputs(features.size(0), train);
  f.gate_logits = gate_->forward(f.features, route.noise);
  f.routing = router_.route(f.gate_logits, train, route.gather);
  f.mixed = mix_expert_logits(f.stacked, f.routing.weights);
  return f;
}

CollaborativeStep FederatedTrainer::collaborative_step() {
  const double comm_before = comm_.stats().seconds();
  if (experts_exchanged()) sync_experts();
  FeatureBatch batch;
  Forward f;
  if (experts_exchanged() && options_.expert_lora.enabled()) {  // every expert's own view of this rank's texts
    const auto tokens = shard_->next_train_batch(options_.batch_size);
    f = forward_local(encode_views(encoder_, replicas_, tokens, options_.joint), true);
    batch = {f.features, tokens.labels};
  } else {
    batch = shard_->next_train_features(encoder_, options_.batch_size, encoder_trains());
    f = forward(batch.features, true);
  }
  ++gate_step_;
  std::int64_t total_rows = 0;
  for (auto n : f.counts) total_rows += n;
  const double share = static_cast<double>(batch.labels.size(0)) / static_cast<double>(total_rows);
  const auto classes = torch::full_like(batch.labels, shard_->classes);
  // Per-domain balance: this rank's own batch is its domain's; the term is the mean over ranks.
  const bool per_domain = options_.loss.balance_per_domain;
  const MeanGate mean_gate = [&](const torch::Tensor& probs) {
    return per_domain ? batch_mean_gate(probs) : global_mean_gate(comm_, probs, total_rows);
  };
  const auto terms = gate_loss(f.mixed, batch.labels, classes, f.gate_logits, options_.loss, mean_gate,
                               torch::full_like(batch.labels, static_cast<std::int64_t>(comm_.rank())));
  const double balance_share = per_domain ? 1.0 / static_cast<double>(comm_.size()) : 1.0;
  // This rank's part of the global objective: its rows' share of the task, entropy
  // and z-loss means, plus the balance term (global: whose gradient reaches only this
  // rank's gate weights, see global_mean_gate; per domain: its 1/W share of the
  // mean). Summed over ranks it is eq. 3.
  const auto& loss = options_.loss;
  const auto local_objective =
      share * (terms.task + loss.entropy * terms.entropy + loss.z_loss * terms.z + loss.domain * terms.domain) +
      loss.balance_weight() * balance_share * terms.balance;
  gate_optimizer_->zero_grad();
  expert_optimizer_->zero_grad();
  for (auto& o : replica_optimizers_) {
    if (o) o->zero_grad();
  }
  if (encoder_trains()) encoder_optimizer_->zero_grad();
  ++gate_steps_taken_;
  // The gate's gradients and, while it trains, the encoder's: one fused all-reduce.
  auto reduced = gate_->parameters();
  for (const auto& p : encoder_->trainable_parameters()) reduced.push_back(p);
  // --exchange experts with --joint: every replica's gradients, summed so that every replica steps alike.
  if (experts_exchanged() && options_.joint) {
    for (auto& e : replicas_) {
      for (const auto& p : e->parameters()) reduced.push_back(p);
    }
  }
  if (dp()) {
    // Each text's own part of the objective (the balance term is off under DP), clipped text by
    // text; the noise is split over the ranks where secure aggregation hides each rank's sum.
    const auto rows = per_example_gate_loss(f.mixed, batch.labels, classes, f.gate_logits, loss,
                                            torch::full_like(batch.labels, static_cast<std::int64_t>(comm_.rank())));
    const double shares = options_.dp.distributed && comm_.size() > 1 ? comm_.size() - 1.0 : 1.0;
    private_gradients(rows, reduced, 1.0 / static_cast<double>(total_rows), shares);
  } else {
    local_objective.backward();
  }
  // Back across ranks: each expert's logit gradients to its owner (--joint: its
  // own step; a trained encoder: through the expert to its input rows), then those
  // rows' gradients to their owners, whose encoder backpropagates them with the gate's.
  // (With --exchange experts every expert and the encoder ran here: the backward above reached them.)
  if (!experts_exchanged() && (options_.joint || encoder_trains())) {
    std::vector<torch::Tensor> grads;
    for (std::int64_t q = 0; q < f.stacked.size(1); ++q) {
      auto g = f.stacked.grad().select(1, q);
      grads.push_back(!f.sparse ? g.contiguous() : g.index_select(0, f.routed[static_cast<std::size_t>(q)]));
    }
    f.own_logits.backward(return_logit_grads(comm_, grads));
  }
  if (!experts_exchanged() && encoder_trains()) {
    const auto& input_grad = f.expert_input.grad();
    const auto through_experts =
        return_feature_grads(comm_, input_grad.defined() ? input_grad : torch::zeros_like(f.expert_input),
                             f.input_counts, f.routed, f.features.size(0));
    batch.features.backward(f.features.grad() + through_experts);
  }

  // The loss terms' sums over ranks (under DP none: a rank's losses are not privatised, so each
  // rank keeps its own and rank 0's are reported).
  std::vector<double> extras = {share * terms.task.item<double>(), share * terms.entropy.item<double>(),
                                share * terms.z.item<double>(), share * terms.domain.item<double>()};
  if (per_domain) extras.push_back(balance_share * terms.balance.item<double>());
  if (dp()) std::fill(extras.begin(), extras.end(), 0.0);
  // A NaN/Inf here must not reach the replicas: this rank zeroes its part
  // and raises its flag in the same fused all-reduce (one slot per rank).
  const bool finite = std::isfinite(local_objective.item<double>()) && gradients_finite(reduced);
  if (!finite) {
    zero_gradients(reduced);
    std::fill(extras.begin(), extras.end(), 0.0);
  }
  const auto flags = extras.size();
  extras.resize(flags + static_cast<std::size_t>(comm_.size()), 0.0);
  extras[flags + static_cast<std::size_t>(comm_.rank())] = finite ? 0.0 : 1.0;
  allreduce_gradients(comm_, reduced, extras, row_sparse_);
  const auto gate_params = gate_->parameters();
  std::string bad_ranks;
  for (int r = 0; r < comm_.size(); ++r) {
    if (extras[flags + static_cast<std::size_t>(r)] > 0)
      bad_ranks += (bad_ranks.empty() ? "" : ", ") + std::to_string(r);
  }
  // Every rank sent finite values, yet the sum is not (the transport, or a rank's buffer
  // changed after its check): every rank holds the same sum, so all see it alike.
  bool sum_finite = gradients_finite(reduced);
  for (std::size_t i = 0; i < flags; ++i) sum_finite = sum_finite && std::isfinite(extras[i]);
  if (!bad_ranks.empty() || !sum_finite) {
    const std::string step_name =
        " at gate step " + std::to_string(gate_steps_taken_) + " (round " + std::to_string(round_) + ")";
    const std::string what = !bad_ranks.empty() ? "non-finite loss or gate gradient on rank " + bad_ranks + step_name
                                                : "non-finite sum of the all-reduced gate gradients" + step_name +
                                                      " although every rank sent finite values";
    if (options_.stop_on_nonfinite) {
      throw AgreedError(what + "; stopped before it reached the gate replicas (--on-nonfinite skip skips such steps)");
    }
    if (comm_.rank() == 0 && options_.warning) options_.warning(what + ": step skipped on every rank");
    zero_gradients(reduced);
    CollaborativeStep skipped;
    skipped.mixed = f.mixed.detach();
    skipped.assigned = f.routing.assigned;
    skipped.dropped = f.routing.dropped;
    skipped.gate_grad = flatten_gradients(gate_params);
    gate_comm_seconds_ += comm_.stats().seconds() - comm_before;
    return skipped;
  }
  CollaborativeStep step;
  step.mixed = f.mixed.detach();
  step.losses.task = extras[0];
  step.losses.entropy = extras[1];
  step.losses.z = extras[2];
  step.losses.domain = extras[3];
  step.losses.balance = per_domain ? extras[4] : terms.balance.item<double>();
  step.losses.total = extras[0] + loss.entropy * extras[1] + loss.balance_weight() * step.losses.balance +
                      loss.z_loss * extras[2] + loss.domain * extras[3];
  if (dp()) {
    step.losses = {terms.task.item<double>(), terms.entropy.item<double>(), terms.balance.item<double>(),
                   terms.z.item<double>(),    terms.domain.item<double>(),  terms.total.item<double>()};
  }
  step.assigned = f.routing.assigned;  // over every rank's rows: the same on each
  step.dropped = f.routing.dropped;
  step.gate_grad = flatten_gradients(gate_params);
  gate_optimizer_->step();
  if (encoder_trains()) encoder_optimizer_->step();
  if (options_.joint) {
    expert_optimizer_->step();
    for (auto& o : replica_optimizers_) {
      if (o) o->step();
    }
  }
  gate_comm_seconds_ += comm_.stats().seconds() - comm_before;
  return step;
}

std::vector<DomainReport> FederatedTrainer::evaluate(Split split) {
  torch::NoGradGuard no_grad;
  const auto& data = shard_->split(split);
  const auto chunks = DomainShard::chunks(data.labels.size(), options_.eval_batch);
  // Every rank takes part in as many exchanges as the rank with most chunks.
  auto rounds = torch::tensor({static_cast<std::int64_t>(chunks.size())}, torch::kInt64);
  if (experts_exchanged()) {
    sync_experts();  // then every rank evaluates its own rows alone
  } else {
    comm_.allreduce_max(rounds);
  }
  std::vector<std::int64_t> moe_pred, expert_pred;
  std::vector<double> util_sum(static_cast<std::size_t>(comm_.size()), 0.0), top1(util_sum.size(), 0.0);
  std::vector<RoutingSample> routing;
  const auto own = static_cast<std::int64_t>(comm_.rank());
  for (std::int64_t i = 0; i < rounds.item<std::int64_t>(); ++i) {
    EncoderViews views;
    if (i < static_cast<std::int64_t>(chunks.size())) {
      views = views_of(split, chunks[static_cast<std::size_t>(i)]);
    } else {
      views.shared = torch::zeros({0, options_.encoder.hidden});
    }
    const auto& features = views.shared;
    const auto f = experts_exchanged() ? forward_local(views, false) : forward(features, false);
    if (features.size(0) == 0) continue;
    const auto moe = predictions(f.mixed, shard_->classes);
    record_routing(routing, f.gate_logits, moe, data.labels, chunks[static_cast<std::size_t>(i)].front(),
                   options_.log_routing);
    // Its own expert alone on its own rows (with top-k the mixture may not have asked it).
    const auto alone = !f.sparse ? predictions(f.stacked.select(1, own), shard_->classes)
                                 : predictions(pad_logits(expert_->forward(features), c_max_), shard_->classes);
    moe_pred.insert(moe_pred.end(), moe.begin(), moe.end());
    expert_pred.insert(expert_pred.end(), alone.begin(), alone.end());
    add_into(util_sum, gate_weight_sum(f.gate_logits));
    add_into(top1, gate_top1_counts(f.gate_logits));
  }
  auto mine = make_domain_report(shard_->name, moe_pred, expert_pred, data.labels, shard_->classes, util_sum, top1);
  mine.routing = std::move(routing);
  auto reports = gather_reports(comm_, mine, domain_names_, options_.log_routing > 0);
  if (comm_.rank() != 0) return {mine};
  return reports;
}

std::string FederatedTrainer::replica_fingerprints() const {
  std::string out;
  for (const auto& e : replicas_) out += hex64(parameter_fingerprint(*e)) + " ";
  return out;
}

void FederatedTrainer::check_replicas() {
  const auto fps = comm_.allgather_strings(hex64(gate_fingerprint()));
  if (auto bad = ranks_differing(fps); !bad.empty()) {
    throw AgreedError("gate replicas diverged after round " + std::to_string(round_) + ": rank 0 has " + fps[0] + ", " +
                      bad);
  }
  if (experts_exchanged()) {
    // One 64-bit hash of this rank's E fingerprints (gathering all of them would be W^3 bytes).
    const auto all = comm_.allgather_strings(hex64(fnv1a(replica_fingerprints())));
    if (auto bad = ranks_differing(all); !bad.empty()) {
      throw AgreedError("expert replicas diverged after round " + std::to_string(round_) + ": rank 0 has " + all[0] +
                        ", " + bad);
    }
  }
  if (!encoder_trains()) return;  // a frozen encoder was checked at start-up
  const auto encoders = comm_.allgather_strings(hex64(encoder_fingerprint()));
  if (auto bad = ranks_differing(encoders); !bad.empty()) {
    throw AgreedError("encoder replicas diverged after round " + std::to_string(round_) + ": rank 0 has " +
                      encoders[0] + ", " + bad);
  }
}

ModelConfig FederatedTrainer::model_config() const {
  return moecollab::model_config(options_, encoder_->config(), tokenizer_->lower_case(), domain_names_, class_counts_);
}

TrainerState FederatedTrainer::export_state() {
  TrainerState state;
  state.round = round_;
  state.gate = export_module(*gate_, *gate_optimizer_);
  state.encoder = export_encoder(encoder_, encoder_optimizer_.get());  // identical on every rank
  const auto experts = comm_.allgather_strings(pack_tensors(export_module(*expert_, *expert_optimizer_)));
  const auto samplers = gather_sampler_positions(comm_, {shard_->sampler.epoch(), shard_->sampler.cursor()});
  for (std::size_t r = 0; r < experts.size(); ++r) {
    ExpertState e;
    e.domain = domain_names_[r];
    e.labels = domain_labels_[r];
    e.tensors = unpack_tensors(experts[r]);
    e.sampler_epoch = samplers[r].epoch;
    e.sampler_cursor = samplers[r].cursor;
    state.experts.push_back(std::move(e));
  }
  return state;
}

void FederatedTrainer::import_state(const TrainerState& state) {
  const auto rank = static_cast<std::size_t>(comm_.rank());
  if (state.experts.size() != static_cast<std::size_t>(comm_.size())) throw Error("import_state: expert count differs");
  round_ = static_cast<int>(state.round);
  import_module(*gate_, *gate_optimizer_, state.gate, "gate");
  import_encoder(encoder_, encoder_optimizer_.get(), state.encoder);
  const auto& own = state.experts[rank];
  import_module(*expert_, *expert_optimizer_, own.tensors, "expert " + std::to_string(rank) + " (" + own.domain + ")");
  experts_stale_ = true;
  shard_->sampler.seek(own.sampler_epoch, own.sampler_cursor);
}

RoundReport FederatedTrainer::run_round() {
  const auto start = std::chrono::steady_clock::now();
  const double comm_before = comm_.stats().seconds();
  const auto ops_before = comm_.stats().ops;
  gate_comm_seconds_ = 0;
  gate_step_ = 0;
  RoundReport report = run_round_phases(*this, options_, ++round_);
  report.gate_comm_seconds = gate_comm_seconds_;
  check_replicas();
  // For rank 0's line: the mean local loss over experts, and the bytes every rank
  // sent in this round by collective (integers: summed exactly, and as they are
  // under --secure-aggregation, which masks and clips floating-point sums only).
  static const char* const kOps[] = {"allgather", "alltoall", "allreduce", "allreduce_max", "broadcast"};
  constexpr int kCount = sizeof kOps / sizeof kOps[0];
  // (Under DP only rank 0's own: a rank's losses are not privatised.)
  auto loss = torch::full({1},
                          !dp()               ? report.local_loss / comm_.size()
                          : comm_.rank() == 0 ? report.local_loss
                                              : 0.0,
                          torch::kFloat64);
  auto bytes = torch::zeros({kCount}, torch::kInt64);
  for (int i = 0; i < kCount; ++i) {
    const auto now = comm_.stats().ops.find(kOps[i]);
    const auto before = ops_before.find(kOps[i]);
    const std::uint64_t sent = (now == comm_.stats().ops.end() ? 0 : now->second.bytes_sent) -
                               (before == ops_before.end() ? 0 : before->second.bytes_sent);
    bytes[i] = static_cast<std::int64_t>(sent);
  }
  comm_.allreduce_sum(loss);
  comm_.allreduce_sum(bytes);
  report.local_loss = loss.item<double>();
  for (int i = 0; i < kCount; ++i) {
    report.bytes_by_op[kOps[i]] = static_cast<std::uint64_t>(bytes[i].item<std::int64_t>());
    report.bytes_sent += report.bytes_by_op[kOps[i]];
  }
  report.backend = comm_.backend();
  report.comm_seconds = comm_.stats().seconds() - comm_before;
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (dp()) {
    report.dp_epsilon = dp_epsilon(round_);
    report.dp_delta = options_.dp.delta;
    report.dp_clipped = dp_texts_ > 0 ? static_cast<double>(dp_clipped_) / static_cast<double>(dp_texts_) : 0.0;
    dp_texts_ = dp_clipped_ = 0;
  }
  return report;
}

double FederatedTrainer::dp_epsilon(int rounds) const {
  if (!dp()) return std::numeric_limits<double>::quiet_NaN();
  const std::int64_t steps = static_cast<std::int64_t>(rounds) * (options_.local_steps + options_.gate_steps);
  if (steps == 0) return 0.0;
  if (dp_noise_multiplier_ <= 0) return std::numeric_limits<double>::infinity();
  privacy::RdpAccountant accountant;
  accountant.add_steps(dp_sampling_rate_, dp_noise_multiplier_, steps);
  return accountant.epsilon(options_.dp.delta).epsilon;
}

void FederatedTrainer::private_gradients(const torch::Tensor& losses, const std::vector<torch::Tensor>& parameters,
                                         double scale, double noise_shares) {
  const double clip = options_.dp.clip;
  const auto stats = privacy::clipped_noisy_gradients(
      losses, parameters, clip, dp_noise_multiplier_ * clip / std::sqrt(noise_shares), scale, dp_generator_);
  dp_texts_ += stats.examples;
  dp_clipped_ += stats.clipped;
}

}  // namespace moecollab
