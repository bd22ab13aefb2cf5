// The run log: one HDF5 file per run, written by rank 0 as the run goes. The
// header (options, domains, labels, fingerprints) is written once; then every
// round appends one row to each per-round dataset and flushes, so a crash loses
// at most the current round. The file is in SWMR mode: `moecollab report` and
// h5py (swmr=True) can read it while training goes on. Layout and formulas:
// docs/hdf5-layout.md.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "moecollab/train/report.h"

namespace moecollab {

struct RunLogHeader {
  std::map<std::string, std::string> config;  // every option, as text
  std::string git_revision;
  std::int64_t world_size = 1;
  std::int64_t seed = 0;
  std::string encoder_fingerprint;
  std::string vocabulary_fingerprint;
  std::vector<std::string> domains;              // domain i = expert i
  std::vector<std::vector<std::string>> labels;  // per domain
  std::size_t routing_samples = 0;               // --log-routing: make the /routing datasets
  std::string contribution = "";  // experts added/replaced/removed or started from packages ("" for none)
  // integrate: the new mixture on the validation splits before its gate was
  // trained (per domain; written to /before when given).
  std::vector<DomainReport> before;
};

// Names of the columns of /rounds/losses, /rounds/seconds and /rounds/bytes_sent.
extern const std::vector<std::string> kLossColumns;
extern const std::vector<std::string> kSecondsColumns;
extern const std::vector<std::string> kByteColumns;

class RunLog {
 public:
  // Creates (truncates) `path` with every dataset, then switches to SWMR.
  RunLog(const std::string& path, const RunLogHeader& header);
  ~RunLog();
  RunLog(const RunLog&) = delete;
  RunLog& operator=(const RunLog&) = delete;

  // REQUIRES: report.domains in domain order, complete (rank 0's report).
  void append(const RoundReport& report);

 private:
  struct Datasets;
  std::unique_ptr<Datasets> d_;
};

}  // namespace moecollab
