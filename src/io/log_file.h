// What the run log and the pre-training log share: the file's identity
// attributes and /config written at creation, and per-round datasets that grow
// one row per round with a unit (and column names where a row has several).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "moecollab/io/hdf5.h"

namespace moecollab::h5 {

struct LogIdentity {
  run_dir::FileFormat format;  // run_dir::kRunLog or run_dir::kPretrainLog
  std::string git_revision;
  std::int64_t world_size = 1;
  std::vector<std::string> domains;
  std::map<std::string, std::string> config;  // every option, as text
};

// Creates (truncates) `path` with the identity attributes, @created and /config.
Handle create_log_file(const std::string& path, const LogIdentity& identity);

// /rounds/<name>: one row of `row_shape` per round, with @unit (and @columns).
Appendable create_round_dataset(const Handle& rounds, const std::string& name, const std::vector<hsize_t>& row_shape,
                                torch::ScalarType dtype, const std::string& unit,
                                const std::vector<std::string>* columns = nullptr);

}  // namespace moecollab::h5
