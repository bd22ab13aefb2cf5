#include "fuzz_input.h"

#include <cstdio>
#include <cstdlib>

namespace moecollab::fuzz {

void fail(const char* what) {
  std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
  std::abort();
}

}  // namespace moecollab::fuzz
