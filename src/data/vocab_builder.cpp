#include "moecollab/data/vocab_builder.h"

#include <algorithm>
#include <queue>
#include <set>
#include <sstream>

#include "moecollab/util/error.h"
#include "moecollab/util/utf8.h"

namespace moecollab {
namespace {

using Pair = std::pair<std::string, std::string>;

// A word as its current pieces, and how often it occurs.
struct Word {
  std::vector<std::string> pieces;
  std::int64_t count;
};

std::string merged(const Pair& p) { return p.first + (p.second.rfind("##", 0) == 0 ? p.second.substr(2) : p.second); }

struct Candidate {
  std::int64_t count;
  Pair pair;
  // Highest count first; ties by bytes, so every rank merges in the same order.
  bool operator<(const Candidate& o) const { return count != o.count ? count < o.count : pair > o.pair; }
};

class Merger {
 public:
  explicit Merger(const WordCounts& counts) {
    for (const auto& [word, n] : counts) {
      const auto cps = decode_utf8(word).value_or(std::vector<char32_t>{});
      if (cps.empty()) continue;
      Word w{{}, n};
      for (std::size_t i = 0; i < cps.size(); ++i) w.pieces.push_back((i ? "##" : "") + encode_utf8({cps[i]}));
      words_.push_back(std::move(w));
    }
    for (std::size_t i = 0; i < words_.size(); ++i) add_pairs(i, +1);
    for (const auto& [pair, n] : pair_counts_) queue_.push({n, pair});
  }

  // Pieces of length one, most frequent first.
  std::vector<std::string> alphabet() const {
    std::map<std::string, std::int64_t> freq;
    for (const auto& w : words_) {
      for (const auto& p : w.pieces) freq[p] += w.count;
    }
    std::vector<std::pair<std::string, std::int64_t>> items(freq.begin(), freq.end());
    std::stable_sort(items.begin(), items.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    std::vector<std::string> out;
    for (auto& [piece, n] : items) out.push_back(piece);
    return out;
  }

  // The next merge (its new token), or "" when no pair occurs min_count times.
  std::string merge_next(std::int64_t min_count) {
    while (!queue_.empty()) {
      const auto top = queue_.top();
      queue_.pop();
      auto it = pair_counts_.find(top.pair);
      if (it == pair_counts_.end() || it->second != top.count) continue;  // stale entry
      if (top.count < min_count) return "";
      apply(top.pair);
      return merged(top.pair);
    }
    return "";
  }

 private:
  void add_pairs(std::size_t i, int sign) {
    const auto& w = words_[i];
    for (std::size_t k = 0; k + 1 < w.pieces.size(); ++k) {
      const Pair p{w.pieces[k], w.pieces[k + 1]};
      auto& n = pair_counts_[p];
      n += sign * w.count;
      if (sign > 0) where_[p].insert(i);
      if (n == 0) pair_counts_.erase(p);
    }
  }

  void apply(const Pair& pair) {
    const auto token = merged(pair);
    const auto words = where_[pair];  // copy: updated below
    std::set<Pair> touched;
    for (auto i : words) {
      auto& pieces = words_[i].pieces;
      bool has = false;
      for (std::size_t k = 0; k + 1 < pieces.size(); ++k)
        has |= pieces[k] == pair.first && pieces[k + 1] == pair.second;
      if (!has) continue;
      for (std::size_t k = 0; k + 1 < pieces.size(); ++k) touched.insert({pieces[k], pieces[k + 1]});
      add_pairs(i, -1);
      std::vector<std::string> next;
      for (std::size_t k = 0; k < pieces.size(); ++k) {
        if (k + 1 < pieces.size() && pieces[k] == pair.first && pieces[k + 1] == pair.second) {
          next.push_back(token);
          ++k;
        } else {
          next.push_back(pieces[k]);
        }
      }
      pieces = std::move(next);
      add_pairs(i, +1);
      for (std::size_t k = 0; k + 1 < pieces.size(); ++k) touched.insert({pieces[k], pieces[k + 1]});
    }
    where_.erase(pair);
    for (const auto& p : touched) {
      auto it = pair_counts_.find(p);
      if (it != pair_counts_.end()) queue_.push({it->second, p});
    }
  }

  std::vector<Word> words_;
  std::map<Pair, std::int64_t> pair_counts_;
  std::map<Pair, std::set<std::size_t>> where_;
  std::priority_queue<Candidate> queue_;
};

}  // namespace

WordCounts count_words(const std::vector<std::string>& texts, bool lower_case) {
  WordCounts counts;
  for (const auto& text : texts) {
    for (const auto& word : basic_tokenize(text, lower_case)) ++counts[word];
  }
  return counts;
}

WordCounts merge_word_counts(const std::vector<WordCounts>& parts) {
  WordCounts out;
  for (const auto& part : parts) {
    for (const auto& [word, n] : part) out[word] += n;
  }
  return out;
}

std::string serialize_word_counts(const WordCounts& counts) {
  std::string out;
  for (const auto& [word, n] : counts) out += word + "\t" + std::to_string(n) + "\n";
  return out;
}

WordCounts parse_word_counts(const std::string& text) {
  WordCounts out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    const auto tab = line.rfind('\t');
    if (tab == std::string::npos) throw Error("word counts: malformed line '" + line + "'");
    out[line.substr(0, tab)] += std::stoll(line.substr(tab + 1));
  }
  return out;
}

Vocabulary build_vocabulary_from_counts(const WordCounts& counts, VocabBuildOptions options) {
  std::vector<std::string> tokens = {Vocabulary::kPad, Vocabulary::kUnk, Vocabulary::kCls, Vocabulary::kSep,
                                     Vocabulary::kMask};
  std::set<std::string> seen(tokens.begin(), tokens.end());
  auto add = [&](const std::string& t) {
    if (seen.insert(t).second) tokens.push_back(t);
  };
  Merger merger(counts);
  for (const auto& piece : merger.alphabet()) add(piece);  // every character, so every word is spellable
  while (tokens.size() < options.max_size) {
    const auto token = merger.merge_next(static_cast<std::int64_t>(std::max<std::size_t>(1, options.min_count)));
    if (token.empty()) break;
    add(token);
  }
  return Vocabulary(std::move(tokens), "built vocabulary");
}

Vocabulary build_vocabulary(const std::vector<std::string>& texts, VocabBuildOptions options) {
  return build_vocabulary_from_counts(count_words(texts, options.lower_case), options);
}

}  // namespace moecollab
