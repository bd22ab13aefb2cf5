#include "run_options.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>
#include <thread>

#include <sched.h>
#include <unistd.h>

#include "moecollab/io/feature_store.h"
#include "moecollab/io/run_dir.h"
#include "moecollab/model/hf_bert.h"
#include "moecollab/sweep/grid.h"
#include "moecollab/train/exchange.h"
#include "moecollab/util/error.h"
#include "moecollab/util/strings.h"

namespace moecollab::cli {
namespace {

// "0.1", not boost's "0.10000000000000001", in --help.
po::typed_value<double>* real(double* field) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", *field);
  return po::value(field)->default_value(*field, text);
}

// A text option whose value must be one of `names` (the first is the default unless `initial`
// names another); `choose` gets the index of the value given.
po::typed_value<std::string>* one_of(const std::string& option, const std::vector<std::string>& names,
                                     std::function<void(std::size_t)> choose, const std::string& initial = "") {
  return po::value<std::string>()
      ->default_value(initial.empty() ? names.front() : initial)
      ->notifier([option, names, choose](const std::string& v) {
        const auto at = std::find(names.begin(), names.end(), v);
        if (at == names.end()) {
          const std::vector<std::string> first(names.begin(), names.end() - 1);
          throw Error("--" + option + " must be '" + join(first, "', '") + "' or '" + names.back() + "', not '" + v +
                      "'");
        }
        choose(static_cast<std::size_t>(at - names.begin()));
      });
}

}  // namespace

void add_data_options(po::options_description& options, DataOptions& data) {
  options.add_options()(
      "domain", po::value(&data.domains)->composing()->required(),
      "a domain: a directory with train/val/test .jsonl|.csv|.tsv (+ labels.txt), or one such file "
      "that is split 80/10/10 by a seeded hash of each text; repeat once per domain (domain i is expert i). "
      "It is named after the directory (data/quotes -> quotes) or the file's stem (mine.jsonl -> mine); "
      "NAME=PATH names it NAME. Given on the command line, the --domain list replaces the config file's");
  add_shared_data_options(options, data);
}

void add_shared_data_options(po::options_description& options, DataOptions& data) {
  options.add_options()("vocab", po::value(&data.vocab)->default_value(data.vocab),
                        "WordPiece vocab.txt (make one with build-vocab)")(
      "split-seed", po::value(&data.split_seed)->default_value(data.split_seed),
      "seed of the hash that splits single-file domains")(
      "lower-case", flag(&data.lower_case), "lower-case and strip accents before WordPiece (BERT uncased)")(
      "threads", po::value(&data.threads)->default_value(data.threads),
      "intra-op threads for libtorch per process; 0 = the CPUs this process may use (its affinity mask: "
      "taskset, Slurm --cpus-per-task, mpirun --bind-to), divided among the node's ranks when the mask is the "
      "whole node");
}

void add_encoder_options(po::options_description& options, EncoderConfig& e) {
  options.add_options()("encoder-hidden", po::value(&e.hidden)->default_value(e.hidden), "encoder hidden size d")(
      "encoder-layers", po::value(&e.layers)->default_value(e.layers), "encoder transformer layers")(
      "encoder-heads", po::value(&e.heads)->default_value(e.heads), "attention heads (must divide d)")(
      "encoder-intermediate", po::value(&e.intermediate)->default_value(e.intermediate), "feed-forward size")(
      "encoder-max-positions", po::value(&e.max_positions)->default_value(e.max_positions),
      "position embeddings (>= max-length)")("encoder-seed", po::value(&e.seed)->default_value(e.seed),
                                             "seed of the randomly initialised, frozen default encoder")(
      "encoder-init-std", real(&e.init_std), "std of the default encoder's random normal weights (BERT: 0.02)");
}

void add_expert_options(po::options_description& options, TrainOptions& t) {
  add_encoder_options(options, t.encoder);
  options.add_options()(
      "encoder", po::value<std::string>()->default_value("random")->notifier([&t](const std::string& v) {
        if (v == "random")
          t.encoder_dir.clear();
        else if (v.rfind("hf:", 0) == 0 && v.size() > 3)
          t.encoder_dir = v.substr(3);
        else
          throw Error("--encoder must be 'random' or 'hf:DIR', not '" + v + "'");
      }),
      "the shared encoder: 'random' (built from the --encoder-* options and --encoder-seed, with --vocab), or "
      "'hf:DIR', a Hugging Face BERT directory (config.json, vocab.txt, model.safetensors; its vocab.txt and "
      "do_lower_case replace --vocab and --lower-case, its config the --encoder-* sizes)")(
      "encoder-pooling", po::value(&t.encoder.pooling)->default_value("auto"),
      "feature h: 'cls' (first token, as BERT and the paper), 'mean' (mean over the text's tokens), or 'auto': "
      "cls for an hf:DIR whose weights include a pooler (bert-base-uncased: its CLS state was trained by "
      "next-sentence prediction), mean otherwise (the random encoder, whose CLS state is nearly constant, and "
      "encoders `moecollab pretrain` wrote, which train masked LM only)")(
      "adapter", po::value(&t.adapter)->default_value(t.adapter), "adapter bottleneck size k (paper: 64)")(
      "max-length", po::value(&t.max_length)->default_value(t.max_length),
      "tokens per text incl. [CLS] and [SEP]; longer texts are truncated")(
      "rounds", po::value(&t.rounds)->default_value(t.rounds),
      "training rounds, at least 1 (local phase + gate phase + eval); with --resume, the round to stop after")(
      "local-steps", po::value(&t.local_steps)->default_value(t.local_steps),
      "steps per round each expert trains alone on its own domain (0: none; the progress line shows '-')")(
      "batch-size", po::value(&t.batch_size)->default_value(t.batch_size), "examples per domain per step")(
      "length-buckets", po::value(&t.length_buckets)->default_value(t.length_buckets),
      "length-bucketed training batches: each window of N batches of the epoch's shuffle is sorted by text "
      "length, and its batches drawn in random order, so a batch holds texts of similar length (less padding: "
      "faster wherever the encoder runs per batch, --encoder-train or --expert-lora). 0: plain shuffle")(
      "expert-lr", real(&t.expert_lr), "Adam learning rate of adapters and heads")(
      "seed", po::value(&t.seed)->default_value(t.seed), "seed of expert/gate initialisation and batch order")(
      "eval-batch", po::value(&t.eval_batch)->default_value(t.eval_batch), "batch size for evaluation")(
      "no-feature-cache", flag(nullptr)->notifier([&t](bool off) { t.feature_cache = !off; }),
      "run the frozen encoder on every batch instead of computing each text's features once per run")(
      "feature-cache-dir",
      po::value<std::string>()->default_value(default_feature_cache_dir())->notifier([&t](const std::string& dir) {
        t.fill_feature_cache = nullptr;
        if (dir.empty() || dir == "none") return;
        t.fill_feature_cache = [dir](DomainShard& shard, Encoder& encoder, const CacheProgressFn& progress) {
          fill_feature_cache(shard, encoder, dir, progress);
        };
      }),
      "where the feature cache is kept between runs (frozen encoder only): one HDF5 file per encoder and "
      "domain, named by the encoder's fingerprint and a hash of the domain's token ids, read instead of "
      "encoding when it is there (re-runs, experiments/reproduce and every sweep point after the first), "
      "else written (to a temporary name, then renamed). Each rank reads and writes its own domain's file only. "
      "'none': this run only. Default: $MOECOLLAB_FEATURE_CACHE, else $XDG_CACHE_HOME/moecollab/features, "
      "else ~/.cache/moecollab/features");
}

void add_mixture_options(po::options_description& options, TrainOptions& t) {
  options.add_options()("gate-steps", po::value(&t.gate_steps)->default_value(t.gate_steps),
                        "collaborative steps per round (one batch per domain each) training the gate")(
      "gate-lr", real(&t.gate_lr), "Adam learning rate of the gate")(
      "lambda1", real(&t.loss.entropy), "weight of mean per-sample routing entropy H(g); > 0 sharpens routing")(
      "lambda2", real(&t.loss.balance), "weight of KL(mean g || uniform); > 0 balances expert utilization")(
      "balance", po::value<std::string>()->default_value("kl")->notifier([&t](const std::string& v) {
        t.loss.balance_kind = parse_balance_loss(v);
      }),
      "the load-balancing term: 'kl' (the paper's lambda2 * KL(mean g || uniform)), 'switch' (Switch "
      "Transformer's switch-alpha * E * sum_i f_i P_i, f_i the share of the step's rows, all ranks', whose top-1 "
      "is expert i and P_i their mean gate weight on it) or 'none'")(
      "switch-alpha", real(&t.loss.switch_alpha), "alpha of --balance switch (Switch Transformer: 1e-2)")(
      "z-loss", po::value(&t.loss.z_loss)->default_value(t.loss.z_loss, "0")->implicit_value(1e-3, "0.001"),
      "beta of ST-MoE's router z-loss beta * mean(logsumexp(gate logits)^2), which keeps the gate's logits "
      "small; 0: off; the option alone: 1e-3 (ST-MoE's)")(
      "domain-routing-loss", real(&t.loss.domain),
      "lambda3: weight of the gate's cross-entropy against each training text's own domain (the rank, and "
      "expert, it belongs to; known where the text lives, so nothing extra crosses ranks): the gate learns to "
      "route each text to its domain's expert, as domain-expert mixtures (DEMix) route in training; the task "
      "loss still weighs the experts. 0: off (the paper's objective)")(
      "balance-scope",
      one_of("balance-scope", {"global", "domain"}, [&t](std::size_t i) { t.loss.balance_per_domain = i == 1; }),
      "global: one balance term KL(mean g || uniform) over all ranks' batches (the paper's); domain: the mean of "
      "each domain's own term (every rank balances its own batch; no all-reduce for it)")(
      "joint", flag(&t.joint), "gate steps also train the experts through the mixture")(
      "encoder-train", po::value<std::string>()->default_value("none")->notifier([&t](const std::string& v) {
        t.encoder_training = parse_encoder_training(v);
      }),
      "fine-tune the shared encoder: 'none' (frozen; each text encoded once, the feature cache), 'top:N' (its top "
      "N transformer layers) or 'all' (every layer and the embeddings). It trains with the experts in the local "
      "phase and through the mixture loss in the gate phase (the features' gradients return to each row's "
      "rank); gradients are summed over ranks every step (FedSGD), so replicas stay identical. Costs an "
      "encoder forward and backward per batch instead of a cached lookup (README: 'Fine-tuning the encoder')")(
      "encoder-lr", real(&t.encoder_lr), "Adam learning rate of the encoder's trained part (--encoder-train)")(
      "expert-lora", po::value(&t.expert_lora.rank)->default_value(t.expert_lora.rank),
      "per-expert adaptation of the frozen shared encoder: each expert's own LoRA of rank R on the attention and "
      "feed-forward projections of the top --expert-lora-layers layers, trained with its adapter and head "
      "(h_i = Encoder_i(x) as in the paper; E + 1 top-layer passes per text). 0: off. In `train` it needs "
      "--exchange experts (the features exchange would have to send sequence hidden states)")(
      "expert-lora-layers", po::value(&t.expert_lora.layers)->default_value(t.expert_lora.layers),
      "how many of the encoder's top layers each expert's LoRA adapts (--expert-lora)")(
      "exchange", po::value<std::string>()->default_value("features")->notifier([&t](const std::string& v) {
        t.exchange = parse_exchange_mode(v);
      }),
      "what crosses ranks in `train`'s gate phase and evaluation: 'features' (every rank's batch features go to "
      "every expert's rank and logits come back: W^2 b d floats per gate step, the paper's design), 'experts' "
      "(every expert's parameters, with --joint also its Adam state, are all-gathered once a round and each rank "
      "mixes all experts on its own rows: only gradients cross ranks, no per-text tensor), or 'auto' (the one "
      "with fewer bytes per round by the formula in docs/federated.md; the header line says which and why). "
      "The same computation either way. train-local has no exchange")(
      "top-k", po::value(&t.routing.top_k)->default_value(t.routing.top_k),
      "route each text to its K highest-weighted experts only (features and logits cross ranks only for "
      "those K); 0 = all experts, dense as in the paper")(
      "topk-weights",
      one_of(
          "topk-weights", {"unnormalised", "renormalised"}, [&t](std::size_t i) { t.routing.unnormalised = i == 0; },
          t.routing.unnormalised ? "unnormalised" : "renormalised"),
      "with --top-k: weigh the chosen experts by their softmax weights as they are (unnormalised, Switch "
      "Transformer style: at --top-k 1 the task loss keeps training the gate) or renormalised to sum to 1 over "
      "the K (at --top-k 1 the weight is always 1 and only lambda1/lambda2 train the gate)")(
      "capacity-factor", real(&t.routing.capacity_factor),
      "with --top-k: each expert takes at most ceil(cf * K * N / E) rows per gate step, N the step's rows over "
      "all ranks (Switch/GShard); rows claim slots in rank order, every row's first choice before any second; "
      "0: no limit")(
      "eval-capacity-factor", real(&t.routing.eval_capacity_factor),
      "the same in evaluation and `predict`, per evaluated batch (--eval-batch rows of one domain); 0: no limit")(
      "overflow", one_of("overflow", {"drop", "next"}, [&t](std::size_t i) { t.routing.overflow_to_next = i == 1; }),
      "a row whose chosen expert is full: 'drop' (it keeps its other experts; with none left its output is "
      "zero) or 'next' (its next-best expert with room). The drop rate is on the progress line and in the "
      "run log's /rounds/drop_rate")(
      "noisy-gate", flag(&t.routing.noisy),
      "noisy top-k gating (Shazeer et al. 2017): in training the gate's logits get trainable noise "
      "eps * softplus(W_noise h), eps ~ N(0, 1); evaluation and predict route by the clean logits")(
      "on-nonfinite", one_of("on-nonfinite", {"stop", "skip"}, [&t](std::size_t i) { t.stop_on_nonfinite = i == 0; }),
      "a gate step with a NaN/Inf loss or gate gradient on any rank (detected before the all-reduce, never reaching "
      "the gate replicas): stop the run naming the ranks and step, or skip the step on every rank")(
      "log-routing", po::value(&t.log_routing)->default_value(t.log_routing),
      "per round, log the routing (true label, gate weights, prediction) of the first N validation texts of "
      "each domain to the run log's /routing datasets (0: none)");
}

void add_train_options(po::options_description& options, TrainOptions& t) {
  add_expert_options(options, t);
  add_mixture_options(options, t);
}

void add_run_options(po::options_description& options, RunOptions& run) {
  add_data_options(options, run.data);
  add_train_options(options, run.train);
  auto& a = run.artifacts;
  options.add_options()("test", flag(&run.test), "also report the test split after the last round")(
      "run-dir", po::value(&a.run_dir)->default_value(a.run_dir),
      "directory for this run's HDF5 log (log.h5), final.json and checkpoints (checkpoints/round-NNNNNN.h5); "
      "empty: none. One run per directory: one that holds another run is refused (see --resume, --overwrite)")(
      "overwrite", flag(&a.overwrite),
      "first delete the run files (log*.h5, final.json, COMPLETED, checkpoints/round-*.h5) an earlier run left in "
      "--run-dir; other files there are kept")("checkpoint-every",
                                               po::value(&a.checkpoint_every)->default_value(a.checkpoint_every),
                                               "write a checkpoint every N rounds (0: only after the last round)")(
      "keep-checkpoints", po::value(&a.keep_checkpoints)->default_value(a.keep_checkpoints),
      "keep the newest K checkpoints, delete older ones (0: keep all)")(
      "resume", po::value(&a.resume)->default_value(a.resume),
      "continue from a checkpoint: a file, or 'latest' in --run-dir; the run goes on to --rounds")(
      "precision", one_of("precision", {"float32", "float64"}, [&run](std::size_t i) { run.float64 = i == 1; }),
      "float32, or float64 for verification (every parameter, feature and loss in double precision; about 2x "
      "slower; what the independent reference tests/train/step_reference.py is compared against). A checkpoint "
      "holds the tensors in the run's precision");
}

void apply_precision(const RunOptions& run) {
  if (run.float64) torch::set_default_dtype(caffe2::TypeMeta::Make<double>());
}

void add_collective_options(po::options_description& options, CollectiveOptions& c) {
  options.add_options()(
      "collective-timeout", real(&c.timeout_seconds),
      "seconds a collective may wait before the watchdog reports the rank and collective that stalled and ends "
      "the job (the ranks that do not report are the ones that never arrived); 0 disables it")(
      "backend", po::value(&c.backend)->default_value(c.backend),
      "collectives: 'mpi', 'nccl' (one GPU per rank; built where CUDA and NCCL are found), or 'auto' "
      "(nccl where every rank has a GPU of its own, else mpi)")(
      "secure-aggregation", flag(&c.secure_aggregation),
      "sum every floating-point all-reduce (the gradients, the global mean gate, loss and metric sums) by "
      "pairwise masking (X25519 keys, ChaCha20 masks, 2^-24 fixed point clipped to +-2^20): another rank "
      "sees only the sum over all ranks, never this rank's own gradient. Needs --exchange experts (with "
      "'features' every text's features reach every rank anyway); sends 4x the bytes of a float32 "
      "all-reduce. docs/threat-model.md says what it protects");
}

void add_privacy_options(po::options_description& options, privacy::DpConfig& dp) {
  options.add_options()(
      "dp-noise", po::value(&dp.noise_multiplier)->value_name("Z"),
      "sample-level DP-SGD (docs/threat-model.md): every gradient that leaves a rank (the gate's, and the "
      "experts' and encoder's where they train) is clipped text by text to L2 norm --dp-clip and gets Gaussian "
      "noise of std Z * C, on the local and the gate steps alike. Needs --exchange experts and --balance none "
      "(the balance term couples texts). 0: clipping alone (epsilon = inf). Unset, with no --dp-epsilon: off. "
      "Each text's gradient is a backward pass of its own: a step costs about batch-size backward passes")(
      "dp-epsilon", real(&dp.target_epsilon),
      "DP-SGD with the noise multiplier Z chosen (RDP accountant) so that the whole run, --rounds x "
      "(--local-steps + --gate-steps) steps at sampling rate batch / training texts, spends this epsilon at "
      "--dp-delta; instead of --dp-noise. 0: unset")("dp-clip", real(&dp.clip),
                                                     "C: the L2 norm each text's gradient is clipped to under DP-SGD")(
      "dp-delta", real(&dp.delta),
      "delta of the (epsilon, delta) that the progress line and the run log's /rounds/dp report (well below "
      "1 / training texts)");
}

void add_pretrain_options(po::options_description& options, PretrainCommandOptions& c) {
  add_data_options(options, c.data);
  auto& p = c.pretrain;
  add_encoder_options(options, p.encoder);
  options.add_options()("out,o", po::value(&c.out),
                        "directory to write the pre-trained encoder to (Hugging Face layout, plus pretrain-log.h5)")(
      "pretrain-out", po::value(&c.out_in_config),
      "--out under the name a shared pipeline config file uses (there `out` would be build-vocab's too); "
      "--out wins")("pretrain-rounds", po::value(&p.rounds)->default_value(p.rounds),
                    "rounds (one progress line and log row each)")(
      "pretrain-steps", po::value(&p.steps)->default_value(p.steps), "optimizer steps per round")(
      "pretrain-batch", po::value(&p.batch_size)->default_value(p.batch_size), "texts per rank per step")(
      "pretrain-max-length", po::value(&p.max_length)->default_value(p.max_length), "tokens per text")(
      "pretrain-length-buckets", po::value(&p.length_buckets)->default_value(p.length_buckets),
      "length-bucketed batches (as --length-buckets of train): each window of N batches sorted by text length; "
      "0: plain shuffle")("mlm-optimizer", po::value(&p.optimizer)->default_value(p.optimizer), "adam or sgd")(
      "mlm-lr", real(&p.lr), "peak learning rate")("mlm-schedule", po::value(&p.schedule)->default_value(p.schedule),
                                                   "linear: warm up over --mlm-warmup of all steps, then decay "
                                                   "linearly to 0 (BERT's); constant: --mlm-lr throughout")(
      "mlm-warmup", real(&p.warmup), "share of all steps spent warming up (linear schedule)")(
      "mask-rate", real(&p.mask_rate), "share of tokens masked (BERT: 0.15)")(
      "mlm-tie-decoder", flag(&p.tie_decoder),
      "true: score masked tokens with the word embeddings (BERT's tying); false: with a decoder matrix of its "
      "own, which keeps rare tokens' embeddings from collapsing on small corpora (README)")(
      "fedavg-every", po::value(&p.fedavg_every)->default_value(p.fedavg_every),
      "0: FedSGD (gradients all-reduced every step); K: FedAvg (weights averaged every K local steps)")(
      "pretrain-seed", po::value(&p.seed)->default_value(p.seed), "seed of masking and batch order")(
      "pretrain-unlabelled", flag(&p.use_unlabelled),
      "also pre-train on each domain's unlabelled.txt (more in-domain text without labels), not only its "
      "training split");
}

void add_build_vocab_options(po::options_description& options, VocabCommandOptions& v) {
  options.add_options()("domain", po::value(&v.data.domains)->composing()->required(),
                        "a domain directory or file; repeat per domain")(
      "out,o", po::value(&v.out)->required(), "where to write vocab.txt (written atomically)")(
      "max-size", po::value(&v.build.max_size)->default_value(v.build.max_size), "tokens in the vocabulary at most")(
      "min-count", po::value(&v.build.min_count)->default_value(v.build.min_count),
      "a pair of pieces must occur this often to be merged into a token")("lower-case", flag(&v.build.lower_case),
                                                                          "lower-case and strip accents")(
      "split-seed", po::value(&v.data.split_seed)->default_value(v.data.split_seed),
      "seed splitting single-file domains")(
      "vocab-unlabelled", flag(&v.unlabelled),
      "also count the words of each domain's unlabelled.txt (the text pre-training reads), not only its "
      "training split")("federated", flag(&v.federated),
                        "under mpirun, one rank per domain: rank r counts only domain r's words; counts are summed");
}

const std::set<std::string>& pipeline_config_keys() {
  static const std::set<std::string> keys = [] {
    RunOptions run;
    CollectiveOptions collective;
    PretrainCommandOptions pretrain;
    VocabCommandOptions vocab;
    po::options_description train_options, pretrain_options, vocab_options;
    add_run_options(train_options, run);
    add_collective_options(train_options, collective);
    add_pretrain_options(pretrain_options, pretrain);
    add_build_vocab_options(vocab_options, vocab);
    std::set<std::string> names;
    for (const auto* d : {&train_options, &pretrain_options, &vocab_options}) {
      for (const auto& option : d->options()) names.insert(option->long_name());
    }
    return names;
  }();
  return keys;
}

std::map<std::string, std::string> describe_options(const po::variables_map& vm) {
  std::map<std::string, std::string> out;
  for (const auto& [key, entry] : vm) {
    const auto& v = entry.value();
    std::string text;
    if (const auto* s = boost::any_cast<std::string>(&v))
      text = *s;
    else if (const auto* l = boost::any_cast<std::vector<std::string>>(&v)) {
      for (const auto& item : *l) text += (text.empty() ? "" : "\n") + item;
    } else if (const auto* i = boost::any_cast<int>(&v))
      text = std::to_string(*i);
    else if (const auto* i64 = boost::any_cast<std::int64_t>(&v))
      text = std::to_string(*i64);
    else if (const auto* u64 = boost::any_cast<std::uint64_t>(&v))
      text = std::to_string(*u64);
    else if (const auto* d = boost::any_cast<double>(&v)) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.17g", *d);
      text = buf;
    } else if (const auto* b = boost::any_cast<bool>(&v))
      text = *b ? "true" : "false";
    else
      continue;
    out[key] = text;
  }
  return out;
}

std::vector<Domain> load_domains(const DataOptions& data) {
  std::vector<Domain> domains;
  check_distinct_domain_names(data.domains, "expert");  // before loading any data
  for (const auto& spec : data.domains) domains.push_back(load_domain(spec, data.split_seed));
  return domains;
}

}  // namespace moecollab::cli

namespace moecollab::cli {

std::shared_ptr<const Tokenizer> load_tokenizer(const RunOptions& run) {
  if (!run.train.encoder_dir.empty()) {
    const auto dir = read_hf_bert_directory(run.train.encoder_dir);
    return std::make_shared<WordPieceTokenizer>(Vocabulary::load(dir.vocab_path), WordPieceOptions{dir.lower_case});
  }
  return std::make_shared<WordPieceTokenizer>(Vocabulary::load(run.data.vocab), WordPieceOptions{run.data.lower_case});
}

std::string seconds_text(double seconds) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f s", seconds);
  return text;
}

int threads_for(const DataOptions& data, int ranks_per_node) {
  if (data.threads > 0) return data.threads;
  const int node = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  int allowed = node;
  cpu_set_t mask;
  if (sched_getaffinity(0, sizeof mask, &mask) == 0) allowed = std::max(1, CPU_COUNT(&mask));
  // A mask narrower than the node was given to this process alone (taskset, Slurm, mpirun --bind-to).
  if (allowed < node) return allowed;
  return std::max(1, allowed / std::max(1, ranks_per_node));
}

std::vector<std::string> run_files(const std::string& run_dir) {
  namespace fs = std::filesystem;
  std::vector<std::string> out;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(run_dir, error)) {
    const auto name = entry.path().filename().string();
    if (run_dir::is_log_name(name) || name == run_dir::kFinalJson || name == run_dir::kCompletedMarker) {
      out.push_back(name);
    }
  }
  for (const auto& entry : fs::directory_iterator(run_dir::checkpoints_dir(run_dir), error)) {
    const auto name = entry.path().filename().string();
    if (run_dir::is_checkpoint_name(name)) out.push_back("checkpoints/" + name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

void check_run_dir(const ArtifactOptions& artifacts, bool owner) {
  namespace fs = std::filesystem;
  if (artifacts.run_dir.empty()) return;
  const fs::path dir(artifacts.run_dir);
  const auto earlier = run_files(artifacts.run_dir);
  if (artifacts.overwrite && !artifacts.resume.empty()) {
    const bool inside = artifacts.resume == "latest" || fs::weakly_canonical(artifacts.resume).parent_path() ==
                                                            fs::weakly_canonical(dir / "checkpoints");
    if (inside && !earlier.empty()) {
      throw Error(
          "--overwrite would delete the checkpoint --resume " + artifacts.resume +
          " continues from; give one of them (--resume continues the run in --run-dir, --overwrite deletes it)");
    }
  }
  if (!earlier.empty() && artifacts.resume.empty() && !artifacts.overwrite) {
    std::string listed;
    for (std::size_t i = 0; i < earlier.size() && i < 4; ++i) listed += (i ? ", " : "") + earlier[i];
    if (earlier.size() > 4) listed += ", ... (" + std::to_string(earlier.size()) + " files)";
    throw Error("--run-dir " + artifacts.run_dir + " already holds a run (" + listed +
                "); continue it with --resume latest, replace it with --overwrite, or give another --run-dir");
  }
  if (artifacts.overwrite && owner) {
    for (const auto& name : earlier) {
      std::error_code error;
      fs::remove(dir / name, error);
      if (error) throw Error("--overwrite: cannot delete " + (dir / name).string() + ": " + error.message());
    }
  }
  std::error_code error;
  fs::create_directories(dir / "checkpoints", error);
  if (error) throw Error("--run-dir " + artifacts.run_dir + ": cannot create it: " + error.message());
  const auto probe = dir / (".write-probe-" + std::to_string(::getpid()));
  {
    std::ofstream out(probe);
    out << "probe\n";
    if (!out.flush()) throw Error("--run-dir " + artifacts.run_dir + ": cannot write in it");
  }
  fs::remove(probe, error);
  const auto space = fs::space(dir, error);
  constexpr std::uintmax_t kMinFree = 64u << 20;
  if (!error && space.available < kMinFree) {
    throw Error("--run-dir " + artifacts.run_dir + ": only " + std::to_string(space.available >> 20) +
                " MB free; a run needs at least " + std::to_string(kMinFree >> 20) +
                " MB for its log and checkpoints (each written to a temporary file first)");
  }
}

CheckpointInfo run_info(const RunOptions& run, ModelConfig model, const std::string& encoder_fingerprint,
                        const std::string& vocabulary_fingerprint, const po::variables_map& vm) {
  namespace fs = std::filesystem;
  CheckpointInfo info;
  info.encoder_fingerprint = encoder_fingerprint;
  info.vocabulary_fingerprint = vocabulary_fingerprint;
  info.config = describe_options(vm);
  info.model = std::move(model);
  info.encoder = "random";
  if (!run.train.encoder_dir.empty()) {
    info.encoder = "hf:" + fs::absolute(run.train.encoder_dir).lexically_normal().string();
    info.vocabulary = (fs::absolute(run.train.encoder_dir) / "vocab.txt").lexically_normal().string();
  } else {
    info.vocabulary = fs::absolute(run.data.vocab).lexically_normal().string();
  }
  return info;
}

std::string features_line(const TrainOptions& train, const std::string& cache_seconds) {
  const std::string buckets =
      train.length_buckets ? ", length buckets of " + std::to_string(train.length_buckets) + " batches" : "";
  if (train.encoder_training.any()) {
    std::ostringstream lr;
    lr << train.encoder_lr;
    return "encoder-train " + describe(train.encoder_training) + " (lr " + lr.str() + "): no feature cache" + buckets;
  }
  if (train.expert_lora.enabled()) {
    return "expert-lora " + std::to_string(train.expert_lora.rank) + ": no feature cache" + buckets;
  }
  return train.feature_cache ? "feature cache " + cache_seconds : std::string("no feature cache");
}

std::string cache_text(double seconds, const std::vector<const DomainShard*>& shards) {
  std::size_t loaded = 0, kept = 0;
  std::string dir;
  for (const auto* s : shards) {
    if (s->cache_source.path.empty()) continue;
    dir = std::filesystem::path(s->cache_source.path).parent_path().string();
    if (s->cache_source.loaded)
      ++loaded;
    else if (s->cache_source.warning.empty())
      ++kept;
  }
  std::string out = seconds_text(seconds);
  if (dir.empty()) return out;
  const auto of = [&](std::size_t n) {
    return shards.size() == 1 ? std::string() : " " + std::to_string(n) + " of " + std::to_string(shards.size());
  };
  if (loaded > 0) out += ";" + of(loaded) + " read from " + dir;
  if (kept > 0) out += ";" + of(kept) + " encoded and kept in " + dir;
  return out;
}

void warn_feature_cache(const DomainShard& shard, const std::string& where) {
  if (!shard.cache_source.warning.empty()) std::cerr << "warning: " << where << shard.cache_source.warning << std::endl;
}

std::string encoder_line(const TrainOptions& train, const std::string& encoder_fingerprint,
                         const std::string& pooling) {
  const auto& e = train.encoder;
  const std::string encoder = train.encoder_dir.empty()
                                  ? "random (d=" + std::to_string(e.hidden) + ", " + std::to_string(e.layers) +
                                        " layers, --encoder-seed " + std::to_string(e.seed) + ")"
                                  : "hf:" + train.encoder_dir;
  return "encoder " + encoder + ", fingerprint " + encoder_fingerprint + ", pooling " + pooling;
}

std::string run_outputs_line(const RunOptions& run, const std::string& encoder_fingerprint,
                             const std::string& pooling) {
  const std::string line = encoder_line(run.train, encoder_fingerprint, pooling) + "; ";
  const auto& a = run.artifacts;
  if (a.run_dir.empty()) return line + "no --run-dir: no log or checkpoints are written";
  const std::filesystem::path dir(a.run_dir);
  const auto log =
      a.resume.empty() ? dir / "log.h5" : dir / "log-from-round-N.h5 (N: the first round after the checkpoint)";
  return line + "log " + log.string() + ", checkpoints " + (dir / "checkpoints").string() + "/";
}

}  // namespace moecollab::cli