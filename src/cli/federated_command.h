// The skeleton the federated training commands share (train, integrate):
// options, one rank per domain, tokenizer and own shard, the trainer, the
// header line, run log and checkpoints. A command adds its own options and a
// `prepare` step that may set the trainer's starting state; it returns the
// contribution event for the run log ("" for none).
#pragma once

#include <functional>
#include <string>

#include "moecollab/comm/communicator.h"
#include "moecollab/comm/mpi_communicator.h"
#include "moecollab/train/federated_trainer.h"
#include "run_options.h"

namespace moecollab::cli {

struct FederatedCommand {
  const char* name;   // "train"
  std::string usage;  // the --help header
  std::function<void(po::options_description&)> add_options = [](po::options_description&) {};
  // Runs on every rank after the trainer is built; must not call collectives.
  std::function<std::string(FederatedTrainer&, Communicator&, const RunOptions&,
                            const std::string& vocabulary_fingerprint)>
      prepare = [](FederatedTrainer&, Communicator&, const RunOptions&, const std::string&) { return std::string(); };
  // Evaluate (and print, rank 0) the starting mixture before the first round.
  bool evaluate_before = false;
};

int run_federated(MpiCommunicator& mpi, int argc, char** argv, const FederatedCommand& command);

}  // namespace moecollab::cli
