// An expert package: one contributor's expert (adapter + classifier head) in
// one HDF5 file with the manifest that says what it fits — domain, label
// names, the model it was trained in (model/model_config.h), encoder and
// vocabulary fingerprints — and
// who made it, when, with what metrics, plus a content hash over all of it.
// Layout: docs/hdf5-layout.md ("Expert package").
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "moecollab/io/registry_index.h"  // check_version_text, compare_versions
#include "moecollab/model/model_config.h"
#include "moecollab/train/trainer_state.h"

namespace moecollab {

struct ExpertManifest {
  std::string domain;
  std::string version;  // semantic version MAJOR.MINOR.PATCH (or MAJOR.MINOR)
  std::string contributor;
  std::string created;              // UTC ISO 8601
  std::vector<std::string> labels;  // label names in id order
  // The model the expert belongs to (encoder, adapter size k, routing ...; its one
  // domain and label count): hidden size d is model.encoder.hidden, k model.adapter.
  ModelConfig model;
  std::string encoder_fingerprint;        // hex
  std::string vocabulary_fingerprint;     // hex
  std::map<std::string, double> metrics;  // e.g. val_accuracy, val_macro_f1, steps
  std::string content_hash;               // hex; over every field above and every tensor
};

struct ExpertPackage {
  ExpertManifest manifest;
  NamedTensors tensors;  // "parameters/<name>" of the Expert module
};

// The content hash of a package as it is (FNV-1a 64 over the manifest fields
// except the hash itself, then every tensor's name, dtype, shape and bytes in
// name order): an integrity check, not a signature.
std::string package_content_hash(const ExpertPackage& package);

// The tensor shapes an expert of this manifest has (name -> shape).
std::map<std::string, std::vector<std::int64_t>> expected_expert_shapes(const ExpertManifest& manifest);

// Writes atomically; sets manifest.content_hash (and created, when empty) first.
void save_expert_package(const std::string& path, ExpertPackage package);
// Reads a package (format and version checked; the hash is not: see verify).
ExpertPackage load_expert_package(const std::string& path);

// What must match for a package to join a mixture.
struct CompatibilityTarget {
  std::string what;  // e.g. "model runs/demo/checkpoints/round-000008.h5"
  std::string encoder_fingerprint;
  std::string vocabulary_fingerprint;
  std::int64_t hidden = 0;
  std::int64_t adapter = 0;  // 0: any
};

// Every problem of `package` (read from `path`) against `target`, one line each
// naming the field and both values: encoder, hidden size, vocabulary (tokenizer),
// adapter size, label names (present, unique), each tensor's presence and shape,
// the content hash. Empty when compatible.
std::vector<std::string> compatibility_problems(const ExpertPackage& package, const std::string& path,
                                                const CompatibilityTarget& target);

}  // namespace moecollab
