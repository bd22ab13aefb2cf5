// `moecollab tokenize --vocab vocab.txt [--input texts.jsonl | --text "..."]`: the
// WordPiece token ids (with [CLS] and [SEP]) of texts, one JSON line each, as
// training and `predict` would feed them to the encoder. No encoder needed: to
// inspect a vocabulary, and what the tokenizer conformance tests compare with
// Hugging Face's tokenizers.
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "moecollab/data/tokenizer.h"
#include "moecollab/util/error.h"
#include "options.h"

namespace moecollab::cli {

int tokenize_main(int argc, char** argv) {
  std::string vocab, input;
  std::vector<std::string> texts;
  bool lower_case = true;
  std::size_t max_length = 512;
  po::options_description options("tokenize");
  options.add_options()("vocab", po::value(&vocab)->required(),
                        "the WordPiece vocabulary (vocab.txt, one token per line)")(
      "text", po::value(&texts)->composing(), "a text to tokenize (repeatable)")(
      "input", po::value(&input), "a JSON-lines file of texts: each line a JSON string or an object with \"text\"")(
      "lower-case", flag(&lower_case, true), "lower-case and strip accents first (uncased BERT)")(
      "max-length", po::value(&max_length)->default_value(max_length), "tokens per text incl. [CLS] and [SEP]");
  po::variables_map vm;
  if (!parse_options(argc, argv,
                     "usage: moecollab tokenize --vocab vocab.txt (--text \"...\" ... | --input FILE.jsonl)", options,
                     vm)) {
    return 0;
  }
  if (texts.empty() == input.empty()) throw Error("give --text (repeatable) or --input FILE.jsonl, not both");
  if (!input.empty()) {
    std::ifstream in(input, std::ios::binary);
    if (!in) throw Error(input + ": cannot open");
    std::size_t number = 0;
    for (std::string line; std::getline(in, line);) {
      ++number;
      if (line.empty()) continue;
      nlohmann::json j;
      try {
        j = nlohmann::json::parse(line);
      } catch (const nlohmann::json::exception& e) {
        throw Error(input + ":" + std::to_string(number) + ": not JSON: " + e.what());
      }
      if (j.is_string())
        texts.push_back(j.get<std::string>());
      else if (j.is_object() && j.contains("text") && j["text"].is_string())
        texts.push_back(j["text"].get<std::string>());
      else
        throw Error(input + ":" + std::to_string(number) + ": expected a JSON string or an object with \"text\"");
    }
  }
  const WordPieceTokenizer tokenizer(Vocabulary::load(vocab), WordPieceOptions{lower_case});
  for (const auto& text : texts) {
    nlohmann::json j;
    j["ids"] = tokenizer.encode(text, max_length).ids;
    std::cout << j.dump() << "\n";
  }
  return 0;
}

}  // namespace moecollab::cli
