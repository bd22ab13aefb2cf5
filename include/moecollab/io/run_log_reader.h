// Reading a run log (RUN_DIR/log.h5, docs/hdf5-layout.md) back: every
// per-round dataset as a tensor, cut to the rounds all datasets have (a log
// may be read while rank 0 is still appending). Used by `moecollab report`
// and the sweep summary.
#pragma once

#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

namespace moecollab {

struct RunLogData {
  std::string path;
  std::vector<std::string> domains;
  // One row per round, shapes as in docs/hdf5-layout.md (R = rounds()).
  torch::Tensor round, losses, kl_utilization, utilization, top1_counts, specialization, moe_accuracy, moe_macro_f1,
      expert_accuracy, expert_macro_f1, seconds, bytes_sent;
  // Each dataset's /@columns as the file has them (losses, seconds, bytes_sent).
  std::map<std::string, std::vector<std::string>> columns;
  std::int64_t rounds() const { return round.size(0); }
  // One named column (R values) of losses, seconds or bytes_sent, as the file's
  // @columns place it; Error naming the file, dataset and column when absent.
  torch::Tensor column(const std::string& dataset, const std::string& name) const;
  torch::Tensor loss(const std::string& name) const { return column("losses", name); }
};

// The file's /@format ("" when it has none).
std::string log_format(const std::string& path);

// Reads a run log in SWMR mode. Throws Error naming the file when it is not a MoECollab run log.
RunLogData read_run_log(const std::string& path);

// The trimming read_run_log does: narrows every tensor to the smallest row count among them.
void trim_to_common_rows(const std::vector<torch::Tensor*>& tensors);

}  // namespace moecollab
