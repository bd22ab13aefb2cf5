// Everything a run needs to continue exactly where it stopped: every module's
// parameters and Adam state (moments and step counts), each domain's sampler
// position, and the round number. Trainers export and import it; checkpoints
// (io/checkpoint.h) store it in HDF5.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "moecollab/model/named_tensors.h"

namespace moecollab {

struct ExpertState {
  std::string domain;
  std::vector<std::string> labels;
  NamedTensors tensors;
  std::uint64_t sampler_epoch = 0;
  std::uint64_t sampler_cursor = 0;
};

struct TrainerState {
  std::int64_t round = 0;
  NamedTensors gate;
  NamedTensors encoder;              // the shared encoder and its Adam state; empty while it is frozen
  std::vector<ExpertState> experts;  // expert i = domain i = rank i
};

// Parameters and the optimizer's Adam state of `module` (copies).
NamedTensors export_module(const torch::nn::Module& module, torch::optim::Adam& optimizer);

// Copies "parameters/<name>" into the module's parameters (no optimizer).
// Throws Error naming `what` and the tensor when one is missing or misshapen.
void load_parameters(torch::nn::Module& module, const NamedTensors& tensors, const std::string& what);

// Restores what export_module wrote. Throws Error naming `what` and the tensor
// when a name is missing or a shape differs.
void import_module(torch::nn::Module& module, torch::optim::Adam& optimizer, const NamedTensors& tensors,
                   const std::string& what);

// A byte string of named tensors (name, dtype, shape, raw bytes), for moving
// an expert's state between ranks, and its inverse.
std::string pack_tensors(const NamedTensors& tensors);
NamedTensors unpack_tensors(const std::string& bytes);

}  // namespace moecollab
