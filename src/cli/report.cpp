// `moecollab report LOG.h5`: the per-round table of a run log, the last
// round's utilization matrix and specialization, or the MLM loss/accuracy per
// round of a pre-training log; --csv for machines. Reads in SWMR mode, so it
// works on a log that is still being written.
#include <torch/torch.h>

#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "moecollab/io/hdf5.h"
#include "moecollab/io/run_log.h"
#include "moecollab/io/run_log_reader.h"
#include "moecollab/sweep/summary.h"
#include "moecollab/util/error.h"
#include "options.h"

namespace moecollab::cli {
namespace {

using Log = RunLogData;

// `moecollab pretrain`'s OUT/pretrain-log.h5: one line (or CSV row) per round.
void print_pretrain_log(const h5::Handle& file, const std::string& path, bool csv) {
  auto r = h5::open_group(file, "rounds");
  auto round = h5::read_tensor(r, "round"), loss = h5::read_tensor(r, "mlm_loss"),
       acc = h5::read_tensor(r, "mlm_accuracy"), lr = h5::read_tensor(r, "learning_rate"),
       seconds = h5::read_tensor(r, "seconds"), bytes = h5::read_tensor(r, "bytes_sent");
  trim_to_common_rows({&round, &loss, &acc, &lr, &seconds, &bytes});
  if (csv)
    std::printf("round,mlm_loss,mlm_accuracy,learning_rate,seconds,bytes_sent\n");
  else {
    std::printf(
        "%s: pre-training, %s, %lld rounds on %zu ranks\n\nround  mlm loss  mlm acc        lr   seconds       MB\n",
        path.c_str(), h5::read_string_attribute(file, "method").c_str(), static_cast<long long>(round.size(0)),
        h5::read_strings_attribute(file, "domains").size());
  }
  for (std::int64_t i = 0; i < round.size(0); ++i) {
    std::printf(csv ? "%lld,%.6g,%.6g,%.6g,%.6g,%.0f\n" : "%5lld %9.3f %8.3f %9.2g %9.1f %8.2f\n",
                static_cast<long long>(round[i].item<std::int64_t>()), loss[i].item<double>(), acc[i].item<double>(),
                lr[i].item<double>(), seconds[i].item<double>(), bytes[i].item<double>() / (csv ? 1.0 : 1e6));
  }
}

double at(const torch::Tensor& t, std::int64_t i, std::int64_t j = -1) {
  return (j < 0 ? t[i] : t[i][j]).item<double>();
}

void print_csv(const Log& log) {
  std::printf("round");
  for (const auto& c : log.columns.at("losses")) std::printf(",loss_%s", c.c_str());
  std::printf(",kl_utilization");
  for (const auto& d : log.domains)
    std::printf(",moe_acc_%s,moe_f1_%s,expert_acc_%s,expert_f1_%s", d.c_str(), d.c_str(), d.c_str(), d.c_str());
  for (std::size_t e = 0; e < log.domains.size(); ++e) std::printf(",specialization_%zu", e);
  for (const auto& c : log.columns.at("seconds")) std::printf(",seconds_%s", c.c_str());
  std::printf(",bytes_sent\n");
  for (std::int64_t r = 0; r < log.rounds(); ++r) {
    std::printf("%lld", static_cast<long long>(log.round[r].item<std::int64_t>()));
    for (const auto& c : log.columns.at("losses")) std::printf(",%.6g", at(log.loss(c), r));
    std::printf(",%.6g", at(log.kl_utilization, r));
    for (std::size_t d = 0; d < log.domains.size(); ++d) {
      std::printf(",%.6g,%.6g,%.6g,%.6g", at(log.moe_accuracy, r, d), at(log.moe_macro_f1, r, d),
                  at(log.expert_accuracy, r, d), at(log.expert_macro_f1, r, d));
    }
    for (std::size_t e = 0; e < log.domains.size(); ++e) std::printf(",%.6g", at(log.specialization, r, e));
    for (const auto& c : log.columns.at("seconds")) std::printf(",%.6g", at(log.column("seconds", c), r));
    std::printf(",%lld\n", static_cast<long long>(log.bytes_sent[r].sum().item<std::int64_t>()));
  }
}

void print_table(const Log& log, const std::string& path) {
  std::printf("%s: %lld rounds, %zu domains\n\n", path.c_str(), static_cast<long long>(log.rounds()),
              log.domains.size());
  std::printf("round   task      H     KL  KL(util) ");
  for (const auto& d : log.domains) std::printf(" %9.9s", d.c_str());
  std::printf("   seconds       MB\n");
  for (std::int64_t r = 0; r < log.rounds(); ++r) {
    std::printf("%5lld %6.3f %6.3f %6.4f %9.4f ", static_cast<long long>(log.round[r].item<std::int64_t>()),
                at(log.loss("task"), r), at(log.loss("entropy"), r), at(log.loss("balance"), r),
                at(log.kl_utilization, r));
    for (std::size_t d = 0; d < log.domains.size(); ++d) std::printf(" %9.3f", at(log.moe_accuracy, r, d));
    std::printf(" %9.1f %8.2f\n", at(log.column("seconds", "total"), r), log.bytes_sent[r].sum().item<double>() / 1e6);
  }
  if (log.rounds() == 0) return;
  const auto last = log.rounds() - 1;
  std::printf("\nMoE accuracy per domain above; last round, per domain: MoE F1 | expert alone acc, F1\n");
  for (std::size_t d = 0; d < log.domains.size(); ++d) {
    std::printf("  %-10s %.3f | %.3f %.3f\n", log.domains[d].c_str(), at(log.moe_macro_f1, last, d),
                at(log.expert_accuracy, last, d), at(log.expert_macro_f1, last, d));
  }
  std::printf("\nutilization, last round (row: domain's samples, column: that domain's expert; mean gate weight)\n%12s",
              "");
  for (const auto& expert : log.domains) std::printf(" %8.8s", expert.c_str());  // expert e = domain e's
  std::printf("\n");
  for (std::size_t d = 0; d < log.domains.size(); ++d) {
    std::printf("  %-10s", log.domains[d].c_str());
    for (std::size_t e = 0; e < log.domains.size(); ++e) std::printf(" %8.3f", at(log.utilization[last], d, e));
    std::printf("\n");
  }
  std::printf("  %-10s", "S(e)");
  for (std::size_t e = 0; e < log.domains.size(); ++e) std::printf(" %8.3f", at(log.specialization, last, e));
  std::printf("   (specialization, eq. 6: 0 = one domain only, ln %zu = %.3f = all alike)\n", log.domains.size(),
              std::log(static_cast<double>(log.domains.size())));
}

// --summary: the last round reduced as sweep-summary reduces each run, plus the totals over rounds of
// the bytes sent and of every seconds column, as one JSON object (for scripts: experiments/moecollab_log.py).
void print_summary(const Log& log, const std::string& path) {
  const auto r = summarize_log(log, path);
  nlohmann::ordered_json j{{"log", path},
                           {"round", r.round},
                           {"domains", r.domains},
                           {"moe_accuracy", r.moe_accuracy},
                           {"moe_macro_f1", r.moe_macro_f1},
                           {"mean_accuracy", r.mean_accuracy},
                           {"mean_macro_f1", r.mean_macro_f1},
                           {"load_balance", r.load_balance},
                           {"utilization_rate", r.utilization_rate},
                           {"specialization", r.specialization},
                           {"kl_utilization", r.kl_utilization},
                           {"total_loss", r.total_loss},
                           {"bytes_sent", log.bytes_sent.sum().item<std::int64_t>()}};
  for (const auto& c : log.columns.at("seconds")) j["seconds"][c] = log.column("seconds", c).sum().item<double>();
  std::cout << j.dump() << "\n";
}

}  // namespace

int report_main(int argc, char** argv) {
  std::string path;
  bool csv = false, summary = false;
  po::options_description options("report");
  options.add_options()("csv", flag(&csv), "print one CSV row per round instead of the table")(
      "summary", flag(&summary),
      "print the last round's metrics as one JSON object (as sweep-summary reduces a run: mean accuracy and "
      "macro-F1, load balance, utilization rate, specialization, KL, total loss) and the totals of bytes and seconds");
  po::options_description hidden;
  hidden.add_options()("log", po::value(&path), "the log file (the positional argument)");
  po::positional_options_description positional;
  positional.add("log", 1);
  po::variables_map vm;
  const char* usage =
      "usage: moecollab report LOG.h5 [--csv | --summary]\n"
      "LOG.h5: a run log (RUN_DIR/log.h5, RUN_DIR/log-from-round-N.h5) or a pre-training log\n"
      "(ENCODER_DIR/pretrain-log.h5). Works on a log that is still being written.";
  if (!parse_options(argc, argv, usage, options, vm, &positional, &hidden)) return 0;
  if (path.empty()) throw Error(std::string("give the log to print\n") + usage);
  const auto format = log_format(path);
  if (format == run_dir::kPretrainLog.name) {
    const auto file = h5::open_file(path, h5::Mode::kReadSwmr);
    h5::require_format(file, path, run_dir::kPretrainLog);
    print_pretrain_log(file, path, csv);
    return 0;
  }
  if (format != run_dir::kRunLog.name) throw Error(path + ": not a MoECollab run log or pre-training log");
  const auto log = read_run_log(path);
  if (summary)
    print_summary(log, path);
  else if (csv)
    print_csv(log);
  else
    print_table(log, path);
  return 0;
}

}  // namespace moecollab::cli
