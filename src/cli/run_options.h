// The options every training subcommand shares (model sizes, schedule,
// optimiser, loss weights, data), bound straight to TrainOptions fields.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "moecollab/data/dataset.h"
#include "moecollab/data/tokenizer.h"
#include "moecollab/train/train_options.h"
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

// Everything `train` and `train-local` share: data, training and --test.
struct RunOptions {
  DataOptions data;
  TrainOptions train;
  bool test = false;  // report the test split after the last round
};
void add_run_options(po::options_description& options, RunOptions& run);

// Loads every --domain, in the order given (domain i is expert i).
std::vector<Domain> load_domains(const DataOptions& data);

// The WordPiece tokenizer of --vocab and --lower-case.
std::shared_ptr<const Tokenizer> load_tokenizer(const DataOptions& data);

// --threads, or else the machine's cores divided among `ranks_per_node` processes.
int threads_for(const DataOptions& data, int ranks_per_node);

}  // namespace moecollab::cli
