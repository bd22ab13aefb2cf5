#include "moecollab/util/error.h"

namespace moecollab {

Error file_error(const std::string& path, std::size_t line, const std::string& message) {
  if (line == 0) return Error(path + ": " + message);
  return Error(path + ":" + std::to_string(line) + ": " + message);
}

}  // namespace moecollab
