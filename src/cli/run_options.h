// The options every training subcommand shares (model sizes, schedule,
// optimiser, loss weights, data), bound straight to TrainOptions fields.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "moecollab/data/dataset.h"
#include "moecollab/data/tokenizer.h"
#include "moecollab/data/vocab_builder.h"
#include "moecollab/train/pretrainer.h"
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
// add_data_options without --domain: --vocab, --split-seed, --lower-case, --threads.
void add_shared_data_options(po::options_description& options, DataOptions& data);
void add_train_options(po::options_description& options, TrainOptions& train);
// The random default encoder's sizes and seed (--encoder-*), part of add_train_options.
void add_encoder_options(po::options_description& options, EncoderConfig& encoder);

// What a run writes: run log and checkpoints under run_dir, and where it resumes.
struct ArtifactOptions {
  std::string run_dir;            // empty: write nothing
  int checkpoint_every = 0;       // rounds between checkpoints (0: only at the end)
  std::size_t keep_checkpoints = 3;
  std::string resume;             // a checkpoint path, "latest", or empty
};

// Everything `train` and `train-local` share: data, training, artifacts and --test.
struct RunOptions {
  DataOptions data;
  TrainOptions train;
  ArtifactOptions artifacts;
  bool test = false;  // report the test split after the last round
};
void add_run_options(po::options_description& options, RunOptions& run);
// Before any work: --run-dir can be created and written in, with room for a checkpoint.
void check_run_dir(const ArtifactOptions& artifacts);
// `train`'s --backend.
void add_backend_option(po::options_description& options, std::string& backend);

// `pretrain`: data, encoder sizes, the masked-LM schedule and --pretrain-out.
struct PretrainCommandOptions {
  DataOptions data;
  PretrainOptions pretrain;
  std::string out;  // the Hugging Face directory to write
};
void add_pretrain_options(po::options_description& options, PretrainCommandOptions& p);

// `build-vocab`.
struct VocabCommandOptions {
  DataOptions data;
  VocabBuildOptions build;
  std::string out;
  bool federated = false;
  bool unlabelled = true;  // also count each domain's unlabelled.txt
};
void add_build_vocab_options(po::options_description& options, VocabCommandOptions& v);

// Every key that build-vocab, pretrain or train reads: one config file serves
// the whole pipeline, each command takes its own keys, and a key that no
// command knows is an error (a typo) in every command.
const std::set<std::string>& pipeline_config_keys();

// The WordPiece tokenizer: the encoder directory's vocab.txt and do_lower_case
// with --encoder hf:DIR, else --vocab and --lower-case.
std::shared_ptr<const Tokenizer> load_tokenizer(const RunOptions& run);

// Every option's value as text, for the run log and checkpoints.
std::map<std::string, std::string> describe_options(const po::variables_map& vm);

// The git revision this binary was built from ("unknown" outside a checkout).
std::string git_revision();

// Loads every --domain, in the order given (domain i is expert i).
std::vector<Domain> load_domains(const DataOptions& data);


// "1.23 s".
std::string seconds_text(double seconds);

// --threads, or else the machine's cores divided among `ranks_per_node` processes.
int threads_for(const DataOptions& data, int ranks_per_node);

}  // namespace moecollab::cli
