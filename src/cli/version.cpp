// The build's version and git revision, set by CMake at configure time
// (MOECOLLAB_VERSION, MOECOLLAB_GIT_REVISION).
#include "run_options.h"

#ifndef MOECOLLAB_GIT_REVISION
#define MOECOLLAB_GIT_REVISION "unknown"
#endif
#ifndef MOECOLLAB_VERSION
#define MOECOLLAB_VERSION "unknown"
#endif

namespace moecollab::cli {

std::string git_revision() { return MOECOLLAB_GIT_REVISION; }

std::string version_text() { return std::string(MOECOLLAB_VERSION) + " (git " + MOECOLLAB_GIT_REVISION + ")"; }

}  // namespace moecollab::cli
