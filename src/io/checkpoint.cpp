#include "moecollab/io/checkpoint.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "moecollab/io/hdf5.h"
#include "moecollab/io/model_attributes.h"
#include "moecollab/io/run_dir.h"
#include "moecollab/util/error.h"
#include "moecollab/util/files.h"
#include "moecollab/util/strings.h"

namespace moecollab {
namespace fs = std::filesystem;

void save_checkpoint(const std::string& path, const Checkpoint& checkpoint) {
  const fs::path target(path);
  if (target.has_parent_path()) fs::create_directories(target.parent_path());
  const std::string tmp = temporary_path(path);
  {
    auto file = h5::open_file(tmp, h5::Mode::kCreate);
    h5::write_format(file, run_dir::kCheckpoint);
    h5::write_attribute(file, "round", checkpoint.state.round);
    h5::write_attribute(file, "experts", static_cast<std::int64_t>(checkpoint.state.experts.size()));
    h5::write_attribute(file, "encoder_fingerprint", checkpoint.info.encoder_fingerprint);
    h5::write_attribute(file, "vocabulary_fingerprint", checkpoint.info.vocabulary_fingerprint);
    h5::write_attribute(file, "created", utc_timestamp());
    const auto from = fs::absolute(target).parent_path();
    const auto relative = [&](const std::string& p) { return fs::path(p).lexically_relative(from).string(); };
    if (!checkpoint.info.encoder.empty()) {
      h5::write_attribute(file, "encoder", checkpoint.info.encoder);
      const bool hf = checkpoint.info.encoder.rfind("hf:", 0) == 0;
      h5::write_attribute(file, "encoder_relative",
                          hf ? "hf:" + relative(checkpoint.info.encoder.substr(3)) : checkpoint.info.encoder);
    }
    if (!checkpoint.info.vocabulary.empty()) {
      h5::write_attribute(file, "vocabulary", checkpoint.info.vocabulary);
      h5::write_attribute(file, "vocabulary_relative", relative(checkpoint.info.vocabulary));
    }
    write_model_config(file, checkpoint.info.model);
    auto config = h5::create_group(file, "config");
    for (const auto& [key, value] : checkpoint.info.config) h5::write_attribute(config, key, value);
    h5::write_tensor_tree(h5::create_group(file, "gate"), checkpoint.state.gate);
    // A trained encoder (--encoder-train): its weights and Adam state; a frozen one is not stored.
    if (!checkpoint.state.encoder.empty())
      h5::write_tensor_tree(h5::create_group(file, "encoder"), checkpoint.state.encoder);
    auto experts = h5::create_group(file, "experts");
    for (std::size_t i = 0; i < checkpoint.state.experts.size(); ++i) {
      const auto& e = checkpoint.state.experts[i];
      auto group = h5::create_group(experts, std::to_string(i));
      h5::write_attribute(group, "domain", e.domain);
      h5::write_attribute(group, "labels", e.labels);
      h5::write_attribute(group, "sampler_epoch", static_cast<std::int64_t>(e.sampler_epoch));
      h5::write_attribute(group, "sampler_cursor", static_cast<std::int64_t>(e.sampler_cursor));
      h5::write_tensor_tree(group, e.tensors);
    }
  }
  commit_file(tmp, path);
}

Checkpoint load_checkpoint(const std::string& path) {
  auto file = h5::open_file(path, h5::Mode::kRead);
  h5::require_format(file, path, run_dir::kCheckpoint);
  Checkpoint c;
  c.state.round = h5::read_int_attribute(file, "round");
  c.info.encoder_fingerprint = h5::read_string_attribute(file, "encoder_fingerprint");
  c.info.vocabulary_fingerprint = h5::read_string_attribute(file, "vocabulary_fingerprint");
  // Where the encoder and vocabulary were (absent in checkpoints written before they were stored).
  const auto from = fs::absolute(path).parent_path();
  const auto resolve = [&](const std::string& p) { return (from / p).lexically_normal().string(); };
  if (h5::has_attribute(file, "encoder")) {
    c.info.encoder = h5::read_string_attribute(file, "encoder");
    const auto rel = h5::read_string_attribute(file, "encoder_relative");
    c.info.encoder_relative = rel.rfind("hf:", 0) == 0 ? "hf:" + resolve(rel.substr(3)) : rel;
  }
  if (h5::has_attribute(file, "vocabulary")) {
    c.info.vocabulary = h5::read_string_attribute(file, "vocabulary");
    c.info.vocabulary_relative = resolve(h5::read_string_attribute(file, "vocabulary_relative"));
  }
  auto config = h5::open_group(file, "config");
  for (const auto& name : h5::attribute_names(config)) c.info.config[name] = h5::read_string_attribute(config, name);
  c.state.gate = h5::read_tensor_tree(h5::open_group(file, "gate"));
  const auto top = h5::members(file);
  if (std::find(top.begin(), top.end(), "encoder") != top.end())
    c.state.encoder = h5::read_tensor_tree(h5::open_group(file, "encoder"));
  const auto experts = h5::read_int_attribute(file, "experts");
  auto group = h5::open_group(file, "experts");
  for (std::int64_t i = 0; i < experts; ++i) {
    auto g = h5::open_group(group, std::to_string(i));
    ExpertState e;
    e.domain = h5::read_string_attribute(g, "domain");
    e.labels = h5::read_strings_attribute(g, "labels");
    e.sampler_epoch = static_cast<std::uint64_t>(h5::read_int_attribute(g, "sampler_epoch"));
    e.sampler_cursor = static_cast<std::uint64_t>(h5::read_int_attribute(g, "sampler_cursor"));
    e.tensors = h5::read_tensor_tree(g);
    c.state.experts.push_back(std::move(e));
  }
  c.info.model = read_model_config(file, path);
  const auto& m = c.info.model;
  bool same = m.domains.size() == c.state.experts.size();
  for (std::size_t i = 0; same && i < m.domains.size(); ++i) {
    const auto& e = c.state.experts[i];
    same = m.domains[i] == e.domain && m.label_counts[i] == static_cast<std::int64_t>(e.labels.size());
  }
  if (!same) {
    throw Error(path + ": /model describes " + std::to_string(m.domains.size()) + " experts (" + join(m.domains) +
                ") that are not the file's " + std::to_string(c.state.experts.size()) +
                " in /experts (domains and "
                "label counts)");
  }
  return c;
}

void check_compatible(const Checkpoint& c, const std::string& path, const CheckpointInfo& run,
                      const std::vector<std::string>& domains, const std::vector<std::vector<std::string>>& labels) {
  auto refuse = [&](const std::string& what) { throw Error(path + ": incompatible checkpoint: " + what); };
  if (c.info.encoder_fingerprint != run.encoder_fingerprint) {
    refuse("encoder fingerprint " + c.info.encoder_fingerprint + " != this run's " + run.encoder_fingerprint + " (" +
           (run.encoder.empty() ? std::string("different encoder options or weights")
                                : "this run's encoder: " + run.encoder) +
           "); " + trained_encoder_hint(c.info));
  }
  if (c.info.vocabulary_fingerprint != run.vocabulary_fingerprint) {
    refuse("vocabulary fingerprint " + c.info.vocabulary_fingerprint + " != this run's " + run.vocabulary_fingerprint);
  }
  if (c.state.experts.size() != domains.size()) {
    refuse(std::to_string(c.state.experts.size()) + " experts, this run has " + std::to_string(domains.size()) +
           " domains");
  }
  for (std::size_t i = 0; i < domains.size(); ++i) {
    const auto& e = c.state.experts[i];
    if (e.domain != domains[i])
      refuse("expert " + std::to_string(i) + " is domain '" + e.domain + "', this run has '" + domains[i] + "'");
    if (e.labels != labels[i]) {
      refuse("expert " + std::to_string(i) + " ('" + e.domain + "') has " + std::to_string(e.labels.size()) +
             " labels that differ from this run's " + std::to_string(labels[i].size()));
    }
  }
}

std::string trained_encoder_hint(const CheckpointInfo& info) {
  if (info.encoder.empty()) {
    return "the checkpoint was trained with encoder fingerprint " + info.encoder_fingerprint +
           " (its --encoder and --encoder-* options are in its /config)";
  }
  const bool hf = info.encoder.rfind("hf:", 0) == 0;
  return "the checkpoint was trained with encoder " + info.encoder + ", fingerprint " + info.encoder_fingerprint +
         (hf ? " (select it with --encoder " + info.encoder + ")"
             : " (select it with --encoder random and the checkpoint's --encoder-* options, in its /config)");
}

namespace {

std::vector<std::string> checkpoints_in(const std::string& dir) {
  std::vector<std::string> out;
  if (!fs::is_directory(dir)) return out;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const auto name = entry.path().filename().string();
    if (run_dir::is_checkpoint_name(name)) out.push_back(entry.path().string());
  }
  std::sort(out.begin(), out.end());  // zero-padded round numbers sort by round
  return out;
}

}  // namespace

bool has_checkpoints(const std::string& dir) { return !checkpoints_in(dir).empty(); }

std::string latest_checkpoint(const std::string& dir) {
  const auto all = checkpoints_in(dir);
  if (all.empty()) throw Error(dir + ": no checkpoint (round-*.h5) to resume from");
  return all.back();
}

void prune_checkpoints(const std::string& dir, std::size_t keep) {
  if (keep == 0) return;
  const auto all = checkpoints_in(dir);
  for (std::size_t i = 0; i + keep < all.size(); ++i) fs::remove(all[i]);
}

}  // namespace moecollab
