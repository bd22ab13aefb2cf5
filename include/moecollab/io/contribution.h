// Putting contributed experts into a mixture's state (the Contribution
// Management System's integration step): a package's parameters become an
// expert, and a trained gate is carried over to a new set of experts — rows
// of experts that stay are kept, rows of new experts start small.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "moecollab/io/expert_package.h"
#include "moecollab/train/trainer_state.h"

namespace moecollab {

// `expert` takes the package's parameters, a fresh optimizer state and sampler.
// Throws Error naming `path` when the package's domain or label names differ
// from the expert's (those of the data its rank loaded).
void install_package(ExpertState& expert, const ExpertPackage& package, const std::string& path);

// The gate over `domains` from a trained gate over `base_domains`: the rows of
// domains in both are copied; a new domain's row gets weights N(0, 0.001²)
// (seeded) and the mean of the kept biases. The optimizer state is dropped.
// Throws Error when no domain is kept.
NamedTensors carry_gate(const NamedTensors& base_gate, const std::vector<std::string>& base_domains,
                        const std::vector<std::string>& domains, std::uint64_t seed);

}  // namespace moecollab
