// `moecollab train-local`: every expert and the gate in one process.
#include <torch/torch.h>

#include <cstdio>
#include <iostream>
#include <thread>

#include "commands.h"
#include "train_options.h"

namespace moecollab::cli {

int train_local_main(int argc, char** argv) {
  DataOptions data;
  TrainOptions train;
  bool test = false;
  po::options_description options("train-local");
  add_data_options(options, data);
  add_train_options(options, train);
  options.add_options()("test", po::bool_switch(&test), "also report the test split after the last round");
  po::variables_map vm;
  if (!parse_options(argc, argv,
                     "usage: moecollab train-local --domain DIR [--domain DIR ...] [--config run.ini] [options]\n"
                     "Trains one expert per domain and the gate in one process.",
                     options, vm)) {
    return 0;
  }
  torch::set_num_threads(data.threads > 0 ? data.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  auto tokenizer = std::make_shared<WordPieceTokenizer>(Vocabulary::load(data.vocab), WordPieceOptions{data.lower_case});
  LocalTrainer trainer(train, load_domains(data), tokenizer);
  std::cout << "train-local: " << trainer.domains().size() << " domains:";
  for (const auto& d : trainer.domains()) {
    std::cout << " " << d.name << " (" << d.labels.size() << " labels, " << d.train.size() << " train)";
  }
  std::cout << "; vocab " << tokenizer->vocabulary().size() << "; " << torch::get_num_threads() << " threads"
            << std::endl;
  for (int r = 0; r < train.rounds; ++r) std::cout << format_round(trainer.run_round()) << std::endl;
  const auto final_split = test ? Split::kTest : Split::kVal;
  std::cout << "final (" << (test ? "test" : "val") << "):\n";
  const auto reports = trainer.evaluate(final_split);
  for (std::size_t i = 0; i < reports.size(); ++i) {
    const auto& d = reports[i];
    std::printf("  %-10s moe acc %.3f F1 %.3f | expert acc %.3f F1 %.3f | gate weight on own expert %.2f\n",
                d.domain.c_str(), d.moe.accuracy, d.moe.macro_f1, d.expert.accuracy, d.expert.macro_f1,
                d.utilization[i]);
  }
  return 0;
}

}  // namespace moecollab::cli
