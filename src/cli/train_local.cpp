// `moecollab train-local`: every expert and the gate in one process.
#include <torch/torch.h>

#include <iostream>

#include "commands.h"
#include "moecollab/train/local_trainer.h"
#include "printing.h"
#include "run_options.h"

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
                     "Trains one expert per domain and the gate in one process (the reference for `train`).",
                     options, vm)) {
    return 0;
  }
  torch::set_num_threads(threads_for(data, 1));
  const auto tokenizer = load_tokenizer(data);
  LocalTrainer trainer(train, load_domains(data), tokenizer);
  std::cout << "train-local: " << trainer.shards().size() << " domains:";
  for (const auto& s : trainer.shards()) {
    std::cout << " " << s.name << " (" << s.classes << " labels, " << s.train.labels.size() << " train)";
  }
  std::cout << "; vocab " << tokenizer->vocabulary().size() << "; " << torch::get_num_threads() << " threads"
            << std::endl;
  for (int r = 0; r < train.rounds; ++r) std::cout << format_round(trainer.run_round()) << std::endl;
  print_final(trainer.evaluate(test ? Split::kTest : Split::kVal), test);
  return 0;
}

}  // namespace moecollab::cli
