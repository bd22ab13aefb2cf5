// `moecollab train-local`: every expert and the gate in one process.
#include <torch/torch.h>

#include <iostream>

#include "commands.h"
#include "moecollab/io/hdf5.h"
#include "moecollab/model/fingerprint.h"
#include "moecollab/train/local_trainer.h"
#include "moecollab/util/hash.h"
#include "printing.h"
#include "run_loop.h"

namespace moecollab::cli {

int train_local_main(int argc, char** argv) {
  RunOptions run;
  std::string dump_step;
  po::options_description options("train-local");
  add_run_options(options, run);
  options.add_options()("dump-step", po::value(&dump_step)->default_value(dump_step),
                        "write what the run's last gate step computed to this HDF5 file: its inputs (features, "
                        "labels, every expert's and the gate's parameters, the loss weights) and outputs (logits, "
                        "each loss term, the gate's gradient), for tests/train/step_reference.py");
  po::variables_map vm;
  if (!parse_options(argc, argv,
                     "usage: moecollab train-local --domain DIR [--domain DIR ...] [--config run.ini] [options]\n"
                     "Trains one expert per domain and the gate in one process (the reference for `train`).",
                     options, vm)) {
    return 0;
  }
  torch::set_num_threads(threads_for(run.data, 1));
  apply_precision(run);
  check_run_dir(run.artifacts);
  const auto tokenizer = load_tokenizer(run);
  run.train.cache_progress = print_cache_progress;
  LocalTrainer trainer(run.train, load_domains(run.data), tokenizer);
  trainer.record_steps(!dump_step.empty());
  std::cout << "train-local: " << trainer.shards().size() << " domains:";
  std::vector<std::vector<std::string>> labels;
  for (const auto& s : trainer.shards()) {
    std::cout << " " << s.name << " (" << s.classes << " labels, " << s.train.labels.size() << " train)";
    labels.push_back(s.labels);
  }
  auto context = run_context(run, trainer, 1, labels, hex64(parameter_fingerprint(*trainer.encoder())),
                             hex64(tokenizer->vocabulary().fingerprint()), vm);
  double cache_seconds = 0;
  std::vector<const DomainShard*> shards;
  for (const auto& s : trainer.shards()) {
    cache_seconds += s.cache_seconds;
    shards.push_back(&s);
    warn_feature_cache(s, "");
  }
  std::cout << "; vocab " << tokenizer->vocabulary().size() << "; " << torch::get_num_threads() << " threads; "
            << features_line(run.train, cache_text(cache_seconds, shards)) << "\n  "
            << run_outputs_line(run, context.info.encoder_fingerprint, trainer.encoder()->config().pooling)
            << std::endl;
  context.feature_cache_seconds = cache_seconds;
  run_training(trainer, run, context);
  if (!dump_step.empty()) {
    if (trainer.last_step().empty()) throw Error("--dump-step " + dump_step + ": the run took no gate step");
    h5::write_tensor_file(dump_step, trainer.last_step());
    std::cout << "wrote the last gate step to " << dump_step << std::endl;
  }
  return 0;
}

}  // namespace moecollab::cli
