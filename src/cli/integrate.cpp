// `moecollab integrate`: a trained mixture takes in contributed experts.
//   mpirun -np E' moecollab integrate --model CKPT --add PKG [--replace PKG] [--remove DOMAIN] --config run.ini
// The run config lists the new mixture's domains in order (the model's, less
// removed ones, then added ones); each rank loads its domain's data. Kept
// experts come from the model, added and replaced ones from their packages;
// the gate keeps its rows for kept experts and grows a small row per new one.
// Then the usual federated rounds train the gate (and, with --joint, the experts).
#include <torch/torch.h>

#include <algorithm>
#include <iostream>
#include <sstream>

#include "collective.h"
#include "commands.h"
#include "contribution_steps.h"
#include "moecollab/io/checkpoint.h"
#include "moecollab/io/contribution.h"
#include "moecollab/io/registry.h"
#include "moecollab/util/error.h"
#include "moecollab/util/hash.h"
#include "moecollab/util/strings.h"
#include "printing.h"

namespace moecollab::cli {
namespace {

struct LoadedPackage {
  std::string path;
  ExpertPackage package;
};

std::string describe(const LoadedPackage& p) {
  const auto& m = p.package.manifest;
  return m.domain + "@" + m.version + " (" + p.path + ", hash " + m.content_hash +
         (m.contributor.empty() ? "" : ", by " + m.contributor) + ")";
}

// The running trainer as the target a package must fit.
CompatibilityTarget target_of(FederatedTrainer& trainer, const RunOptions& run, const std::string& what,
                              const std::string& vocabulary_fingerprint) {
  CompatibilityTarget target;
  target.what = what;
  target.encoder_fingerprint = hex64(trainer.encoder_fingerprint());
  target.vocabulary_fingerprint = vocabulary_fingerprint;
  target.hidden = trainer.encoder()->config().hidden;
  target.adapter = run.train.adapter;
  return target;
}

void require_compatible(const LoadedPackage& p, const CompatibilityTarget& target) {
  const auto problems = compatibility_problems(p.package, p.path, target);
  if (problems.empty()) return;
  std::string text = "incompatible expert package:";
  for (const auto& line : problems) text += "\n  " + line;
  throw Error(text);
}

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, sep);) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

}  // namespace

std::string start_from_registry(FederatedTrainer& trainer, Communicator& comm, const RunOptions& run,
                                const std::string& vocabulary_fingerprint, const std::string& registry_dir,
                                const std::string& spec) {
  if (spec.rfind("registry:", 0) != 0)
    throw Error("--experts: expected registry:DOMAIN@VERSION,..., got '" + spec + "'");
  if (registry_dir.empty()) throw Error("--experts registry:... needs --registry DIR");
  const Registry registry(registry_dir);
  const auto items = split(spec.substr(9), ',');
  const auto& domains = trainer.domain_names();
  if (items.size() != domains.size()) {
    throw Error("--experts names " + std::to_string(items.size()) + " packages for " + std::to_string(domains.size()) +
                " domains (" + join(domains) + "); give one per domain, in rank order");
  }
  const auto rank = static_cast<std::size_t>(comm.rank());
  const auto& entry = registry.find(items[rank]);
  LoadedPackage own{registry.path_of(entry), load_expert_package(registry.path_of(entry))};
  require_compatible(own, target_of(trainer, run, "this run", vocabulary_fingerprint));
  ExpertState expert;
  expert.domain = domains[rank];
  expert.labels = trainer.domain_labels()[rank];
  install_package(expert, own.package, own.path);
  load_parameters(*trainer.expert(), expert.tensors, own.path);
  return "started from registry " + registry_dir + ": " + spec.substr(9);
}

int integrate_main(int argc, char** argv) {
  MpiCommunicator comm(&argc, &argv);
  FederatedCommand integrate{
      "integrate",
      "usage: mpirun -np E' moecollab integrate --model CKPT [--add PKG ...] [--replace PKG ...] [--remove DOMAIN "
      "...]\n"
      "                                   --config run.ini [options]\n"
      "Adds, replaces or removes experts of a trained mixture, then trains the gate in federated rounds (use\n"
      "--local-steps 0 to keep the experts as they are). The config's domains, one per rank, are the new mixture's:\n"
      "the model's (less removed ones, replaced ones in place), then the added ones, in --add order."};
  auto model = std::make_shared<std::string>();
  auto add = std::make_shared<std::vector<std::string>>(), replace = std::make_shared<std::vector<std::string>>(),
       remove = std::make_shared<std::vector<std::string>>();
  integrate.add_options = [=](po::options_description& options) {
    options.add_options()("model", po::value(model.get())->required(),
                          "the trained mixture's checkpoint (RUN_DIR/checkpoints/round-N.h5)")(
        "add", po::value(add.get())->composing(), "an expert package to add as a new expert (repeatable)")(
        "replace", po::value(replace.get())->composing(),
        "an expert package replacing the model's expert of the same domain, e.g. a newer version (repeatable)")(
        "remove", po::value(remove.get())->composing(), "a domain whose expert (and gate row) leaves (repeatable)");
  };
  integrate.evaluate_before = true;
  integrate.prepare = [=](FederatedTrainer& trainer, Communicator& comm, const RunOptions& run,
                          const std::string& vocab) {
    const auto base = load_checkpoint(*model);
    // Packages are trained on the frozen shared encoder; a fine-tuned one is not theirs.
    if (base.info.model.expert_lora.enabled()) {
      throw Error(*model +
                  ": the model's experts adapt the encoder with LoRA (--expert-lora); expert packages "
                  "carry no LoRA, so they cannot join it");
    }
    if (!base.state.encoder.empty()) {
      throw Error(*model +
                  ": the model fine-tuned its encoder (--encoder-train); expert packages are trained on "
                  "the frozen shared encoder, so they cannot join it. Integrate into a model trained with "
                  "--encoder-train none");
    }
    std::vector<std::string> base_domains;
    for (const auto& e : base.state.experts) base_domains.push_back(e.domain);
    // The model must run on the same encoder and vocabulary as this run.
    if (base.info.encoder_fingerprint != hex64(trainer.encoder_fingerprint())) {
      throw Error(*model + ": this run's encoder has fingerprint " + hex64(trainer.encoder_fingerprint()) +
                  ", not the "
                  "model's; " +
                  trained_encoder_hint(base.info));
    }
    if (base.info.vocabulary_fingerprint != vocab) {
      throw Error(*model + ": vocabulary fingerprint " + base.info.vocabulary_fingerprint +
                  ", this run's vocabulary has " + vocab);
    }
    // The new mixture is the model's: the same encoder, sizes and routing (its /model), other domains.
    const auto mismatched = differences(base.info.model, trainer.model_config(), *model, "this run",
                                        {"encoder.", "lower_case", "max_length", "adapter", "expert_lora", "routing"});
    if (!mismatched.empty()) {
      throw Error(
          "this run's model differs from the one it integrates into (give the options the model was "
          "trained with):\n  " +
          join(mismatched, "\n  "));
    }
    const auto target = target_of(trainer, run, "model " + *model, vocab);
    const auto load = [&](const std::vector<std::string>& paths) {
      std::vector<LoadedPackage> out;
      for (const auto& path : paths) {
        out.push_back({path, load_expert_package(path)});
        require_compatible(out.back(), target);
      }
      return out;
    };
    const auto added = load(*add), replaced = load(*replace);
    // The new mixture's domains: the model's less removed ones, then the added ones.
    std::vector<std::string> domains;
    std::string event;
    for (const auto& r : *remove) {
      if (std::find(base_domains.begin(), base_domains.end(), r) == base_domains.end()) {
        throw Error("--remove " + r + ": the model has no expert of that domain (it has " + join(base_domains) + ")");
      }
      event += "removed " + r + "; ";
    }
    for (const auto& d : base_domains) {
      if (std::find(remove->begin(), remove->end(), d) == remove->end()) domains.push_back(d);
    }
    for (const auto& p : replaced) {
      const auto& d = p.package.manifest.domain;
      if (std::find(domains.begin(), domains.end(), d) == domains.end()) {
        throw Error("--replace " + p.path + ": the model has no expert of domain '" + d + "' to replace (it has " +
                    join(base_domains) + ")");
      }
      event += "replaced " + describe(p) + "; ";
    }
    for (const auto& p : added) {
      const auto& d = p.package.manifest.domain;
      if (std::find(domains.begin(), domains.end(), d) != domains.end()) {
        throw Error("--add " + p.path + ": the mixture already has an expert of domain '" + d +
                    "' (use --replace for a new version)");
      }
      domains.push_back(d);
      event += "added " + describe(p) + "; ";
    }
    if (domains != trainer.domain_names()) {
      throw Error("the run's domains (" + join(trainer.domain_names()) +
                  ") must be the new mixture's, in order: " + join(domains) +
                  " (one rank each; a package's domain is the name it was given at `expert train`: "
                  "name a rank's data to match with --domain NAME=PATH)");
    }
    const auto rank = static_cast<std::size_t>(comm.rank());
    const auto& own = domains[rank];
    ExpertState expert;
    expert.domain = own;
    expert.labels = trainer.domain_labels()[rank];
    const LoadedPackage* package = nullptr;
    for (const auto* list : {&added, &replaced}) {
      for (const auto& p : *list) {
        if (p.package.manifest.domain == own) package = &p;
      }
    }
    if (package) {
      install_package(expert, package->package, package->path);
    } else {
      const auto& kept =
          base.state.experts[std::find(base_domains.begin(), base_domains.end(), own) - base_domains.begin()];
      if (kept.labels != expert.labels) {
        throw Error(*model + ": expert '" + own + "' has labels [" + join(kept.labels) + "], the data has [" +
                    join(expert.labels) + "]");
      }
      expert.tensors = kept.tensors;
    }
    load_parameters(*trainer.expert(), expert.tensors, "expert " + own);
    load_parameters(*trainer.gate(), carry_gate(base.state.gate, base_domains, domains, run.train.seed), "gate");
    if (comm.rank() == 0) std::cout << "integrate: " << event << "from model " << *model << std::endl;
    return event + "from model " + *model;
  };
  return run_collectively(comm, "integrate", [&] { return run_federated(comm, argc, argv, integrate); });
}

}  // namespace moecollab::cli
