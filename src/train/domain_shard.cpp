#include "moecollab/train/domain_shard.h"

#include <algorithm>
#include <chrono>
#include <numeric>

#include "moecollab/util/error.h"

namespace moecollab {

DomainShard::DomainShard(const Domain& domain, const Tokenizer& tokenizer, std::size_t max_length,
                         std::uint64_t sampler_seed, LengthBucketing bucketing)
    : name(domain.name),
      labels(domain.labels.names),
      classes(static_cast<std::int64_t>(domain.labels.size())),
      pad_id(tokenizer.vocabulary().pad_id()),
      train(tokenize_split(tokenizer, domain.train, max_length)),
      val(tokenize_split(tokenizer, domain.val, max_length)),
      test(tokenize_split(tokenizer, domain.test, max_length)),
      // An empty split still gets a (1-row) sampler, so the error below can name the domain.
      sampler(std::max<std::size_t>(1, domain.train.size()), sampler_seed, token_lengths(train),
              train.encodings.empty() ? LengthBucketing{} : bucketing) {
  if (domain.train.empty() || domain.val.empty()) {
    throw Error("domain '" + domain.name + "' has an empty train or val split");
  }
}

const TokenizedSplit& DomainShard::split(Split which) const {
  return which == Split::kTrain ? train : which == Split::kVal ? val : test;
}

TokenBatch DomainShard::next_train_batch(std::size_t batch_size) {
  return gather_batch(train, sampler.next(batch_size), pad_id);
}

std::vector<std::vector<std::size_t>> DomainShard::chunks(std::size_t size, std::size_t batch) {
  std::vector<std::vector<std::size_t>> out;
  for (std::size_t start = 0; start < size; start += batch) {
    out.emplace_back();
    for (std::size_t r = start; r < std::min(size, start + batch); ++r) out.back().push_back(r);
  }
  return out;
}

void DomainShard::cache_features(Encoder& encoder, std::size_t chunk, const CacheProgressFn& progress) {
  const auto start = std::chrono::steady_clock::now();
  const auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  const std::size_t total = train.encodings.size() + val.encodings.size() + test.encodings.size();
  std::size_t done = 0;
  double reported = 0;  // seconds at the last report (0: none yet)
  for (const auto which : {Split::kTrain, Split::kVal, Split::kTest}) {
    const auto& data = split(which);
    // Encoded in order of length, so that each chunk pads to little more than its
    // own texts (padding is masked out, so the features are the same), then put
    // back in row order.
    std::vector<std::size_t> order(data.encodings.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return data.encodings[a].ids.size() < data.encodings[b].ids.size();
    });
    auto features = torch::zeros({static_cast<std::int64_t>(order.size()), encoder->config().hidden});
    for (const auto& positions : chunks(order.size(), chunk)) {
      std::vector<std::size_t> rows;
      std::vector<std::int64_t> index;
      for (auto p : positions) {
        rows.push_back(order[p]);
        index.push_back(static_cast<std::int64_t>(order[p]));
      }
      features.index_copy_(0, torch::tensor(index, torch::kInt64),
                           encode_features(encoder, gather_batch(data, rows, pad_id)));
      done += rows.size();
      if (progress && elapsed() - reported >= kCacheProgressEvery) {
        reported = elapsed();
        progress({name, done, total, reported});
      }
    }
    cache[static_cast<int>(which)] = features;
  }
  cache_seconds = elapsed();
  if (progress && reported > 0) progress({name, done, total, cache_seconds});
}

FeatureBatch DomainShard::features(Encoder& encoder, Split which, const std::vector<std::size_t>& rows,
                                   bool with_grad) const {
  const auto& data = split(which);
  if (!cached()) {
    auto batch = gather_batch(data, rows, pad_id);
    return {encode_features(encoder, batch, with_grad), batch.labels};
  }
  if (with_grad) throw Error("domain '" + name + "': cached features have no encoder graph to train through");
  std::vector<std::int64_t> index(rows.begin(), rows.end()), labels;
  for (auto r : rows) labels.push_back(data.labels.at(r));
  return {cache[static_cast<int>(which)].index_select(0, torch::tensor(index, torch::kInt64)),
          torch::tensor(labels, torch::kInt64)};
}

FeatureBatch DomainShard::next_train_features(Encoder& encoder, std::size_t batch_size, bool with_grad) {
  return features(encoder, Split::kTrain, sampler.next(batch_size), with_grad);
}

torch::Tensor encode_features(Encoder& encoder, const TokenBatch& batch, bool with_grad) {
  torch::AutoGradMode grad_mode(with_grad);
  return encoder->forward(batch.ids, batch.mask);
}

}  // namespace moecollab
