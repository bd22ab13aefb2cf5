#include "moecollab/train/batch.h"

namespace moecollab {

TokenizedSplit tokenize_split(const Tokenizer& tokenizer, const std::vector<Example>& examples,
                              std::size_t max_length) {
  TokenizedSplit out;
  out.encodings.reserve(examples.size());
  out.labels.reserve(examples.size());
  for (const auto& ex : examples) {
    out.encodings.push_back(tokenizer.encode(ex.text, max_length));
    out.labels.push_back(ex.label);
  }
  return out;
}

TokenBatch gather_batch(const TokenizedSplit& split, const std::vector<std::size_t>& rows, std::int64_t pad_id) {
  std::size_t len = 0;
  for (auto r : rows) len = std::max(len, split.encodings.at(r).ids.size());
  const auto b = static_cast<std::int64_t>(rows.size());
  auto ids = torch::full({b, static_cast<std::int64_t>(len)}, pad_id, torch::kInt64);
  auto mask = torch::zeros({b, static_cast<std::int64_t>(len)}, torch::kInt64);
  auto labels = torch::empty({b}, torch::kInt64);
  auto ids_a = ids.accessor<std::int64_t, 2>();
  auto mask_a = mask.accessor<std::int64_t, 2>();
  auto labels_a = labels.accessor<std::int64_t, 1>();
  for (std::int64_t i = 0; i < b; ++i) {
    const auto& enc = split.encodings[rows[static_cast<std::size_t>(i)]].ids;
    for (std::size_t j = 0; j < enc.size(); ++j) {
      ids_a[i][static_cast<std::int64_t>(j)] = enc[j];
      mask_a[i][static_cast<std::int64_t>(j)] = 1;
    }
    labels_a[i] = split.labels[rows[static_cast<std::size_t>(i)]];
  }
  return {ids, mask, labels};
}

std::vector<std::size_t> token_lengths(const TokenizedSplit& split) {
  std::vector<std::size_t> lengths;
  lengths.reserve(split.encodings.size());
  for (const auto& e : split.encodings) lengths.push_back(e.ids.size());
  return lengths;
}

}  // namespace moecollab
