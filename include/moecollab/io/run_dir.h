// The one owner of a run directory's file names (as LevelDB's filename.h):
//   RUN_DIR/log.h5                     the run log of a run from round 1
//   RUN_DIR/log-from-round-N.h5        the run log of a run resumed at round N
//   RUN_DIR/final.json                 the final evaluation
//   RUN_DIR/COMPLETED                  written by a sweep task whose run finished
//   RUN_DIR/checkpoints/round-NNNNNN.h5
//   REGISTRY/index.json, REGISTRY/DOMAIN/VERSION.h5
// and the format (name, version) every file of the project carries in its
// /@format and /@format_version (the registry index in its "format" key).
// Nothing else spells these names; a reader checks both with h5::require_format.
#pragma once

#include <cstdint>
#include <string>

namespace moecollab::run_dir {

constexpr const char* kCompletedMarker = "COMPLETED";
constexpr const char* kFinalJson = "final.json";

struct FileFormat {
  const char* name;      // /@format
  std::int64_t version;  // /@format_version: what this build writes and reads
  const char* what;      // for messages: "not a MoECollab <what>"
};
constexpr FileFormat kRunLog{"moecollab-run-log", 1, "run log"};
constexpr FileFormat kPretrainLog{"moecollab-pretrain-log", 1, "pre-training log"};
constexpr FileFormat kCheckpoint{"moecollab-checkpoint", 2, "checkpoint"};             // 2: /model
constexpr FileFormat kExpertPackage{"moecollab-expert-package", 2, "expert package"};  // 2: /model
constexpr FileFormat kRegistryIndex{"moecollab-registry", 1, "registry index"};
constexpr FileFormat kSweepSummary{"moecollab-sweep-summary", 1, "sweep summary"};

// RUN_DIR/log.h5 for a run that starts at round 1, else RUN_DIR/log-from-round-N.h5.
std::string log_path(const std::string& dir, std::int64_t first_round);
// Whether a file name is a run log's (log.h5 or log-from-round-N.h5).
bool is_log_name(const std::string& name);
std::string final_json_path(const std::string& dir);
std::string completed_marker_path(const std::string& dir);

// RUN_DIR/checkpoints.
std::string checkpoints_dir(const std::string& dir);
// CHECKPOINTS_DIR/round-000004.h5 and friends (zero-padded: they sort by round).
std::string checkpoint_path(const std::string& checkpoints, std::int64_t round);
// Whether a file name is a checkpoint's (round-*.h5).
bool is_checkpoint_name(const std::string& name);

// REGISTRY/index.json and REGISTRY/DOMAIN/VERSION.h5 (the latter relative to the registry).
std::string registry_index_path(const std::string& registry);
std::string registry_package_file(const std::string& domain, const std::string& version);

}  // namespace moecollab::run_dir
