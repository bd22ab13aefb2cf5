// `moecollab build-vocab`: a WordPiece vocab.txt from the domains' training text.
#include <iostream>

#include "commands.h"
#include "moecollab/data/vocab_builder.h"
#include "run_options.h"

namespace moecollab::cli {

int build_vocab_main(int argc, char** argv) {
  DataOptions data;
  VocabBuildOptions build;
  std::string out;
  po::options_description options("build-vocab");
  options.add_options()
      ("domain", po::value(&data.domains)->composing()->required(), "a domain directory or file; repeat per domain")
      ("out,o", po::value(&out)->required(), "where to write vocab.txt (written atomically)")
      ("max-size", po::value(&build.max_size)->default_value(build.max_size), "tokens in the vocabulary at most")
      ("min-count", po::value(&build.min_count)->default_value(build.min_count),
       "a whole word needs this many occurrences to get its own token")
      ("lower-case", po::value(&build.lower_case)->default_value(build.lower_case), "lower-case and strip accents")
      ("split-seed", po::value(&data.split_seed)->default_value(data.split_seed), "seed splitting single-file domains");
  po::variables_map vm;
  if (!parse_options(argc, argv, "usage: moecollab build-vocab --domain DIR... --out vocab.txt [options]", options, vm,
                     /*ignore_unknown_config_keys=*/true)) {
    return 0;
  }
  std::vector<std::string> texts;
  for (const auto& d : load_domains(data)) {
    for (const auto& ex : d.train) texts.push_back(ex.text);  // training text only: val/test stay unseen
  }
  const auto vocab = build_vocabulary(texts, build);
  vocab.save(out);
  std::cout << "build-vocab: " << vocab.size() << " tokens from " << texts.size() << " training texts -> " << out
            << "\n";
  return 0;
}

}  // namespace moecollab::cli
