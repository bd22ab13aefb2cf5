// Token ids -> padded tensors for the encoder. Each domain's texts are
// tokenized once at start-up (`tokenize_split`); batches then only gather and pad.
#pragma once

#include <torch/torch.h>

#include <vector>

#include "moecollab/data/dataset.h"
#include "moecollab/data/tokenizer.h"

namespace moecollab {

struct TokenizedSplit {
  std::vector<Encoding> encodings;
  std::vector<std::int64_t> labels;
};

TokenizedSplit tokenize_split(const Tokenizer& tokenizer, const std::vector<Example>& examples, std::size_t max_length);

struct TokenBatch {
  torch::Tensor ids;     // b×L int64, padded with the vocabulary's [PAD] id
  torch::Tensor mask;    // b×L int64, 1 for tokens
  torch::Tensor labels;  // b int64
};

// Rows `rows` of `split`, padded to the longest of them.
TokenBatch gather_batch(const TokenizedSplit& split, const std::vector<std::size_t>& rows, std::int64_t pad_id);
// Each text's length in tokens (for length-bucketed sampling).
std::vector<std::size_t> token_lengths(const TokenizedSplit& split);

}  // namespace moecollab
