// An expert registry: a directory of expert packages, DIR/<domain>/<version>.h5,
// listed in DIR/index.json (domain, version, file, content hash, encoder
// fingerprint, contributor, time added). Versions of a domain live side by
// side; a run pins the ones it uses ("domain@version").
#pragma once

#include <string>
#include <vector>

#include "moecollab/io/registry_index.h"

namespace moecollab {

// Owns the index: every change rewrites index.json atomically.
class Registry {
 public:
  // Opens DIR/index.json; with `create`, makes an empty registry where there is none.
  // Throws Error naming the file when the index is unreadable or not a registry index.
  explicit Registry(std::string dir, bool create = false);

  const std::vector<RegistryEntry>& entries() const { return entries_; }
  // Copies a package in (refused when domain@version is taken or its content hash is wrong).
  RegistryEntry add(const std::string& package_path);
  // Deletes domain@version (its file and entry); Error when absent.
  void remove(const std::string& spec);
  // "domain@version", or "domain" for its highest version. Error naming what exists otherwise.
  const RegistryEntry& find(const std::string& spec) const;
  std::string path_of(const RegistryEntry& entry) const;

 private:
  void save() const;
  std::string dir_;
  std::vector<RegistryEntry> entries_;
};

}  // namespace moecollab
