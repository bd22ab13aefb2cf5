// Test helper: a path in a per-suite folder under the system temp directory.
#pragma once

#include <filesystem>
#include <string>

namespace moecollab::testing {

inline std::string temp_path(const std::string& suite, const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("moecollab_" + suite);
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

}  // namespace moecollab::testing
