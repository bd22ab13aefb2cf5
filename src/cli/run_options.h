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
#include "moecollab/io/checkpoint.h"
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
// Everything that trains experts and gate: add_expert_options + add_mixture_options.
void add_train_options(po::options_description& options, TrainOptions& train);
// What one expert's training uses (`expert train`): the encoder (--encoder,
// its sizes, pooling), adapter, schedule of the local phase, batch, lr, seed.
void add_expert_options(po::options_description& options, TrainOptions& train);
// What only the mixture uses: gate steps and lr, λ1/λ2, balance scope, --joint,
// top-k, NaN policy, routing log.
void add_mixture_options(po::options_description& options, TrainOptions& train);
// The random default encoder's sizes and seed (--encoder-*), part of
// add_expert_options and of `pretrain`.
void add_encoder_options(po::options_description& options, EncoderConfig& encoder);

// What a run writes: run log and checkpoints under run_dir, and where it resumes.
struct ArtifactOptions {
  std::string run_dir;       // empty: write nothing
  int checkpoint_every = 0;  // rounds between checkpoints (0: only at the end)
  std::size_t keep_checkpoints = 3;
  std::string resume;      // a checkpoint path, "latest", or empty
  bool overwrite = false;  // clear an earlier run's files from run_dir first
};

// Everything `train` and `train-local` share: data, training, artifacts and --test.
struct RunOptions {
  DataOptions data;
  TrainOptions train;
  ArtifactOptions artifacts;
  bool test = false;     // report the test split after the last round
  bool float64 = false;  // --precision float64: every tensor the run makes is float64
};
// Makes float64 the default dtype of every tensor this process creates when `run.float64`
// (before any model is built): `--precision float64`, the verification mode.
void apply_precision(const RunOptions& run);
void add_run_options(po::options_description& options, RunOptions& run);
// Before any work: --run-dir can be created and written in, with room for a
// checkpoint, and holds no other run: a directory with a run log, final.json or
// checkpoints is refused unless --resume continues that run or --overwrite
// clears it (only the `owner`, rank 0, deletes; the others only check).
void check_run_dir(const ArtifactOptions& artifacts, bool owner = true);
// The files of a run in `run_dir` (run logs, final.json, COMPLETED, checkpoints), by name.
std::vector<std::string> run_files(const std::string& run_dir);
// How `train`'s ranks talk: --backend, --collective-timeout, --secure-aggregation.
struct CollectiveOptions {
  std::string backend = "auto";
  double timeout_seconds = 600;
  bool secure_aggregation = false;
};
void add_collective_options(po::options_description& options, CollectiveOptions& collective);

// `train`'s DP-SGD: --dp-noise, --dp-epsilon, --dp-clip, --dp-delta (privacy/dp_sgd.h).
void add_privacy_options(po::options_description& options, privacy::DpConfig& dp);

// `pretrain`: data, encoder sizes, the masked-LM schedule and --out (pretrain-out in a config file).
struct PretrainCommandOptions {
  DataOptions data;
  PretrainOptions pretrain;
  std::string out;            // the Hugging Face directory to write (--out)
  std::string out_in_config;  // the same, from a config file's `pretrain-out`
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

// What a checkpoint records of the run: the model, fingerprints, options and
// where the encoder and vocabulary are (absolute paths).
CheckpointInfo run_info(const RunOptions& run, ModelConfig model, const std::string& encoder_fingerprint,
                        const std::string& vocabulary_fingerprint, const po::variables_map& vm);

// "encoder random (d=128, 2 layers, --encoder-seed 0), fingerprint F, pooling mean".
std::string encoder_line(const TrainOptions& train, const std::string& encoder_fingerprint, const std::string& pooling);
// Where the features come from, for the header: "feature cache 1.67 s", "no feature cache",
// "encoder-train all (lr 0.0003): no feature cache" or "expert-lora 8: no feature cache".
std::string features_line(const TrainOptions& train, const std::string& cache_seconds);
// The cache's time and source for features_line: "0.04 s; read from DIR", "4.8 s; 3 of 4 encoded and
// kept in DIR" (--feature-cache-dir), "4.8 s" (this run only).
std::string cache_text(double seconds, const std::vector<const DomainShard*>& shards);
// Prints a shard's feature-cache warning (a file not used or not written) to stderr, after `where`.
void warn_feature_cache(const DomainShard& shard, const std::string& where);
// The header's second line: encoder_line, and where the log and checkpoints go.
std::string run_outputs_line(const RunOptions& run, const std::string& encoder_fingerprint, const std::string& pooling);

// The git revision this binary was built from ("unknown" outside a checkout).
std::string git_revision();
// "0.1.0 (git 1a2b3c4d5e6f)": `moecollab --version`.
std::string version_text();

// Loads every --domain, in the order given (domain i is expert i).
std::vector<Domain> load_domains(const DataOptions& data);

// "1.23 s".
std::string seconds_text(double seconds);

// --threads, or else the CPUs this process may run on (its affinity mask: taskset,
// Slurm's --cpus-per-task, mpirun --bind-to) divided among `ranks_per_node`
// processes when the mask spans the node, at least 1.
int threads_for(const DataOptions& data, int ranks_per_node);

}  // namespace moecollab::cli
