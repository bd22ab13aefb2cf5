// How the MPI subcommands (train, pretrain, build-vocab --federated) end on an
// error: an AgreedError (every rank failed alike) is printed once, by rank 0,
// and every rank exits 1; any other error happened on one rank only, while the
// others may wait in a collective, so it is printed with the rank and the whole
// job is aborted. Never a hang.
#pragma once

#include <functional>
#include <iostream>

#include "moecollab/comm/agreement.h"
#include "moecollab/comm/mpi_communicator.h"

namespace moecollab::cli {

inline int run_collectively(MpiCommunicator& comm, const char* command, const std::function<int()>& body) {
  try {
    return body();
  } catch (const AgreedError& e) {
    if (comm.rank() == 0) std::cerr << "moecollab " << command << ": error: " << e.what() << std::endl;
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "moecollab " << command << ": rank " << comm.rank() << ": error: " << e.what() << std::endl;
    comm.abort(1);
  }
}

}  // namespace moecollab::cli
