// `mpirun -np E moecollab pretrain --config run.ini --out DIR`: federated
// masked-LM pre-training of the shared encoder, one rank per domain; rank 0
// writes DIR as a Hugging Face BERT directory (train with --encoder hf:DIR).
#include <torch/torch.h>

#include <cstdio>
#include <iostream>

#include "commands.h"
#include "moecollab/comm/agreement.h"
#include "moecollab/comm/mpi_communicator.h"
#include "moecollab/model/hf_bert.h"
#include "moecollab/train/pretrainer.h"
#include "collective.h"
#include "run_options.h"

namespace moecollab::cli {

int pretrain_main(int argc, char** argv) {
  MpiCommunicator comm(&argc, &argv);
  return run_collectively(comm, "pretrain", [&] {
    DataOptions data;
    PretrainOptions p;
    std::string out;
    po::options_description options("pretrain");
    add_data_options(options, data);
    add_encoder_options(options, p.encoder);
    options.add_options()
        ("out,o", po::value(&out)->required(), "directory to write the pre-trained encoder to (Hugging Face layout)")
        ("pretrain-rounds", po::value(&p.rounds)->default_value(p.rounds), "rounds (one progress line each)")
        ("pretrain-steps", po::value(&p.steps)->default_value(p.steps), "optimizer steps per round")
        ("pretrain-batch", po::value(&p.batch_size)->default_value(p.batch_size), "texts per rank per step")
        ("pretrain-max-length", po::value(&p.max_length)->default_value(p.max_length), "tokens per text")
        ("mlm-optimizer", po::value(&p.optimizer)->default_value(p.optimizer), "adam or sgd")
        ("mlm-lr", po::value(&p.lr)->default_value(p.lr), "learning rate")
        ("mask-rate", po::value(&p.mask_rate)->default_value(p.mask_rate), "share of tokens masked (BERT: 0.15)")
        ("fedavg-every", po::value(&p.fedavg_every)->default_value(p.fedavg_every),
         "0: FedSGD (gradients all-reduced every step); K: FedAvg (weights averaged every K local steps)")
        ("pretrain-seed", po::value(&p.seed)->default_value(p.seed), "seed of masking and batch order");
    po::variables_map vm;
    if (!parse_options(argc, argv,
                       "usage: mpirun -np E moecollab pretrain --domain DIR... --out DIR [options]\n"
                       "Federated masked-LM pre-training of the shared encoder; rank r reads only domain r.",
                       options, vm, /*ignore_unknown_config_keys=*/true)) {
      return 0;
    }
    if (static_cast<int>(data.domains.size()) != comm.size()) {
      throw AgreedError("pretrain: " + std::to_string(data.domains.size()) + " domains but " +
                        std::to_string(comm.size()) + " ranks; run one rank per domain");
    }
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
      std::cout << "pretrain: " << comm.size() << " ranks, " << (p.fedavg_every ? "FedAvg every " + std::to_string(p.fedavg_every) + " steps" : std::string("FedSGD"))
                << ", " << p.optimizer << " lr " << p.lr << ", encoder d=" << p.encoder.hidden << " layers=" << p.encoder.layers
                << std::endl;
    }
    for (int r = 0; r < p.rounds; ++r) {
      const auto report = pretrainer.run_round();
      if (root) {
        std::printf("pretrain round %d/%d | mlm loss %.3f acc %.3f | %.1f s | rank 0 sent %.2f MB\n", report.round,
                    p.rounds, report.loss, report.accuracy, report.seconds, report.bytes_sent / 1e6);
        std::fflush(stdout);
      }
    }
    run_on_every_rank(comm, [&] {
      if (root) save_hf_bert(out, pretrainer.encoder(), pretrainer.head().get(), tokenizer->vocabulary(), data.lower_case);
    });
    if (root) std::cout << "pretrain: wrote " << out << " (train on it with --encoder hf:" << out << ")" << std::endl;
    return 0;
  });
}

}  // namespace moecollab::cli
