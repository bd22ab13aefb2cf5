// The basic + WordPiece tokenizer on arbitrary bytes: the first byte picks
// lower-casing and the length limit; the rest is the text.
#include "fuzz_input.h"
#include "moecollab/data/tokenizer.h"

namespace {

const moecollab::WordPieceTokenizer& tokenizer(bool lower_case) {
  using moecollab::Vocabulary;
  static const std::vector<std::string> tokens = {Vocabulary::kPad,
                                                  Vocabulary::kUnk,
                                                  Vocabulary::kCls,
                                                  Vocabulary::kSep,
                                                  Vocabulary::kMask,
                                                  "the",
                                                  "un",
                                                  "##aff",
                                                  "##able",
                                                  "hello",
                                                  "world",
                                                  "w",
                                                  "##or",
                                                  "##ld",
                                                  ",",
                                                  "!",
                                                  "'",
                                                  "a",
                                                  "##a",
                                                  "é",
                                                  "東",
                                                  "京",
                                                  "über",
                                                  "caf",
                                                  "##é",
                                                  "ñ",
                                                  "##s",
                                                  "x",
                                                  "##x",
                                                  "1",
                                                  "##2",
                                                  "."};
  static const moecollab::WordPieceTokenizer lower(Vocabulary(tokens), {true, 100});
  static const moecollab::WordPieceTokenizer cased(Vocabulary(tokens), {false, 100});
  return lower_case ? lower : cased;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace moecollab;
  if (size == 0) return 0;
  const auto& t = tokenizer(data[0] & 1);
  const std::size_t max_length = 2 + (data[0] >> 1);
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  basic_tokenize(text, data[0] & 1);
  t.tokenize(text);
  const auto encoding = t.encode(text, max_length);
  const auto& ids = encoding.ids;
  if (ids.size() < 2 || ids.size() > max_length) fuzz::fail("encoding length outside [2, max_length]");
  if (ids.front() != t.vocabulary().cls_id() || ids.back() != t.vocabulary().sep_id()) {
    fuzz::fail("encoding not wrapped in [CLS] ... [SEP]");
  }
  for (const auto id : ids) {
    if (id < 0 || static_cast<std::size_t>(id) >= t.vocabulary().size()) fuzz::fail("id outside the vocabulary");
  }
  return 0;
}
