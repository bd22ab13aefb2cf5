#include "moecollab/io/run_dir.h"

#include <cstdio>
#include <filesystem>

namespace moecollab::run_dir {

namespace fs = std::filesystem;

namespace {

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }
bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

std::string log_path(const std::string& dir, std::int64_t first_round) {
  const std::string name = first_round <= 1 ? "log.h5" : "log-from-round-" + std::to_string(first_round) + ".h5";
  return (fs::path(dir) / name).string();
}

bool is_log_name(const std::string& name) {
  return name == "log.h5" || (starts_with(name, "log-from-round-") && ends_with(name, ".h5"));
}

std::string final_json_path(const std::string& dir) { return (fs::path(dir) / kFinalJson).string(); }
std::string completed_marker_path(const std::string& dir) { return (fs::path(dir) / kCompletedMarker).string(); }
std::string checkpoints_dir(const std::string& dir) { return (fs::path(dir) / "checkpoints").string(); }

std::string checkpoint_path(const std::string& checkpoints, std::int64_t round) {
  char name[32];
  std::snprintf(name, sizeof name, "round-%06lld.h5", static_cast<long long>(round));
  return (fs::path(checkpoints) / name).string();
}

bool is_checkpoint_name(const std::string& name) { return starts_with(name, "round-") && ends_with(name, ".h5"); }

std::string registry_index_path(const std::string& registry) { return (fs::path(registry) / "index.json").string(); }
std::string registry_package_file(const std::string& domain, const std::string& version) {
  return (fs::path(domain) / (version + ".h5")).string();
}

}  // namespace moecollab::run_dir
