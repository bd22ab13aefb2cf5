// `moecollab train`: the federated run, one MPI rank per domain:
//   mpirun -np E moecollab train --config run.ini
// Rank r loads only domain r (the r-th --domain); its text never leaves it.
#include <torch/torch.h>

#include <iostream>

#include "commands.h"
#include "moecollab/comm/agreement.h"
#include "moecollab/comm/backend.h"
#include "moecollab/comm/mpi_communicator.h"
#include "moecollab/train/federated_trainer.h"
#include "moecollab/util/hash.h"
#include "collective.h"
#include "run_loop.h"

namespace moecollab::cli {
namespace {

int run(MpiCommunicator& mpi, int argc, char** argv) {
  RunOptions run;
  std::string backend = "auto";
  po::options_description options("train");
  add_run_options(options, run);
  add_backend_option(options, backend);
  po::variables_map vm;
  if (!parse_options(argc, argv,
                     "usage: mpirun -np E moecollab train --domain DIR [--domain DIR ...] [--config run.ini] [options]\n"
                     "Federated training: rank r owns expert r and domain r (the r-th --domain); E = number of domains.",
                     options, vm)) {
    return 0;
  }
  // Same options on every rank, so every rank reaches the same verdict here.
  require_one_rank_per_domain("train", run.data.domains, mpi);
  torch::set_num_threads(threads_for(run.data, mpi.local_size()));
  const auto nccl = select_backend(backend, mpi);
  Communicator& comm = nccl ? *nccl : static_cast<Communicator&>(mpi);

  const auto rank = static_cast<std::size_t>(comm.rank());
  std::shared_ptr<const Tokenizer> tokenizer;
  Domain own;
  run_on_every_rank(comm, [&] {
    tokenizer = load_tokenizer(run);
    own = load_domain(run.data.domains[rank], run.data.split_seed);
  });
  FederatedTrainer trainer(run.train, own, tokenizer, comm);
  const bool root = comm.rank() == 0;
  if (root) {
    std::cout << "train: " << comm.size() << " ranks, backend " << comm.backend() << ", "
              << torch::get_num_threads() << " threads per rank; domains:";
    for (std::size_t r = 0; r < trainer.domain_names().size(); ++r) {
      std::cout << " " << trainer.domain_names()[r] << " (" << trainer.class_counts()[r] << " labels)";
    }
    std::cout << "; vocab " << tokenizer->vocabulary().size() << "; "
              << (run.train.feature_cache ? "feature cache " + seconds_text(trainer.shard().cache_seconds) + " (rank 0)"
                                          : std::string("no feature cache"))
              << std::endl;
  }
  RunContext context;
  context.root = root;
  context.on_every_rank = [&comm](const std::function<void()>& step) { run_on_every_rank(comm, step); };
  context.info = {hex64(trainer.encoder_fingerprint()), hex64(tokenizer->vocabulary().fingerprint()),
                  describe_options(vm)};
  context.header = {context.info.config, git_revision(), comm.size(), static_cast<std::int64_t>(run.train.seed),
                    context.info.encoder_fingerprint, context.info.vocabulary_fingerprint, trainer.domain_names(),
                    trainer.domain_labels()};
  context.header.routing_samples = run.train.log_routing;
  run_training(trainer, run, context);
  return 0;
}

}  // namespace

int train_main(int argc, char** argv) {
  MpiCommunicator comm(&argc, &argv);
  return run_collectively(comm, "train", [&] { return run(comm, argc, argv); });
}

}  // namespace moecollab::cli
