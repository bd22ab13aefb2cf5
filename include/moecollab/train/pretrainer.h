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
// (θ − lr Σ w_r g_r); tests check it.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <random>
#include <string>

#include "moecollab/comm/communicator.h"
#include "moecollab/data/dataset.h"
#include "moecollab/data/tokenizer.h"
#include "moecollab/model/encoder.h"
#include "moecollab/model/mlm_head.h"
#include "moecollab/train/domain_shard.h"

namespace moecollab {

struct PretrainOptions {
  EncoderConfig encoder;       // vocab_size from the tokenizer; pooling of the result
  std::size_t max_length = 64;
  int rounds = 4;              // reporting rounds
  int steps = 50;              // optimizer steps per round
  std::size_t batch_size = 32; // texts per rank per step
  std::string optimizer = "adam";  // "adam" or "sgd"
  double lr = 1e-3;
  int fedavg_every = 0;        // 0: FedSGD; K: FedAvg every K local steps
  double mask_rate = 0.15;
  std::uint64_t seed = 42;     // masking and batch order
};

struct PretrainReport {
  int round = 0;
  double loss = 0;      // mean masked-LM cross-entropy over the round's steps, all ranks
  double accuracy = 0;  // share of masked tokens predicted exactly, all ranks
  double seconds = 0;
  std::uint64_t bytes_sent = 0;  // this rank's
};

class FederatedPretrainer {
 public:
  // Collective. `own` is domain comm.rank(); its training split is the corpus.
  FederatedPretrainer(PretrainOptions options, const Domain& own, std::shared_ptr<const Tokenizer> tokenizer,
                      Communicator& comm);

  PretrainReport run_round();
  Encoder& encoder() { return encoder_; }
  MlmHead& head() { return head_; }
  // Encoder and head parameters, flattened (for tests comparing replicas).
  torch::Tensor flat_parameters() const;

 private:
  std::vector<torch::Tensor> parameters() const;

  PretrainOptions options_;
  std::shared_ptr<const Tokenizer> tokenizer_;
  Communicator& comm_;
  Encoder encoder_{nullptr};
  MlmHead head_{nullptr};
  std::unique_ptr<DomainShard> shard_;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  double share_ = 1.0;  // n_r / n
  std::mt19937_64 rng_;
  int round_ = 0;
  int step_ = 0;
};

}  // namespace moecollab
