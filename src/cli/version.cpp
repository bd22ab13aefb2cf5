// The build's git revision, set by CMake at configure time (MOECOLLAB_GIT_REVISION).
#include "run_options.h"

#ifndef MOECOLLAB_GIT_REVISION
#define MOECOLLAB_GIT_REVISION "unknown"
#endif

namespace moecollab::cli {

std::string git_revision() { return MOECOLLAB_GIT_REVISION; }

}  // namespace moecollab::cli
