// The index of an expert registry (DIR/index.json): what it lists about each
// package, read with every field checked and written back. Torch- and
// HDF5-free, so that the reader can be fuzzed on its own (tests/fuzz).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace moecollab {

struct RegistryEntry {
  std::string domain, version, file;  // file: relative to the registry directory
  std::string content_hash, encoder_fingerprint, contributor, added;
};

// The entries of an index.json's text (`path` names it in messages). Throws
// Error naming the file (and the entry) for: malformed JSON, another format or
// format version, a field missing or not a string, an empty domain, a version
// that is not MAJOR.MINOR[.PATCH], two entries for one domain@version, and a
// file that is not where the registry keeps that domain@version (so an index
// can never point outside its registry).
std::vector<RegistryEntry> parse_registry_index(std::string_view text, const std::string& path);

// The index.json text of `entries` (what parse_registry_index reads back).
std::string registry_index_text(const std::vector<RegistryEntry>& entries);

// Throws Error unless `version` is MAJOR.MINOR or MAJOR.MINOR.PATCH (at most 9 digits each).
void check_version_text(const std::string& version);
// Orders versions numerically (1.10 > 1.9); -1, 0 or 1. Invalid versions order first.
int compare_versions(const std::string& a, const std::string& b);

}  // namespace moecollab
