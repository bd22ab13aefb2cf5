// `moecollab SUBCOMMAND [options]`: dispatches to one file per subcommand and
// turns any Error into one message on stderr and exit code 1.
#include <malloc.h>

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>

#include "commands.h"
#include "moecollab/util/error.h"
#include "run_options.h"

namespace {

struct Command {
  const char* name;
  int (*run)(int, char**);
  const char* summary;
};

const Command kCommands[] = {
    {"build-vocab", moecollab::cli::build_vocab_main, "build a WordPiece vocab.txt from domains' training text"},
    {"train", moecollab::cli::train_main,
     "federated training under mpirun, one rank per domain (mpirun -np E moecollab train ...)"},
    {"encode", moecollab::cli::encode_main, "token ids and encoder features of texts (JSON lines)"},
    {"tokenize", moecollab::cli::tokenize_main, "WordPiece token ids of texts with a vocabulary (JSON lines)"},
    {"pretrain", moecollab::cli::pretrain_main,
     "federated masked-LM pre-training of the shared encoder under mpirun (FedSGD or FedAvg)"},
    {"predict", moecollab::cli::predict_main, "classify texts with a trained checkpoint (no MPI needed)"},
    {"report", moecollab::cli::report_main, "print a run log (RUN_DIR/log.h5) as a table or CSV"},
    {"expert", moecollab::cli::expert_main,
     "a contributor's expert: 'expert train' writes a package (one process), 'expert inspect' prints one"},
    {"registry", moecollab::cli::registry_main, "expert packages in a registry directory: add, list, check, remove"},
    {"integrate", moecollab::cli::integrate_main,
     "add, replace or remove experts of a trained mixture, then train the gate (mpirun, one rank per domain)"},
    {"sweep-point", moecollab::cli::sweep_point_main,
     "one job-array task's (lambda1, lambda2, seed) of a sweep grid, as shell assignments (slurm/)"},
    {"sweep-summary", moecollab::cli::sweep_summary_main,
     "every run of a sweep grid: final metrics as a table, summary.csv and summary.h5"},
    {"exchange-bytes", moecollab::cli::exchange_bytes_main,
     "bytes per round of --exchange features and experts by the formula, at the sizes given (JSON)"},
    {"baseline", moecollab::cli::baseline_main,
     "bag-of-words baselines per domain (naive Bayes, logistic regression) on the mixture's splits"},
    {"train-local", moecollab::cli::train_local_main,
     "train all experts and the gate in one process (the single-process reference)"},
};

void print_usage(std::ostream& out) {
  out << "MoECollab: collaborative Mixture-of-Experts training (arXiv 2503.12592)\n\n"
         "usage: moecollab SUBCOMMAND [options]     (moecollab SUBCOMMAND --help for its options)\n"
         "       moecollab --version\n\n"
         "subcommands:\n";
  for (const auto& c : kCommands)
    out << "  " << c.name << std::string(14 - std::strlen(c.name), ' ') << c.summary << "\n";
}

// glibc hands every block over 128 KiB back to the kernel when freed (mmap/munmap)
// and trims the heap's top: a training step's tensors (activations, a [masked
// tokens x vocabulary] score matrix, gradients) are then page-faulted in afresh at
// every step, 12% of a pre-training profile. Keeping freed blocks up to 32 MiB
// (glibc's largest mmap threshold) in the heap makes the next step reuse them:
// faster pre-training steps (docs/performance.md). MOECOLLAB_MALLOC=glibc keeps
// glibc's defaults, to measure the difference.
void keep_freed_blocks() {
  if (const char* m = std::getenv("MOECOLLAB_MALLOC"); m && std::strcmp(m, "glibc") == 0) return;
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
}

}  // namespace

int main(int argc, char** argv) {
  keep_freed_blocks();
  if (argc >= 2 && std::strcmp(argv[1], "--version") == 0) {
    std::cout << "moecollab " << moecollab::cli::version_text() << "\n";
    return 0;
  }
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
    print_usage(std::cout);
    return argc < 2 ? 2 : 0;
  }
  for (const auto& c : kCommands) {
    if (std::strcmp(argv[1], c.name) != 0) continue;
    try {
      return c.run(argc - 1, argv + 1);
    } catch (const moecollab::Error& e) {
      std::cerr << "moecollab " << c.name << ": error: " << e.what() << "\n";
      return 1;
    } catch (const std::exception& e) {
      std::cerr << "moecollab " << c.name << ": internal error: " << e.what() << "\n";
      return 1;
    }
  }
  std::cerr << "moecollab: unknown subcommand '" << argv[1] << "'\n\n";
  print_usage(std::cerr);
  return 2;
}
