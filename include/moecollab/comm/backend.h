// Choosing the communication backend, in one place (as Horovod does): NCCL
// where it was built in and every rank has a GPU of its own, MPI otherwise.
#pragma once

#include <memory>
#include <string>

#include "moecollab/comm/mpi_communicator.h"

namespace moecollab {

// True when this build includes the NCCL backend (CMake found CUDA and NCCL).
bool nccl_built();

// Collective. `requested` is "auto", "mpi" or "nccl". Returns the NCCL
// communicator when that is the choice, or nullptr meaning "use `mpi`".
// Throws AgreedError on every rank when "nccl" is requested but unavailable
// (not built, or some rank without a GPU of its own), saying which.
std::unique_ptr<Communicator> select_backend(const std::string& requested, MpiCommunicator& mpi);

}  // namespace moecollab
