#include "moecollab/io/expert_package.h"

#include <filesystem>
#include <set>

#include "moecollab/io/hdf5.h"
#include "moecollab/io/model_attributes.h"
#include "moecollab/io/run_dir.h"
#include "moecollab/util/error.h"
#include "moecollab/util/files.h"
#include "moecollab/util/hash.h"
#include "moecollab/util/strings.h"

namespace moecollab {
namespace {

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

}  // namespace

std::string package_content_hash(const ExpertPackage& p) {
  const auto& m = p.manifest;
  std::string fields = m.domain + '\n' + m.version + '\n' + m.contributor + '\n' + m.created + '\n' +
                       m.encoder_fingerprint + '\n' + m.vocabulary_fingerprint + '\n';
  for (const auto& [name, value] : field_texts(m.model)) fields += "model:" + name + '=' + value + '\n';
  for (const auto& l : m.labels) fields += "label:" + l + '\n';
  for (const auto& [k, v] : m.metrics) fields += "metric:" + k + '=' + std::to_string(v) + '\n';
  auto h = fnv1a(fields);
  for (const auto& [name, t] : p.tensors) {
    const auto c = t.contiguous();
    std::string header = name + '\n' + std::string(c10::toString(c.scalar_type())) + '\n';
    for (auto s : c.sizes()) header += std::to_string(s) + ',';
    h = fnv1a(header, h);
    h = fnv1a(c.data_ptr(), c.nbytes(), h);
  }
  return hex64(mix64(h));
}

std::map<std::string, std::vector<std::int64_t>> expected_expert_shapes(const ExpertManifest& m) {
  const auto d = m.model.encoder.hidden, k = m.model.adapter, c = static_cast<std::int64_t>(m.labels.size());
  return {{"parameters/down_project.weight", {k, d}}, {"parameters/down_project.bias", {k}},
          {"parameters/up_project.weight", {d, k}},   {"parameters/up_project.bias", {d}},
          {"parameters/classifier.weight", {c, d}},   {"parameters/classifier.bias", {c}}};
}

void save_expert_package(const std::string& path, ExpertPackage package) {
  auto& m = package.manifest;
  check_version_text(m.version);
  if (m.created.empty()) m.created = utc_timestamp();
  m.content_hash = package_content_hash(package);
  const std::filesystem::path target(path);
  if (target.has_parent_path()) std::filesystem::create_directories(target.parent_path());
  const auto tmp = temporary_path(path);
  {
    const auto file = h5::open_file(tmp, h5::Mode::kCreate);
    h5::write_format(file, run_dir::kExpertPackage);
    h5::write_attribute(file, "domain", m.domain);
    h5::write_attribute(file, "version", m.version);
    h5::write_attribute(file, "contributor", m.contributor);
    h5::write_attribute(file, "created", m.created);
    h5::write_attribute(file, "labels", m.labels);
    write_model_config(file, m.model);
    h5::write_attribute(file, "encoder_fingerprint", m.encoder_fingerprint);
    h5::write_attribute(file, "vocabulary_fingerprint", m.vocabulary_fingerprint);
    h5::write_attribute(file, "content_hash", m.content_hash);
    const auto metrics = h5::create_group(file, "metrics");
    for (const auto& [k, v] : m.metrics) h5::write_attribute(metrics, k, v);
    h5::write_tensor_tree(h5::create_group(file, "tensors"), package.tensors);
  }
  commit_file(tmp, path);
}

ExpertPackage load_expert_package(const std::string& path) {
  const auto file = h5::open_file(path, h5::Mode::kRead);
  h5::require_format(file, path, run_dir::kExpertPackage);
  ExpertPackage p;
  auto& m = p.manifest;
  m.domain = h5::read_string_attribute(file, "domain");
  m.version = h5::read_string_attribute(file, "version");
  m.contributor = h5::read_string_attribute(file, "contributor");
  m.created = h5::read_string_attribute(file, "created");
  m.labels = h5::read_strings_attribute(file, "labels");
  m.model = read_model_config(file, path);
  if (m.model.domains != std::vector<std::string>{m.domain} ||
      m.model.label_counts != std::vector<std::int64_t>{static_cast<std::int64_t>(m.labels.size())}) {
    throw Error(path + ": /model describes the experts " + join(m.model.domains) + ", not this package's one, " +
                m.domain + " with " + std::to_string(m.labels.size()) + " labels");
  }
  m.encoder_fingerprint = h5::read_string_attribute(file, "encoder_fingerprint");
  m.vocabulary_fingerprint = h5::read_string_attribute(file, "vocabulary_fingerprint");
  m.content_hash = h5::read_string_attribute(file, "content_hash");
  const auto metrics = h5::open_group(file, "metrics");
  for (const auto& name : h5::attribute_names(metrics)) {
    m.metrics[name] = h5::read_double_attribute(metrics, name);
  }
  p.tensors = h5::read_tensor_tree(h5::open_group(file, "tensors"));
  return p;
}

std::vector<std::string> compatibility_problems(const ExpertPackage& package, const std::string& path,
                                                const CompatibilityTarget& target) {
  const auto& m = package.manifest;
  std::vector<std::string> problems;
  const auto field = [&](const std::string& name, const std::string& have, const std::string& want) {
    if (have != want) {
      problems.push_back(path + ": " + name + ": package has " + have + ", " + target.what + " has " + want);
    }
  };
  field("encoder_fingerprint", m.encoder_fingerprint, target.encoder_fingerprint);
  field("hidden", std::to_string(m.model.encoder.hidden), std::to_string(target.hidden));
  field("vocabulary_fingerprint (tokenizer)", m.vocabulary_fingerprint, target.vocabulary_fingerprint);
  if (target.adapter > 0) field("adapter", std::to_string(m.model.adapter), std::to_string(target.adapter));
  if (m.labels.empty()) problems.push_back(path + ": labels: the package names no labels");
  std::set<std::string> seen;
  for (const auto& l : m.labels) {
    if (l.empty())
      problems.push_back(path + ": labels: an empty label name");
    else if (!seen.insert(l).second)
      problems.push_back(path + ": labels: '" + l + "' appears twice");
  }
  for (const auto& [name, shape] : expected_expert_shapes(m)) {
    const auto it = package.tensors.find(name);
    if (it == package.tensors.end()) {
      problems.push_back(path + ": tensor " + name + ": missing (expected shape " + shape_text(shape) + ")");
    } else if (it->second.sizes().vec() != shape) {
      problems.push_back(path + ": tensor " + name + ": shape " + shape_text(it->second.sizes().vec()) +
                         ", the manifest (adapter " + std::to_string(m.model.adapter) + ", hidden " +
                         std::to_string(m.model.encoder.hidden) + ", " + std::to_string(m.labels.size()) +
                         " labels) implies " + shape_text(shape));
    }
  }
  const auto actual = package_content_hash(package);
  if (actual != m.content_hash) {
    problems.push_back(path + ": content_hash: the manifest says " + m.content_hash + ", the content hashes to " +
                       actual + " (the file was changed after packaging)");
  }
  return problems;
}

}  // namespace moecollab
