#include "moecollab/data/tokenizer.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "moecollab/data/vocab_builder.h"
#include "moecollab/util/error.h"

namespace moecollab {
namespace {

using Tokens = std::vector<std::string>;

Vocabulary bert_test_vocab() {
  // The vocabulary of BERT's own tokenization tests.
  return Vocabulary({"[PAD]", "[UNK]", "[CLS]", "[SEP]", "want", "##want", "##ed", "wa", "un", "runn", "##ing", ",",
                     "low", "lowest"});
}

}  // namespace

TEST(BasicTokenizer, LowerCasesStripsAccentsAndSplitsPunctuation) {
  EXPECT_EQ(basic_tokenize(" \tHeLLo!how  \n Are yoU?  ", true), (Tokens{"hello", "!", "how", "are", "you", "?"}));
  EXPECT_EQ(basic_tokenize("H\xC3\xA9llo", true), (Tokens{"hello"}));  // é
  EXPECT_EQ(basic_tokenize("\xC3\x87"
                           "a \xC3\xA9t\xC3\xA9 \xC5\xA0\xC5\xA5"
                           "astn\xC3\xBD",
                           true),  // Ça été Šťastný
            (Tokens{"ca", "ete", "stastny"}));
  EXPECT_EQ(basic_tokenize("\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82 \xD0\x81\xD0\xB6", true),  // Привет Ёж
            (Tokens{"\xD0\xBF\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82", "\xD0\xB5\xD0\xB6"}));  // привет еж
  EXPECT_EQ(basic_tokenize("e\xCC\x81t\xC3\xA9", true), (Tokens{"ete"}));  // combining acute removed
  EXPECT_EQ(basic_tokenize("don't stop-now", true), (Tokens{"don", "'", "t", "stop", "-", "now"}));
}

TEST(BasicTokenizer, AllOfUnicodeNotOnlyLatinGreekCyrillic) {
  // Beyond the hand-written tables the tokenizer had before utf8proc: Vietnamese,
  // Latin Extended-B and Additional, a titlecase digraph, Armenian.
  EXPECT_EQ(basic_tokenize("Vi\xe1\xbb\x87t Nam", true), (Tokens{"viet", "nam"}));                    // Việt Nam
  EXPECT_EQ(basic_tokenize("\xc8\x8e \xe1\xb9\x99 \xc7\x85", true), (Tokens{"o", "r", "\xc7\x86"}));  // Ȏ ṙ ǅ -> o r ǆ
  EXPECT_EQ(basic_tokenize("\xd5\x80\xd5\xa1\xd5\xb5", true), (Tokens{"\xd5\xb0\xd5\xa1\xd5\xb5"}));  // Հայ -> հայ
  // Capital sigma lower-cases to the final form at a word's end only (ΟΔΟΣ Σ -> οδος σ).
  EXPECT_EQ(basic_tokenize("\xce\x9f\xce\x94\xce\x9f\xce\xa3 \xce\xa3", true),
            (Tokens{"\xce\xbf\xce\xb4\xce\xbf\xcf\x82", "\xcf\x83"}));
  // The line separator U+2028 splits words; a tag character (Cf) is removed.
  EXPECT_EQ(basic_tokenize("a\xe2\x80\xa8"
                           "b x\xf3\xa0\x80\x81y",
                           true),
            (Tokens{"a", "b", "xy"}));
}

TEST(BasicTokenizer, KeepsCaseWhenAskedAndCleansText) {
  EXPECT_EQ(basic_tokenize("H\xC3\xA9llo World", false), (Tokens{"H\xC3\xA9llo", "World"}));
  EXPECT_EQ(basic_tokenize("a\x01"
                           "b\xE2\x80\x8B"
                           "c \xEF\xBF\xBD d",
                           true),
            (Tokens{"abc", "d"}));  // control, ZWSP, U+FFFD
  EXPECT_EQ(basic_tokenize("\xE4\xB8\xAD\xE6\x96\x87ok", true),
            (Tokens{"\xE4\xB8\xAD", "\xE6\x96\x87", "ok"}));  // 中文
  EXPECT_EQ(basic_tokenize("bad\xFF"
                           "byte",
                           true),
            (Tokens{"badbyte"}));
}

TEST(WordPiece, GreedyLongestMatchFirst) {
  WordPieceTokenizer tok(bert_test_vocab());
  EXPECT_EQ(tok.tokenize("unwanted running"), (Tokens{"un", "##want", "##ed", "runn", "##ing"}));
  EXPECT_EQ(tok.tokenize("UNwant\xC3\xA9"
                         "d,running"),
            (Tokens{"un", "##want", "##ed", ",", "runn", "##ing"}));
  EXPECT_EQ(tok.tokenize("unwantedX running"), (Tokens{"[UNK]", "runn", "##ing"}));
  EXPECT_EQ(tok.tokenize(""), Tokens{});
}

TEST(WordPiece, LongWordsBecomeUnknown) {
  WordPieceTokenizer tok(bert_test_vocab(), WordPieceOptions{true, 6});
  EXPECT_EQ(tok.tokenize("lowest low"), (Tokens{"lowest", "low"}));
  EXPECT_EQ(tok.tokenize("wantwant"), (Tokens{"[UNK]"}));  // 8 > 6 characters
}

TEST(WordPiece, EncodeWrapsAndTruncates) {
  WordPieceTokenizer tok(bert_test_vocab());
  const auto& v = tok.vocabulary();
  EXPECT_EQ(tok.encode("want low", 16).ids, (std::vector<std::int64_t>{v.cls_id(), 4, 12, v.sep_id()}));
  EXPECT_EQ(tok.encode("unwanted running", 4).ids, (std::vector<std::int64_t>{v.cls_id(), 8, 5, v.sep_id()}));
  EXPECT_EQ(tok.encode("anything", 2).ids, (std::vector<std::int64_t>{v.cls_id(), v.sep_id()}));
  EXPECT_THROW(tok.encode("x", 1), Error);
}

TEST(Vocabulary, MergesTheMostFrequentPairsFirst) {
  // The classic BPE example: "est" is the most frequent pair chain (newest 6 + widest 3).
  const WordCounts counts = {{"low", 5}, {"lower", 2}, {"newest", 6}, {"widest", 3}};
  const auto alphabet = build_vocabulary_from_counts(counts, {0, 2, true});  // no merges: specials + characters
  const auto vocab = build_vocabulary_from_counts(counts, {alphabet.size() + 3, 2, true});
  ASSERT_EQ(vocab.size(), alphabet.size() + 3);
  EXPECT_EQ(vocab.token(static_cast<std::int64_t>(alphabet.size())), "##es");
  EXPECT_EQ(vocab.token(static_cast<std::int64_t>(alphabet.size()) + 1), "##est");
  EXPECT_EQ(vocab.token(static_cast<std::int64_t>(alphabet.size()) + 2), "##ow");  // 7 = low 5 + lower 2
  WordPieceTokenizer tok(vocab);
  EXPECT_EQ(tok.tokenize("newest lowest"), (Tokens{"n", "##e", "##w", "##est", "l", "##ow", "##est"}));
}

TEST(Vocabulary, FederatedCountsGiveThePooledVocabulary) {
  const std::vector<std::string> a = {"the cat sat on the mat", "cats and dogs"};
  const std::vector<std::string> b = {"the dog sat on the log", "dogs and cats and more cats"};
  auto pooled = a;
  pooled.insert(pooled.end(), b.begin(), b.end());
  const auto parts = {parse_word_counts(serialize_word_counts(count_words(a, true))), count_words(b, true)};
  EXPECT_EQ(build_vocabulary_from_counts(merge_word_counts(parts), {60, 2, true}).fingerprint(),
            build_vocabulary(pooled, {60, 2, true}).fingerprint());
}

TEST(Vocabulary, RejectsDuplicatesAndMissingSpecials) {
  EXPECT_THROW(Vocabulary({"[PAD]", "[UNK]", "[CLS]", "[SEP]", "a", "a"}), Error);
  EXPECT_THROW(Vocabulary({"[PAD]", "[UNK]", "[CLS]"}), Error);
}

TEST(Vocabulary, BuiltVocabularySpellsEveryTrainingWordAndRoundTrips) {
  const std::vector<std::string> corpus = {"The cat sat on the mat.", "Cats are running, dogs are walking!",
                                           "Zebra quokka; the the the"};
  const auto vocab = build_vocabulary(corpus, {200, 2, true});
  EXPECT_EQ(vocab.token(0), "[PAD]");
  EXPECT_GE(vocab.find("the"), 0);  // frequent word
  EXPECT_GE(vocab.find("q"), 0);    // every character seen
  EXPECT_GE(vocab.find("##k"), 0);
  EXPECT_LT(vocab.find("quokka"), 0);  // its pairs occur once: below min_count
  WordPieceTokenizer tok(vocab);
  for (const auto& text : corpus) {
    for (const auto& piece : tok.tokenize(text)) EXPECT_NE(piece, "[UNK]") << text;
  }
  EXPECT_EQ(build_vocabulary(corpus, {200, 2, true}).fingerprint(), vocab.fingerprint());

  const auto path = (std::filesystem::temp_directory_path() / "moecollab_vocab_test.txt").string();
  vocab.save(path);
  EXPECT_EQ(Vocabulary::load(path).fingerprint(), vocab.fingerprint());
}

}  // namespace moecollab
