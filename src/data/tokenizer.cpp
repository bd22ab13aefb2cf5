#include "moecollab/data/tokenizer.h"

#include <cstdio>
#include <filesystem>
#include <fstream>

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
  std::vector<std::string> tokens;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    tokens.push_back(line);
  }
  if (tokens.empty()) throw file_error(path, 0, "vocabulary is empty");
  return Vocabulary(std::move(tokens), path);
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

// ---- Character classes (BERT's _is_whitespace / _is_control / _is_punctuation)

namespace {

bool is_whitespace(char32_t c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x202F || c == 0x205F || c == 0x3000;
}

bool is_control(char32_t c) {
  if (c == '\t' || c == '\n' || c == '\r') return false;
  return c < 0x20 || (c >= 0x7F && c <= 0x9F) || c == 0xAD || (c >= 0x200B && c <= 0x200F) ||
         (c >= 0x202A && c <= 0x202E) || (c >= 0x2060 && c <= 0x2064) || c == 0xFEFF;
}

bool is_punctuation(char32_t c) {
  if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126)) return true;
  return c == 0xA1 || c == 0xA7 || c == 0xAB || c == 0xB6 || c == 0xB7 || c == 0xBB || c == 0xBF ||
         c == 0x37E || c == 0x387 || (c >= 0x2010 && c <= 0x2027) || (c >= 0x2030 && c <= 0x205E) ||
         (c >= 0x3001 && c <= 0x3003) || (c >= 0x3008 && c <= 0x3011) || (c >= 0x3014 && c <= 0x301F) ||
         (c >= 0xFF01 && c <= 0xFF0F) || (c >= 0xFF1A && c <= 0xFF20);
}

bool is_cjk(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
         (c >= 0x2A700 && c <= 0x2CEAF) || (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

char32_t to_lower(char32_t c) {
  if (c >= 'A' && c <= 'Z') return c + 32;
  if (c < 0xC0) return c;
  if (c <= 0xDE) return c == 0xD7 ? c : c + 32;
  if (c >= 0x100 && c <= 0x17F) {
    if (c == 0x130) return 'i';
    if (c == 0x178) return 0xFF;
    const bool odd_upper = (c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E);
    const bool even_upper = (c <= 0x137) || (c >= 0x14A && c <= 0x177);
    if (odd_upper && (c % 2 == 1)) return c + 1;
    if (even_upper && (c % 2 == 0) && c != 0x138) return c + 1;
    return c;
  }
  if (c >= 0x391 && c <= 0x3A9 && c != 0x3A2) return c + 32;  // Greek capitals
  if (c == 0x386) return 0x3AC;
  if (c >= 0x388 && c <= 0x38A) return c + 37;
  if (c == 0x38C) return 0x3CC;
  if (c == 0x38E || c == 0x38F) return c + 63;
  if (c >= 0x410 && c <= 0x42F) return c + 32;  // Cyrillic capitals
  if (c >= 0x400 && c <= 0x40F) return c + 80;
  return c;
}

// Base letter of a precomposed letter (its NFD without combining marks), or 0.
char32_t strip_accent(char32_t c) {
  static const char kLatin1[] =  // U+00C0..U+00FF
      "AAAAAA.CEEEEIIII.NOOOOO..UUUUY..aaaaaa.ceeeeiiii.nooooo..uuuuy.y";
  static const char kLatinA[] =  // U+0100..U+017F
      "AaAaAaCcCcCcCcDd..EeEeEeEeEeGgGgGgGgHh..IiIiIiIiI...JjKk.LlLlLl."
      "...NnNnNn...OoOoOo..RrRrRrSsSsSsSsTtTt..UuUuUuUuUuUuWwYyYZzZzZz.";
  static_assert(sizeof kLatin1 == 0x40 + 1 && sizeof kLatinA == 0x80 + 1, "one entry per code point");
  char base = '.';
  if (c >= 0xC0 && c <= 0xFF) base = kLatin1[c - 0xC0];
  else if (c >= 0x100 && c <= 0x17F) base = kLatinA[c - 0x100];
  if (base != '.') return static_cast<char32_t>(base);
  switch (c) {
    case 0x3AC: return 0x3B1; case 0x3AD: return 0x3B5; case 0x3AE: return 0x3B7;
    case 0x3AF: case 0x3CA: case 0x390: return 0x3B9;
    case 0x3CC: return 0x3BF; case 0x3CD: case 0x3CB: case 0x3B0: return 0x3C5; case 0x3CE: return 0x3C9;
    case 0x439: return 0x438; case 0x419: return 0x418; case 0x451: return 0x435; case 0x401: return 0x415;
    case 0x457: return 0x456; case 0x45E: return 0x443;
    default: return 0;
  }
}

bool is_combining_mark(char32_t c) { return c >= 0x300 && c <= 0x36F; }

}  // namespace

std::vector<std::string> basic_tokenize(std::string_view text, bool lower_case) {
  std::vector<std::string> tokens;
  std::string current;
  auto flush = [&] {
    if (!current.empty()) tokens.push_back(std::move(current));
    current.clear();
  };
  std::size_t i = 0;
  while (i < text.size()) {
    // Decode one code point; an invalid byte is skipped alone, as BERT drops U+FFFD.
    std::size_t len = 1;
    const auto b0 = static_cast<unsigned char>(text[i]);
    if (b0 >= 0xF0) len = 4; else if (b0 >= 0xE0) len = 3; else if (b0 >= 0xC0) len = 2;
    auto decoded = decode_utf8(text.substr(i, std::min(len, text.size() - i)));
    if (!decoded || decoded->size() != 1) { ++i; continue; }
    i += len;
    char32_t c = (*decoded)[0];
    if (c == 0 || c == 0xFFFD || is_control(c)) continue;
    if (is_whitespace(c)) { flush(); continue; }
    if (lower_case) {
      c = to_lower(c);
      if (is_combining_mark(c)) continue;
      if (char32_t base = strip_accent(c)) c = base;
    }
    if (is_punctuation(c) || is_cjk(c)) {
      flush();
      append_utf8(current, c);
      flush();
      continue;
    }
    append_utf8(current, c);
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
      if (vocab_.find(piece) >= 0) { found = std::move(piece); break; }
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
