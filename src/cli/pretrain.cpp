// `mpirun -np E moecollab pretrain --config run.ini --out DIR`:
// federated masked-LM pre-training of the shared encoder, one rank per domain;
// rank 0 writes DIR as a Hugging Face BERT directory (train with --encoder
// hf:DIR) and DIR/pretrain-log.h5, a row per round.
#include <torch/torch.h>

#include <cstdio>
#include <filesystem>
#include <iostream>

#include "collective.h"
#include "commands.h"
#include "moecollab/comm/agreement.h"
#include "moecollab/comm/mpi_communicator.h"
#include "moecollab/io/pretrain_log.h"
#include "moecollab/model/hf_bert.h"
#include "moecollab/train/pretrainer.h"
#include "moecollab/util/hash.h"
#include "run_options.h"

namespace moecollab::cli {

int pretrain_main(int argc, char** argv) {
  MpiCommunicator comm(&argc, &argv);
  return run_collectively(comm, "pretrain", [&] {
    PretrainCommandOptions c;
    const auto& data = c.data;
    auto& p = c.pretrain;
    auto& out = c.out;
    po::options_description options("pretrain");
    add_pretrain_options(options, c);
    po::variables_map vm;
    if (!parse_options_agreed(
            argc, argv,
            "usage: mpirun -np E moecollab pretrain --domain DIR... --out DIR [options]\n"
            "Federated masked-LM pre-training of the shared encoder; rank r reads only domain r.\n"
            "Writes DIR as a Hugging Face BERT directory and DIR/pretrain-log.h5 (one row per round).",
            options, vm)) {
      return 0;
    }
    if (out.empty()) out = c.out_in_config;
    if (out.empty()) throw AgreedError("pretrain: give --out DIR (or pretrain-out = DIR in the config file)");
    require_one_rank_per_domain("pretrain", data.domains, comm);
    torch::set_num_threads(threads_for(data, comm.local_size()));
    std::shared_ptr<const Tokenizer> tokenizer;
    Domain own;
    run_on_every_rank(comm, [&] {
      tokenizer = std::make_shared<WordPieceTokenizer>(Vocabulary::load(data.vocab), WordPieceOptions{data.lower_case});
      own = load_domain(data.domains[static_cast<std::size_t>(comm.rank())], data.split_seed);
    });
    FederatedPretrainer pretrainer(p, own, tokenizer, comm);
    const bool root = comm.rank() == 0;
    if (root) {
      std::cout << "pretrain: " << comm.size() << " ranks, "
                << (p.fedavg_every ? "FedAvg every " + std::to_string(p.fedavg_every) + " steps"
                                   : std::string("FedSGD"))
                << ", " << p.optimizer << " lr " << p.lr << ", encoder d=" << p.encoder.hidden
                << " layers=" << p.encoder.layers << ", " << pretrainer.corpus_texts() << " texts"
                << (p.use_unlabelled ? " (training splits + unlabelled)" : "")
                << (p.length_buckets ? ", length buckets of " + std::to_string(p.length_buckets) + " batches" : "")
                << "; " << torch::get_num_threads() << " threads per rank, " << waiting_text(comm) << std::endl;
    }
    std::unique_ptr<PretrainLog> log;
    run_on_every_rank(comm, [&] {
      if (!root) return;
      std::filesystem::create_directories(out);
      std::vector<std::string> domains;
      for (const auto& spec : data.domains) domains.push_back(parse_domain_spec(spec).name);
      log = std::make_unique<PretrainLog>(
          (std::filesystem::path(out) / "pretrain-log.h5").string(),
          PretrainLogHeader{describe_options(vm), git_revision(), comm.size(), domains,
                            hex64(tokenizer->vocabulary().fingerprint()), p.fedavg_every});
    });
    for (int r = 0; r < p.rounds; ++r) {
      const auto report = pretrainer.run_round();
      run_on_every_rank(comm, [&] {
        if (log) log->append(report);
      });
      if (root) {
        const auto& t = report.phases;
        std::printf(
            "pretrain round %d/%d | mlm loss %.3f acc %.3f | lr %.2g | %.1f s (rank 0: data %.1f, forward %.1f, "
            "backward %.1f, all-reduce %.1f, optimizer %.1f) | %.1f GFLOP/s in matrix products, all ranks | rank 0 "
            "sent %.2f MB\n",
            report.round, p.rounds, report.loss, report.accuracy, report.learning_rate, report.seconds, t.data,
            t.forward, t.backward, t.allreduce, t.optimizer, report.matmul_flops / std::max(1e-9, report.seconds) / 1e9,
            report.bytes_sent / 1e6);
        std::fflush(stdout);
      }
    }
    run_on_every_rank(comm, [&] {
      if (root)
        save_hf_bert(out, pretrainer.encoder(), pretrainer.head().get(), tokenizer->vocabulary(), data.lower_case);
    });
    if (root) std::cout << "pretrain: wrote " << out << " (train on it with --encoder hf:" << out << ")" << std::endl;
    return 0;
  });
}

}  // namespace moecollab::cli
