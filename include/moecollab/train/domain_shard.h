// One domain's data as a trainer holds it: its splits tokenized once, and the
// seeded sampler that draws its training batches. In the federated runtime
// each rank holds only its own shard; raw text never leaves it.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "moecollab/data/dataset.h"
#include "moecollab/data/sampler.h"
#include "moecollab/data/tokenizer.h"
#include "moecollab/model/encoder.h"
#include "moecollab/train/batch.h"

namespace moecollab {

struct DomainShard {
  // REQUIRES: domain has non-empty train and val splits.
  DomainShard(const Domain& domain, const Tokenizer& tokenizer, std::size_t max_length, std::uint64_t sampler_seed);

  const TokenizedSplit& split(Split which) const;
  // The next training batch, padded.
  TokenBatch next_train_batch(std::size_t batch_size);
  // Consecutive row ranges [start, start + batch) covering a split of `size` rows.
  static std::vector<std::vector<std::size_t>> chunks(std::size_t size, std::size_t batch);

  std::string name;
  std::vector<std::string> labels;  // label names, id order
  std::int64_t classes;
  std::int64_t pad_id;
  TokenizedSplit train, val, test;
  BatchSampler sampler;
};

// Features of a batch under the frozen encoder (no autograd graph).
torch::Tensor encode_features(Encoder& encoder, const TokenBatch& batch);

}  // namespace moecollab
