// Error: the one exception type MoECollab throws for bad input or bad state.
// Its message always names what failed (file and line, option, rank ...), so
// the command-line front end can print it as is and exit non-zero.
#pragma once

#include <stdexcept>
#include <string>

namespace moecollab {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// Error located in a file: "FILE:LINE: message" (line 0 means the whole file).
Error file_error(const std::string& path, std::size_t line, const std::string& message);

}  // namespace moecollab
