#include "moecollab/io/registry_index.h"

#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "moecollab/io/run_dir.h"
#include "moecollab/util/error.h"

namespace moecollab {
namespace {

std::vector<std::int64_t> parse_version(const std::string& version) {
  std::vector<std::int64_t> parts;
  std::stringstream in(version);
  for (std::string part; std::getline(in, part, '.');) {
    if (part.empty() || part.size() > 9 || part.find_first_not_of("0123456789") != std::string::npos) return {};
    parts.push_back(std::stoll(part));
  }
  if (parts.size() < 2 || parts.size() > 3 || version.back() == '.') return {};
  while (parts.size() < 3) parts.push_back(0);
  return parts;
}

std::string string_field(const nlohmann::json& entry, const char* name, bool required) {
  const auto it = entry.find(name);
  if (it == entry.end()) {
    if (required) throw Error(std::string("no '") + name + "'");
    return "";
  }
  if (!it->is_string()) throw Error(std::string("'") + name + "' is not a string");
  return it->get<std::string>();
}

RegistryEntry parse_entry(const nlohmann::json& p) {
  if (!p.is_object()) throw Error("not a JSON object");
  RegistryEntry e{string_field(p, "domain", true),
                  string_field(p, "version", true),
                  string_field(p, "file", true),
                  string_field(p, "content_hash", true),
                  string_field(p, "encoder_fingerprint", true),
                  string_field(p, "contributor", false),
                  string_field(p, "added", false)};
  if (e.domain.empty() || e.domain == "." || e.domain == ".." || e.domain.find('/') != std::string::npos) {
    throw Error("'domain' is '" + e.domain + "', not a plain name");
  }
  check_version_text(e.version);
  const auto expected = run_dir::registry_package_file(e.domain, e.version);
  if (e.file != expected) {
    throw Error("'file' is '" + e.file + "', but the registry keeps " + e.domain + "@" + e.version + " in '" +
                expected + "'");
  }
  return e;
}

}  // namespace

void check_version_text(const std::string& version) {
  if (parse_version(version).empty()) {
    throw Error("version '" + version + "' is not a semantic version (MAJOR.MINOR or MAJOR.MINOR.PATCH, digits)");
  }
}

int compare_versions(const std::string& a, const std::string& b) {
  const auto x = parse_version(a), y = parse_version(b);
  return x < y ? -1 : (y < x ? 1 : 0);
}

std::vector<RegistryEntry> parse_registry_index(std::string_view text, const std::string& path) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw Error(path + ": not valid JSON: " + e.what());
  }
  const auto& format = run_dir::kRegistryIndex;
  if (!j.is_object() || !j.contains("format") || j["format"] != format.name || !j.contains("packages")) {
    throw Error(path + ": not a MoECollab registry index (format '" + std::string(format.name) + "')");
  }
  // An index without "format_version" was written before the version was stored: version 1.
  std::int64_t version = 1;
  if (j.contains("format_version")) {
    if (!j["format_version"].is_number_integer()) throw Error(path + ": format_version is not an integer");
    version = j["format_version"].get<std::int64_t>();
  }
  if (version != format.version) {
    throw Error(path + ": registry index format version " + std::to_string(version) + ", this build reads version " +
                std::to_string(format.version));
  }
  if (!j["packages"].is_array()) throw Error(path + ": 'packages' is not a list");
  std::vector<RegistryEntry> entries;
  std::set<std::string> seen;
  for (std::size_t i = 0; i < j["packages"].size(); ++i) {
    try {
      entries.push_back(parse_entry(j["packages"][i]));
    } catch (const Error& e) {
      throw Error(path + ": package entry " + std::to_string(i + 1) + ": " + e.what());
    }
    const auto spec = entries.back().domain + "@" + entries.back().version;
    if (!seen.insert(spec).second) throw Error(path + ": " + spec + " is listed twice");
  }
  return entries;
}

std::string registry_index_text(const std::vector<RegistryEntry>& entries) {
  nlohmann::json j;
  j["format"] = run_dir::kRegistryIndex.name;
  j["format_version"] = run_dir::kRegistryIndex.version;
  j["packages"] = nlohmann::json::array();
  for (const auto& e : entries) {
    j["packages"].push_back({{"domain", e.domain},
                             {"version", e.version},
                             {"file", e.file},
                             {"content_hash", e.content_hash},
                             {"encoder_fingerprint", e.encoder_fingerprint},
                             {"contributor", e.contributor},
                             {"added", e.added}});
  }
  return j.dump(2) + "\n";
}

}  // namespace moecollab
