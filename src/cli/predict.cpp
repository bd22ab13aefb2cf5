// `moecollab predict --checkpoint CKPT (--text "..." | --input FILE)`: serves
// what a run trained, in one process (no MPI): the model its checkpoint's /model
// describes — the encoder (verified by fingerprint), every expert, the gate and its routing.
#include <torch/torch.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "moecollab/io/checkpoint.h"
#include "moecollab/model/fingerprint.h"
#include "moecollab/train/batch.h"
#include "moecollab/train/metrics.h"
#include "moecollab/train/mixture.h"
#include "moecollab/util/error.h"
#include "moecollab/util/files.h"
#include "moecollab/util/hash.h"
#include "run_options.h"

namespace moecollab::cli {
namespace {

// Where to find what a checkpoint was trained with (its encoder or vocabulary): `given`
// on the command line, else the first of the places the checkpoint recorded that exists —
// the absolute path, the path relative to the checkpoint, then the run's option as spelled
// (relative to the working directory). "random" always exists; hf:DIR when DIR is a directory.
std::string locate(const std::string& given, const std::vector<std::string>& recorded, const std::string& what,
                   const std::string& fix) {
  if (!given.empty()) return given;
  std::string tried;
  for (const auto& c : recorded) {
    if (c.empty()) continue;
    const bool hf = c.rfind("hf:", 0) == 0;
    if (hf ? std::filesystem::is_directory(c.substr(3)) : (c == "random" || std::filesystem::is_regular_file(c)))
      return c;
    tried += (tried.empty() ? "" : ", ") + c;
  }
  throw Error("the " + what + " this checkpoint was trained with is not at " + tried + "; " + fix);
}

std::string serving_encoder(const Checkpoint& c, const std::string& given) {
  const auto spelled = c.info.config.count("encoder") ? c.info.config.at("encoder") : std::string("random");
  return locate(given, {c.info.encoder, c.info.encoder_relative, spelled}, "encoder",
                trained_encoder_hint(c.info) + ": give --encoder hf:DIR where it is now");
}

std::string serving_vocabulary(const Checkpoint& c, const std::string& given) {
  const auto spelled = c.info.config.count("vocab") ? c.info.config.at("vocab") : std::string("data/vocab.txt");
  return locate(given, {c.info.vocabulary, c.info.vocabulary_relative, spelled}, "vocabulary",
                "its fingerprint is " + c.info.vocabulary_fingerprint + ": give --vocab PATH where it is now");
}

// 6 significant digits, as a JSON number.
double rounded(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.6g", value);
  return std::strtod(text, nullptr);
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
    const auto used = options.encoder_dir.empty() ? std::string("random") : "hf:" + options.encoder_dir;
    throw Error(path + ": the encoder " + used + " has fingerprint " + fp + ", not the checkpoint's; " +
                trained_encoder_hint(c.info));
  }
  for (std::size_t i = 0; i < c.state.experts.size(); ++i) {
    const auto& e = c.state.experts[i];
    m.experts.push_back(make_expert(options, options.encoder.hidden, static_cast<std::int64_t>(e.labels.size()), i));
    load_parameters(*m.experts.back(), e.tensors, path + ": expert " + std::to_string(i) + " (" + e.domain + ")");
    m.about.emplace_back();
    m.about.back().domain = e.domain;
    m.about.back().labels = e.labels;
  }
  m.gate = make_gate(options, options.encoder.hidden, static_cast<std::int64_t>(m.experts.size()));
  load_parameters(*m.gate, c.state.gate, path + ": gate");
  // A run that fine-tuned the encoder (--encoder-train) stored its weights: serve with them.
  if (!c.state.encoder.empty()) load_parameters(*m.encoder, c.state.encoder, path + ": encoder");
  return m;
}

// True for the labels that do not start with `prefix` (--within-labels); refuses a prefix no label has.
torch::Tensor outside_prefix(const std::vector<std::string>& labels, const std::string& prefix) {
  auto outside = torch::ones({static_cast<std::int64_t>(labels.size())}, torch::kBool);
  bool any = false;
  for (std::size_t c = 0; c < labels.size(); ++c) {
    if (labels[c].rfind(prefix, 0) == 0) outside[static_cast<std::int64_t>(c)] = false, any = true;
  }
  if (!any) throw Error("--within-labels '" + prefix + "': no label of the answering expert starts with it");
  return outside;
}

}  // namespace

int predict_main(int argc, char** argv) {
  std::string checkpoint_path, input, output, domain, vocab_path, encoder_spec, within, scores_path;
  std::vector<std::string> texts;
  po::options_description options("predict");
  options.add_options()("checkpoint", po::value(&checkpoint_path)->required(),
                        "a checkpoint (RUN_DIR/checkpoints/round-NNNNNN.h5)")("text", po::value(&texts)->composing(),
                                                                              "a text to classify (repeatable)")(
      "input", po::value(&input), "a .jsonl/.csv/.tsv file of texts (a label column, if present, is scored)")(
      "domain", po::value(&domain),
      "answer in this domain's label space (as the run's evaluation of that domain does); without it, in the label "
      "space of the expert the gate weights most")(
      "encoder", po::value(&encoder_spec),
      "the encoder, where it is now: random or hf:DIR (default: where the checkpoint says the run's encoder was, "
      "absolute or relative to the checkpoint); checked by fingerprint")(
      "vocab", po::value(&vocab_path),
      "the vocab.txt of a random-encoder run (default: the run's, found as the encoder is); "
      "checked by fingerprint")(
      "within-labels", po::value(&within),
      "answer only among the labels that start with this prefix (a model trained on pooled domains whose labels are "
      "'DOMAIN:LABEL', scored per domain: --within-labels quotes:)")(
      "scores", po::value(&scores_path),
      "write the scores of the labelled texts here as JSON: scored, accuracy, macro_f1 (over the labels answered or "
      "true), unknown (labels outside the space answered in, not counted)")(
      "out,o", po::value(&output), "write the JSON lines here instead of standard output");
  po::variables_map vm;
  if (!parse_options(
          argc, argv,
          "usage: moecollab predict --checkpoint CKPT (--text \"...\" | --input FILE) [--domain NAME]\n"
          "Prints one JSON line per text: label, its probability, the answering expert's gate weight, class\n"
          "probabilities, gate weights (expert order), token count, truncation and the share of [UNK] pieces.",
          options, vm)) {
    return 0;
  }
  if (texts.empty() && input.empty()) throw Error("give --text or --input");
  if (!encoder_spec.empty() && encoder_spec != "random" &&
      (encoder_spec.rfind("hf:", 0) != 0 || encoder_spec.size() < 4)) {
    throw Error("--encoder must be 'random' or 'hf:DIR', not '" + encoder_spec + "'");
  }
  const auto checkpoint = load_checkpoint(checkpoint_path);
  const auto encoder = serving_encoder(checkpoint, encoder_spec);
  // The model as the checkpoint describes it (/model), on the encoder where it is now.
  RunOptions run;
  run.train = train_options_for(checkpoint.info.model, encoder == "random" ? "" : encoder.substr(3));
  run.data.lower_case = checkpoint.info.model.lower_case;
  if (run.train.encoder_dir.empty()) {
    run.data.vocab = serving_vocabulary(checkpoint, vocab_path);
  } else if (!vocab_path.empty()) {
    throw Error("--vocab is for a random-encoder run; the encoder " + encoder + " brings its own vocab.txt");
  }
  const auto tokenizer = load_tokenizer(run);
  if (tokenizer->lower_case() != checkpoint.info.model.lower_case) {
    throw Error(encoder + ": its tokenizer's do_lower_case differs from the checkpoint's /model@lower_case");
  }
  const auto& vocab = tokenizer->vocabulary();
  if (hex64(vocab.fingerprint()) != checkpoint.info.vocabulary_fingerprint) {
    throw Error("the vocabulary's fingerprint " + hex64(vocab.fingerprint()) + " differs from the checkpoint's " +
                checkpoint.info.vocabulary_fingerprint + " (use --vocab, or --encoder, to point at the run's)");
  }
  auto m = load_mixture(checkpoint, checkpoint_path, run.train, vocab);
  std::int64_t fixed_domain = -1;
  if (vm.count("domain")) {
    std::string names;
    for (std::size_t i = 0; i < m.about.size(); ++i) {
      if (m.about[i].domain == domain) fixed_domain = static_cast<std::int64_t>(i);
      names += (i ? ", " : "") + m.about[i].domain;
    }
    if (fixed_domain < 0) throw Error("--domain '" + domain + "' is not one of the checkpoint's domains: " + names);
  }

  // --text and --input rows alike: an empty text is classified (its line says "tokens": 0), never refused in one
  // place and accepted in the other.
  std::vector<LabelledText> rows;
  for (const auto& t : texts) rows.push_back({t, "", 0});
  if (!input.empty()) {
    for (auto& r : read_labelled_text(input, /*require_label=*/false)) rows.push_back(std::move(r));
  }
  std::ofstream file;
  if (!output.empty()) {
    file.open(output);
    if (!file) throw Error(output + ": cannot write");
  }
  std::ostream& out = output.empty() ? std::cout : file;
  torch::NoGradGuard no_grad;
  struct Score {
    std::size_t scored = 0, correct = 0, unknown = 0;
  };
  std::map<std::string, Score> by_domain;  // by the answering domain
  Score all;
  std::map<std::string, std::int64_t> label_ids;  // every label answered or true, for macro-F1
  std::vector<std::int64_t> predicted, truth;
  const auto max_length = run.train.max_length;
  const Router router(run.train.routing);
  std::map<std::int64_t, torch::Tensor> outside;  // --within-labels: per answering expert, made when first needed
  for (const auto& rows_chunk : DomainShard::chunks(rows.size(), run.train.eval_batch)) {
    TokenizedSplit split;
    std::vector<bool> truncated;
    std::vector<double> unk_share;
    std::vector<std::size_t> pieces;
    for (auto r : rows_chunk) {
      // One id more than the model takes shows whether the text was cut.
      const auto whole = tokenizer->encode(rows[r].text, max_length + 1);
      const std::size_t n = whole.ids.size() - 2;  // without [CLS] and [SEP]
      std::size_t unk = 0;
      for (std::size_t i = 1; i + 1 < whole.ids.size(); ++i) unk += whole.ids[i] == vocab.unk_id() ? 1 : 0;
      truncated.push_back(whole.ids.size() > max_length);
      unk_share.push_back(n ? static_cast<double>(unk) / static_cast<double>(n) : 0.0);
      pieces.push_back(n);
      split.encodings.push_back(tokenizer->encode(rows[r].text, max_length));
      split.labels.push_back(0);
    }
    std::vector<std::size_t> all_rows(rows_chunk.size());
    for (std::size_t i = 0; i < all_rows.size(); ++i) all_rows[i] = i;
    const auto batch = gather_batch(split, all_rows, vocab.pad_id());
    // Routed as the run was trained and evaluated (dense, or each row's top-k experts).
    const auto mix =
        mixture_forward(m.experts, m.gate, encode_views(m.encoder, m.experts, batch, false), false, router);
    const auto gate = torch::softmax(mix.gate_logits, 1);
    for (std::size_t i = 0; i < rows_chunk.size(); ++i) {
      const auto row = static_cast<std::int64_t>(i);
      const auto d = fixed_domain >= 0 ? fixed_domain : gate[row].argmax().item<std::int64_t>();
      const auto& about = m.about[static_cast<std::size_t>(d)];
      auto logits = mix.mixed[row].narrow(0, 0, static_cast<std::int64_t>(about.labels.size()));
      if (!within.empty()) {
        auto mask = outside.find(d);
        if (mask == outside.end()) mask = outside.emplace(d, outside_prefix(about.labels, within)).first;
        logits = logits.masked_fill(mask->second, -INFINITY);
      }
      const auto probs = torch::softmax(logits, 0);
      const auto best = probs.argmax().item<std::int64_t>();
      nlohmann::ordered_json j;
      const auto& source = rows[rows_chunk[i]];
      j["text"] = source.text;
      j["domain"] = about.domain;
      j["domain_from"] = fixed_domain >= 0 ? "--domain" : "highest gate weight";
      j["label"] = about.labels[static_cast<std::size_t>(best)];
      j["probability"] = rounded(probs[best].item<double>());
      j["gate_weight"] = rounded(gate[row][d].item<double>());
      j["tokens"] = pieces[i];
      j["truncated"] = static_cast<bool>(truncated[i]);
      j["unk_fraction"] = rounded(unk_share[i]);
      for (std::size_t c = 0; c < about.labels.size(); ++c) {
        j["probabilities"][about.labels[c]] = rounded(probs[static_cast<std::int64_t>(c)].item<double>());
      }
      for (std::size_t e = 0; e < m.about.size(); ++e) {
        j["gate"][m.about[e].domain] = rounded(gate[row][static_cast<std::int64_t>(e)].item<double>());
      }
      if (!source.label.empty()) {
        j["true_label"] = source.label;
        const auto& labels = about.labels;
        const bool known = std::find(labels.begin(), labels.end(), source.label) != labels.end();
        j["label_known"] = known;
        auto& score = by_domain[about.domain];
        for (auto* s : {&score, &all}) {
          if (!known) {
            ++s->unknown;
            continue;
          }
          ++s->scored;
          s->correct += source.label == j["label"].get<std::string>() ? 1 : 0;
        }
        if (known) {
          predicted.push_back(label_ids.emplace(j["label"].get<std::string>(), label_ids.size()).first->second);
          truth.push_back(label_ids.emplace(source.label, label_ids.size()).first->second);
        }
      }
      out << j.dump() << "\n";
    }
  }
  const auto accuracy = [](const Score& s) { return s.scored ? static_cast<double>(s.correct) / s.scored : 0.0; };
  if (all.scored > 0) {
    std::fprintf(
        stderr, "predict: accuracy %.6f on %zu labelled texts, %s\n", accuracy(all), all.scored,
        fixed_domain >= 0
            ? ("each answered in " + domain + "'s label space, as the run's evaluation of " + domain + " is").c_str()
            : "each answered in the label space of the expert the gate weights most (the run's "
              "evaluation answers each text in its own domain's labels: --domain NAME gives that)");
    if (fixed_domain < 0) {
      for (const auto& expert : m.about) {  // in expert order
        if (!by_domain.count(expert.domain)) continue;
        const auto& name = expert.domain;
        const auto& s = by_domain.at(name);
        std::fprintf(stderr,
                     "predict:   answered as %s: %zu texts; accuracy %.6f on the %zu whose label is one of %s's\n",
                     name.c_str(), s.scored + s.unknown, accuracy(s), s.scored, name.c_str());
      }
    }
  }
  if (!scores_path.empty()) {
    const auto metrics = classification_metrics(predicted, truth, label_ids.size());
    nlohmann::ordered_json scores{{"scored", all.scored},
                                  {"accuracy", metrics.accuracy},
                                  {"macro_f1", metrics.macro_f1},
                                  {"unknown", all.unknown}};
    write_file_atomically(scores_path, [&scores](std::ostream& f) { f << scores.dump(2) << "\n"; });
  }
  if (all.unknown > 0) {
    std::fprintf(stderr,
                 "predict: %zu labelled texts have a label outside the label space they were answered in (not counted; "
                 "\"label_known\": false in their lines)\n",
                 all.unknown);
  }
  return 0;
}

}  // namespace moecollab::cli
