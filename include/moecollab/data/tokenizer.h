// Text -> token ids. `Tokenizer` is the interface the model side uses;
// `WordPieceTokenizer` is BERT's: a basic tokenizer (text cleanup, CJK
// spacing, optional lower-casing with accent stripping, punctuation split)
// followed by greedy longest-match-first WordPiece with `##` continuations,
// driven by a `vocab.txt` (one token per line, id = line number).
//
// Unicode coverage without ICU: lower-casing and accent stripping are exact
// for Latin-1, Latin Extended-A, Greek and Cyrillic and for combining marks
// U+0300..U+036F; other scripts pass through unchanged.
#pragma once

#include <cstdint>
#include <istream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace moecollab {

class Vocabulary {
 public:
  static constexpr const char* kPad = "[PAD]";
  static constexpr const char* kUnk = "[UNK]";
  static constexpr const char* kCls = "[CLS]";
  static constexpr const char* kSep = "[SEP]";
  static constexpr const char* kMask = "[MASK]";

  // REQUIRES: tokens unique and including [PAD], [UNK], [CLS], [SEP].
  explicit Vocabulary(std::vector<std::string> tokens, const std::string& origin = "vocabulary");
  static Vocabulary load(const std::string& path);
  // One token per line of `in` (CRLF taken as LF; a leading byte order mark
  // skipped); `origin` names the source in messages. Throws Error for a token
  // that is not valid UTF-8, an empty vocabulary or a missing special token.
  static Vocabulary parse(std::istream& in, const std::string& origin);
  void save(const std::string& path) const;  // atomic: temp file + rename

  std::size_t size() const { return tokens_.size(); }
  // Id of `token`, or -1.
  std::int64_t find(std::string_view token) const;
  const std::string& token(std::int64_t id) const { return tokens_.at(static_cast<std::size_t>(id)); }
  std::int64_t pad_id() const { return pad_; }
  std::int64_t unk_id() const { return unk_; }
  std::int64_t cls_id() const { return cls_; }
  std::int64_t sep_id() const { return sep_; }
  // Hash of the token list (order matters): ranks compare it before training together.
  std::uint64_t fingerprint() const;

 private:
  std::vector<std::string> tokens_;
  std::unordered_map<std::string, std::int64_t> ids_;
  std::int64_t pad_, unk_, cls_, sep_;
};

// BERT's basic tokenizer: whitespace/punctuation split, with lower-casing and
// accent stripping when `lower_case`. Invalid UTF-8 bytes are dropped.
std::vector<std::string> basic_tokenize(std::string_view text, bool lower_case);

struct Encoding {
  std::vector<std::int64_t> ids;  // [CLS] pieces... [SEP], no padding
};

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  // Ids of `text` wrapped as [CLS] ... [SEP], truncated to at most `max_length` ids.
  // REQUIRES: max_length >= 2.
  virtual Encoding encode(std::string_view text, std::size_t max_length) const = 0;
  virtual const Vocabulary& vocabulary() const = 0;
  // Whether text is lower-cased (and accents stripped) before word pieces.
  virtual bool lower_case() const = 0;
};

struct WordPieceOptions {
  bool lower_case = true;
  std::size_t max_input_chars_per_word = 100;  // longer words become [UNK]
};

class WordPieceTokenizer : public Tokenizer {
 public:
  WordPieceTokenizer(Vocabulary vocab, WordPieceOptions options = {});

  // The word pieces of `text` (strings, "##" marks continuations).
  std::vector<std::string> tokenize(std::string_view text) const;
  Encoding encode(std::string_view text, std::size_t max_length) const override;
  const Vocabulary& vocabulary() const override { return vocab_; }
  bool lower_case() const override { return options_.lower_case; }

 private:
  void split_word(const std::string& word, std::vector<std::string>& out) const;

  Vocabulary vocab_;
  WordPieceOptions options_;
};

}  // namespace moecollab
