// Building a WordPiece `vocab.txt` from a training corpus, for the default
// encoder that is trained here (no pretrained vocabulary can be downloaded).
// The vocabulary holds the special tokens, every character seen (alone and as
// a `##` continuation, so any word of the corpus can be spelled), then the most
// frequent whole words and word-final pieces until `max_size` is reached.
#pragma once

#include <string>
#include <vector>

#include "moecollab/data/tokenizer.h"

namespace moecollab {

struct VocabBuildOptions {
  std::size_t max_size = 8000;
  std::size_t min_count = 2;  // words seen fewer times are left to WordPiece
  bool lower_case = true;
};

// Deterministic: ties in frequency are broken by the token's bytes.
Vocabulary build_vocabulary(const std::vector<std::string>& texts, VocabBuildOptions options = {});

}  // namespace moecollab
