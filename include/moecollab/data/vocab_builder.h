// Building a WordPiece `vocab.txt` from a training corpus, for the default
// encoder that is trained here (no pretrained vocabulary can be downloaded).
// The algorithm is the standard one behind WordPiece trainers (BPE merges
// over word counts): start from every character seen (word-initial "c" and
// continuation "##c", so every word stays spellable), then repeatedly merge
// the most frequent adjacent pair of pieces into a new token until
// `max_size` tokens or no pair occurs `min_count` times.
// Its input is word counts, not text, so ranks can build one vocabulary
// together: each counts its own words, the counts are summed, and every rank
// runs the same deterministic merges (see comm-free `merge_word_counts`).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "moecollab/data/tokenizer.h"

namespace moecollab {

struct VocabBuildOptions {
  std::size_t max_size = 8000;
  std::size_t min_count = 2;  // a pair must occur this often to be merged
  bool lower_case = true;
};

using WordCounts = std::map<std::string, std::int64_t>;

// Words of the texts (BERT's basic tokenizer) and how often each occurs.
WordCounts count_words(const std::vector<std::string>& texts, bool lower_case);

// Sums several parties' counts (the reduction of a federated build).
WordCounts merge_word_counts(const std::vector<WordCounts>& parts);

// The text form of counts ("word\tcount" lines) for sending between ranks, and back.
std::string serialize_word_counts(const WordCounts& counts);
WordCounts parse_word_counts(const std::string& text);

// Deterministic: ties are broken by the pieces' bytes.
Vocabulary build_vocabulary_from_counts(const WordCounts& counts, VocabBuildOptions options = {});
Vocabulary build_vocabulary(const std::vector<std::string>& texts, VocabBuildOptions options = {});

}  // namespace moecollab
