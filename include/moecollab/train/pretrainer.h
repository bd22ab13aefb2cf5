// Federated pre-training of the shared encoder with BERT's masked-language-
// model objective, one rank per domain; raw text never leaves its rank.
//   FedSGD (fedavg_every = 0): every step, each rank's gradient (of the mean
//     loss over its masked tokens, weighted by its shard's share n_r / n of
//     all training texts) is all-reduced in one fused call and every replica
//     takes the same optimizer step: replicas stay bit-identical.
//   FedAvg (fedavg_every = K): ranks step locally and every K steps the
//     weights are replaced by their shard-weighted average Σ (n_r / n) θ_r
//     (optimizer states stay local).
// With plain SGD and K = 1, FedAvg computes what FedSGD does
// (θ − lr Σ w_r g_r); tests check it. Post-LN BERT trained with Adam needs
// the warm-up: at a constant 3e-3 the MLM loss stalls near the unigram entropy.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <random>
#include <string>

#include "moecollab/comm/communicator.h"
#include "moecollab/data/dataset.h"
#include "moecollab/data/sampler.h"
#include "moecollab/data/tokenizer.h"
#include "moecollab/model/encoder.h"
#include "moecollab/model/mlm_head.h"
#include "moecollab/train/batch.h"
#include "moecollab/train/report.h"

namespace moecollab {

struct PretrainOptions {
  EncoderConfig encoder;  // vocab_size from the tokenizer; pooling of the result
  std::size_t max_length = 64;
  int rounds = 4;                  // reporting rounds
  int steps = 50;                  // optimizer steps per round
  std::size_t batch_size = 32;     // texts per rank per step
  std::size_t length_buckets = 0;  // batches per length-sorted window (BatchSampler); 0: plain shuffle
  std::string optimizer = "adam";  // "adam" or "sgd"
  double lr = 1e-3;                // peak learning rate
  // BERT's schedule: the rate rises linearly over the first `warmup` share of
  // all rounds × steps, then falls linearly to 0 at the last step ("linear");
  // or stays at `lr` ("constant").
  std::string schedule = "linear";
  double warmup = 0.1;
  int fedavg_every = 0;  // 0: FedSGD; K: FedAvg every K local steps
  double mask_rate = 0.15;
  // BERT ties the MLM decoder to the word embeddings (default). On small
  // corpora that collapses the rare tokens' embeddings (every softmax step pushes
  // every absent token's row the same way, and Adam scales those tiny gradients
  // up to full steps: mean cosine of the 2000 rarest rows 0.57 after 600 steps).
  // Untied, a row moves only when its token is in the input (cosine 0.005), but
  // experts on the result were no better on the bundled data (README).
  bool tie_decoder = true;
  std::uint64_t seed = 42;  // masking and batch order
  // The corpus of rank r: domain r's training texts, plus its unlabelled texts
  // (DIR/unlabelled.txt) when true. Validation and test texts are never read.
  bool use_unlabelled = true;
};

// Floating-point operations of the matrix products of one step, by formula
// (docs/performance.md#flops): the encoder's forward over `texts` x `length`
// padded tokens is, per layer, 8·T·d² (query, key, value, output) + 4·T·d·f
// (feed-forward) + 4·b·n²·d (attention scores and context), T = b·n; the
// masked-LM head adds 2·M·d² + 2·M·d·V over the M masked tokens. A backward
// pass costs twice its forward (input and weight gradients of every product).
double encoder_forward_flops(const EncoderConfig& config, std::int64_t texts, std::int64_t length);
double mlm_step_flops(const EncoderConfig& config, std::int64_t texts, std::int64_t length, std::int64_t masked);

class FederatedPretrainer {
 public:
  // Collective. `own` is domain comm.rank(); its training split (and unlabelled
  // texts, with use_unlabelled) is the corpus; shares are by corpus size.
  FederatedPretrainer(PretrainOptions options, const Domain& own, std::shared_ptr<const Tokenizer> tokenizer,
                      Communicator& comm);

  PretrainReport run_round();
  Encoder& encoder() { return encoder_; }
  MlmHead& head() { return head_; }
  // Encoder and head parameters, flattened (for tests comparing replicas).
  torch::Tensor flat_parameters() const;
  // Texts pre-trained on, all ranks together.
  std::uint64_t corpus_texts() const { return corpus_texts_; }

 private:
  std::vector<torch::Tensor> parameters() const;
  double learning_rate(int step) const;  // of the 0-based global step

  PretrainOptions options_;
  std::shared_ptr<const Tokenizer> tokenizer_;
  Communicator& comm_;
  Encoder encoder_{nullptr};
  MlmHead head_{nullptr};
  TokenizedSplit corpus_;  // this rank's texts: training split (+ unlabelled)
  std::unique_ptr<BatchSampler> sampler_;
  std::uint64_t corpus_texts_ = 0;  // all ranks
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  double share_ = 1.0;  // n_r / n
  std::mt19937_64 rng_;
  int round_ = 0;
  int step_ = 0;
};

}  // namespace moecollab
