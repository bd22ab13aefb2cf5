// A module's fingerprint: a hash of its parameters' names, shapes, dtypes and
// bytes, in order. Ranks compare fingerprints to prove they hold the same
// encoder, or gate replicas that are still bit-identical.
#pragma once

#include <torch/torch.h>

#include <cstdint>

namespace moecollab {

std::uint64_t parameter_fingerprint(const torch::nn::Module& module);

}  // namespace moecollab
