// Contributed experts entering a federated run: `train --experts registry:...`
// starts each rank's expert from a registered package; `integrate` builds a
// new mixture from a trained model plus added, replaced and removed experts.
// Both only load parameters on this rank (no collectives), so a failure on one
// rank is caught by the caller's run_on_every_rank.
#pragma once

#include <string>

#include "federated_command.h"

namespace moecollab::cli {

// Loads package `spec[rank]` of the registry into this rank's expert; returns the event text.
std::string start_from_registry(FederatedTrainer& trainer, Communicator& comm, const RunOptions& run,
                                const std::string& vocabulary_fingerprint, const std::string& registry_dir,
                                const std::string& spec);

}  // namespace moecollab::cli
