// The expert package's version checks (what `registry add`, `expert train` and
// `integrate` validate a package's version with): two versions split at the
// first newline; the ordering must be antisymmetric and reflexive.
#include "fuzz_input.h"
#include "moecollab/io/registry_index.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace moecollab;
  const std::string input = fuzz::as_string(data, size);
  const auto cut = input.find('\n');
  const std::string a = input.substr(0, cut), b = cut == std::string::npos ? "" : input.substr(cut + 1);
  bool valid_a = true;
  try {
    check_version_text(a);
  } catch (const Error&) {
    valid_a = false;
  }
  if (compare_versions(a, a) != 0) fuzz::fail("a version differs from itself");
  if (compare_versions(a, b) != -compare_versions(b, a)) fuzz::fail("ordering is not antisymmetric");
  if (valid_a && compare_versions(a, "0.0") < 0) fuzz::fail("a valid version ordered below 0.0");
  return 0;
}
