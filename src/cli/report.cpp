// `moecollab report RUN.h5`: the per-round table of a run log, the last
// round's utilization matrix and specialization; --csv for machines. Reads
// in SWMR mode, so it works on a log that is still being written.
#include <torch/torch.h>

#include <cstdio>
#include <iostream>

#include "commands.h"
#include "moecollab/io/hdf5.h"
#include "moecollab/io/run_log.h"
#include "moecollab/util/error.h"
#include "options.h"

namespace moecollab::cli {
namespace {

struct Log {
  std::vector<std::string> domains;
  torch::Tensor round, losses, kl, util, top1, spec, moe_acc, moe_f1, expert_acc, expert_f1, seconds, bytes;
  std::int64_t rounds() const { return round.size(0); }
};

Log read_log(const std::string& path) {
  auto file = h5::open_file(path, h5::Mode::kReadSwmr);
  if (!h5::has_attribute(file, "format") || h5::read_string_attribute(file, "format") != "moecollab-run-log") {
    throw Error(path + ": not a MoECollab run log");
  }
  Log log;
  log.domains = h5::read_strings_attribute(file, "domains");
  auto r = h5::open_group(file, "rounds");
  log.round = h5::read_tensor(r, "round");
  log.losses = h5::read_tensor(r, "losses");
  log.kl = h5::read_tensor(r, "kl_utilization");
  log.util = h5::read_tensor(r, "utilization");
  log.top1 = h5::read_tensor(r, "top1_counts");
  log.spec = h5::read_tensor(r, "specialization");
  log.moe_acc = h5::read_tensor(r, "moe_accuracy");
  log.moe_f1 = h5::read_tensor(r, "moe_macro_f1");
  log.expert_acc = h5::read_tensor(r, "expert_accuracy");
  log.expert_f1 = h5::read_tensor(r, "expert_macro_f1");
  log.seconds = h5::read_tensor(r, "seconds");
  log.bytes = h5::read_tensor(r, "bytes_sent");
  // A reader may see datasets of a round being appended: use the rows all have.
  const std::vector<torch::Tensor*> all = {&log.round,   &log.losses, &log.kl,         &log.util,
                                           &log.top1,    &log.spec,   &log.moe_acc,    &log.moe_f1,
                                           &log.expert_acc, &log.expert_f1, &log.seconds, &log.bytes};
  std::int64_t n = log.round.size(0);
  for (auto* t : all) n = std::min(n, t->size(0));
  for (auto* t : all) *t = t->narrow(0, 0, n);
  return log;
}

double at(const torch::Tensor& t, std::int64_t i, std::int64_t j = -1) {
  return (j < 0 ? t[i] : t[i][j]).item<double>();
}

void print_csv(const Log& log) {
  std::printf("round");
  for (const auto& c : kLossColumns) std::printf(",loss_%s", c.c_str());
  std::printf(",kl_utilization");
  for (const auto& d : log.domains) std::printf(",moe_acc_%s,moe_f1_%s,expert_acc_%s,expert_f1_%s", d.c_str(), d.c_str(), d.c_str(), d.c_str());
  for (std::size_t e = 0; e < log.domains.size(); ++e) std::printf(",specialization_%zu", e);
  for (const auto& c : kSecondsColumns) std::printf(",seconds_%s", c.c_str());
  std::printf(",bytes_sent\n");
  for (std::int64_t r = 0; r < log.rounds(); ++r) {
    std::printf("%lld", static_cast<long long>(log.round[r].item<std::int64_t>()));
    for (std::size_t c = 0; c < kLossColumns.size(); ++c) std::printf(",%.6g", at(log.losses, r, c));
    std::printf(",%.6g", at(log.kl, r));
    for (std::size_t d = 0; d < log.domains.size(); ++d) {
      std::printf(",%.6g,%.6g,%.6g,%.6g", at(log.moe_acc, r, d), at(log.moe_f1, r, d), at(log.expert_acc, r, d),
                  at(log.expert_f1, r, d));
    }
    for (std::size_t e = 0; e < log.domains.size(); ++e) std::printf(",%.6g", at(log.spec, r, e));
    for (std::size_t c = 0; c < kSecondsColumns.size(); ++c) std::printf(",%.6g", at(log.seconds, r, c));
    std::printf(",%lld\n", static_cast<long long>(log.bytes[r].sum().item<std::int64_t>()));
  }
}

void print_table(const Log& log, const std::string& path) {
  std::printf("%s: %lld rounds, %zu domains\n\n", path.c_str(), static_cast<long long>(log.rounds()), log.domains.size());
  std::printf("round   task      H     KL  KL(util) ");
  for (const auto& d : log.domains) std::printf(" %9.9s", d.c_str());
  std::printf("   seconds       MB\n");
  for (std::int64_t r = 0; r < log.rounds(); ++r) {
    std::printf("%5lld %6.3f %6.3f %6.4f %9.4f ", static_cast<long long>(log.round[r].item<std::int64_t>()),
                at(log.losses, r, 1), at(log.losses, r, 2), at(log.losses, r, 3), at(log.kl, r));
    for (std::size_t d = 0; d < log.domains.size(); ++d) std::printf(" %9.3f", at(log.moe_acc, r, d));
    std::printf(" %9.1f %8.2f\n", at(log.seconds, r, 0), log.bytes[r].sum().item<double>() / 1e6);
  }
  if (log.rounds() == 0) return;
  const auto last = log.rounds() - 1;
  std::printf("\nMoE accuracy per domain above; last round, per domain: MoE F1 | expert alone acc, F1\n");
  for (std::size_t d = 0; d < log.domains.size(); ++d) {
    std::printf("  %-10s %.3f | %.3f %.3f\n", log.domains[d].c_str(), at(log.moe_f1, last, d), at(log.expert_acc, last, d),
                at(log.expert_f1, last, d));
  }
  std::printf("\nutilization, last round (row: domain's samples, column: expert; mean gate weight)\n%12s", "");
  for (std::size_t e = 0; e < log.domains.size(); ++e) std::printf(" %8s", ("e" + std::to_string(e)).c_str());
  std::printf("\n");
  for (std::size_t d = 0; d < log.domains.size(); ++d) {
    std::printf("  %-10s", log.domains[d].c_str());
    for (std::size_t e = 0; e < log.domains.size(); ++e) std::printf(" %8.3f", at(log.util[last], d, e));
    std::printf("\n");
  }
  std::printf("  %-10s", "S(e)");
  for (std::size_t e = 0; e < log.domains.size(); ++e) std::printf(" %8.3f", at(log.spec, last, e));
  std::printf("   (specialization, eq. 6: 0 = one domain only, ln %zu = %.3f = all alike)\n", log.domains.size(),
              std::log(static_cast<double>(log.domains.size())));
}

}  // namespace

int report_main(int argc, char** argv) {
  std::string path;
  bool csv = false;
  po::options_description options("report");
  options.add_options()
      ("log", po::value(&path)->required(), "the run log (RUN_DIR/log.h5); also the first positional argument")
      ("csv", po::bool_switch(&csv), "print one CSV row per round instead of the table");
  po::positional_options_description positional;
  positional.add("log", 1);
  po::variables_map vm;
  if (!parse_options(argc, argv, "usage: moecollab report RUN.h5 [--csv]", options, vm, false, &positional)) return 0;
  const auto log = read_log(path);
  if (csv) print_csv(log);
  else print_table(log, path);
  return 0;
}

}  // namespace moecollab::cli
