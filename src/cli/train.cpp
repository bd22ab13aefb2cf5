// `moecollab train`: the federated run, one MPI rank per domain:
//   mpirun -np E moecollab train --config run.ini
// Rank r loads only domain r (the r-th --domain); its text never leaves it.
#include <torch/torch.h>

#include <cstdlib>
#include <iostream>
#include <optional>

#include "collective.h"
#include "commands.h"
#include "contribution_steps.h"
#include "federated_command.h"
#include "moecollab/comm/agreement.h"
#include "moecollab/comm/backend.h"
#include "moecollab/comm/fault_injection.h"
#include "moecollab/comm/mpi_communicator.h"
#include "moecollab/comm/secure_aggregation.h"
#include "moecollab/comm/watchdog.h"
#include "moecollab/train/exchange.h"
#include "moecollab/train/federated_trainer.h"
#include "moecollab/util/hash.h"
#include "printing.h"
#include "run_loop.h"

namespace moecollab::cli {

int run_federated(MpiCommunicator& mpi, int argc, char** argv, const FederatedCommand& command) {
  RunOptions run;
  CollectiveOptions collective;
  po::options_description options(command.name);
  add_run_options(options, run);
  add_collective_options(options, collective);
  add_privacy_options(options, run.train.dp);
  command.add_options(options);
  po::variables_map vm;
  if (!parse_options_agreed(argc, argv, command.usage, options, vm)) return 0;
  start_collective_watchdog(collective.timeout_seconds, mpi.rank());
  // Same options on every rank, so every rank reaches the same verdict here.
  require_one_rank_per_domain(command.name, run.data.domains, mpi);
  torch::set_num_threads(threads_for(run.data, mpi.local_size()));
  apply_precision(run);
  if (collective.secure_aggregation && run.train.exchange != ExchangeMode::kExperts) {
    // Same options on every rank, so every rank reaches the same verdict here.
    throw AgreedError(
        "--secure-aggregation needs --exchange experts: with --exchange " + describe(run.train.exchange) +
        " every rank's per-text features and logits may reach every other rank in the clear, which masking the "
        "sums of gradients cannot hide (docs/threat-model.md)");
  }
  // DP noise split over the ranks where secure aggregation hides each rank's own sum.
  run.train.dp.distributed = collective.secure_aggregation;
  const auto nccl = select_backend(collective.backend, mpi);
  Communicator& transport = nccl ? *nccl : static_cast<Communicator&>(mpi);
  // The fault suite's faults (tests/faults/): MOECOLLAB_FAULT=KIND:RANK:OP:CALL wraps the
  // communicator the run uses (comm/fault_injection.h); unset, nothing is wrapped.
  std::optional<FaultInjectingCommunicator> faulty;
  if (const char* spec = std::getenv("MOECOLLAB_FAULT")) {
    try {
      faulty.emplace(transport, parse_fault(spec));
    } catch (const Error& e) {
      throw AgreedError(std::string("MOECOLLAB_FAULT: ") + e.what());  // every rank has the same environment
    }
  }
  Communicator& wire = faulty ? static_cast<Communicator&>(*faulty) : transport;
  // --secure-aggregation: every floating-point sum over ranks is masked (comm/secure_aggregation.h).
  std::optional<SecureAggregationCommunicator> secure;
  if (collective.secure_aggregation) secure.emplace(wire);
  Communicator& comm = secure ? static_cast<Communicator&>(*secure) : wire;

  const auto rank = static_cast<std::size_t>(comm.rank());
  std::shared_ptr<const Tokenizer> tokenizer;
  Domain own;
  run_on_every_rank(comm, [&] {
    check_run_dir(run.artifacts, mpi.rank() == 0);
    tokenizer = load_tokenizer(run);
    own = load_domain(run.data.domains[rank], run.data.split_seed);
  });
  if (comm.rank() == 0) {
    run.train.cache_progress = print_cache_progress;  // rank 0's own domain
    run.train.warning = [](const std::string& what) { std::cerr << "warning: " << what << std::endl; };
  }
  FederatedTrainer trainer(run.train, own, tokenizer, comm);
  warn_feature_cache(trainer.shard(), "rank " + std::to_string(comm.rank()) + ": ");
  const bool root = comm.rank() == 0;
  if (root) {
    std::cout << command.name << ": " << comm.size() << " ranks, backend " << comm.backend() << ", "
              << torch::get_num_threads() << " threads per rank (" << waiting_text(mpi) << "); domains:";
    for (std::size_t r = 0; r < trainer.domain_names().size(); ++r) {
      std::cout << " " << trainer.domain_names()[r] << " (" << trainer.class_counts()[r] << " labels)";
    }
    std::cout << "; exchange " << describe(trainer.exchange())
              << (trainer.exchange_reason().empty() ? "" : " (auto: " + trainer.exchange_reason() + ")");
    if (run.train.dp.enabled()) {
      std::cout << "; DP-SGD: noise z " << trainer.dp_noise_multiplier() << " (std z * C on "
                << (run.train.dp.distributed ? "the sum, split over the other ranks" : "each rank's own sum")
                << "), clip C " << run.train.dp.clip << ", sampling rate " << trainer.dp_sampling_rate()
                << ", epsilon after " << run.train.rounds << " rounds " << trainer.dp_epsilon(run.train.rounds)
                << " at delta " << run.train.dp.delta;
    }
    std::cout << "; vocab " << tokenizer->vocabulary().size() << "; "
              << features_line(run.train, cache_text(trainer.shard().cache_seconds, {&trainer.shard()}) + " (rank 0)")
              << "\n  "
              << run_outputs_line(run, hex64(trainer.encoder_fingerprint()), trainer.encoder()->config().pooling)
              << std::endl;
  }
  std::string contribution;
  run_on_every_rank(
      comm, [&] { contribution = command.prepare(trainer, comm, run, hex64(tokenizer->vocabulary().fingerprint())); });
  std::vector<DomainReport> before;
  if (command.evaluate_before) {
    before = trainer.evaluate(Split::kVal);
    if (root) print_final(before, false, "before training");
  }
  auto context = run_context(run, trainer, comm.size(), trainer.domain_labels(), hex64(trainer.encoder_fingerprint()),
                             hex64(tokenizer->vocabulary().fingerprint()), vm);
  context.root = root;
  context.on_every_rank = [&comm](const std::function<void()>& step) { run_on_every_rank(comm, step); };
  context.feature_cache_seconds = trainer.shard().cache_seconds;
  context.header.contribution = contribution;
  context.header.before = before;
  run_training(trainer, run, context);
  return 0;
}

int train_main(int argc, char** argv) {
  MpiCommunicator comm(&argc, &argv);
  FederatedCommand train{
      "train",
      "usage: mpirun -np E moecollab train --domain DIR [--domain DIR ...] [--config run.ini] [options]\n"
      "Federated training: rank r owns expert r and domain r (the r-th --domain); E = number of "
      "domains."};
  auto experts = std::make_shared<std::string>(), registry = std::make_shared<std::string>();
  train.add_options = [=](po::options_description& options) {
    options.add_options()("registry", po::value(registry.get()), "an expert registry directory (for --experts)")(
        "experts", po::value(experts.get()),
        "start every expert from a registered package: registry:DOMAIN@VERSION,... one per rank in domain order "
        "(checked against the run's encoder, vocabulary and sizes)");
  };
  train.prepare = [=](FederatedTrainer& trainer, Communicator& comm, const RunOptions& run, const std::string& vocab) {
    return experts->empty() ? std::string() : start_from_registry(trainer, comm, run, vocab, *registry, *experts);
  };
  return run_collectively(comm, "train", [&] { return run_federated(comm, argc, argv, train); });
}

}  // namespace moecollab::cli
