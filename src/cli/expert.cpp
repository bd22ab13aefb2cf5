// `moecollab expert train|inspect`: a contributor's side of the Contribution
// Management System. `expert train` trains one adapter + head on the
// contributor's private data against the shared encoder, in one process, and
// writes an expert package; `expert inspect` prints a package's manifest.
#include <torch/torch.h>

#include <cstring>
#include <iostream>

#include "commands.h"
#include "moecollab/io/expert_package.h"
#include "moecollab/model/fingerprint.h"
#include "moecollab/train/local_trainer.h"
#include "moecollab/util/error.h"
#include "moecollab/util/hash.h"
#include "printing.h"
#include "run_options.h"

namespace moecollab::cli {
namespace {

int expert_train(int argc, char** argv) {
  RunOptions run;
  run.train.gate_steps = 0;
  std::string name, data, out, contributor;
  std::string version = "1.0.0";
  po::options_description options("expert train");
  options.add_options()(
      "domain", po::value(&name)->required(),
      "the domain's name (what the mixture calls this expert; in `train`/`integrate` the rank holding this data "
      "must give its domain the same name: --domain NAME=PATH, or a directory called NAME)")(
      "data", po::value(&data)->required(), "the private labelled data: a directory (train/val/test) or one file")(
      "version", po::value(&version)->default_value(version), "semantic version of this package (MAJOR.MINOR[.PATCH])")(
      "contributor", po::value(&contributor)->default_value(""), "who made it (name, e-mail, organisation)")(
      "out,o", po::value(&out)->required(), "the package file to write (HDF5, written atomically)");
  add_shared_data_options(options, run.data);
  add_expert_options(options, run.train);
  po::variables_map vm;
  if (!parse_options(argc, argv,
                     "usage: moecollab expert train --domain NAME --data PATH --encoder ... --out PKG.h5 [options]\n"
                     "Trains one expert (adapter + head) on private data against the shared encoder, in one process,\n"
                     "for --rounds x --local-steps steps, and writes an expert package.",
                     options, vm)) {
    return 0;
  }
  check_version_text(version);
  check_domain_name(name, "expert train --domain");
  torch::set_num_threads(threads_for(run.data, 1));
  const auto tokenizer = load_tokenizer(run);
  run.train.cache_progress = print_cache_progress;
  auto domain = load_domain(data, run.data.split_seed);
  if (domain.name != name) {
    std::cout << "expert train: the package's domain is '" << name << "' but its data would be named '" << domain.name
              << "'; wherever it joins a mixture, give that rank --domain " << name << "=" << data << std::endl;
  }
  domain.name = name;
  run.train.gate_steps = 0;
  LocalTrainer trainer(run.train, {domain}, tokenizer);
  warn_feature_cache(trainer.shards().front(), "");
  std::cout << "expert train: " << name << " (" << domain.labels.size() << " labels, " << domain.train.size()
            << " train); "
            << encoder_line(run.train, hex64(parameter_fingerprint(*trainer.encoder())),
                            trainer.encoder()->config().pooling)
            << std::endl;
  for (int r = 0; r < run.train.rounds; ++r) {
    const double loss = trainer.local_phase();
    std::cout << "expert train: round " << r + 1 << "/" << run.train.rounds << " loss " << loss << std::endl;
  }
  const auto report = trainer.evaluate(Split::kVal).front();
  ExpertPackage package;
  auto& m = package.manifest;
  m.domain = name;
  m.version = version;
  m.contributor = contributor;
  m.labels = trainer.shards().front().labels;
  m.model = trainer.model_config();
  m.encoder_fingerprint = hex64(parameter_fingerprint(*trainer.encoder()));
  m.vocabulary_fingerprint = hex64(tokenizer->vocabulary().fingerprint());
  m.metrics = {{"val_accuracy", report.expert.accuracy},
               {"val_macro_f1", report.expert.macro_f1},
               {"train_examples", static_cast<double>(domain.train.size())},
               {"steps", static_cast<double>(run.train.rounds * run.train.local_steps)}};
  const auto state = trainer.export_state();
  for (const auto& [k, t] : state.experts.front().tensors) {
    if (k.rfind("parameters/", 0) == 0) package.tensors[k] = t;
  }
  save_expert_package(out, package);
  std::cout << "expert train: " << name << "@" << version << " val acc " << report.expert.accuracy << " F1 "
            << report.expert.macro_f1 << " -> " << out << std::endl;
  return 0;
}

int expert_inspect(int argc, char** argv) {
  std::string path;
  po::options_description options("expert inspect");
  po::options_description hidden;
  hidden.add_options()("package", po::value(&path), "the package file (the positional argument)");
  po::positional_options_description positional;
  positional.add("package", 1);
  po::variables_map vm;
  if (!parse_options(argc, argv, "usage: moecollab expert inspect PKG.h5", options, vm, &positional, &hidden)) return 0;
  if (path.empty()) throw Error("expert inspect: give the package file: moecollab expert inspect PKG.h5");
  const auto package = load_expert_package(path);
  const auto& m = package.manifest;
  std::cout << path << "\n  domain       " << m.domain << "\n  version      " << m.version << "\n  contributor  "
            << m.contributor << "\n  created      " << m.created << "\n  labels       ";
  for (std::size_t i = 0; i < m.labels.size(); ++i) std::cout << (i ? ", " : "") << m.labels[i];
  std::cout << " (" << m.labels.size() << ")\n  adapter      " << m.model.adapter << "\n  hidden       "
            << m.model.encoder.hidden << "\n  encoder      " << m.encoder_fingerprint << "\n  vocabulary   "
            << m.vocabulary_fingerprint << "\n";
  for (const auto& [k, v] : m.metrics) std::cout << "  metric       " << k << " = " << v << "\n";
  for (const auto& [k, t] : package.tensors) std::cout << "  tensor       " << k << " " << t.sizes() << "\n";
  const auto actual = package_content_hash(package);
  std::cout << "  content hash " << m.content_hash
            << (actual == m.content_hash ? " (verified)" : " (MISMATCH: the content hashes to " + actual + ")") << "\n";
  return actual == m.content_hash ? 0 : 1;
}

}  // namespace

int expert_main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "train") == 0) return expert_train(argc - 1, argv + 1);
  if (argc >= 2 && std::strcmp(argv[1], "inspect") == 0) return expert_inspect(argc - 1, argv + 1);
  std::cerr << "usage: moecollab expert train|inspect [options]   (moecollab expert train --help)\n";
  return 2;
}

}  // namespace moecollab::cli
