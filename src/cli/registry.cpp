// `moecollab registry add|list|check|remove --registry DIR ...`: the
// directory of expert packages a mixture draws from (io/registry.h).
#include <torch/torch.h>

#include <iostream>

#include "commands.h"
#include "moecollab/io/checkpoint.h"
#include "moecollab/io/expert_package.h"
#include "moecollab/io/registry.h"
#include "moecollab/util/error.h"
#include "options.h"

namespace moecollab::cli {

int registry_main(int argc, char** argv) {
  std::string action, dir, model;
  std::vector<std::string> args;
  po::options_description options("registry");
  options.add_options()("registry", po::value(&dir)->required(), "the registry directory (add creates it)")(
      "model", po::value(&model), "check: the trained mixture's checkpoint the packages must fit");
  po::options_description hidden;  // filled by the positional words
  hidden.add_options()("action", po::value(&action), "add, list, check or remove")(
      "args", po::value(&args)->composing(), "add: package files; remove: DOMAIN@VERSION; check: DOMAIN[@VERSION]");
  po::positional_options_description positional;
  positional.add("action", 1).add("args", -1);
  po::variables_map vm;
  if (!parse_options(argc, argv,
                     "usage: moecollab registry add --registry DIR PKG.h5 ...\n"
                     "       moecollab registry list --registry DIR\n"
                     "       moecollab registry check --registry DIR --model CKPT [DOMAIN[@VERSION] ...]\n"
                     "       moecollab registry remove --registry DIR DOMAIN@VERSION\n"
                     "check without DOMAIN[@VERSION] checks every package.",
                     options, vm, &positional, &hidden)) {
    return 0;
  }
  if (action.empty()) throw Error("registry: give an action: add, list, check or remove (see --help)");
  if (action == "add") {
    if (args.empty()) throw Error("registry add: give one or more package files");
    Registry registry(dir, /*create=*/true);
    for (const auto& path : args) {
      const auto entry = registry.add(path);
      std::cout << "added " << entry.domain << "@" << entry.version << " -> " << registry.path_of(entry) << "\n";
    }
    return 0;
  }
  const Registry registry(dir);
  if (action == "list") {
    std::printf("%-12s %-9s %-16s %-16s %-20s %s\n", "domain", "version", "content hash", "encoder", "added",
                "contributor");
    for (const auto& e : registry.entries()) {
      std::printf("%-12s %-9s %-16s %-16s %-20s %s\n", e.domain.c_str(), e.version.c_str(), e.content_hash.c_str(),
                  e.encoder_fingerprint.c_str(), e.added.c_str(), e.contributor.c_str());
    }
    return 0;
  }
  if (action == "remove") {
    if (args.size() != 1) throw Error("registry remove: give exactly one DOMAIN@VERSION");
    Registry writable(dir);
    writable.remove(args.front());
    std::cout << "removed " << args.front() << "\n";
    return 0;
  }
  if (action != "check") throw Error("registry: unknown action '" + action + "' (add, list, check, remove)");
  if (model.empty()) throw Error("registry check: give --model CKPT, the mixture the packages must fit");
  const auto base = load_checkpoint(model);
  if (!base.state.encoder.empty()) {
    throw Error(model +
                ": the model fine-tuned its encoder (--encoder-train); registry packages, trained on the "
                "frozen shared encoder, cannot fit it");
  }
  CompatibilityTarget target;
  target.what = "model " + model;
  target.encoder_fingerprint = base.info.encoder_fingerprint;
  target.vocabulary_fingerprint = base.info.vocabulary_fingerprint;
  target.hidden = base.info.model.encoder.hidden;
  target.adapter = base.info.model.adapter;
  std::vector<const RegistryEntry*> chosen;
  if (args.empty()) {
    for (const auto& e : registry.entries()) chosen.push_back(&e);
  }
  for (const auto& spec : args) chosen.push_back(&registry.find(spec));
  int bad = 0;
  for (const auto* e : chosen) {
    const auto path = registry.path_of(*e);
    const auto package = load_expert_package(path);
    auto problems = compatibility_problems(package, path, target);
    if (e->content_hash != package.manifest.content_hash) {
      problems.push_back(path + ": content_hash: index.json says " + e->content_hash + ", the package says " +
                         package.manifest.content_hash);
    }
    std::cout << e->domain << "@" << e->version << ": " << (problems.empty() ? "compatible" : "INCOMPATIBLE") << "\n";
    for (const auto& p : problems) std::cout << "  " << p << "\n";
    bad += problems.empty() ? 0 : 1;
  }
  if (bad > 0) throw Error(std::to_string(bad) + " of " + std::to_string(chosen.size()) + " packages incompatible");
  return 0;
}

}  // namespace moecollab::cli
