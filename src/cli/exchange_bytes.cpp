// `moecollab exchange-bytes`: the bytes per round of both exchanges by the formula
// (train/exchange.h, docs/federated.md) at sizes given on the command line, as JSON,
// for planning a federation (and experiments/scale's projection to BERT-base sizes).
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "moecollab/train/exchange.h"
#include "moecollab/util/error.h"
#include "options.h"

namespace moecollab::cli {

int exchange_bytes_main(int argc, char** argv) {
  ExchangeSizes z;
  std::int64_t ranks = 1, classes = 8;
  po::options_description options("exchange-bytes");
  options.add_options()("ranks", po::value(&ranks)->default_value(ranks), "W: ranks = domains = experts")(
      "batch-size", po::value(&z.batch)->default_value(z.batch), "b: rows per rank per gate step")(
      "hidden", po::value(&z.hidden)->default_value(z.hidden), "d: the encoder's hidden size")(
      "classes", po::value(&classes)->default_value(classes), "labels of each expert (c_max = this)")(
      "adapter", po::value(&z.adapter)->default_value(z.adapter), "k: the adapter bottleneck")(
      "gate-steps", po::value(&z.gate_steps)->default_value(z.gate_steps), "gate steps per round")(
      "val-rows", po::value(&z.val_rows)->default_value(z.val_rows), "validation rows of all ranks together")(
      "encoder-params", po::value(&z.encoder_params)->default_value(z.encoder_params),
      "trained encoder parameters (0: frozen)")("joint", flag(&z.joint), "--joint: experts train in the gate phase");
  po::variables_map vm;
  if (!parse_options(
          argc, argv,
          "usage: moecollab exchange-bytes --ranks W --hidden d [options]\n"
          "Prints {\"features\": B, \"experts\": B, \"auto\": MODE, \"why\": TEXT}: the bytes all ranks send "
          "per round in the gate phase and evaluation with each --exchange, by the formula.",
          options, vm)) {
    return 0;
  }
  if (ranks < 1 || z.hidden < 1 || z.batch < 1 || classes < 1 || z.adapter < 1) {
    throw Error("exchange-bytes: --ranks, --hidden, --batch-size, --classes and --adapter must be at least 1");
  }
  z.class_counts.assign(static_cast<std::size_t>(ranks), classes);
  std::string why;
  const auto chosen = choose_exchange(z, &why);
  nlohmann::ordered_json out{{"features", bytes_per_round(ExchangeMode::kFeatures, z)},
                             {"experts", bytes_per_round(ExchangeMode::kExperts, z)},
                             {"auto", describe(chosen)},
                             {"why", why}};
  std::cout << out.dump() << "\n";
  return 0;
}

}  // namespace moecollab::cli
