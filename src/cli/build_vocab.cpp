// `moecollab build-vocab`: a WordPiece vocab.txt from the domains' training
// text, in one process, or federated under mpirun (--federated): rank r counts
// the words of domain r only, the counts are summed, and every rank builds the
// same vocabulary (equal to the one-process build on the pooled text).
#include <iostream>

#include "collective.h"
#include "commands.h"
#include "moecollab/comm/agreement.h"
#include "moecollab/comm/mpi_communicator.h"
#include "moecollab/data/vocab_builder.h"
#include "run_options.h"

namespace moecollab::cli {
namespace {

// Words of the domains' training splits (and unlabelled texts); val/test stay unseen.
WordCounts count_training_words(const VocabCommandOptions& v, const std::vector<std::string>& paths) {
  std::vector<std::string> texts;
  for (const auto& path : paths) {
    const auto domain = load_domain(path, v.data.split_seed);
    for (const auto& ex : domain.train) texts.push_back(ex.text);
    if (v.unlabelled) texts.insert(texts.end(), domain.unlabelled.begin(), domain.unlabelled.end());
  }
  return count_words(texts, v.build.lower_case);
}

}  // namespace

int build_vocab_main(int argc, char** argv) {
  VocabCommandOptions v;
  auto& data = v.data;
  auto& build = v.build;
  const auto& out = v.out;
  po::options_description options("build-vocab");
  add_build_vocab_options(options, v);
  po::variables_map vm;
  if (!parse_options(argc, argv, "usage: moecollab build-vocab --domain DIR... --out vocab.txt [options]", options,
                     vm)) {
    return 0;
  }
  if (!v.federated) {
    const auto vocab = build_vocabulary_from_counts(count_training_words(v, data.domains), build);
    vocab.save(out);
    std::cout << "build-vocab: " << vocab.size() << " tokens -> " << out << "\n";
    return 0;
  }
  MpiCommunicator comm(&argc, &argv);
  return run_collectively(comm, "build-vocab", [&] {
    require_one_rank_per_domain("build-vocab --federated", data.domains, comm);
    WordCounts own;
    run_on_every_rank(comm,
                      [&] { own = count_training_words(v, {data.domains[static_cast<std::size_t>(comm.rank())]}); });
    std::vector<WordCounts> parts;
    for (const auto& text : comm.allgather_strings(serialize_word_counts(own)))
      parts.push_back(parse_word_counts(text));
    // Every rank holds the merged counts (only counts crossed ranks); rank 0 alone runs the
    // merges and writes the file: the others' identical builds would only share its cores
    // (4 ranks on the demo's 2 cores: 42 s instead of about 20).
    run_on_every_rank(comm, [&] {
      if (comm.rank() != 0) return;
      const auto vocab = build_vocabulary_from_counts(merge_word_counts(parts), build);
      vocab.save(out);
      std::cout << "build-vocab: " << vocab.size() << " tokens from " << comm.size()
                << " ranks' word counts (no text left its rank) -> " << out << "\n";
    });
    return 0;
  });
}

}  // namespace moecollab::cli
