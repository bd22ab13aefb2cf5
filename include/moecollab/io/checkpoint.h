// Checkpoints: a TrainerState and what it must match, in one HDF5 file per
// saved round (layout in docs/hdf5-layout.md). Writing is atomic (temporary
// file in the same directory, fsync, rename), so a crash mid-write never
// damages an earlier checkpoint. A checkpoint is data only: loading reads
// tensors and attributes and never executes anything from the file.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "moecollab/model/model_config.h"
#include "moecollab/train/trainer_state.h"

namespace moecollab {

struct CheckpointInfo {
  std::string encoder_fingerprint;            // hex, parameter_fingerprint of the encoder
  std::string vocabulary_fingerprint;         // hex
  std::map<std::string, std::string> config;  // every option of the run, as text (for people; nothing re-parses it)
  ModelConfig model;                          // what the model is: predict and integrate build it from this
  // Where the run's encoder and vocabulary were, as absolute paths ("random" or
  // "hf:/abs/DIR"; vocab.txt), so that the checkpoint serves from any directory.
  // The file also stores both relative to the checkpoint's own directory, which
  // load_checkpoint resolves (a run directory moved together with its encoder).
  std::string encoder;
  std::string vocabulary;
  std::string encoder_relative;     // filled by load_checkpoint: hf:PATH as seen from the checkpoint, resolved
  std::string vocabulary_relative;  // likewise; empty when the file has none (older checkpoints)
};

struct Checkpoint {
  TrainerState state;
  CheckpointInfo info;
};

void save_checkpoint(const std::string& path, const Checkpoint& checkpoint);

// Throws Error naming the file for a missing, truncated or corrupt file, a
// wrong format or version, missing tensors, or a /model whose domains and
// label counts are not those of its experts.
Checkpoint load_checkpoint(const std::string& path);

// Refuses (Error saying what differs) a checkpoint whose encoder, vocabulary,
// expert count, domain names or label spaces differ from the run's. An encoder
// mismatch names the encoder the checkpoint was trained with (path and
// fingerprint) and the option that selects it.
// "the checkpoint was trained with encoder hf:/abs/DIR, fingerprint F (select it with --encoder hf:DIR)":
// the tail of every encoder-mismatch message (resume, predict, integrate).
std::string trained_encoder_hint(const CheckpointInfo& info);
void check_compatible(const Checkpoint& checkpoint, const std::string& path, const CheckpointInfo& run,
                      const std::vector<std::string>& domains, const std::vector<std::vector<std::string>>& labels);

// Whether `dir` holds any checkpoint (round-*.h5).
bool has_checkpoints(const std::string& dir);
// The checkpoint of the highest round in `dir`, or Error when there is none.
std::string latest_checkpoint(const std::string& dir);
// Deletes all but the `keep` newest checkpoints in `dir` (keep 0 keeps all).
void prune_checkpoints(const std::string& dir, std::size_t keep);

}  // namespace moecollab
