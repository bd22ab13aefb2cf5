// The options every training subcommand shares (model sizes, schedule,
// optimiser, loss weights, data), bound straight to TrainOptions fields.
#pragma once

#include <string>
#include <vector>

#include "moecollab/train/local_trainer.h"
#include "options.h"

namespace moecollab::cli {

struct DataOptions {
  std::vector<std::string> domains;  // directories (train/val/test files) or single files
  std::string vocab = "data/vocab.txt";
  std::uint64_t split_seed = 0;
  bool lower_case = true;
  int threads = 0;
};

void add_data_options(po::options_description& options, DataOptions& data);
void add_train_options(po::options_description& options, TrainOptions& train);

// Loads every --domain, in the order given (domain i is expert i).
std::vector<Domain> load_domains(const DataOptions& data);

}  // namespace moecollab::cli
