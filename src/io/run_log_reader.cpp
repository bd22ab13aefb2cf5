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
  h5::require_format(file, path, run_dir::kRunLog);
  RunLogData log;
  log.path = path;
  log.domains = h5::read_strings_attribute(file, "domains");
  const auto r = h5::open_group(file, "rounds");
  const std::vector<std::pair<torch::Tensor*, const char*>> datasets = {{&log.round, "round"},
                                                                        {&log.losses, "losses"},
                                                                        {&log.kl_utilization, "kl_utilization"},
                                                                        {&log.utilization, "utilization"},
                                                                        {&log.top1_counts, "top1_counts"},
                                                                        {&log.specialization, "specialization"},
                                                                        {&log.moe_accuracy, "moe_accuracy"},
                                                                        {&log.moe_macro_f1, "moe_macro_f1"},
                                                                        {&log.expert_accuracy, "expert_accuracy"},
                                                                        {&log.expert_macro_f1, "expert_macro_f1"},
                                                                        {&log.seconds, "seconds"},
                                                                        {&log.bytes_sent, "bytes_sent"}};
  std::vector<torch::Tensor*> all;
  for (const auto& [tensor, name] : datasets) {
    *tensor = h5::read_tensor(r, name);
    all.push_back(tensor);
  }
  trim_to_common_rows(all);
  for (const char* name : {"losses", "seconds", "bytes_sent"}) {
    log.columns[name] = h5::read_strings_attribute(h5::open_dataset(r, name), "columns");
  }
  return log;
}

torch::Tensor RunLogData::column(const std::string& dataset, const std::string& name) const {
  const torch::Tensor* data = dataset == "losses"       ? &losses
                              : dataset == "seconds"    ? &seconds
                              : dataset == "bytes_sent" ? &bytes_sent
                                                        : nullptr;
  const auto names = columns.find(dataset);
  if (data && names != columns.end()) {
    for (std::size_t i = 0; i < names->second.size(); ++i) {
      if (names->second[i] == name) return data->select(1, static_cast<std::int64_t>(i));
    }
  }
  throw Error(path + ": /rounds/" + dataset + " has no column '" + name + "'");
}

}  // namespace moecollab
