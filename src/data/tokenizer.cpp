#include "moecollab/data/tokenizer.h"

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <utf8proc.h>

#include "moecollab/util/error.h"
#include "moecollab/util/files.h"
#include "moecollab/util/hash.h"
#include "moecollab/util/utf8.h"

namespace moecollab {

// ---- Vocabulary --------------------------------------------------------------

Vocabulary::Vocabulary(std::vector<std::string> tokens, const std::string& origin) : tokens_(std::move(tokens)) {
  for (std::size_t i = 0; i < tokens_.size(); ++i) {
    if (!ids_.emplace(tokens_[i], static_cast<std::int64_t>(i)).second) {
      throw file_error(origin, i + 1, "duplicate token '" + tokens_[i] + "'");
    }
  }
  auto require = [&](const char* special) {
    const std::int64_t id = find(special);
    if (id < 0) throw file_error(origin, 0, std::string("vocabulary lacks the special token ") + special);
    return id;
  };
  pad_ = require(kPad);
  unk_ = require(kUnk);
  cls_ = require(kCls);
  sep_ = require(kSep);
}

Vocabulary Vocabulary::load(const std::string& path) {
  if (std::filesystem::is_directory(path)) throw file_error(path, 0, "is a directory, not a vocab.txt");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw file_error(path, 0, "cannot open vocabulary");
  return parse(in, path);
}

Vocabulary Vocabulary::parse(std::istream& in, const std::string& origin) {
  std::vector<std::string> tokens;
  std::string line;
  for (std::size_t number = 1; std::getline(in, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (number == 1) strip_utf8_bom(line);
    std::size_t bad = 0;
    if (!decode_utf8(line, &bad)) {
      throw file_error(origin, number,
                       "token is not valid UTF-8 (bad byte at offset " + std::to_string(bad) +
                           "); a vocab.txt is UTF-8, one token per line");
    }
    tokens.push_back(line);
  }
  if (tokens.empty()) throw file_error(origin, 0, "vocabulary is empty");
  return Vocabulary(std::move(tokens), origin);
}

void Vocabulary::save(const std::string& path) const {
  write_file_atomically(path, [&](std::ostream& out) {
    for (const auto& t : tokens_) out << t << '\n';
  });
}

std::int64_t Vocabulary::find(std::string_view token) const {
  auto it = ids_.find(std::string(token));
  return it == ids_.end() ? -1 : it->second;
}

std::uint64_t Vocabulary::fingerprint() const {
  std::uint64_t h = kFnvOffset;
  for (const auto& t : tokens_) h = fnv1a(t + '\n', h);
  return h;
}

// ---- Character classes (BERT's _is_whitespace / _is_control / _is_punctuation),
// from utf8proc's Unicode tables (categories, canonical decomposition, case).

namespace {

utf8proc_category_t category(char32_t c) { return utf8proc_category(static_cast<utf8proc_int32_t>(c)); }

// Space separators, and the line and paragraph separators U+2028/U+2029 (as
// Hugging Face's tokenizers; Google's Python BERT keeps those two as letters).
bool is_whitespace(char32_t c) {
  if (c == ' ' || c == '\t' || c == '\n' || c == '\r') return true;
  const auto cat = category(c);
  return cat == UTF8PROC_CATEGORY_ZS || cat == UTF8PROC_CATEGORY_ZL || cat == UTF8PROC_CATEGORY_ZP;
}

// Control, format, surrogate and private-use characters (Cc, Cf, Cs, Co) but tab,
// newline and carriage return: removed. Unassigned code points (Cn) are kept, as
// Hugging Face's tokenizers keep them (a word holding one becomes [UNK]), so a
// character that a newer Unicode assigns is not silently dropped either.
bool is_control(char32_t c) {
  if (c == '\t' || c == '\n' || c == '\r') return false;
  switch (category(c)) {
    case UTF8PROC_CATEGORY_CC:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_CS:
    case UTF8PROC_CATEGORY_CO:
      return true;
    default:
      return false;
  }
}

// ASCII symbols count as punctuation too ($, +, ^, ...), as in BERT.
bool is_punctuation(char32_t c) {
  if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126)) return true;
  switch (category(c)) {
    case UTF8PROC_CATEGORY_PC:
    case UTF8PROC_CATEGORY_PD:
    case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE:
    case UTF8PROC_CATEGORY_PI:
    case UTF8PROC_CATEGORY_PF:
    case UTF8PROC_CATEGORY_PO:
      return true;
    default:
      return false;
  }
}

bool is_cjk(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
         (c >= 0x2A700 && c <= 0x2CEAF) || (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

// What an uncased BERT makes of one code point: its canonical decomposition (NFD)
// without the nonspacing marks (accents), lower-cased.
std::vector<char32_t> normalize_uncased(char32_t c) {
  utf8proc_int32_t parts[32];
  int last_boundclass = 0;
  const auto n =
      utf8proc_decompose_char(static_cast<utf8proc_int32_t>(c), parts, 32, UTF8PROC_DECOMPOSE, &last_boundclass);
  std::vector<char32_t> out;
  if (n < 0 || n > 32) {  // cannot happen for a valid code point: keep it as it is
    out.push_back(static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(c))));
    return out;
  }
  for (utf8proc_ssize_t i = 0; i < n; ++i) {
    if (utf8proc_category(parts[i]) == UTF8PROC_CATEGORY_MN) continue;
    out.push_back(static_cast<char32_t>(utf8proc_tolower(parts[i])));
  }
  return out;
}

}  // namespace

namespace {

// The text's code points with controls, NUL and U+FFFD removed and every
// whitespace character made a space (BERT's clean_text). An invalid byte is
// skipped alone, as BERT drops U+FFFD.
std::vector<char32_t> cleaned_code_points(std::string_view text) {
  std::vector<char32_t> out;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t len = 1;
    const auto b0 = static_cast<unsigned char>(text[i]);
    if (b0 >= 0xF0)
      len = 4;
    else if (b0 >= 0xE0)
      len = 3;
    else if (b0 >= 0xC0)
      len = 2;
    auto decoded = decode_utf8(text.substr(i, std::min(len, text.size() - i)));
    if (!decoded || decoded->size() != 1) {
      ++i;
      continue;
    }
    i += len;
    const char32_t c = (*decoded)[0];
    if (c == 0 || c == 0xFFFD || is_control(c)) continue;
    out.push_back(is_whitespace(c) ? U' ' : c);
  }
  return out;
}

bool is_cased(char32_t c) {
  const auto cat = category(c);
  return cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LL || cat == UTF8PROC_CATEGORY_LT;
}

bool is_case_ignorable(char32_t c) {
  const auto cat = category(c);
  return cat == UTF8PROC_CATEGORY_MN || cat == UTF8PROC_CATEGORY_ME || cat == UTF8PROC_CATEGORY_CF ||
         cat == UTF8PROC_CATEGORY_LM || cat == UTF8PROC_CATEGORY_SK;
}

// Capital sigma at `at` lower-cases to the final ς after a cased letter and not
// before one (Unicode's Final_Sigma context, as Python's and JavaScript's
// lower-casing apply it), else to σ.
char32_t lower_sigma(const std::vector<char32_t>& cps, std::size_t at) {
  bool before = false, after = false;
  for (std::size_t j = at; j-- > 0;) {
    if (is_case_ignorable(cps[j])) continue;
    before = is_cased(cps[j]);
    break;
  }
  for (std::size_t k = at + 1; k < cps.size(); ++k) {
    if (is_case_ignorable(cps[k])) continue;
    after = is_cased(cps[k]);
    break;
  }
  return before && !after ? 0x3C2 : 0x3C3;
}

}  // namespace

std::vector<std::string> basic_tokenize(std::string_view text, bool lower_case) {
  std::vector<std::string> tokens;
  std::string current;
  auto flush = [&] {
    if (!current.empty()) tokens.push_back(std::move(current));
    current.clear();
  };
  const auto cps = cleaned_code_points(text);
  for (std::size_t i = 0; i < cps.size(); ++i) {
    const char32_t c = cps[i];
    if (c == U' ') {
      flush();
      continue;
    }
    std::vector<char32_t> chars = {c};
    if (lower_case) chars = c == 0x3A3 ? std::vector<char32_t>{lower_sigma(cps, i)} : normalize_uncased(c);
    for (const char32_t d : chars) {
      if (is_punctuation(d) || is_cjk(d)) {
        flush();
        append_utf8(current, d);
        flush();
      } else {
        append_utf8(current, d);
      }
    }
  }
  flush();
  return tokens;
}

// ---- WordPiece -----------------------------------------------------------------

WordPieceTokenizer::WordPieceTokenizer(Vocabulary vocab, WordPieceOptions options)
    : vocab_(std::move(vocab)), options_(options) {}

void WordPieceTokenizer::split_word(const std::string& word, std::vector<std::string>& out) const {
  const auto cps = decode_utf8(word).value_or(std::vector<char32_t>{});
  if (cps.size() > options_.max_input_chars_per_word) {
    out.push_back(Vocabulary::kUnk);
    return;
  }
  std::vector<std::string> pieces;
  std::size_t start = 0;
  while (start < cps.size()) {
    std::size_t end = cps.size();
    std::string found;
    while (start < end) {
      std::string piece = start > 0 ? "##" : "";
      for (std::size_t k = start; k < end; ++k) append_utf8(piece, cps[k]);
      if (vocab_.find(piece) >= 0) {
        found = std::move(piece);
        break;
      }
      --end;
    }
    if (found.empty()) {  // some piece is not in the vocabulary: the whole word is unknown
      out.push_back(Vocabulary::kUnk);
      return;
    }
    pieces.push_back(std::move(found));
    start = end;
  }
  out.insert(out.end(), pieces.begin(), pieces.end());
}

std::vector<std::string> WordPieceTokenizer::tokenize(std::string_view text) const {
  std::vector<std::string> out;
  for (const auto& word : basic_tokenize(text, options_.lower_case)) split_word(word, out);
  return out;
}

Encoding WordPieceTokenizer::encode(std::string_view text, std::size_t max_length) const {
  if (max_length < 2) throw Error("max_length must be at least 2 to hold [CLS] and [SEP]");
  Encoding enc;
  enc.ids.push_back(vocab_.cls_id());
  for (const auto& piece : tokenize(text)) {
    if (enc.ids.size() + 1 >= max_length) break;
    enc.ids.push_back(vocab_.find(piece));
  }
  enc.ids.push_back(vocab_.sep_id());
  return enc;
}

}  // namespace moecollab
