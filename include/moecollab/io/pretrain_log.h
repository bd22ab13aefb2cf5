// The pre-training log: `moecollab pretrain` writes OUT/pretrain-log.h5 beside
// the encoder it trains (rank 0, SWMR, one row per round, flushed), so the
// encoder carries its own history: MLM loss and accuracy, learning rate, time
// and bytes per round. Layout: docs/hdf5-layout.md.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "moecollab/train/report.h"

namespace moecollab {

struct PretrainLogHeader {
  std::map<std::string, std::string> config;  // every option, as text
  std::string git_revision;
  std::int64_t world_size = 1;
  std::vector<std::string> domains;  // rank r pre-trained on domain r
  std::string vocabulary_fingerprint;
  std::int64_t fedavg_every = 0;  // 0: FedSGD
};

class PretrainLog {
 public:
  // Creates (truncates) `path` with every dataset, then switches to SWMR.
  PretrainLog(const std::string& path, const PretrainLogHeader& header);
  ~PretrainLog();
  PretrainLog(const PretrainLog&) = delete;
  PretrainLog& operator=(const PretrainLog&) = delete;

  void append(const PretrainReport& report);

 private:
  struct Datasets;
  std::unique_ptr<Datasets> d_;
};

}  // namespace moecollab
