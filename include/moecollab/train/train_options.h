// The settings of a training run that every trainer (single-process or
// federated) shares, with the defaults the command line shows.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "moecollab/model/encoder.h"
#include "moecollab/model/gate_loss.h"
#include "moecollab/model/model_config.h"
#include "moecollab/model/router.h"
#include "moecollab/privacy/dp_sgd.h"

namespace moecollab {
struct CacheProgress;  // train/domain_shard.h
struct DomainShard;    // train/domain_shard.h
}  // namespace moecollab

namespace moecollab {

// How the ranks of a federated gate phase cooperate (--exchange; bytes by formula in train/exchange.h).
enum class ExchangeMode {
  kFeatures,  // every rank's batch features go to every expert's owner, logits come back (the paper's design)
  kExperts,   // every expert's parameters are all-gathered once per round; each rank mixes all E experts on
              // its own rows, and only gradients (and the E numbers of the global mean gate) cross ranks
  kAuto,      // whichever of the two sends fewer bytes per round, by the formula
};

struct TrainOptions {
  EncoderConfig encoder;             // vocab_size is filled from the tokenizer
  std::string encoder_dir;           // a Hugging Face BERT directory to load; empty: the random default encoder
  EncoderTraining encoder_training;  // frozen unless --encoder-train says otherwise
  double encoder_lr = 1e-4;          // Adam learning rate of the encoder's trained part
  // Per-expert adaptation (--expert-lora): each expert's own LoRA of the encoder's
  // top layers, trained with its adapter and head (one process only, see mixture.h).
  LoraConfig expert_lora;
  std::int64_t adapter = 64;    // k
  std::size_t max_length = 64;  // tokens per text, [CLS] and [SEP] included
  int rounds = 5;
  int local_steps = 50;
  int gate_steps = 50;
  std::size_t batch_size = 32;  // per domain
  // Length-bucketed training batches (BatchSampler): each window of this many
  // batches is sorted by text length. 0: plain shuffle. Pays only where the
  // encoder runs per batch (--encoder-train, --expert-lora, --no-feature-cache).
  std::size_t length_buckets = 0;
  double expert_lr = 1e-2;
  double gate_lr = 1e-2;
  GateLossWeights loss;
  std::uint64_t seed = 42;  // experts' and gate's initialisation, data order
  bool joint = false;       // gate phase also trains the experts through the mixture
  std::size_t eval_batch = 256;
  // While the encoder is frozen: compute each text's features once per run and train
  // and evaluate on them (DomainShard::cache_features); false encodes every batch.
  bool feature_cache = true;
  // Fills a shard's feature cache (with feature_cache on). Empty: encodes it in
  // this run (DomainShard::cache_features). The CLI keeps it on disk between runs
  // (io/feature_store.h, --feature-cache-dir).
  std::function<void(DomainShard&, Encoder&, const std::function<void(const CacheProgress&)>& progress)>
      fill_feature_cache;
  // What crosses ranks in the gate phase and evaluation (FederatedTrainer; one process has no exchange).
  ExchangeMode exchange = ExchangeMode::kFeatures;
  // Called every few seconds while the feature cache fills (the CLI prints it; empty: silent).
  std::function<void(const CacheProgress&)> cache_progress;
  // How the gate routes rows to experts (model/router.h): dense, as in the paper, unless top-k.
  RoutingConfig routing;
  // Sample-level DP-SGD on every gradient that leaves a rank (`train` with --exchange experts).
  privacy::DpConfig dp;
  std::size_t log_routing = 0;  // per-sample routing records for the first N val texts per domain
  // A gate step whose loss or gate gradient is NaN/Inf on any rank: true stops
  // the run (every rank, one message naming the ranks); false skips the step.
  // Either way the bad values never reach the all-reduce or the gate replicas.
  bool stop_on_nonfinite = true;
  // Called on rank 0 with what went wrong where training goes on (a skipped step); the
  // CLI prints it. Empty: nothing is reported (the library itself never prints).
  std::function<void(const std::string&)> warning;
};

}  // namespace moecollab
