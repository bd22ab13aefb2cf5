// `moecollab train-local`: every expert and the gate in one process.
#include <torch/torch.h>

#include <iostream>

#include "commands.h"
#include "moecollab/train/local_trainer.h"
#include "printing.h"
#include "run_options.h"

namespace moecollab::cli {

int train_local_main(int argc, char** argv) {
  RunOptions run;
  po::options_description options("train-local");
  add_run_options(options, run);
  po::variables_map vm;
  if (!parse_options(argc, argv,
                     "usage: moecollab train-local --domain DIR [--domain DIR ...] [--config run.ini] [options]\n"
                     "Trains one expert per domain and the gate in one process (the reference for `train`).",
                     options, vm)) {
    return 0;
  }
  torch::set_num_threads(threads_for(run.data, 1));
  const auto tokenizer = load_tokenizer(run.data);
  LocalTrainer trainer(run.train, load_domains(run.data), tokenizer);
  std::cout << "train-local: " << trainer.shards().size() << " domains:";
  for (const auto& s : trainer.shards()) {
    std::cout << " " << s.name << " (" << s.classes << " labels, " << s.train.labels.size() << " train)";
  }
  std::cout << "; vocab " << tokenizer->vocabulary().size() << "; " << torch::get_num_threads() << " threads"
            << std::endl;
  for (int r = 0; r < run.train.rounds; ++r) std::cout << format_round(trainer.run_round()) << std::endl;
  print_final(trainer.evaluate(run.test ? Split::kTest : Split::kVal), run.test);
  return 0;
}

}  // namespace moecollab::cli
