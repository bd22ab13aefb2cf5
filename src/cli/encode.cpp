// `moecollab encode --encoder hf:DIR --text "..."`: the encoder's token ids
// and features for texts, as JSON lines — to inspect an encoder, and what the
// parity test compares with an independent Python implementation.
#include <torch/torch.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "moecollab/model/hf_bert.h"
#include "moecollab/train/batch.h"
#include "moecollab/util/error.h"
#include "options.h"

namespace moecollab::cli {

int encode_main(int argc, char** argv) {
  std::string encoder_spec;
  std::vector<std::string> texts;
  std::size_t max_length = 128;
  po::options_description options("encode");
  options.add_options()("encoder", po::value(&encoder_spec)->required(), "hf:DIR, a Hugging Face BERT directory")(
      "text", po::value(&texts)->composing()->required(), "a text to encode (repeatable)")(
      "max-length", po::value(&max_length)->default_value(max_length), "tokens per text incl. [CLS] and [SEP]");
  po::variables_map vm;
  if (!parse_options(argc, argv, "usage: moecollab encode --encoder hf:DIR --text \"...\" [--text ...]", options, vm)) {
    return 0;
  }
  if (encoder_spec.rfind("hf:", 0) != 0) throw Error("--encoder must be hf:DIR");
  const auto directory = read_hf_bert_directory(encoder_spec.substr(3));
  std::vector<std::string> ignored;
  auto encoder = load_hf_bert(directory, &ignored);
  if (!ignored.empty()) {
    std::cerr << "encode: ignored " << ignored.size()
              << " tensors that are not part of the encoder (pooler, MLM head)\n";
  }
  WordPieceTokenizer tokenizer(Vocabulary::load(directory.vocab_path), WordPieceOptions{directory.lower_case});
  torch::NoGradGuard no_grad;
  for (const auto& text : texts) {
    TokenizedSplit split;
    split.encodings.push_back(tokenizer.encode(text, max_length));
    split.labels.push_back(0);
    const auto batch = gather_batch(split, {0}, tokenizer.vocabulary().pad_id());
    const auto features = encoder->forward(batch.ids, batch.mask)[0].to(torch::kFloat64).contiguous();
    nlohmann::json j;
    j["text"] = text;
    j["ids"] = split.encodings[0].ids;
    j["features"] = std::vector<double>(features.data_ptr<double>(), features.data_ptr<double>() + features.numel());
    std::cout << j.dump() << "\n";
  }
  return 0;
}

}  // namespace moecollab::cli
