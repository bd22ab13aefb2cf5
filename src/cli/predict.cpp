// `moecollab predict --checkpoint CKPT (--text "..." | --input FILE)`: serves
// what a run trained, in one process (no MPI): the encoder (rebuilt from the
// checkpoint's options and verified by fingerprint), every expert and the gate.
#include <torch/torch.h>

#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "commands.h"
#include "moecollab/io/checkpoint.h"
#include "moecollab/model/fingerprint.h"
#include "moecollab/train/batch.h"
#include "moecollab/train/mixture.h"
#include "moecollab/util/error.h"
#include "moecollab/util/hash.h"
#include "run_options.h"

namespace moecollab::cli {
namespace {

// The run's options, read back from the checkpoint's config as an INI text.
RunOptions options_of(const Checkpoint& checkpoint) {
  std::stringstream ini;
  for (const auto& [key, value] : checkpoint.info.config) {
    std::stringstream lines(value);  // multi-valued options were stored one value per line
    for (std::string item; std::getline(lines, item);) ini << key << " = " << item << "\n";
  }
  RunOptions run;
  po::options_description options;
  add_run_options(options, run);
  po::variables_map vm;
  po::store(po::parse_config_file(ini, options, true), vm);
  po::notify(vm);
  return run;
}

struct Mixture {
  Encoder encoder{nullptr};
  std::vector<Expert> experts;
  Gate gate{nullptr};
  std::vector<ExpertState> about;  // domain and labels of each expert
};

Mixture load_mixture(const Checkpoint& c, const std::string& path, TrainOptions options, const Vocabulary& vocab) {
  Mixture m;
  options.encoder.vocab_size = static_cast<std::int64_t>(vocab.size());
  m.encoder = make_encoder(options);
  m.encoder->eval();
  const auto fp = hex64(parameter_fingerprint(*m.encoder));
  if (fp != c.info.encoder_fingerprint) {
    throw Error(path + ": the encoder rebuilt from the checkpoint's options has fingerprint " + fp +
                ", the checkpoint was trained with " + c.info.encoder_fingerprint);
  }
  for (std::size_t i = 0; i < c.state.experts.size(); ++i) {
    const auto& e = c.state.experts[i];
    m.experts.push_back(make_expert(options, options.encoder.hidden, static_cast<std::int64_t>(e.labels.size()), i));
    load_parameters(*m.experts.back(), e.tensors, path + ": expert " + std::to_string(i) + " (" + e.domain + ")");
    m.about.push_back({e.domain, e.labels, {}, 0, 0});
  }
  m.gate = make_gate(options, options.encoder.hidden, static_cast<std::int64_t>(m.experts.size()));
  load_parameters(*m.gate, c.state.gate, path + ": gate");
  return m;
}

}  // namespace

int predict_main(int argc, char** argv) {
  std::string checkpoint_path, input, output, domain, vocab_path;
  std::vector<std::string> texts;
  po::options_description options("predict");
  options.add_options()
      ("checkpoint", po::value(&checkpoint_path)->required(), "a checkpoint (RUN_DIR/checkpoints/round-NNNNNN.h5)")
      ("text", po::value(&texts)->composing(), "a text to classify (repeatable)")
      ("input", po::value(&input), "a .jsonl/.csv/.tsv file of texts (a label column, if present, is scored)")
      ("domain", po::value(&domain),
       "answer in this domain's label space; without it, in the label space of the expert the gate weights most")
      ("vocab", po::value(&vocab_path), "the vocab.txt (default: the run's, checked by fingerprint)")
      ("output,o", po::value(&output), "write JSON lines here instead of standard output");
  po::variables_map vm;
  if (!parse_options(argc, argv,
                     "usage: moecollab predict --checkpoint CKPT (--text \"...\" | --input FILE) [--domain NAME]\n"
                     "Prints one JSON line per text: label, class probabilities and gate weights.",
                     options, vm)) {
    return 0;
  }
  if (texts.empty() && input.empty()) throw Error("predict: give --text or --input");
  const auto checkpoint = load_checkpoint(checkpoint_path);
  const auto run = options_of(checkpoint);
  const std::shared_ptr<const Tokenizer> tokenizer =
      vocab_path.empty() ? load_tokenizer(run)
                         : std::make_shared<WordPieceTokenizer>(Vocabulary::load(vocab_path),
                                                                WordPieceOptions{run.data.lower_case});
  const auto& vocab = tokenizer->vocabulary();
  if (hex64(vocab.fingerprint()) != checkpoint.info.vocabulary_fingerprint) {
    throw Error("predict: the vocabulary's fingerprint " + hex64(vocab.fingerprint()) + " differs from the checkpoint's " +
                checkpoint.info.vocabulary_fingerprint + " (use --vocab to point at the run's vocab.txt)");
  }
  auto m = load_mixture(checkpoint, checkpoint_path, run.train, vocab);
  std::int64_t fixed_domain = -1;
  if (vm.count("domain")) {
    for (std::size_t i = 0; i < m.about.size(); ++i) {
      if (m.about[i].domain == domain) fixed_domain = static_cast<std::int64_t>(i);
    }
    if (fixed_domain < 0) throw Error("predict: --domain '" + domain + "' is not one of the checkpoint's domains");
  }

  std::vector<LabelledText> rows;
  for (const auto& t : texts) rows.push_back({t, "", 0});
  if (!input.empty()) {
    for (auto& r : read_labelled_text(input, false)) rows.push_back(std::move(r));
  }
  std::ofstream file;
  if (!output.empty()) {
    file.open(output);
    if (!file) throw Error(output + ": cannot write");
  }
  std::ostream& out = output.empty() ? std::cout : file;
  torch::NoGradGuard no_grad;
  std::size_t scored = 0, correct = 0;
  for (const auto& rows_chunk : DomainShard::chunks(rows.size(), run.train.eval_batch)) {
    TokenizedSplit split;
    for (auto r : rows_chunk) {
      split.encodings.push_back(tokenizer->encode(rows[r].text, run.train.max_length));
      split.labels.push_back(0);
    }
    std::vector<std::size_t> all(rows_chunk.size());
    for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
    const auto batch = gather_batch(split, all, vocab.pad_id());
    const auto mix = mixture_forward(m.experts, m.gate, encode_features(m.encoder, batch), false);
    const auto gate = torch::softmax(mix.gate_logits, 1);
    for (std::size_t i = 0; i < rows_chunk.size(); ++i) {
      const auto row = static_cast<std::int64_t>(i);
      const auto d = fixed_domain >= 0 ? fixed_domain : gate[row].argmax().item<std::int64_t>();
      const auto& about = m.about[static_cast<std::size_t>(d)];
      const auto probs = torch::softmax(mix.mixed[row].narrow(0, 0, static_cast<std::int64_t>(about.labels.size())), 0);
      const auto best = probs.argmax().item<std::int64_t>();
      nlohmann::json j;
      const auto& source = rows[rows_chunk[i]];
      j["text"] = source.text;
      j["domain"] = about.domain;
      j["domain_from"] = fixed_domain >= 0 ? "--domain" : "highest gate weight";
      j["label"] = about.labels[static_cast<std::size_t>(best)];
      for (std::size_t c = 0; c < about.labels.size(); ++c) j["probabilities"][about.labels[c]] = probs[static_cast<std::int64_t>(c)].item<double>();
      for (std::size_t e = 0; e < m.about.size(); ++e) j["gate"][m.about[e].domain] = gate[row][static_cast<std::int64_t>(e)].item<double>();
      if (!source.label.empty()) {
        j["true_label"] = source.label;
        ++scored;
        correct += source.label == j["label"].get<std::string>() ? 1 : 0;
      }
      out << j.dump() << "\n";
    }
  }
  if (scored > 0) {
    std::fprintf(stderr, "predict: accuracy %.6f on %zu labelled texts\n", static_cast<double>(correct) / scored, scored);
  }
  return 0;
}

}  // namespace moecollab::cli
