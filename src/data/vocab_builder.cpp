#include "moecollab/data/vocab_builder.h"

#include <algorithm>
#include <map>
#include <set>

#include "moecollab/util/utf8.h"

namespace moecollab {
namespace {

using Counts = std::map<std::string, std::size_t>;

// Tokens by descending count, then by bytes.
std::vector<std::string> by_frequency(const Counts& counts, std::size_t min_count) {
  std::vector<std::pair<std::string, std::size_t>> items;
  for (const auto& [token, n] : counts) {
    if (n >= min_count) items.emplace_back(token, n);
  }
  std::stable_sort(items.begin(), items.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  std::vector<std::string> out;
  for (auto& item : items) out.push_back(std::move(item.first));
  return out;
}

}  // namespace

Vocabulary build_vocabulary(const std::vector<std::string>& texts, VocabBuildOptions options) {
  Counts words, chars, suffixes;
  for (const auto& text : texts) {
    for (const auto& word : basic_tokenize(text, options.lower_case)) {
      ++words[word];
      const auto cps = decode_utf8(word).value_or(std::vector<char32_t>{});
      for (char32_t c : cps) ++chars[encode_utf8({c})];
      // Word-final pieces of 2..5 characters ("##ing", "##tion") help spell rare words.
      for (std::size_t n = 2; n <= 5 && n < cps.size(); ++n) {
        ++suffixes["##" + encode_utf8({cps.end() - static_cast<std::ptrdiff_t>(n), cps.end()})];
      }
    }
  }
  std::vector<std::string> tokens = {Vocabulary::kPad, Vocabulary::kUnk, Vocabulary::kCls, Vocabulary::kSep,
                                     Vocabulary::kMask};
  std::set<std::string> seen(tokens.begin(), tokens.end());
  auto add = [&](const std::string& t) {
    if (tokens.size() < options.max_size && seen.insert(t).second) tokens.push_back(t);
  };
  const auto char_list = by_frequency(chars, 1);
  for (const auto& c : char_list) add(c);
  for (const auto& c : char_list) add("##" + c);
  // Interleave whole words and suffix pieces, three words per piece.
  const auto word_list = by_frequency(words, options.min_count);
  const auto suffix_list = by_frequency(suffixes, options.min_count);
  std::size_t w = 0, s = 0;
  while (tokens.size() < options.max_size && (w < word_list.size() || s < suffix_list.size())) {
    for (int k = 0; k < 3 && w < word_list.size(); ++k) add(word_list[w++]);
    if (s < suffix_list.size()) add(suffix_list[s++]);
  }
  return Vocabulary(std::move(tokens), "built vocabulary");
}

}  // namespace moecollab
