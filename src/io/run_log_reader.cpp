#include "moecollab/io/run_log_reader.h"

#include <algorithm>

#include "moecollab/io/hdf5.h"
#include "moecollab/util/error.h"

namespace moecollab {
namespace {

std::string format_of(const h5::Handle& file) {
  return h5::has_attribute(file, "format") ? h5::read_string_attribute(file, "format") : "";
}

}  // namespace

std::string log_format(const std::string& path) { return format_of(h5::open_file(path, h5::Mode::kReadSwmr)); }

void trim_to_common_rows(const std::vector<torch::Tensor*>& tensors) {
  std::int64_t n = tensors.front()->size(0);
  for (auto* t : tensors) n = std::min(n, t->size(0));
  for (auto* t : tensors) *t = t->narrow(0, 0, n);
}

RunLogData read_run_log(const std::string& path) {
  const auto file = h5::open_file(path, h5::Mode::kReadSwmr);
  if (format_of(file) != "moecollab-run-log") throw Error(path + ": not a MoECollab run log");
  RunLogData log;
  log.path = path;
  log.domains = h5::read_strings_attribute(file, "domains");
  const auto r = h5::open_group(file, "rounds");
  const std::vector<std::pair<torch::Tensor*, const char*>> datasets = {
      {&log.round, "round"}, {&log.losses, "losses"}, {&log.kl_utilization, "kl_utilization"},
      {&log.utilization, "utilization"}, {&log.top1_counts, "top1_counts"}, {&log.specialization, "specialization"},
      {&log.moe_accuracy, "moe_accuracy"}, {&log.moe_macro_f1, "moe_macro_f1"},
      {&log.expert_accuracy, "expert_accuracy"}, {&log.expert_macro_f1, "expert_macro_f1"},
      {&log.seconds, "seconds"}, {&log.bytes_sent, "bytes_sent"}};
  std::vector<torch::Tensor*> all;
  for (const auto& [tensor, name] : datasets) {
    *tensor = h5::read_tensor(r, name);
    all.push_back(tensor);
  }
  trim_to_common_rows(all);
  return log;
}

}  // namespace moecollab
