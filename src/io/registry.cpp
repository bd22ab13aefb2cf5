#include "moecollab/io/registry.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "moecollab/io/expert_package.h"
#include "moecollab/io/run_dir.h"
#include "moecollab/util/error.h"
#include "moecollab/util/files.h"

namespace moecollab {
namespace {

namespace fs = std::filesystem;

std::pair<std::string, std::string> split_spec(const std::string& spec) {
  const auto at = spec.find('@');
  if (at == std::string::npos) return {spec, ""};
  return {spec.substr(0, at), spec.substr(at + 1)};
}

}  // namespace

Registry::Registry(std::string dir, bool create) : dir_(std::move(dir)) {
  const auto index = run_dir::registry_index_path(dir_);
  if (!fs::exists(index)) {
    if (!create) throw Error(dir_ + ": not an expert registry (no index.json; 'registry add' creates one)");
    fs::create_directories(dir_);
    save();
    return;
  }
  std::ifstream in(index, std::ios::binary);
  if (!in) throw Error(index + ": cannot open");
  std::ostringstream text;
  text << in.rdbuf();
  entries_ = parse_registry_index(text.str(), index);
}

void Registry::save() const {
  write_file_atomically(run_dir::registry_index_path(dir_),
                        [&](std::ostream& out) { out << registry_index_text(entries_); });
}

RegistryEntry Registry::add(const std::string& package_path) {
  const auto package = load_expert_package(package_path);
  const auto& m = package.manifest;
  if (package_content_hash(package) != m.content_hash) {
    throw Error(package_path + ": content_hash: the manifest says " + m.content_hash + ", the content hashes to " +
                package_content_hash(package) + "; refusing to register it");
  }
  for (const auto& e : entries_) {
    if (e.domain == m.domain && e.version == m.version) {
      throw Error(dir_ + ": " + m.domain + "@" + m.version + " is already registered (" + e.file +
                  "); give the new package a new version");
    }
  }
  RegistryEntry entry{m.domain,
                      m.version,
                      run_dir::registry_package_file(m.domain, m.version),
                      m.content_hash,
                      m.encoder_fingerprint,
                      m.contributor,
                      utc_timestamp()};
  const auto target = fs::path(dir_) / entry.file;
  fs::create_directories(target.parent_path());
  const auto tmp = temporary_path(target.string());
  fs::copy_file(package_path, tmp, fs::copy_options::overwrite_existing);
  commit_file(tmp, target.string());
  entries_.push_back(entry);
  std::sort(entries_.begin(), entries_.end(), [](const RegistryEntry& a, const RegistryEntry& b) {
    return a.domain != b.domain ? a.domain < b.domain : compare_versions(a.version, b.version) < 0;
  });
  save();
  return entry;
}

const RegistryEntry& Registry::find(const std::string& spec) const {
  const auto [domain, version] = split_spec(spec);
  const RegistryEntry* best = nullptr;
  std::string have;
  for (const auto& e : entries_) {
    if (e.domain != domain) continue;
    have += (have.empty() ? "" : ", ") + e.version;
    if (!version.empty() ? e.version == version : (!best || compare_versions(e.version, best->version) > 0)) best = &e;
  }
  if (!best) {
    throw Error(
        dir_ + ": no package " + spec +
        (have.empty() ? " (no versions of '" + domain + "')" : " (versions of '" + domain + "': " + have + ")"));
  }
  return *best;
}

void Registry::remove(const std::string& spec) {
  if (split_spec(spec).second.empty()) throw Error("registry remove: give DOMAIN@VERSION, not '" + spec + "'");
  const auto& entry = find(spec);
  fs::remove(fs::path(dir_) / entry.file);
  entries_.erase(entries_.begin() + (&entry - entries_.data()));
  save();
}

std::string Registry::path_of(const RegistryEntry& entry) const { return (fs::path(dir_) / entry.file).string(); }

}  // namespace moecollab
