// One domain's data as a trainer holds it: its splits tokenized once, the
// seeded sampler that draws its training batches and, while the encoder is
// frozen, optionally every text's features computed once (the feature cache):
// then adapters, gate and evaluation never run the encoder again. In the
// federated runtime each rank holds only its own shard; raw text never leaves it.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <string>
#include <vector>

#include "moecollab/data/dataset.h"
#include "moecollab/data/sampler.h"
#include "moecollab/data/tokenizer.h"
#include "moecollab/model/encoder.h"
#include "moecollab/train/batch.h"

namespace moecollab {

// Texts per encoder pass when filling the feature cache (sorted by length, so
// little padding). Measured on the bundled data, 1 thread: 256 -> 6.7 s,
// 64 -> 5.4 s, 32 -> 4.9 s, 16 -> 4.7 s for all 11.6k texts (12.5 s unsorted at 256).
constexpr std::size_t kFeatureCacheChunk = 32;

// Encoder features of some rows of a split, with their labels.
struct FeatureBatch {
  torch::Tensor features;  // b×d
  torch::Tensor labels;    // b int64
};

// How far filling the feature cache has got: reported every few seconds while
// it runs (a BERT-base encoder takes minutes on a CPU), and once at the end if
// it was reported before.
struct CacheProgress {
  std::string domain;
  std::size_t done = 0, total = 0;  // texts, all splits
  double seconds = 0;
};
using CacheProgressFn = std::function<void(const CacheProgress&)>;
// Seconds between progress reports.
constexpr double kCacheProgressEvery = 5.0;

// Where a shard's cached features came from (io/feature_store.h).
struct FeatureCacheSource {
  std::string path;     // the on-disk cache file ("" without one)
  bool loaded = false;  // read from it; else encoded (and written to it where there is a path)
  std::string warning;  // a cache file that could not be used or written, and why ("" if none)
};

struct DomainShard {
  // REQUIRES: domain has non-empty train and val splits.
  // `bucketing`: length-bucketed training batches (BatchSampler); off by default.
  DomainShard(const Domain& domain, const Tokenizer& tokenizer, std::size_t max_length, std::uint64_t sampler_seed,
              LengthBucketing bucketing = {});

  const TokenizedSplit& split(Split which) const;
  // The next training batch, padded.
  TokenBatch next_train_batch(std::size_t batch_size);
  // Consecutive row ranges [start, start + batch) covering a split of `size` rows.
  static std::vector<std::vector<std::size_t>> chunks(std::size_t size, std::size_t batch);

  // Computes every split's features under the frozen `encoder` once, `chunk`
  // texts per forward pass; features() and next_train_features() then read them.
  void cache_features(Encoder& encoder, std::size_t chunk, const CacheProgressFn& progress = {});
  bool cached() const { return cache[0].defined(); }
  // Features of `rows` of a split: from the cache, or else encoded now (same values
  // up to float rounding: padding is masked out). `with_grad` (a trained encoder,
  // no cache): the features keep the encoder's autograd graph.
  FeatureBatch features(Encoder& encoder, Split which, const std::vector<std::size_t>& rows,
                        bool with_grad = false) const;
  // The next training batch's features (draws from `sampler` either way).
  FeatureBatch next_train_features(Encoder& encoder, std::size_t batch_size, bool with_grad = false);

  std::string name;
  std::vector<std::string> labels;  // label names, id order
  std::int64_t classes;
  std::int64_t pad_id;
  TokenizedSplit train, val, test;
  BatchSampler sampler;
  torch::Tensor cache[3];    // train, val, test features (n×d) once cached
  double cache_seconds = 0;  // wall time filling the cache took (encoding, or reading it from disk)
  FeatureCacheSource cache_source;
};

// Features of a batch: without an autograd graph, or with one (`with_grad`, for
// the encoder's trained part to learn from them).
torch::Tensor encode_features(Encoder& encoder, const TokenBatch& batch, bool with_grad = false);

}  // namespace moecollab
